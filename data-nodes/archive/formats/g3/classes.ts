/**
 * The bodies of the G3 classes FORMAT.md lists (spt3g core, so3g HK and old so3g Intervals): how
 * each one is laid out after its polymorphic pointer header. Every count is checked against the
 * bytes left before anything is allocated (ByteReader.size).
 */
import { Archive, UnknownClassError } from './archive';
import { toFloat64, toInts, toInt64 } from './bytes';
import { G3BoundsError } from './errors';
import { decodeFlac } from './flac';
import { intervalsBody, mapBody } from './maps';
import { bits, bytesVec, ints, strings, timeBody, vectorTime } from './primitives';
import type { G3Object } from './types';
import { VectorDouble } from './lazy-vectors';

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
  if (v >= 4) {
    r.u8('flac depth');
    dataType = r.u32('data type');
  }
  const nanflag = r.u8('nan flag');
  const mask = nanflag === 2 ? bytesVec(ar, 'NaN mask') : null;
  const nbytes = r.size(1, 'FLAC stream');
  // a copy (the compressed bytes): the file's buffer may be reused by the time the values are read
  const stream = r.bytes(nbytes, 'FLAC stream').slice();
  return new FlacTimestream(type, units, start, stop, flac, dataType, stream, nanflag, mask, ar.warn);
}

/** Bound on one FLAC timestream's samples (64 MiB of float64 while decoding). */
const MAX_FLAC_SAMPLES = 1 << 23;

/**
 * A FLAC-compressed G3Timestream, decoded when its values (or their count) are first read. FLAC packs a
 * constant stretch of up to 65,536 samples in a few bytes, so a 1.8 KB stream held 2^23 samples (32 MiB
 * as float32, 64 MiB while decoding), and a 76 KB HK file of 40 of them in its `blocks` made 1.4 GB
 * and 8 s of work: all of it for objects the HK reader skips (hk.ts: a timestream is not HK data).
 * The archive never reads these values; the object reader still gives them to whoever asks.
 */
class FlacTimestream {
  readonly kind = 'timestream' as const;
  private decoded: Float32Array | null | undefined; // undefined: not decoded yet; null: could not be
  constructor(
    readonly type: string,
    readonly units: number,
    readonly start: bigint,
    readonly stop: bigint,
    readonly flac: number,
    readonly dataType: number,
    private readonly stream: Uint8Array,
    private readonly nanflag: number,
    private readonly mask: Uint8Array | null,
    private readonly warn: (m: string) => void,
  ) {}

  get values(): Float32Array | null {
    if (this.decoded !== undefined) return this.decoded;
    try {
      const values = Float32Array.from(decodeFlac(this.stream, MAX_FLAC_SAMPLES));
      if (this.nanflag === 1) values.fill(NaN);
      const mask = this.mask;
      if (mask) for (let i = 0; i < mask.length && i < values.length; i++) if (mask[i]) values[i] = NaN;
      this.decoded = values;
    } catch (e) {
      if (!(e instanceof G3BoundsError)) throw e;
      this.warn(`skipped a FLAC-compressed ${this.type} (${this.stream.length} bytes) that could not be decoded: ${e.message}`);
      this.decoded = null;
    }
    return this.decoded;
  }

  get n(): number {
    return this.values?.length ?? 0;
  }
}

function vectorBody(ar: Archive, type: string): G3Object | undefined {
  const r = ar.r;
  switch (type) {
    case 'G3VectorDouble': {
      ar.version(type);
      ar.frameObjectBase();
      const n = r.size(8, type);
      const at = r.skip(n * 8, type);
      return new VectorDouble(type, r.buf, at, n, r.little);
    }
    case 'G3VectorBool':
    case 'G3VectorUnsignedChar':
      ar.version(type);
      ar.frameObjectBase();
      return { type, kind: 'vector-bytes', values: bytesVec(ar, type) };
    case 'G3VectorString':
      ar.version(type);
      ar.frameObjectBase();
      return { type, kind: 'vector-string', values: strings(ar, type) };
    case 'G3VectorComplexDouble': {
      ar.version(type);
      ar.frameObjectBase();
      const n = r.size(16, type);
      return { type, kind: 'vector-complex', values: r.f64s(2 * n) };
    }
    case 'G3VectorVectorString': {
      ar.version(type);
      ar.frameObjectBase();
      const n = r.size(8, type);
      const values: string[][] = [];
      for (let i = 0; i < n; i++) {
        const el = readBody(ar, 'G3VectorString');
        values.push(el.kind === 'vector-string' ? el.values : []);
      }
      return { type, kind: 'vector-vector-string', values };
    }
    case 'G3VectorTime':
      return vectorTime(ar, type);
    case 'G3VectorInt': {
      const v = ar.version(type);
      ar.frameObjectBase();
      const b = v >= 2 ? bits(ar, type) : 32;
      return { type, kind: 'vector-int', bits: b, values: ints(ar, b, type) };
    }
    case 'G3VectorFrameObject': {
      ar.version(type);
      ar.frameObjectBase();
      const n = r.size(4, type);
      const items: Array<G3Object | null> = [];
      for (let i = 0; i < n; i++) items.push(ar.pointer());
      return { type, kind: 'vector-object', items };
    }
    default:
      return undefined;
  }
}

/** The body of one object of class `type` (after its pointer header). */
export function readBody(ar: Archive, type: string): G3Object {
  const r = ar.r;
  switch (type) {
    case 'G3Bool':
      ar.version(type);
      ar.frameObjectBase();
      return { type, kind: 'bool', value: r.u8('G3Bool') !== 0 };
    case 'G3Int':
      ar.version(type);
      ar.frameObjectBase();
      return { type, kind: 'int', value: r.i64('G3Int') };
    case 'G3Double':
      ar.version(type);
      ar.frameObjectBase();
      return { type, kind: 'double', value: r.f64('G3Double') };
    case 'G3String':
      ar.version(type);
      ar.frameObjectBase();
      return { type, kind: 'string', value: r.string('G3String') };
    case 'G3Time':
      return { type, kind: 'time', ticks: timeBody(ar) };
    case 'G3Timestream':
      return timestream(ar, type);
    case 'IrregBlockDouble': {
      ar.version(type);
      ar.frameObjectBase();
      const prefix = r.string('IrregBlockDouble prefix');
      const t = readBody(ar, 'G3VectorDouble');
      const data = readBody(ar, 'G3MapVectorDouble');
      const cols = new Map<string, Float64Array>();
      if (data.kind === 'map') for (const [k, val] of data.items) if (val instanceof Float64Array) cols.set(k, val);
      return { type, kind: 'irreg-block', prefix, t: t.kind === 'vector-double' ? t.values : new Float64Array(0), data: cols };
    }
    case 'IntervalsTime':
    case 'IntervalsDouble':
    case 'IntervalsInt':
    case 'IntervalsInt32':
      return intervalsBody(ar, type);
    default: {
      const o = vectorBody(ar, type) ?? mapBody(ar, type, readBody);
      if (!o) throw new UnknownClassError(type);
      return o;
    }
  }
}
