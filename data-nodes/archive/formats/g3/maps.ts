/**
 * The G3 map classes (FORMAT.md §5.4–5.6): generic std::map bodies, the integer maps with a stored
 * bit width, G3MapFrameObject (each value its own nested archive), G3TimesampleMap, G3TimestreamMap
 * and old so3g's MapIntervals*. `body` reads a nested class body (passed in to avoid an import cycle).
 */
import { Archive, UnknownClassError } from './archive';
import { G3BoundsError } from './errors';
import { bits, bytesVec, doubles, int, ints, strings, timeBody, vectorTime } from './primitives';
import type { G3MapValue, G3Object, TimeVector } from './types';
import { nestedVectorDouble } from './lazy-vectors';

type Body = (ar: Archive, type: string) => G3Object;

/**
 * A G3TimesampleMap: its times stay in the file bytes until `timeVector.ticks` is asked for, and its fields are
 * kept as the arrays read (the HK reader's columns, without a Map per data frame): the `fields` Map
 * is built on first use.
 */
export class TimesampleMap {
  readonly kind = 'timesample-map' as const;
  private map: Map<string, G3Object | null> | null = null;
  constructor(
    readonly type: string,
    readonly timeVector: TimeVector,
    readonly list: EntryList,
  ) {}
  get fields(): Map<string, G3Object | null> {
    return (this.map ??= mapOf(this.list.keys, this.list.values));
  }
}

/**
 * G3MapFrameObject entries in file order. `unique`: no key repeats (a Map would keep the first
 * place and the last value of a repeated one). Successive maps of one layout share one keys array.
 */
export interface EntryList {
  keys: readonly string[];
  values: ReadonlyArray<G3Object | null>;
  unique: boolean;
}

/** keys[i] → values[i] (parallel arrays; a repeated key keeps its first place and last value). */
export function mapOf<V>(keys: readonly string[], values: readonly V[]): Map<string, V> {
  const m = new Map<string, V>();
  for (let i = 0; i < keys.length; i++) m.set(keys[i] as string, values[i] as V);
  return m;
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
export function frameObjectEntries(ar: Archive, type: string): Map<string, G3Object | null> {
  const { keys, values } = frameObjectEntryList(ar, type);
  return mapOf(keys, values);
}

/** The keys of the last list read with unique keys: the next map of the same layout shares them. */
let lastKeys: readonly string[] = [];

/** `frameObjectEntries` as arrays. */
export function frameObjectEntryList(ar: Archive, type: string): EntryList {
  const n = ar.r.count32(16, type);
  const keys: string[] = new Array<string>(n);
  const values: Array<G3Object | null> = new Array<G3Object | null>(n);
  const keyWhat = `${type} key`;
  const valueWhat = `${type} value`;
  // the list as it was on entry: a map nested in a value below sets lastKeys to its own keys
  const prev = lastKeys;
  let same = n === prev.length;
  for (let i = 0; i < n; i++) {
    const k = ar.r.stringLike(prev[i], keyWhat);
    keys[i] = k;
    if (same && prev[i] !== k) same = false;
    const len = ar.r.size(1, valueWhat);
    const vd = nestedVectorDouble(ar.r, len, ar.depth);
    if (vd) {
      ar.r.pos += len;
      values[i] = vd;
    } else values[i] = ar.nested(len).single();
  }
  if (same) {
    lastKeys = prev;
    return { keys: prev, values, unique: true };
  }
  const unique = new Set(keys).size === n;
  if (unique) lastKeys = keys;
  return { keys, values, unique };
}

export function intervalsBody(ar: Archive, type: string): G3Object {
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

function mapValues(body: Body): Record<string, [number, (ar: Archive) => G3MapValue]> {
  return {
    G3MapDouble: [8, (ar) => ar.r.f64()],
    G3MapString: [8, (ar) => ar.r.string()],
    G3MapVectorDouble: [8, (ar) => doubles(ar, 'G3MapVectorDouble value')],
    G3MapVectorBool: [8, (ar) => bytesVec(ar, 'G3MapVectorBool value')],
    G3MapVectorString: [8, (ar) => strings(ar, 'G3MapVectorString value')],
    G3MapVectorComplexDouble: [
      8,
      (ar) => {
        const n = ar.r.size(16, 'complex vector');
        return ar.r.f64s(2 * n);
      },
    ],
    G3MapVectorTime: [12, (ar) => vectorTime(ar, 'G3VectorTime')],
    G3MapMapDouble: [12, (ar) => body(ar, 'G3MapDouble')],
    MapIntervalsTime: [20, (ar) => intervalsBody(ar, 'IntervalsTime')],
    MapIntervalsDouble: [20, (ar) => intervalsBody(ar, 'IntervalsDouble')],
    MapIntervalsInt: [20, (ar) => intervalsBody(ar, 'IntervalsInt')],
    MapIntervalsInt32: [12, (ar) => intervalsBody(ar, 'IntervalsInt32')],
  };
}

export function mapBody(ar: Archive, type: string, body: Body): G3Object | undefined {
  const r = ar.r;
  switch (type) {
    case 'G3MapInt': {
      const v = ar.version(type);
      ar.frameObjectBase();
      const b = v >= 2 ? bits(ar, type) : 32;
      const n = r.size(8 + b / 8, type);
      const items = new Map<string, G3MapValue>();
      for (let i = 0; i < n; i++) {
        const k = r.string(`${type} key`);
        items.set(k, int(ar, b));
      }
      return { type, kind: 'map', items };
    }
    case 'G3MapVectorInt': {
      const v = ar.version(type);
      ar.frameObjectBase();
      const n = v >= 2 ? r.count32(20, type) : r.size(16, type);
      const items = new Map<string, G3MapValue>();
      for (let i = 0; i < n; i++) {
        const k = r.string(`${type} key`);
        items.set(k, ints(ar, v >= 2 ? bits(ar, type) : 32, type));
      }
      return { type, kind: 'map', items };
    }
    case 'G3MapFrameObject':
      ar.version(type);
      ar.frameObjectBase();
      return { type, kind: 'map', items: frameObjectEntries(ar, type) };
    case 'G3TimesampleMap': {
      ar.version(type);
      ar.version('G3MapFrameObject');
      ar.frameObjectBase();
      const fields = frameObjectEntryList(ar, type);
      return new TimesampleMap(type, vectorTime(ar, 'G3VectorTime'), fields);
    }
    case 'G3TimestreamMap': {
      const v = ar.version(type);
      ar.frameObjectBase();
      if (v < 3) throw new G3BoundsError('unsupported', `G3TimestreamMap version ${v} (only 3 and later are written by current spt3g)`);
      const n = r.size(16, type);
      const items = new Map<string, G3MapValue>();
      for (let i = 0; i < n; i++) {
        const k = r.string(`${type} key`);
        items.set(k, ar.pointer('G3Timestream'));
      }
      return { type, kind: 'map', items };
    }
    default: {
      const generic = mapValues(body)[type];
      return generic ? genericMap(ar, type, generic[0], () => generic[1](ar)) : undefined;
    }
  }
}
