/**
 * Decoded G3 objects in the JSON shape of the vectors' `*.expected.json` (written from spt3g/so3g's
 * own readers): int64 beyond 2^53 and all ticks as decimal strings, non-finite doubles as strings,
 * vectors longer than 16 abbreviated to first5/last5.
 */
import type { G3Object } from '../../data-nodes/archive/formats/g3';
import type { G3MapValue, IntArray } from '../../data-nodes/archive/formats/g3/types';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const UNITS = ['None', 'Counts', 'Current', 'Power', 'Tcmb', 'Resistance', 'Angle', 'Distance', 'Voltage', 'Pressure', 'FluxDensity'];

export function num(v: number): Json {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  return v;
}

export function big(v: bigint): Json {
  return v >= -(2n ** 53n - 1n) && v <= 2n ** 53n - 1n ? Number(v) : v.toString();
}

function ints(a: IntArray): Json[] {
  return a instanceof BigInt64Array ? Array.from(a, big) : Array.from(a as ArrayLike<number>);
}

/** {len, values} or {len, first5, last5}. */
export function vec(values: Json[], extra: Record<string, Json> = {}, lenKey = 'len'): { [k: string]: Json } {
  const out: { [k: string]: Json } = { ...extra, [lenKey]: values.length };
  if (values.length > 16) {
    out.first5 = values.slice(0, 5);
    out.last5 = values.slice(-5);
  } else out.values = values;
  return out;
}

function ticksIso(t: bigint): string {
  const s = t / 100000000n;
  const frac = (t % 100000000n).toString().padStart(8, '0').replace(/0+$/, '');
  return new Date(Number(s) * 1000).toISOString().replace(/\.\d{3}Z$/, frac ? `.${frac}Z` : 'Z');
}

function mapValue(v: G3MapValue): Json {
  if (v === null) return null;
  if (typeof v === 'number') return num(v);
  if (typeof v === 'bigint') return big(v);
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v;
  if (v instanceof Float64Array) return Array.from(v, num);
  if (v instanceof Uint8Array) return Array.from(v, (b) => b !== 0);
  if (v instanceof BigInt64Array) return Array.from(v, big);
  if (v instanceof Int8Array || v instanceof Int16Array || v instanceof Int32Array) return Array.from(v);
  const o = toJson(v);
  // Map values that are vector/interval bodies appear bare (their items), not as objects.
  if (v.kind === 'vector-time') return Array.from(v.ticks, (t) => t.toString());
  if (v.kind === 'map' && v.type === 'G3MapDouble') return (o as { items: Json }).items;
  return o;
}

export function toJson(o: G3Object | null): Json {
  if (o === null) return null;
  const type = o.type;
  switch (o.kind) {
    case 'bool':
    case 'string':
      return { type, value: o.value };
    case 'double':
      return { type, value: num(o.value) };
    case 'int':
      return { type, value: big(o.value) };
    case 'time':
      return { type, ticks: o.ticks.toString(), iso: ticksIso(o.ticks) };
    case 'vector-double':
      return vec(Array.from(o.values, num), { type });
    case 'vector-complex': {
      const v: Json[] = [];
      for (let i = 0; i + 1 < o.values.length; i += 2) v.push([num(o.values[i] ?? NaN), num(o.values[i + 1] ?? NaN)]);
      return vec(v, { type });
    }
    case 'vector-bytes':
      return vec(
        Array.from(o.values, (b) => (type === 'G3VectorBool' ? b !== 0 : b)),
        { type },
      );
    case 'vector-int':
      return vec(ints(o.values), { type });
    case 'vector-string':
      return vec(o.values, { type });
    case 'vector-vector-string':
      return vec(o.values, { type });
    case 'vector-time':
      return vec(
        Array.from(o.ticks, (t) => t.toString()),
        { type },
      );
    case 'vector-object':
      return { type, len: o.items.length, items: o.items.map(toJson) };
    case 'map': {
      const items: { [k: string]: Json } = {};
      for (const [k, v] of o.items) items[k] = mapValue(v);
      return { type, items };
    }
    case 'timesample-map': {
      const fields: { [k: string]: Json } = {};
      for (const [k, v] of o.fields) fields[k] = toJson(v);
      const ticks = o.timeVector.ticks;
      return { type, n_samples: ticks.length, times_ticks: vec(Array.from(ticks, (t) => t.toString())), fields };
    }
    case 'timestream': {
      const dtype = o.flac ? 'float32' : (['float64', 'float32', 'int32', 'int64'][o.dataType] ?? '?');
      const values =
        o.values === null
          ? null
          : o.values instanceof BigInt64Array
            ? Array.from(o.values, big)
            : Array.from(o.values as ArrayLike<number>, num);
      return {
        type,
        units: UNITS[o.units] ?? String(o.units),
        units_code: o.units,
        start_ticks: o.start.toString(),
        stop_ticks: o.stop.toString(),
        numpy_dtype_after_read: dtype,
        flac_compression_level: o.flac,
        n_samples: o.n,
        values,
      };
    }
    case 'irreg-block': {
      const data: { [k: string]: Json } = {};
      for (const [k, v] of o.data) data[k] = vec(Array.from(v, num));
      return { type, prefix: o.prefix, t: vec(Array.from(o.t, num)), data };
    }
    case 'intervals': {
      const one = (v: number | bigint): Json => (type === 'IntervalsTime' ? v.toString() : typeof v === 'bigint' ? big(v) : num(v));
      const domain = o.domain.map(one);
      const segments = o.segments.map((s) => s.map(one));
      return type === 'IntervalsTime' ? { type, domain_ticks: domain, segments_ticks: segments } : { type, domain, segments };
    }
    case 'unknown':
      return { type, unknown: true };
  }
}
