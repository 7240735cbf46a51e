/**
 * LZ4 frames (the format of lz4's `LZ4F_*` API, https://github.com/lz4/lz4/blob/dev/doc/lz4_Frame_format.md,
 * and of its blocks, lz4_Block_format.md), decoded into a buffer of a size known beforehand: what an Arrow
 * IPC body compressed with LZ4_FRAME holds (each buffer prefixed with its uncompressed length), as pyarrow
 * and pandas write Feather files by default.
 *
 * Written here rather than taken from npm: the one pure-JS decoder there (lz4js) trusts the sizes a frame
 * declares (a 20-byte frame claiming a block of 2^31 bytes loops that many times, reading past its
 * input), and a decoder into a fixed buffer is short. Every length is checked against the bytes left in
 * the input and the room left in the output before it is used, so the work is bounded by the output's
 * size and the input's, and nothing is written past the output. Checksums (xxHash32) are skipped, as
 * their bytes are: the caller compares the length decoded with the length declared.
 */
import { FormatError } from './types';

const MAGIC = 0x184d2204;
/** Skippable frames: magic 0x184D2A50 to 0x184D2A5F, then a 4-byte length. */
const SKIPPABLE = 0x184d2a50;
/** Block maximum sizes by the BD byte's bits 6-4 (4 to 7). */
const BLOCK_MAX: Record<number, number> = { 4: 64 << 10, 5: 256 << 10, 6: 1 << 20, 7: 4 << 20 };

function bad(what: string): never {
  throw new FormatError(`damaged LZ4 data: ${what}`);
}

const u32 = (b: Uint8Array, i: number): number =>
  ((b[i] as number) | ((b[i + 1] as number) << 8) | ((b[i + 2] as number) << 16) | ((b[i + 3] as number) << 24)) >>> 0;

/**
 * Decodes one LZ4 block src[s, end) into out from `d` (earlier output may be referred to: blocks of a
 * frame without the independence flag). Returns the new output position.
 */
function block(src: Uint8Array, s: number, end: number, out: Uint8Array, d: number): number {
  for (;;) {
    if (s >= end) bad('a block that ends inside a sequence');
    const token = src[s++] as number;
    let lit = token >>> 4;
    if (lit === 15) {
      let b = 255;
      while (b === 255) {
        if (s >= end) bad('a literal length running past its block');
        b = src[s++] as number;
        lit += b;
      }
    }
    if (lit > end - s) bad(`${lit} literals where ${end - s} bytes are left in the block`);
    if (lit > out.length - d) bad(`more data than the ${out.length} bytes declared`);
    // short runs by hand: a subarray for each costs more than the copy (most runs are a few bytes)
    if (lit < 32) for (const stop = s + lit; s < stop;) out[d++] = src[s++] as number;
    else {
      out.set(src.subarray(s, s + lit), d);
      s += lit;
      d += lit;
    }
    if (s === end) return d; // the last sequence: literals only
    if (end - s < 2) bad('a match offset cut short');
    const offset = (src[s] as number) | ((src[s + 1] as number) << 8);
    s += 2;
    if (offset === 0 || offset > d) bad(`a match ${offset} bytes back, ${d} bytes into the output`);
    let len = (token & 15) + 4;
    if ((token & 15) === 15) {
      let b = 255;
      while (b === 255) {
        if (s >= end) bad('a match length running past its block');
        b = src[s++] as number;
        len += b;
      }
    }
    if (len > out.length - d) bad(`more data than the ${out.length} bytes declared`);
    if (len < 32) for (const stop = d + len; d < stop; d++) out[d] = out[d - offset] as number;
    else {
      // overlapping (offset < len: a run of the last `offset` bytes) in copies that double: each reads
      // only bytes already written
      for (let done = 0; done < len;) {
        const k = Math.min(len - done, offset + done);
        out.copyWithin(d + done, d - offset, d - offset + k);
        done += k;
      }
      d += len;
    }
  }
}

/**
 * Decodes the LZ4 frames of `src` (one or more, skippable frames passed over) into `out`. Returns the
 * bytes written; throws a FormatError on anything malformed and on output that would pass `out`'s end.
 */
export function lz4FrameDecode(src: Uint8Array, out: Uint8Array): number {
  let s = 0;
  let d = 0;
  const n = src.length;
  while (s < n) {
    if (n - s < 4) bad('bytes after the last frame');
    const magic = u32(src, s);
    s += 4;
    if ((magic & 0xfffffff0) === SKIPPABLE) {
      if (n - s < 4) bad('a skippable frame cut short');
      const len = u32(src, s);
      s += 4;
      if (len > n - s) bad('a skippable frame running past the data');
      s += len;
      continue;
    }
    if (magic !== MAGIC) bad(`a frame whose magic number is 0x${magic.toString(16)}`);
    if (n - s < 3) bad('a frame header cut short');
    const flg = src[s++] as number;
    const bd = src[s++] as number;
    if (flg >>> 6 !== 1) bad(`frame version ${flg >>> 6}`);
    const blockSum = (flg & 0x10) !== 0;
    const contentSize = (flg & 0x08) !== 0;
    const contentSum = (flg & 0x04) !== 0;
    if (flg & 0x01) bad('a frame that needs a dictionary');
    const max = BLOCK_MAX[(bd >>> 4) & 7];
    if (max === undefined) bad(`block maximum size code ${(bd >>> 4) & 7}`);
    if (contentSize) {
      if (n - s < 8) bad('a frame header cut short');
      s += 8;
    }
    if (n - s < 1) bad('a frame header cut short');
    s++; // header checksum
    for (;;) {
      if (n - s < 4) bad('a block size cut short (no end mark)');
      const word = u32(src, s);
      s += 4;
      if (word === 0) break; // end mark
      const raw = (word & 0x80000000) !== 0;
      const size = word & 0x7fffffff;
      if (size > max) bad(`a block of ${size} bytes in a frame of at most ${max}`);
      if (size > n - s) bad(`a block of ${size} bytes where ${n - s} are left`);
      if (raw) {
        if (size > out.length - d) bad(`more data than the ${out.length} bytes declared`);
        out.set(src.subarray(s, s + size), d);
        d += size;
      } else d = block(src, s, s + size, out, d);
      s += size;
      if (blockSum) {
        if (n - s < 4) bad('a block checksum cut short');
        s += 4;
      }
    }
    if (contentSum) {
      if (n - s < 4) bad('a content checksum cut short');
      s += 4;
    }
  }
  return d;
}
