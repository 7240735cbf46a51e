/**
 * A compact, lossless encoding of packed buckets (bucket.ts) for storage: about half the bytes of the
 * raw form (STRIDE little-endian doubles a bucket, 72 B): 43 B a bucket of 10 min of G3 HK (35 B with
 * times in whole seconds). Every number decodes to the same double.
 *
 * Why: a year of one 1 Hz provider of 20 fields kept 184 MB of tier rows in the archive's index, and
 * writing them was about half of what the scanner's own thread spends on a year's scan (bench/g3.ts,
 * "the scan's index writes alone"). Of a bucket's nine numbers only min, max and sum need a double;
 * the rest are small integers or times close to each other:
 *
 *   idx     the first as a double, then the steps to the next (integers ≥ 1)
 *   count   an integer
 *   tFirst  the first as a double, then the steps to the next
 *   tLast, tMin, tMax   their distances from the bucket's tFirst
 *
 * Steps and distances of times are integers in a unit of 2^e seconds, the lowest set bit of any of them
 * (times of G3's 10 ns ticks near 2026 give 2^-22 s, integer seconds 1 s). Each kind of integer takes
 * the fewest bytes (1-6) that hold its largest. The encoder checks that each number decodes to itself, with the decoder's own
 * arithmetic (`prev + k * 2^e`); where one would not (NaN or infinite times, times out of order, steps
 * of 2^48 units or more), the row is stored raw, as before. Raw rows are also what indexes written
 * before hold: the two are told apart by length (raw: a multiple of 8 bytes; compact: 4 more than one).
 *
 * Layout (little-endian):
 *   0  u8   MAGIC
 *   1  u8   bytes of an idx step        2  u8  bytes of a count     3  u8  bytes of a time integer
 *   4  i16  e (the time unit is 2^e s)  6  u16 0
 *   8  u32  n (buckets)                 12 u32 0
 *   16 f64  idx of the first bucket     24 f64 tFirst of the first bucket
 *   32 f64  min × n, max × n, sum × n
 *   then    idx steps × (n-1), counts × n, tFirst steps × (n-1), tLast, tMin, tMax distances × n each
 *   then    0-7 zero bytes: the length is 4 more than a multiple of 8
 */
import { LITTLE_ENDIAN, packFromBuffer, STRIDE as BUCKET_STRIDE } from './bucket';

/** A local binding (CommonJS reads an import as a property of the module each time, in every loop). */
const STRIDE = BUCKET_STRIDE;
const MAGIC = 0xb7;
const HEAD = 32;
/** Past the largest integer stored: 6 bytes (the arithmetic of doubles stays exact). */
const MAX_INT = 2 ** 48;
/** No exponent yet (above any a double has). */
const NONE = 2000;
const TWO32 = 2 ** 32;

/** A stored tier row whose bytes do not decode: the index was damaged, or written by something else. */
export class TierBlobError extends Error {
  readonly code = 'TIER_ROW_DAMAGED';
  constructor(what: string) {
    super(`a summary-tier row of the index is damaged (${what}): run the scan with --rebuild-summaries`);
  }
}

/** Whether `b` is a compact row (else raw doubles). */
export function isCompact(b: Uint8Array): boolean {
  return b.byteLength % 8 === 4;
}

/** Bytes (1-6) that hold the integer x (0 ≤ x < 2^48). */
function bytesFor(x: number): number {
  let n = 1;
  while (n < 6 && x >= 2 ** (8 * n)) n++;
  return n;
}

const ctz32 = (v: number): number => 31 - Math.clz32(v & -v);

/** x's bits, through one shared double (Math.log2 and ** per time took most of an encode). */
const BITS = new Float64Array(1);
const WORDS = new Uint32Array(BITS.buffer);
const HI = LITTLE_ENDIAN ? 1 : 0;
const LO = 1 - HI;

/** The exponent of the lowest set bit of the finite x > 0: x is an odd multiple of 2^lowBit(x). */
function lowBit(x: number): number {
  BITS[0] = x;
  const hi = WORDS[HI] as number;
  const lo = WORDS[LO] as number;
  const biased = (hi >>> 20) & 0x7ff;
  // the significand's lowest set bit (a normal x has its leading 1 at bit 52)
  const frac = hi & 0xfffff;
  const tz = lo !== 0 ? ctz32(lo) : frac !== 0 ? 32 + ctz32(frac) : 52;
  // a normal x is 1.f × 2^(biased - 1023), so bit k of the significand is worth 2^(biased - 1075 + k);
  // a subnormal one (biased 0) is 0.f × 2^-1022
  return (biased === 0 ? -1074 : biased - 1075) + tz;
}

/** Writes I[from, to) from byte o of v, `bytes` bytes each (each < 2^(8·bytes)); returns the offset after them. */
function putColumn(I: Float64Array, v: DataView, o: number, from: number, to: number, bytes: number): number {
  // a loop per width: no switch per value
  if (bytes === 1) for (let i = from; i < to; i++, o++) v.setUint8(o, I[i] as number);
  else if (bytes === 2) for (let i = from; i < to; i++, o += 2) v.setUint16(o, I[i] as number, true);
  else if (bytes === 4) for (let i = from; i < to; i++, o += 4) v.setUint32(o, I[i] as number, true);
  else
    for (let i = from; i < to; i++, o += bytes) {
      const x = I[i] as number;
      if (bytes === 3) {
        v.setUint16(o, x & 0xffff, true);
        v.setUint8(o + 2, x >>> 16);
        continue;
      }
      const low = x >>> 0; // x mod 2^32, exact for an integer below 2^53
      v.setUint32(o, low, true);
      if (bytes === 5) v.setUint8(o + 4, (x - low) / TWO32);
      else v.setUint16(o + 4, (x - low) / TWO32, true);
    }
  return o;
}

/** Reads `count` integers of `bytes` bytes each from byte o of v into I[at…]; returns the offset after them. */
function getColumn(I: Float64Array, v: DataView, o: number, at: number, count: number, bytes: number): number {
  for (let i = at; i < at + count; i++, o += bytes) {
    switch (bytes) {
      case 1:
        I[i] = v.getUint8(o);
        break;
      case 2:
        I[i] = v.getUint16(o, true);
        break;
      case 3:
        I[i] = v.getUint16(o, true) + v.getUint8(o + 2) * 65536;
        break;
      case 4:
        I[i] = v.getUint32(o, true);
        break;
      default:
        I[i] = v.getUint32(o, true) + (bytes === 5 ? v.getUint8(o + 4) : v.getUint16(o + 4, true)) * TWO32;
    }
  }
  return o;
}

/** Where encodings are written, reused: grown to the biggest row (at most a packed row, ~1 MiB). */
let sink = Buffer.allocUnsafeSlow(1 << 16);
let view = new DataView(sink.buffer, sink.byteOffset, sink.byteLength);

/** Room for `bytes` more from `used` in the sink (what it holds kept). */
function reserve(used: number, bytes: number): void {
  if (used + bytes <= sink.length) return;
  const bigger = Buffer.allocUnsafeSlow(Math.max(2 * sink.length, used + bytes));
  sink.copy(bigger, 0, 0, used);
  sink = bigger;
  view = new DataView(sink.buffer, sink.byteOffset, sink.byteLength);
}

/** The raw form (STRIDE little-endian doubles a bucket) written at byte `at` of the sink; returns its length. */
function appendRaw(p: Float64Array, n: number, at: number): number {
  reserve(at, n * STRIDE * 8);
  for (let i = 0; i < n * STRIDE; i++) view.setFloat64(at + i * 8, p[i] as number, true);
  return n * STRIDE * 8;
}

/**
 * Scratch for the integers of one row (idx steps, counts, time integers), reused: an encode allocates
 * its result only. Grown for a bigger row.
 */
let ints = new Float64Array(6 * 512);

/** The stored form of packed buckets (sorted by idx): compact where every number round-trips, else raw. */
export function encodeBuckets(p: Float64Array): Buffer {
  const length = append(p, 0); // first: it may grow the sink
  return Buffer.from(sink.subarray(0, length)); // a copy: the sink serves the next one
}

/**
 * `encodeBuckets` of each of `parts`, one after the other: their bytes (a view of memory the next call
 * writes over: copy it before) and each one's length.
 */
export function encodeParts(parts: Float64Array[]): { bytes: Buffer; lengths: number[] } {
  let at = 0;
  const lengths = parts.map((p) => {
    const n = append(p, at);
    at += n;
    return n;
  });
  return { bytes: sink.subarray(0, at), lengths };
}

/** `encodeBuckets` of p written at byte `at` of the sink; returns its length. */
function append(p: Float64Array, at: number): number {
  const n = Math.floor(p.length / STRIDE);
  if (n === 0) return 0;
  if (ints.length < 6 * n) ints = new Float64Array(6 * n);
  const I = ints; // a local: the module's binding is read again at every access otherwise
  // I: [idx steps (n-1) | counts n | tFirst steps (n-1) | tLast, tMin, tMax distances n each]; the
  // times first in seconds, then in the unit: the lowest set bit of any of them
  const cOff = n - 1;
  const tOff = 2 * n - 1;
  const dOff = 3 * n - 2;
  let maxIdx = 0;
  let maxCount = 0;
  // the lowest set bit so far (NONE: no nonzero time yet), and 2^-e: a time with no bit below it is a
  // whole number of 2^e, which one multiplication tells (lowBit for every time was most of an encode)
  let e = NONE;
  let inv = 0;
  for (let k = 0; k < n; k++) {
    const o = k * STRIDE;
    const count = p[o + 1] as number;
    // (a count of -0 would come back +0)
    if (!Number.isInteger(count) || count < 0 || count >= MAX_INT || Object.is(count, -0)) return appendRaw(p, n, at);
    I[cOff + k] = count;
    if (count > maxCount) maxCount = count;
    const tFirst = p[o + 5] as number;
    if (k > 0) {
      const step = (p[o] as number) - (p[o - STRIDE] as number);
      if (!Number.isInteger(step) || step < 1 || step >= MAX_INT) return appendRaw(p, n, at);
      I[k - 1] = step;
      if (step > maxIdx) maxIdx = step;
      const ts = tFirst - (p[o - STRIDE + 5] as number);
      if (!(ts >= 0 && ts < Infinity)) return appendRaw(p, n, at);
      I[tOff + k - 1] = ts;
      if (ts !== 0 && (e === NONE || !Number.isInteger(ts * inv))) {
        e = Math.min(e, lowBit(ts));
        inv = 2 ** -e;
      }
    }
    for (let j = 0; j < 3; j++) {
      const d = (p[o + 6 + j] as number) - tFirst;
      if (!(d >= 0 && d < Infinity)) return appendRaw(p, n, at);
      I[dOff + 3 * k + j] = d;
      if (d !== 0 && (e === NONE || !Number.isInteger(d * inv))) {
        e = Math.min(e, lowBit(d));
        inv = 2 ** -e;
      }
    }
  }
  if (e === NONE) e = 0; // every time equal
  const unit = 2 ** e;
  let maxTime = 0;
  for (let i = tOff; i < dOff + 3 * n; i++) {
    const k = (I[i] as number) / unit; // exact (a power of two), unless past the largest double
    // whole (a time with bits below 2^e, missed where `d * inv` underflowed to 0, is not) and in range
    if (!(k < MAX_INT) || !Number.isInteger(k)) return appendRaw(p, n, at);
    I[i] = k;
    if (k > maxTime) maxTime = k;
  }
  // every number must decode to itself by the decoder's arithmetic (a subtraction above may have rounded),
  // bit for bit: Object.is, as -0 === 0 (and -0 + 0 is +0)
  for (let k = 0; k < n; k++) {
    const o = k * STRIDE;
    if (k > 0) {
      if (!Object.is((p[o - STRIDE] as number) + (I[k - 1] as number), p[o])) return appendRaw(p, n, at);
      if (!Object.is((p[o - STRIDE + 5] as number) + (I[tOff + k - 1] as number) * unit, p[o + 5])) return appendRaw(p, n, at);
    }
    for (let j = 0; j < 3; j++)
      if (!Object.is((p[o + 5] as number) + (I[dOff + 3 * k + j] as number) * unit, p[o + 6 + j])) return appendRaw(p, n, at);
  }
  const bIdx = bytesFor(maxIdx);
  const bCount = bytesFor(maxCount);
  const bTime = bytesFor(maxTime);
  const body = HEAD + 24 * n + (n - 1) * bIdx + n * bCount + (4 * n - 1) * bTime;
  const length = body + ((4 - (body % 8) + 8) % 8);
  reserve(at, length);
  const v = view;
  v.setUint8(at, MAGIC);
  v.setUint8(at + 1, bIdx);
  v.setUint8(at + 2, bCount);
  v.setUint8(at + 3, bTime);
  v.setInt16(at + 4, e, true);
  v.setUint16(at + 6, 0);
  v.setUint32(at + 8, n, true);
  v.setUint32(at + 12, 0);
  v.setFloat64(at + 16, p[0] as number, true);
  v.setFloat64(at + 24, p[5] as number, true);
  for (let k = 0, o = at + HEAD; k < n; k++, o += 8) {
    v.setFloat64(o, p[k * STRIDE + 2] as number, true);
    v.setFloat64(o + 8 * n, p[k * STRIDE + 3] as number, true);
    v.setFloat64(o + 16 * n, p[k * STRIDE + 4] as number, true);
  }
  let o = putColumn(I, v, at + HEAD + 24 * n, 0, n - 1, bIdx);
  o = putColumn(I, v, o, cOff, cOff + n, bCount);
  o = putColumn(I, v, o, tOff, dOff + 3 * n, bTime);
  for (; o < at + length; o++) v.setUint8(o, 0);
  return length;
}

/** Packed buckets from a stored row, compact or raw; a compact one that does not parse throws TierBlobError. */
export function decodeBuckets(b: Uint8Array): Float64Array {
  if (!isCompact(b)) {
    // every raw row ever written holds whole buckets: any other length is a damaged one
    if (b.byteLength % (STRIDE * 8) !== 0) throw new TierBlobError(`${b.byteLength} bytes, not whole buckets`);
    return packFromBuffer(b);
  }
  if (b.byteLength < HEAD + 4) throw new TierBlobError(`${b.byteLength} bytes`);
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const bIdx = b[1] as number;
  const bCount = b[2] as number;
  const bTime = b[3] as number;
  const e = view.getInt16(4, true);
  const n = view.getUint32(8, true);
  // the exponent of a time unit a double can have (lowBit), and the reserved bytes zero
  const reserved = view.getUint16(6, true) + view.getUint32(12, true);
  if (b[0] !== MAGIC || [bIdx, bCount, bTime].some((x) => x < 1 || x > 6) || n === 0 || e < -1074 || e > 1023 || reserved !== 0)
    throw new TierBlobError(`header ${Array.from(b.subarray(0, 16)).join(',')}, ${n} buckets`);
  const body = HEAD + 24 * n + (n - 1) * bIdx + n * bCount + (4 * n - 1) * bTime;
  if (body > b.byteLength || b.byteLength - body >= 8 || b.subarray(body).some((x) => x !== 0))
    throw new TierBlobError(`${b.byteLength} bytes for ${n} buckets`);
  const unit = 2 ** e;
  const p = new Float64Array(n * STRIDE);
  // the doubles: a copy of their bytes, aligned whatever b's offset
  const doubles = LITTLE_ENDIAN
    ? new Float64Array(Uint8Array.prototype.slice.call(b, HEAD, HEAD + 24 * n).buffer)
    : Float64Array.from({ length: 3 * n }, (_, i) => view.getFloat64(HEAD + 8 * i, true));
  if (ints.length < 6 * n) ints = new Float64Array(6 * n);
  const I = ints;
  // the integers, as the encoder laid them out: idx steps, counts, tFirst steps, distances
  let o = getColumn(I, view, HEAD + 24 * n, 0, n - 1, bIdx);
  o = getColumn(I, view, o, n - 1, n, bCount);
  getColumn(I, view, o, 2 * n - 1, 4 * n - 1, bTime);
  let idx = view.getFloat64(16, true);
  let tFirst = view.getFloat64(24, true);
  for (let k = 0, q = 0; k < n; k++, q += STRIDE) {
    if (k > 0) {
      idx += I[k - 1] as number;
      tFirst += (I[2 * n - 2 + k] as number) * unit;
    }
    p[q] = idx;
    p[q + 1] = I[n - 1 + k] as number;
    p[q + 2] = doubles[k] as number;
    p[q + 3] = doubles[n + k] as number;
    p[q + 4] = doubles[2 * n + k] as number;
    p[q + 5] = tFirst;
    const d = 3 * n - 2 + 3 * k;
    p[q + 6] = tFirst + (I[d] as number) * unit;
    p[q + 7] = tFirst + (I[d + 1] as number) * unit;
    p[q + 8] = tFirst + (I[d + 2] as number) * unit;
  }
  return p;
}
