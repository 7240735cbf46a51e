/**
 * G3VectorDouble, the bulk of HK data: kept as (file bytes, offset, length) and decoded only when
 * its `values` are asked for; the HK path copies the stored bytes straight into its columns
 * (`copyInto`). `nestedVectorDouble` reads the usual nested archive of one G3VectorDouble (a
 * G3TimesampleMap field) without the objects of a general archive read.
 */
import { MAX_DEPTH } from './archive';
import { HOST_LITTLE, toFloat64, type ByteReader } from './bytes';

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
