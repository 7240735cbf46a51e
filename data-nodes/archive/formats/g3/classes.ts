/**
 * The bodies of the G3 classes FORMAT.md lists (spt3g core, so3g HK and old so3g Intervals): how
 * each one is laid out after its polymorphic pointer header. Every count is checked against the
 * bytes left before anything is allocated (ByteReader.size).
 */
import { Archive, UnknownClassError } from './archive';
import { HOST_LITTLE, toFloat64, toInts, toInt64 } from './bytes';
import { G3BoundsError } from './errors';
import { decodeFlac } from './flac';
import type { G3MapValue, G3Object, IntArray } from './types';

type Bits = 8 | 16 | 32 | 64;

function bits(ar: Archive, what: string): Bits {
  const b = ar.r.i32(`${what} store_bits`);
  if (b !== 8 && b !== 16 && b !== 32 && b !== 64) throw new G3BoundsError('corrupt', `${what} store_bits ${b} (expected 8, 16, 32 or 64)`);
  return b;
}

function ints(ar: Archive, b: Bits, what: string): IntArray {
  const n = ar.r.size(b / 8, what);
  return toInts(ar.r.bytes((n * b) / 8, what), n, b, ar.r.little);
}

function int(ar: Archive, b: Bits): bigint {
  const r = ar.r;
  if (b === 64) return r.i64();
  if (b === 32) return BigInt(r.i32());
  const bytes = r.bytes(b / 8, 'integer');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return BigInt(b === 8 ? dv.getInt8(0) : dv.getInt16(0, r.little));
}

function strings(ar: Archive, what: string): string[] {
  const n = ar.r.size(8, what);
  const out: string[] = new Array<string>(n);
  for (let i = 0; i < n; i++) out[i] = ar.r.string(what);
  return out;
}

function bytesVec(ar: Archive, what: string): Uint8Array {
  const n = ar.r.size(1, what);
  return ar.r.bytes(n, what).slice();
}

function doubles(ar: Archive, what: string): Float64Array {
  const n = ar.r.size(8, what);
  return ar.r.f64s(n);
}

/** The int64 of a G3Time object body (its versions on first use). */
function timeBody(ar: Archive): bigint {
  ar.version('G3Time');
  ar.frameObjectBase();
  return ar.r.i64('G3Time');
}

function vectorTime(ar: Archive, type: string): G3Object {
  ar.version(type);
  ar.frameObjectBase();
  const n = ar.r.size(8, type);
  if (n > 0) { ar.version('G3Time'); ar.frameObjectBase(); }
  return { type, kind: 'vector-time', ticks: toInt64(ar.r.bytes(n * 8, type), n, ar.r.little) };
}

/** A generic std::map<string, V> body: uint64 n + n × (key, value). */
function genericMap(ar: Archive, type: string, minValue: number, value: () => G3MapValue): G3Object {
  ar.version(type);
  ar.frameObjectBase();
  const n = ar.r.size(8 + minValue, type);
  const items = new Map<string, G3MapValue>();
  for (let i = 0; i < n; i++) {
    const k = ar.r.string(`${type} key`);
    items.set(k, value());
  }
  return { type, kind: 'map', items };
}

/** G3MapFrameObject entries: uint32 count, each a key and a length-prefixed nested archive. */
function frameObjectEntries(ar: Archive, type: string): Map<string, G3Object | null> {
  const n = ar.r.count32(16, type);
  const items = new Map<string, G3Object | null>();
  for (let i = 0; i < n; i++) {
    const k = ar.r.string(`${type} key`);
    const len = ar.r.size(1, `${type} value`);
    items.set(k, ar.nested(len).single());
  }
  return items;
}

function intervalsBody(ar: Archive, type: string): G3Object {
  const elem: Record<string, [number, () => number | bigint]> = {
    IntervalsTime: [8, () => timeBody(ar)],
    IntervalsDouble: [8, () => ar.r.f64()],
    IntervalsInt: [8, () => ar.r.i64()],
    IntervalsInt32: [4, () => ar.r.i32()],
  };
  const e = elem[type];
  if (!e) throw new UnknownClassError(type);
  const [size, read] = e;
  ar.version(type);
  ar.frameObjectBase();
  const domain: [number | bigint, number | bigint] = [read(), read()];
  const n = ar.r.size(2 * size, `${type} segments`);
  const segments: Array<[number | bigint, number | bigint]> = [];
  for (let i = 0; i < n; i++) segments.push([read(), read()]);
  return { type, kind: 'intervals', domain, segments };
}

function timestream(ar: Archive, type: string): G3Object {
  const v = ar.version(type);
  ar.frameObjectBase();
  const r = ar.r;
  const units = r.u32('units');
  const start = v >= 2 ? timeBody(ar) : 0n;
  const stop = v >= 2 ? timeBody(ar) : 0n;
  const flac = r.u8('flac level');
  if (flac === 0) {
    const dataType = v >= 3 ? r.u32('data type') : 0;
    const width = [8, 4, 4, 8][dataType];
    if (width === undefined) throw new G3BoundsError('corrupt', `G3Timestream data type ${dataType}`);
    const n = r.size(width, type);
    const b = r.bytes(n * width, type);
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    let values: Float64Array | Float32Array | Int32Array | BigInt64Array;
    if (dataType === 0) values = toFloat64(b, n, r.little).slice();
    else if (dataType === 1) values = Float32Array.from({ length: n }, (_, i) => dv.getFloat32(i * 4, r.little));
    else if (dataType === 2) values = toInts(b, n, 32, r.little) as Int32Array;
    else values = toInt64(b, n, r.little);
    return { type, kind: 'timestream', units, start, stop, flac, dataType, values, n };
  }
  let dataType = 0;
  if (v >= 4) { r.u8('flac depth'); dataType = r.u32('data type'); }
  const nanflag = r.u8('nan flag');
  const mask = nanflag === 2 ? bytesVec(ar, 'NaN mask') : null;
  const nbytes = r.size(1, 'FLAC stream');
  const stream = r.bytes(nbytes, 'FLAC stream');
  let values: Float32Array | null = null;
  try {
    const ints = decodeFlac(stream, MAX_FLAC_SAMPLES);
    values = Float32Array.from(ints);
    if (nanflag === 1) values.fill(NaN);
    if (mask) for (let i = 0; i < mask.length && i < values.length; i++) if (mask[i]) values[i] = NaN;
  } catch (e) {
    if (!(e instanceof G3BoundsError)) throw e;
    ar.warn(`skipped a FLAC-compressed ${type} (${nbytes} bytes) that could not be decoded: ${e.message}`);
  }
  return { type, kind: 'timestream', units, start, stop, flac, dataType, values, n: values?.length ?? 0 };
}

/** Bound on one FLAC timestream's samples (64 MiB of float64 while decoding). */
const MAX_FLAC_SAMPLES = 1 << 23;

const MAP_VALUES: Record<string, [number, (ar: Archive) => G3MapValue]> = {
  G3MapDouble: [8, (ar) => ar.r.f64()],
  G3MapString: [8, (ar) => ar.r.string()],
  G3MapVectorDouble: [8, (ar) => doubles(ar, 'G3MapVectorDouble value')],
  G3MapVectorBool: [8, (ar) => bytesVec(ar, 'G3MapVectorBool value')],
  G3MapVectorString: [8, (ar) => strings(ar, 'G3MapVectorString value')],
  G3MapVectorComplexDouble: [8, (ar) => { const n = ar.r.size(16, 'complex vector'); return ar.r.f64s(2 * n); }],
  G3MapVectorTime: [12, (ar) => vectorTime(ar, 'G3VectorTime')],
  G3MapMapDouble: [12, (ar) => readBody(ar, 'G3MapDouble')],
  MapIntervalsTime: [20, (ar) => intervalsBody(ar, 'IntervalsTime')],
  MapIntervalsDouble: [20, (ar) => intervalsBody(ar, 'IntervalsDouble')],
  MapIntervalsInt: [20, (ar) => intervalsBody(ar, 'IntervalsInt')],
  MapIntervalsInt32: [12, (ar) => intervalsBody(ar, 'IntervalsInt32')],
};

function vectorBody(ar: Archive, type: string): G3Object | undefined {
  const r = ar.r;
  switch (type) {
    case 'G3VectorDouble': {
      ar.version(type); ar.frameObjectBase();
      const n = r.size(8, type);
      const raw = r.bytes(n * 8, type);
      const little = r.little;
      let values: Float64Array | null = null;
      // Decoded on first use: the HK path copies `raw` straight into its columns instead.
      return { type, kind: 'vector-double', ...(little === HOST_LITTLE ? { raw } : {}), get values() { return (values ??= toFloat64(raw, n, little)); } };
    }
    case 'G3VectorBool':
    case 'G3VectorUnsignedChar': ar.version(type); ar.frameObjectBase(); return { type, kind: 'vector-bytes', values: bytesVec(ar, type) };
    case 'G3VectorString': ar.version(type); ar.frameObjectBase(); return { type, kind: 'vector-string', values: strings(ar, type) };
    case 'G3VectorComplexDouble': {
      ar.version(type); ar.frameObjectBase();
      const n = r.size(16, type);
      return { type, kind: 'vector-complex', values: r.f64s(2 * n) };
    }
    case 'G3VectorVectorString': {
      ar.version(type); ar.frameObjectBase();
      const n = r.size(8, type);
      const values: string[][] = [];
      for (let i = 0; i < n; i++) {
        const el = readBody(ar, 'G3VectorString');
        values.push(el.kind === 'vector-string' ? el.values : []);
      }
      return { type, kind: 'vector-vector-string', values };
    }
    case 'G3VectorTime': return vectorTime(ar, type);
    case 'G3VectorInt': {
      const v = ar.version(type); ar.frameObjectBase();
      const b = v >= 2 ? bits(ar, type) : 32;
      return { type, kind: 'vector-int', bits: b, values: ints(ar, b, type) };
    }
    case 'G3VectorFrameObject': {
      ar.version(type); ar.frameObjectBase();
      const n = r.size(4, type);
      const items: Array<G3Object | null> = [];
      for (let i = 0; i < n; i++) items.push(ar.pointer());
      return { type, kind: 'vector-object', items };
    }
    default: return undefined;
  }
}

function mapBody(ar: Archive, type: string): G3Object | undefined {
  const r = ar.r;
  const generic = MAP_VALUES[type];
  if (generic) return genericMap(ar, type, generic[0], () => generic[1](ar));
  switch (type) {
    case 'G3MapInt': {
      const v = ar.version(type); ar.frameObjectBase();
      const b = v >= 2 ? bits(ar, type) : 32;
      const n = r.size(8 + b / 8, type);
      const items = new Map<string, G3MapValue>();
      for (let i = 0; i < n; i++) { const k = r.string(`${type} key`); items.set(k, int(ar, b)); }
      return { type, kind: 'map', items };
    }
    case 'G3MapVectorInt': {
      const v = ar.version(type); ar.frameObjectBase();
      const n = v >= 2 ? r.count32(20, type) : r.size(16, type);
      const items = new Map<string, G3MapValue>();
      for (let i = 0; i < n; i++) {
        const k = r.string(`${type} key`);
        items.set(k, ints(ar, v >= 2 ? bits(ar, type) : 32, type));
      }
      return { type, kind: 'map', items };
    }
    case 'G3MapFrameObject':
      ar.version(type); ar.frameObjectBase();
      return { type, kind: 'map', items: frameObjectEntries(ar, type) };
    case 'G3TimesampleMap': {
      ar.version(type);
      ar.version('G3MapFrameObject'); ar.frameObjectBase();
      const fields = frameObjectEntries(ar, type);
      const times = vectorTime(ar, 'G3VectorTime');
      return { type, kind: 'timesample-map', times: times.kind === 'vector-time' ? times.ticks : new BigInt64Array(0), fields };
    }
    case 'G3TimestreamMap': {
      const v = ar.version(type); ar.frameObjectBase();
      if (v < 3) throw new G3BoundsError('unsupported', `G3TimestreamMap version ${v} (only 3 and later are written by current spt3g)`);
      const n = r.size(16, type);
      const items = new Map<string, G3MapValue>();
      for (let i = 0; i < n; i++) { const k = r.string(`${type} key`); items.set(k, ar.pointer('G3Timestream')); }
      return { type, kind: 'map', items };
    }
    default: return undefined;
  }
}

/** The body of one object of class `type` (after its pointer header). */
export function readBody(ar: Archive, type: string): G3Object {
  const r = ar.r;
  switch (type) {
    case 'G3Bool': ar.version(type); ar.frameObjectBase(); return { type, kind: 'bool', value: r.u8('G3Bool') !== 0 };
    case 'G3Int': ar.version(type); ar.frameObjectBase(); return { type, kind: 'int', value: r.i64('G3Int') };
    case 'G3Double': ar.version(type); ar.frameObjectBase(); return { type, kind: 'double', value: r.f64('G3Double') };
    case 'G3String': ar.version(type); ar.frameObjectBase(); return { type, kind: 'string', value: r.string('G3String') };
    case 'G3Time': return { type, kind: 'time', ticks: timeBody(ar) };
    case 'G3Timestream': return timestream(ar, type);
    case 'IrregBlockDouble': {
      ar.version(type); ar.frameObjectBase();
      const prefix = r.string('IrregBlockDouble prefix');
      const t = readBody(ar, 'G3VectorDouble');
      const data = readBody(ar, 'G3MapVectorDouble');
      const cols = new Map<string, Float64Array>();
      if (data.kind === 'map') for (const [k, val] of data.items) if (val instanceof Float64Array) cols.set(k, val);
      return { type, kind: 'irreg-block', prefix, t: t.kind === 'vector-double' ? t.values : new Float64Array(0), data: cols };
    }
    case 'IntervalsTime': case 'IntervalsDouble': case 'IntervalsInt': case 'IntervalsInt32':
      return intervalsBody(ar, type);
    default: {
      const o = vectorBody(ar, type) ?? mapBody(ar, type);
      if (!o) throw new UnknownClassError(type);
      return o;
    }
  }
}
