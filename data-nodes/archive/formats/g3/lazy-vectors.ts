/**
 * G3VectorDouble and G3VectorTime, the bulk of HK data: kept as (file bytes, offset, length) and
 * decoded only when their `values` / `ticks` are asked for; the HK path writes them straight into
 * its columns (`copyInto`, `seconds`). `nestedVectorDouble` reads the usual nested archive of one
 * G3VectorDouble (a G3TimesampleMap field) without the objects of a general archive read, and
 * `plainInt` / `plainStrings` the usual G3Int / G3VectorString frame entries (HK scalars, block
 * names) the same way: each declines (null) anything the general read might answer otherwise.
 */
import { MAX_DEPTH } from './archive';
import { HOST_LITTLE, toFloat64, toInt64, utf8At, viewOf, type ByteReader } from './bytes';
import type { TimeVector } from './types';

const TWO32 = 4294967296;
/** G3 time units per second (so3g: t = ticks / 1e8). */
const TICKS_PER_SECOND = 1e8;

/** Of an int64 in host order seen as two int32 words: which holds the high half, which the low. */
const HI = HOST_LITTLE ? 1 : 0;
const LO = 1 - HI;

/** n int64 values in host order, seen as 2n int32 words → doubles / scale at out[at…] (no BigInt per value). */
function wordsToDouble(w: Int32Array, n: number, out: Float64Array, at: number, scale: number): void {
  for (let i = 0, j = 0; i < n; i++, j += 2) out[at + i] = ((w[j + HI] ?? 0) * TWO32 + ((w[j + LO] ?? 0) >>> 0)) / scale;
}

/** int64 values (ticks or G3VectorInt) → doubles / scale, through 32-bit halves (no BigInt per value). */
export function int64ToDouble(src: BigInt64Array, out: Float64Array, at: number, scale: number): void {
  wordsToDouble(new Int32Array(src.buffer, src.byteOffset, src.length * 2), src.length, out, at, scale);
}

let scratch = new Int32Array(1024);
/** The scratch kept between calls stays at most this many words (8 MiB); a bigger one is for one call. */
const SCRATCH_KEEP = 1 << 20;

/** An Int32Array of at least n words: the reused one, unless n is past SCRATCH_KEEP. */
function scratchWords(n: number): Int32Array {
  if (n > SCRATCH_KEEP) return new Int32Array(n);
  if (scratch.length < n) scratch = new Int32Array(Math.min(SCRATCH_KEEP, Math.max(n, 2 * scratch.length)));
  return scratch;
}

/** `length` 8-byte values at buf[offset…] in the file bytes, decoded (`decode`) once, on first use. */
abstract class InFileVector<T> {
  private cached: T | null = null;
  constructor(
    readonly type: string,
    protected readonly buf: Uint8Array,
    protected readonly offset: number,
    /** Number of values. */
    readonly length: number,
    protected readonly little: boolean,
  ) {}

  /** The values' bytes (a view of the file bytes). */
  protected bytes(): Uint8Array {
    return this.buf.subarray(this.offset, this.offset + this.length * 8);
  }

  protected abstract decode(bytes: Uint8Array): T;

  protected decoded(): T {
    return (this.cached ??= this.decode(this.bytes()));
  }
}

/** A G3VectorTime in the file bytes. */
export class VectorTime extends InFileVector<BigInt64Array> implements TimeVector {
  readonly kind = 'vector-time' as const;

  get ticks(): BigInt64Array {
    return this.decoded();
  }

  protected decode(bytes: Uint8Array): BigInt64Array {
    return toInt64(bytes, this.length, this.little);
  }

  /** out[at + i] = ticks[i] / 1e8, the same arithmetic as `int64ToDouble` (read from the bytes). */
  seconds(out: Float64Array, at: number): void {
    const base = this.buf.byteOffset + this.offset;
    if (this.little === HOST_LITTLE) {
      // As int32 words (an Int32Array read is ~3× a DataView's): in place when 4-aligned, else an aligned copy.
      let words: Int32Array;
      if ((base & 3) === 0) words = new Int32Array(this.buf.buffer, base, 2 * this.length);
      else {
        words = scratchWords(2 * this.length);
        new Uint8Array(words.buffer, 0, 8 * this.length).set(this.bytes());
      }
      wordsToDouble(words, this.length, out, at, TICKS_PER_SECOND);
      return;
    }
    const dv = viewOf(this.buf.buffer);
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

/** A class name as `plainHead` compares it: whole little-endian words, then the last 0–3 bytes. */
interface ClassName {
  readonly name: string;
  readonly words: readonly number[];
  readonly tail: readonly number[];
  /** Where the object's body starts: flag 1 + class id 4 + name length 8 + name + object id 4 + versions 8. */
  readonly body: number;
}

function className(name: string): ClassName {
  const b = Buffer.from(name, 'latin1');
  const words: number[] = [];
  let i = 0;
  for (; i + 4 <= b.length; i += 4) words.push(b.readUInt32LE(i));
  return { name, words, tail: [...b.subarray(i)], body: 1 + 4 + 8 + b.length + 4 + 8 };
}

const VECTOR_DOUBLE = className('G3VectorDouble');
/** The head and the size (8). */
const HEAD = VECTOR_DOUBLE.body + 8;

export class VectorDouble extends InFileVector<Float64Array> {
  readonly kind = 'vector-double' as const;

  /** The G3 class (HkColumn). */
  get g3Type(): string {
    return this.type;
  }

  get values(): Float64Array {
    return this.decoded();
  }

  protected decode(bytes: Uint8Array): Float64Array {
    return toFloat64(bytes, this.length, this.little);
  }

  /** Writes the values at out[at…]; `outBytes` is a byte view of `out` (one memcpy in host order). */
  copyInto(out: Float64Array, outBytes: Uint8Array, at: number): void {
    if (this.little === HOST_LITTLE) outBytes.set(this.bytes(), at * 8);
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
  const p = r.pos;
  const end = p + len;
  if (len < HEAD || end > r.end || depth + 2 > MAX_DEPTH) return null;
  // Whole words through the buffer's DataView: this runs for every field of every data frame.
  const dv = r.view;
  const b = r.base + p;
  if (!plainHead(dv, b, len, VECTOR_DOUBLE)) return null;
  const little = dv.getUint8(b) === 1;
  const q = b + VECTOR_DOUBLE.body;
  const n = dv.getUint32(q + (little ? 0 : 4), little) + dv.getUint32(q + (little ? 4 : 0), little) * 4294967296;
  const at = p + HEAD;
  if (n * 8 !== end - at) return null;
  return new VectorDouble(VECTOR_DOUBLE.name, r.buf, at, n, little);
}

/**
 * Whether the `len` bytes at dv[b…] start an archive holding one object of class `cls` in the form
 * spt3g writes: flag, new class id 1, name length, the name, a new object id, the two class versions
 * (≤ 1000), with every check of the general read. The object's body is at b + cls.body, in the
 * order of the flag (dv.getUint8(b) === 1: little-endian). Allocates nothing (nestedVectorDouble
 * runs it per field per frame).
 */
function plainHead(dv: DataView, b: number, len: number, cls: ClassName): boolean {
  if (len < cls.body) return false;
  const flag = dv.getUint8(b);
  if (flag !== 0 && flag !== 1) return false;
  const little = flag === 1;
  // a uint64's low and high words
  const lo = little ? 0 : 4;
  const hi = 4 - lo;
  if (
    dv.getUint32(b + 1, little) !== 0x80000001 ||
    dv.getUint32(b + 5 + lo, little) !== cls.name.length ||
    dv.getUint32(b + 5 + hi, little) !== 0
  )
    return false;
  const { words, tail } = cls;
  for (let i = 0; i < words.length; i++) if (dv.getUint32(b + 13 + 4 * i, true) !== words[i]) return false;
  const t = b + 13 + 4 * words.length;
  for (let i = 0; i < tail.length; i++) if (dv.getUint8(t + i) !== tail[i]) return false;
  const q = b + 13 + cls.name.length;
  return (dv.getUint32(q, little) & 0x80000000) !== 0 && dv.getUint32(q + 4, little) <= 1000 && dv.getUint32(q + 8, little) <= 1000;
}

const INT_CLASS = className('G3Int');
/** The head and the int64. */
const INT_ARCHIVE = INT_CLASS.body + 8;

/**
 * The value of an archive (a frame entry) holding exactly one G3Int in the form spt3g writes, with
 * every check of the general read (as `nestedVectorDouble`); null for anything else (the caller
 * reads it the general way). The HK scalars (hkagg_type, session_id, prov_id…) of every frame.
 */
export function plainInt(blob: Uint8Array): bigint | null {
  if (blob.length !== INT_ARCHIVE) return null;
  const dv = viewOf(blob.buffer);
  const b = blob.byteOffset;
  return plainHead(dv, b, blob.length, INT_CLASS) ? dv.getBigInt64(b + INT_CLASS.body, blob[0] === 1) : null;
}

const STRINGS_CLASS = className('G3VectorString');

/**
 * The strings of an archive (a frame entry) holding exactly one G3VectorString in the form spt3g
 * writes, with every check of the general read (as `plainInt`); null for anything else. The HK
 * block_names of every data frame.
 */
export function plainStrings(blob: Uint8Array): string[] | null {
  const end = blob.length;
  const dv = viewOf(blob.buffer);
  const b = blob.byteOffset;
  if (!plainHead(dv, b, end, STRINGS_CLASS)) return null;
  const little = blob[0] === 1;
  const lo = little ? 0 : 4;
  const hi = 4 - lo;
  // Sizes as ByteReader.size checks them: a string of n bytes, n strings of at least 8.
  const size = (at: number, unit: number): number => {
    if (end - at < 8) return -1;
    const h = dv.getUint32(b + at + hi, little);
    const n = h * 4294967296 + dv.getUint32(b + at + lo, little);
    return h >= 0x200000 || n * unit > end - at - 8 ? -1 : n;
  };
  const n = size(STRINGS_CLASS.body, 8);
  if (n < 0) return null;
  const out: string[] = new Array<string>(n);
  let p = STRINGS_CLASS.body + 8;
  for (let i = 0; i < n; i++) {
    const len = size(p, 1);
    if (len < 0) return null;
    out[i] = utf8At(blob, p + 8, len);
    p += 8 + len;
  }
  return p === end ? out : null;
}
