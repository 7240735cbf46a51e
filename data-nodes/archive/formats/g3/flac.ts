/**
 * A small FLAC decoder for spt3g's compressed G3Timestreams (FORMAT.md §5.7): one mono channel,
 * any sample size up to 32 bits, CONSTANT / VERBATIM / FIXED / LPC subframes, Rice-coded residuals.
 * Metadata blocks are skipped (STREAMINFO only supplies the default sample size); frame CRCs are not
 * checked (the G3 frame CRC covers these bytes). Every count is bounded: a block holds at most 65536
 * samples and the whole stream at most `maxSamples`.
 */
import { G3BoundsError } from './errors';

class Bits {
  private pos = 0; // bit position
  constructor(private readonly b: Uint8Array) {}
  get bytePos(): number {
    return this.pos >>> 3;
  }
  get left(): number {
    return this.b.length * 8 - this.pos;
  }
  align(): void {
    this.pos = (this.pos + 7) & ~7;
  }
  skipBytes(n: number): void {
    this.pos += n * 8;
  }
  /** Unsigned value of n ≤ 32 bits. */
  u(n: number): number {
    if (n === 0) return 0;
    if (n > this.left) throw new G3BoundsError('truncated', 'FLAC stream ends inside a frame');
    let v = 0;
    for (let k = 0; k < n;) {
      const byte = this.b[this.pos >>> 3] ?? 0;
      const off = this.pos & 7;
      const take = Math.min(8 - off, n - k);
      v = v * (1 << take) + ((byte >>> (8 - off - take)) & ((1 << take) - 1));
      k += take;
      this.pos += take;
    }
    return v;
  }
  /** Signed (two's complement) value of n ≤ 32 bits. */
  s(n: number): number {
    if (n === 0) return 0;
    const v = this.u(n);
    return v >= 2 ** (n - 1) ? v - 2 ** n : v;
  }
  /** Count of 0 bits before the next 1. */
  unary(): number {
    let q = 0;
    for (;;) {
      if (this.left <= 0) throw new G3BoundsError('truncated', 'FLAC stream ends inside a Rice code');
      const byte = this.b[this.pos >>> 3] ?? 0;
      const off = this.pos & 7;
      const rest = (byte << off) & 0xff;
      if (rest === 0) {
        q += 8 - off;
        this.pos += 8 - off;
        continue;
      }
      const z = Math.clz32(rest) - 24;
      q += z;
      this.pos += z + 1;
      return q;
    }
  }
}

const BLOCK_SIZES = [0, 192, 576, 1152, 2304, 4608, -1, -2, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768];
const SAMPLE_SIZES = [0, 8, 12, 0, 16, 20, 24, 32];

function residual(r: Bits, out: Float64Array, at: number, blockSize: number, order: number): void {
  const method = r.u(2);
  if (method > 1) throw new G3BoundsError('corrupt', `FLAC residual coding method ${method}`);
  const paramBits = method === 0 ? 4 : 5;
  const escape = method === 0 ? 15 : 31;
  const porder = r.u(4);
  const parts = 1 << porder;
  if (blockSize >> porder < order) throw new G3BoundsError('corrupt', 'FLAC partition smaller than the predictor order');
  let i = at + order;
  for (let p = 0; p < parts; p++) {
    const n = (blockSize >> porder) - (p === 0 ? order : 0);
    const k = r.u(paramBits);
    if (k === escape) {
      const bits = r.u(5);
      for (let j = 0; j < n; j++) out[i++] = r.s(bits);
    } else {
      const scale = 2 ** k;
      for (let j = 0; j < n; j++) {
        const v = r.unary() * scale + r.u(k);
        out[i++] = v % 2 === 0 ? v / 2 : -(v + 1) / 2;
      }
    }
  }
}

const FIXED: number[][] = [[], [1], [2, -1], [3, -3, 1], [4, -6, 4, -1]];

function subframe(r: Bits, out: Float64Array, at: number, n: number, bps: number): void {
  if (r.u(1) !== 0) throw new G3BoundsError('corrupt', 'FLAC subframe padding bit set');
  const type = r.u(6);
  let wasted = 0;
  if (r.u(1) === 1) wasted = r.unary() + 1;
  const size = bps - wasted;
  if (type === 0) {
    const v = r.s(size);
    out.fill(v, at, at + n);
  } else if (type === 1) {
    for (let i = 0; i < n; i++) out[at + i] = r.s(size);
  } else if ((type & 0x38) === 0x08 && (type & 7) <= 4) {
    const order = type & 7;
    if (order > n) throw new G3BoundsError('corrupt', 'FLAC predictor order beyond the block');
    for (let i = 0; i < order; i++) out[at + i] = r.s(size);
    residual(r, out, at, n, order);
    const c = FIXED[order] ?? [];
    for (let i = at + order; i < at + n; i++) {
      let pred = 0;
      for (let j = 0; j < order; j++) pred += (c[j] ?? 0) * (out[i - 1 - j] ?? 0);
      out[i] = (out[i] ?? 0) + pred;
    }
  } else if (type & 0x20) {
    const order = (type & 0x1f) + 1;
    if (order > n) throw new G3BoundsError('corrupt', 'FLAC predictor order beyond the block');
    for (let i = 0; i < order; i++) out[at + i] = r.s(size);
    const precision = r.u(4) + 1;
    if (precision === 16) throw new G3BoundsError('corrupt', 'FLAC LPC precision 16 (invalid)');
    const shift = r.s(5);
    const coef: number[] = [];
    for (let j = 0; j < order; j++) coef.push(r.s(precision));
    residual(r, out, at, n, order);
    const div = 2 ** Math.max(0, shift);
    for (let i = at + order; i < at + n; i++) {
      let sum = 0;
      for (let j = 0; j < order; j++) sum += (coef[j] ?? 0) * (out[i - 1 - j] ?? 0);
      out[i] = (out[i] ?? 0) + Math.floor(sum / div);
    }
  } else {
    throw new G3BoundsError('corrupt', `FLAC subframe type ${type}`);
  }
  if (wasted) for (let i = at; i < at + n; i++) out[i] = (out[i] ?? 0) * 2 ** wasted;
}

/** The samples of a mono FLAC stream as integers in doubles. */
export function decodeFlac(b: Uint8Array, maxSamples: number): Float64Array {
  const r = new Bits(b);
  if (r.u(32) !== 0x664c6143) throw new G3BoundsError('corrupt', 'FLAC stream without its "fLaC" marker');
  let streamBps = 0;
  for (let last = 0; !last;) {
    last = r.u(1);
    const type = r.u(7);
    const len = r.u(24);
    if (len * 8 > r.left) throw new G3BoundsError('truncated', 'FLAC metadata block beyond the stream');
    if (type === 0 && len >= 18) {
      r.skipBytes(12);
      const word = r.u(16); // low bits: channels-1 (3), bps-1 (5) with the top 4 bits of the sample count
      streamBps = ((word >>> 4) & 0x1f) + 1;
      r.skipBytes(len - 14);
    } else r.skipBytes(len);
  }
  const chunks: Float64Array[] = [];
  let total = 0;
  while (r.left >= 8 * 6) {
    if (r.u(15) !== 0x7ffc) throw new G3BoundsError('corrupt', `FLAC frame sync not found at byte ${r.bytePos}`);
    r.u(1);
    const bsCode = r.u(4);
    const srCode = r.u(4);
    const channels = r.u(4);
    const ssCode = r.u(3);
    r.u(1);
    if (channels !== 0) throw new G3BoundsError('unsupported', `FLAC channel assignment ${channels} (spt3g writes mono)`);
    // UTF-8 coded frame number
    const first = r.u(8);
    let extra = 0;
    for (let m = 0x80; m && first & m; m >>= 1) extra++;
    for (let i = 1; i < extra; i++) r.u(8);
    let blockSize = BLOCK_SIZES[bsCode] ?? 0;
    if (blockSize === -1) blockSize = r.u(8) + 1;
    else if (blockSize === -2) blockSize = r.u(16) + 1;
    if (blockSize <= 0) throw new G3BoundsError('corrupt', `FLAC block size code ${bsCode}`);
    if (srCode === 12) r.u(8);
    else if (srCode === 13 || srCode === 14) r.u(16);
    r.u(8); // header CRC-8
    const bps = ssCode === 0 ? streamBps : (SAMPLE_SIZES[ssCode] ?? 0);
    if (bps <= 0 || bps > 32) throw new G3BoundsError('corrupt', `FLAC sample size code ${ssCode}`);
    total += blockSize;
    if (total > maxSamples) throw new G3BoundsError('too-large', `FLAC stream holds more than ${maxSamples} samples`);
    const out = new Float64Array(blockSize);
    subframe(r, out, 0, blockSize, bps);
    r.align();
    r.u(16); // frame CRC-16
    chunks.push(out);
  }
  const all = new Float64Array(total);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return all;
}
