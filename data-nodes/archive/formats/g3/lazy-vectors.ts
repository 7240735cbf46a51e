/**
 * G3VectorDouble and G3VectorTime, the bulk of HK data: kept as (file bytes, offset, length) and
 * decoded only when their `values` / `ticks` are asked for; the HK path writes them straight into
 * its columns (`copyInto`, `seconds`). `nestedVectorDouble` reads the usual nested archive of one
 * G3VectorDouble (a G3TimesampleMap field) without the objects of a general archive read.
 */
import { MAX_DEPTH } from './archive';
import { HOST_LITTLE, toFloat64, toInt64, viewOf, type ByteReader } from './bytes';
import type { TimeVector } from './types';

const TWO32 = 4294967296;
/** G3 time units per second (so3g: t = ticks / 1e8). */
const TICKS_PER_SECOND = 1e8;

/** int64 values (ticks or G3VectorInt) → doubles / scale, through 32-bit halves (no BigInt per value). */
export function int64ToDouble(src: BigInt64Array, out: Float64Array, at: number, scale: number): void {
  const w = new Int32Array(src.buffer, src.byteOffset, src.length * 2);
  for (let i = 0, j = 0; i < src.length; i++, j += 2) out[at + i] = ((w[j + 1] ?? 0) * TWO32 + ((w[j] ?? 0) >>> 0)) / scale;
}

/** A G3VectorTime in the file bytes. */
export class VectorTime implements TimeVector {
  readonly kind = 'vector-time' as const;
  private cached: BigInt64Array | null = null;
  constructor(
    readonly type: string,
    private readonly buf: Uint8Array,
    private readonly offset: number,
    readonly length: number,
    private readonly little: boolean,
  ) {}

  get ticks(): BigInt64Array {
    return (this.cached ??= toInt64(this.buf.subarray(this.offset, this.offset + this.length * 8), this.length, this.little));
  }

  /** out[at + i] = ticks[i] / 1e8, the same arithmetic as `int64ToDouble` (read from the bytes). */
  seconds(out: Float64Array, at: number): void {
    const dv = viewOf(this.buf.buffer);
    const base = this.buf.byteOffset + this.offset;
    const lo = this.little ? 0 : 4;
    const hi = 4 - lo;
    for (let i = 0, p = base; i < this.length; i++, p += 8) {
      out[at + i] = (dv.getInt32(p + hi, this.little) * TWO32 + dv.getUint32(p + lo, this.little)) / TICKS_PER_SECOND;
    }
  }
}

/** Ticks already decoded (v0 IrregBlockDouble times). */
export class TickArray implements TimeVector {
  constructor(readonly ticks: BigInt64Array) {}
  get length(): number {
    return this.ticks.length;
  }
  seconds(out: Float64Array, at: number): void {
    int64ToDouble(this.ticks, out, at, TICKS_PER_SECOND);
  }
}

const CLASS = 'G3VectorDouble';
const CLASS_BYTES = Array.from(CLASS, (c) => c.charCodeAt(0));

export class VectorDouble {
  readonly kind = 'vector-double' as const;
  private cached: Float64Array | null = null;
  constructor(
    readonly type: string,
    private readonly buf: Uint8Array,
    private readonly offset: number,
    /** Number of doubles. */
    readonly length: number,
    private readonly little: boolean,
  ) {}

  /** The G3 class (HkColumn). */
  get g3Type(): string {
    return this.type;
  }

  get values(): Float64Array {
    return (this.cached ??= toFloat64(this.buf.subarray(this.offset, this.offset + this.length * 8), this.length, this.little));
  }

  /** Writes the values at out[at…]; `outBytes` is a byte view of `out` (one memcpy in host order). */
  copyInto(out: Float64Array, outBytes: Uint8Array, at: number): void {
    if (this.little === HOST_LITTLE) outBytes.set(this.buf.subarray(this.offset, this.offset + this.length * 8), at * 8);
    else out.set(this.values, at);
  }
}

/**
 * The nested archive of `len` bytes at r.pos when it holds exactly one G3VectorDouble in the form
 * spt3g writes (flag, new class id 1 named G3VectorDouble, new object id, the two class versions,
 * the size, the doubles), with every check of the general read (class versions ≤ 1000, size within
 * the archive, no byte left over). Null for anything else: the caller then reads it the general way,
 * which also gives the precise error. Does not move r.pos.
 */
export function nestedVectorDouble(r: ByteReader, len: number, depth: number): VectorDouble | null {
  const buf = r.buf;
  const p = r.pos;
  const end = p + len;
  // flag 1 + class id 4 + name length 8 + name + object id 4 + versions 8 + size 8
  const head = 1 + 4 + 8 + CLASS_BYTES.length + 4 + 8 + 8;
  if (len < head || end > r.end || depth + 2 > MAX_DEPTH) return null;
  const flag = buf[p];
  if (flag !== 0 && flag !== 1) return null;
  const little = flag === 1;
  if (u32(buf, p + 1, little) !== 0x80000001 || u64(buf, p + 5, little) !== CLASS_BYTES.length) return null;
  let q = p + 13;
  for (const ch of CLASS_BYTES) if (buf[q++] !== ch) return null;
  if (!(u32(buf, q, little) & 0x80000000) || u32(buf, q + 4, little) > 1000 || u32(buf, q + 8, little) > 1000) return null;
  const n = u64(buf, q + 12, little);
  q += 20;
  if (n * 8 !== end - q) return null;
  return new VectorDouble(CLASS, buf, q, n, little);
}

function u32(buf: Uint8Array, at: number, little: boolean): number {
  const a = buf[at] ?? 0;
  const b = buf[at + 1] ?? 0;
  const c = buf[at + 2] ?? 0;
  const d = buf[at + 3] ?? 0;
  return (little ? a | (b << 8) | (c << 16) | (d << 24) : (a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

function u64(buf: Uint8Array, at: number, little: boolean): number {
  return little ? u32(buf, at, true) + u32(buf, at + 4, true) * 4294967296 : u32(buf, at, false) * 4294967296 + u32(buf, at + 4, false);
}
