/**
 * A bounds-checked reader over one cereal portable-binary archive (or a slice of one). Every length
 * or count is checked against the bytes that remain BEFORE anything is allocated, so a hostile
 * length costs nothing; a `G3BoundsError` says what did not fit.
 */
import { G3BoundsError } from './errors';

export const HOST_LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const VIEWS = new WeakMap<ArrayBufferLike, DataView>();

/** One DataView per ArrayBuffer: the thousands of nested archives of a file share it. */
export function viewOf(buffer: ArrayBufferLike): DataView {
  let v = VIEWS.get(buffer);
  if (!v) {
    v = new DataView(buffer);
    VIEWS.set(buffer, v);
  }
  return v;
}

export class ByteReader {
  /** The DataView of `buf`'s whole ArrayBuffer (shared by all readers of it). */
  readonly view: DataView;
  /** Offset of `buf` in its ArrayBuffer (the DataView spans the whole buffer, shared by all readers). */
  readonly base: number;
  pos: number;
  /** Byte order of multi-byte numbers (set from the archive's flag byte). */
  little = true;

  constructor(
    readonly buf: Uint8Array,
    readonly start = 0,
    readonly end = buf.length,
  ) {
    this.view = viewOf(buf.buffer);
    this.base = buf.byteOffset;
    this.pos = start;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  need(n: number, what: string): void {
    if (n > this.end - this.pos) {
      throw new G3BoundsError('truncated', `${what} needs ${n} bytes, only ${this.end - this.pos} left`);
    }
  }

  /** Reads the archive's endianness flag: 1 = little-endian, 0 = big-endian. */
  endianFlag(): void {
    const f = this.u8('endianness flag');
    if (f > 1) throw new G3BoundsError('corrupt', `endianness flag ${f} (expected 0 or 1)`);
    this.little = f === 1;
  }

  u8(what = 'uint8'): number {
    this.need(1, what);
    return this.buf[this.pos++] ?? 0;
  }

  u32(what = 'uint32'): number {
    this.need(4, what);
    const v = this.view.getUint32(this.base + this.pos, this.little);
    this.pos += 4;
    return v;
  }

  i32(what = 'int32'): number {
    this.need(4, what);
    const v = this.view.getInt32(this.base + this.pos, this.little);
    this.pos += 4;
    return v;
  }

  i64(what = 'int64'): bigint {
    this.need(8, what);
    const v = this.view.getBigInt64(this.base + this.pos, this.little);
    this.pos += 8;
    return v;
  }

  f64(what = 'float64'): number {
    this.need(8, what);
    const v = this.view.getFloat64(this.base + this.pos, this.little);
    this.pos += 8;
    return v;
  }

  /**
   * A uint64 size tag that must describe `unit`-byte items still in this archive: refused before
   * any allocation when `count × unit` exceeds what is left (a claim of 2^60 elements costs nothing).
   */
  size(unit: number, what: string): number {
    // need(8, …) without building its message on every call
    if (this.end - this.pos < 8) throw new G3BoundsError('truncated', `${what} length needs 8 bytes, only ${this.end - this.pos} left`);
    const lo = this.view.getUint32(this.base + this.pos + (this.little ? 0 : 4), this.little);
    const hi = this.view.getUint32(this.base + this.pos + (this.little ? 4 : 0), this.little);
    const n = hi * 4294967296 + lo;
    if (hi >= 0x200000 || n * unit > this.end - this.pos - 8) {
      throw new G3BoundsError(
        'bounds',
        `${what} claims ${hi >= 0x200000 ? `${BigInt(hi) * 4294967296n + BigInt(lo)}` : n} ` +
          `item(s) of ≥${unit} byte(s), only ${this.end - this.pos - 8} bytes left`,
      );
    }
    this.pos += 8;
    return n;
  }

  /** A uint32 count of items of at least `unit` bytes, checked like `size`. */
  count32(unit: number, what: string): number {
    if (this.end - this.pos < 4) throw new G3BoundsError('truncated', `${what} count needs 4 bytes, only ${this.end - this.pos} left`);
    const n = this.u32();
    if (n * unit > this.end - this.pos) {
      throw new G3BoundsError('bounds', `${what} claims ${n} item(s) of ≥${unit} byte(s), only ${this.end - this.pos} bytes left`);
    }
    return n;
  }

  /** Steps over n bytes (checked like `bytes`); returns where they start. */
  skip(n: number, what: string): number {
    this.need(n, what);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  bytes(n: number, what: string): Uint8Array {
    this.need(n, what);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  string(what = 'string'): string {
    const n = this.size(1, what); // n bytes are there (size checks them)
    const s = utf8At(this.buf, this.pos, n);
    this.pos += n;
    return s;
  }

  /**
   * `string`, given the string likely here (the key at this place in the last map read): that one
   * when the bytes are ASCII and spell it, without hashing them (`utf8At`'s cache) first.
   */
  stringLike(expected: string | undefined, what: string): string {
    const n = this.size(1, what);
    const at = this.pos;
    this.pos += n;
    if (expected !== undefined && expected.length === n) {
      let i = 0;
      while (i < n) {
        const c = this.buf[at + i] ?? 0x80;
        if (c >= 0x80 || expected.charCodeAt(i) !== c) break;
        i++;
      }
      if (i === n) return expected;
    }
    return utf8At(this.buf, at, n);
  }

  /** n float64s: a view when aligned and in host order, else one copy. */
  f64s(n: number): Float64Array {
    const b = this.bytes(n * 8, 'float64 array');
    return toFloat64(b, n, this.little);
  }
}

/** UTF-8 bytes as a string (invalid sequences become U+FFFD). */
export function utf8(b: Uint8Array): string {
  return utf8At(b, 0, b.length);
}

/**
 * Short ASCII strings already made, by a hash of their bytes: entry names, map keys and class names
 * repeat in every frame, so most are found here instead of being built again (bounded: 4096 slots).
 */
const SHORT: Array<string | undefined> = new Array<string | undefined>(4096).fill(undefined);
const SHORT_MAX = 32;

/** The UTF-8 string of buf[start, start + n); short ASCII without a native call or a copy. */
export function utf8At(buf: Uint8Array, start: number, n: number): string {
  if (n <= SHORT_MAX) {
    let h = n;
    for (let i = 0; i < n; i++) {
      const c = buf[start + i] ?? 0;
      if (c > 0x7f) return Buffer.from(buf.buffer, buf.byteOffset + start, n).toString('utf8');
      h = Math.imul(h ^ c, 0x9e3779b1);
    }
    const slot = (h >>> 20) & 4095;
    const known = SHORT[slot];
    if (known !== undefined && known.length === n) {
      let i = 0;
      while (i < n && known.charCodeAt(i) === buf[start + i]) i++;
      if (i === n) return known;
    }
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(buf[start + i] ?? 0);
    SHORT[slot] = s;
    return s;
  }
  return Buffer.from(buf.buffer, buf.byteOffset + start, n).toString('utf8');
}

/** `n` doubles from `b` in the given byte order, as a Float64Array that owns (or views) aligned memory. */
export function toFloat64(b: Uint8Array, n: number, little: boolean): Float64Array {
  if (little === HOST_LITTLE) {
    if ((b.byteOffset & 7) === 0) return new Float64Array(b.buffer, b.byteOffset, n);
    const out = new Float64Array(n);
    new Uint8Array(out.buffer).set(b);
    return out;
  }
  const out = new Float64Array(n);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < n; i++) out[i] = dv.getFloat64(i * 8, little);
  return out;
}

/** `n` signed integers of `bits` width as a typed array (copy when unaligned or foreign order). */
export function toInts(
  b: Uint8Array,
  n: number,
  bits: 8 | 16 | 32 | 64,
  little: boolean,
): Int8Array | Int16Array | Int32Array | BigInt64Array {
  if (bits === 8) return new Int8Array(b.buffer, b.byteOffset, n).slice();
  const width = bits / 8;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (bits === 16) {
    const out = new Int16Array(n);
    for (let i = 0; i < n; i++) out[i] = dv.getInt16(i * 2, little);
    return out;
  }
  if (bits === 32) {
    if (little === HOST_LITTLE) {
      const out = new Int32Array(n);
      new Uint8Array(out.buffer).set(b.subarray(0, n * width));
      return out;
    }
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = dv.getInt32(i * 4, little);
    return out;
  }
  const out = new BigInt64Array(n);
  if (little === HOST_LITTLE) new Uint8Array(out.buffer).set(b.subarray(0, n * 8));
  else for (let i = 0; i < n; i++) out[i] = dv.getBigInt64(i * 8, little);
  return out;
}

/** n int64 values (G3Time ticks) as a BigInt64Array copy. */
export function toInt64(b: Uint8Array, n: number, little: boolean): BigInt64Array {
  return toInts(b, n, 64, little) as BigInt64Array;
}
