/**
 * CRC-32C (spt3g variant: reflected 0x82F63B78, register from 0, no final inversion) in
 * WebAssembly, the module's bytes emitted here at load (no toolchain, no native code).
 *
 * Method: reduction by a sparse multiple of the polynomial, then slicing-by-8 on the short rest.
 * This CRC (init 0, no xor-out) is M(x)·x^32 mod P for a message M, so any M' ≡ M (mod P) of the
 * same length has the same CRC, and leading zero bytes change nothing. Q(x) = x^(8·290) + x^(8·136)
 * + x^(8·113) + x^(8·107) + x^(8·32) + 1 is a multiple of P (`SPARSE_TOP`, `SPARSE_LOW`; the unit
 * test checks it), so a byte at distance ≥ 290 from the end can be replaced by the xor of itself into
 * the bytes 154, 177, 183, 258 and 290 further on. Done from the front, byte i's final value is
 *
 *   r[i] = data[i] ^ r[i−154] ^ r[i−177] ^ r[i−183] ^ r[i−258] ^ r[i−290]
 *
 * (r of a position before the message = 0), computed in place 16 bytes at a time with SIMD (v128)
 * loads and xors: six loads, five xors and one store per 16 bytes, against ~72 instructions for two
 * slicing-by-8 steps. Everything but the last ~290 bytes then reads zero; those bytes also receive
 * the r of the bytes before them whose partners fall inside them, and their slicing-by-8 CRC is the
 * answer. The smallest distance is 154 bytes so a load never waits on one of the last few stores.
 *
 * How Q was found: P = (x+1)·(an irreducible of degree 31), so multiples have an even number of
 * terms; four terms need exponents in the thousands of bytes, six terms (x^(8e), meet in the middle
 * over pairs and triples of x^(8e) mod P) give 209 at the least and 290 with every distance ≥ 154.
 *
 * 50 KB blobs (an HK frame's), x86-64: 9.5 GB/s with the copy into the module's memory, against
 * 3.4 GB/s for the previous slicing-by-8 on three interleaved parts. The memory is fixed (tables,
 * history, a 64 KiB window): data is copied in chunks, so it never grows with the input.
 */

import { section, uleb, WASM_HEADER, WASM_PAGE, WasmBody, wasmApi, wasmName } from '../../../../common/wasm-bytes';

/** The polynomial, reflected (CRC-32C, Castagnoli): the JS tables (crc32c.ts) and the tests use it too. */
export const CRC32C_POLY = 0x82f63b78;
/** Q(x) = x^(8·SPARSE_TOP) + Σ x^(8·e) for e in SPARSE_LOW: a multiple of the CRC polynomial. */
export const SPARSE_TOP = 290;
export const SPARSE_LOW: readonly number[] = [0, 32, 107, 113, 136];
/** v128 steps per loop turn (2–8 measure the same; 4 keeps the loop's own upkeep small). */
const UNROLL = 4;
const TURN = 16 * UNROLL;
/** The slicing-by-8 tables (8 × 256 int32) at 0, table k at 1024·k. */
const TABLE_BYTES = 8 * 1024;
/** Bytes kept before a chunk: the r values its first bytes read (≥ SPARSE_TOP). */
const HISTORY = Math.ceil(SPARSE_TOP / 16) * 16 + TURN;
/** The data window: a chunk at BASE, its history just before. */
const BASE = TABLE_BYTES + HISTORY + 64;
const WINDOW = 64 * 1024;
const PAGES = Math.ceil((BASE + WINDOW + 64) / WASM_PAGE);
/** Inputs whose reduced part would be shorter than this go whole to slicing-by-8. */
const MIN_REDUCED = 256;
/** Shortest input worth the copy into the module (shorter ones: the JS version). */
export const WASM_MIN_BYTES = 256;

/** The opcodes used. */
const OP = {
  end: 0x0b,
  i32: 0x7f,
  i32Load: 0x28,
  i32Load8U: 0x2d,
  i32Store8: 0x3a,
  i32Eqz: 0x45,
  i32LtU: 0x49,
  i32GeU: 0x4f,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32And: 0x71,
  i32Xor: 0x73,
  i32Shl: 0x74,
  i32ShrU: 0x76,
  simd: 0xfd,
  v128Load: 0x00,
  v128Store: 0x0b,
  v128Xor: 0x51,
} as const;

/** A function body being written (WasmBody), with the loads, stores and steps of this module. */
class Body extends WasmBody {
  load(offset: number): this {
    return this.op(OP.i32Load, 2, ...uleb(offset));
  }
  load8(offset: number): this {
    return this.op(OP.i32Load8U, 0, ...uleb(offset));
  }
  vload(offset: number): this {
    return this.op(OP.simd, OP.v128Load, 0, ...uleb(offset));
  }
  vstore(offset: number): this {
    return this.op(OP.simd, OP.v128Store, 0, ...uleb(offset));
  }
  vxor(): this {
    return this.op(OP.simd, OP.v128Xor);
  }
  /** local i += n */
  add(i: number, n: number): this {
    return this.get(i)
      .i32(Math.abs(n))
      .op(n >= 0 ? OP.i32Add : OP.i32Sub)
      .set(i);
  }
  /** The encoded body with `locals` extra i32 locals. */
  encode(locals: number): number[] {
    const b = [...(locals ? [1, ...uleb(locals), OP.i32] : [0]), ...this.c, OP.end];
    return [...uleb(b.length), ...b];
  }
}

/**
 * The module: memory (PAGES, fixed) and three functions.
 * - `reduce(q, end)`: for q < end, by TURN: the r values of bytes q + SPARSE_TOP … (+ TURN), in place.
 * - `xorr(dst, src, n)`: mem[dst, dst + n) ^= mem[src, src + n) (the ranges do not overlap).
 * - `crc1(p, end, c)`: slicing-by-8 CRC of mem[p, end) continuing c.
 */
function crcModuleBytes(): Uint8Array {
  const reduce = new Body(); // params q 0, end 1
  reduce.loop(
    () => reduce.get(0).get(1).op(OP.i32GeU),
    () => {
      for (let k = 0; k < UNROLL; k++) {
        const at = 16 * k;
        reduce
          .get(0)
          .get(0)
          .vload(SPARSE_TOP + at);
        for (const e of SPARSE_LOW)
          reduce
            .get(0)
            .vload(e + at)
            .vxor();
        reduce.vstore(SPARSE_TOP + at);
      }
      reduce.add(0, TURN);
    },
  );

  const xorr = new Body(); // params dst 0, src 1, n 2
  const step = (width: number, load: () => void, store: () => void): void => {
    xorr.loop(
      () => (width === 1 ? xorr.get(2).op(OP.i32Eqz) : xorr.get(2).i32(width).op(OP.i32LtU)),
      () => {
        xorr.get(0).get(0);
        load();
        xorr.get(1);
        load();
        if (width === 1) xorr.op(OP.i32Xor);
        else xorr.vxor();
        store();
        xorr.add(0, width).add(1, width).add(2, -width);
      },
    );
  };
  step(
    16,
    () => xorr.vload(0),
    () => xorr.vstore(0),
  );
  step(
    1,
    () => xorr.load8(0),
    () => xorr.op(OP.i32Store8, 0, 0),
  );

  const crc1 = new Body(); // params p 0, end 1, c 2; local w 3
  crc1.loop(
    () => crc1.get(1).get(0).op(OP.i32Sub).i32(8).op(OP.i32LtU),
    () => {
      crc1.get(0).load(0).get(2).op(OP.i32Xor).set(3);
      // T7[w & 0xff] ^ T6[w >>> 8 & 0xff] ^ T5[…] ^ T4[w >>> 24] (table offset: 4 × byte)
      for (let k = 0; k < 4; k++) {
        crc1.get(3);
        if (k === 0) crc1.i32(2).op(OP.i32Shl);
        else crc1.i32(8 * k - 2).op(OP.i32ShrU);
        crc1
          .i32(0x3fc)
          .op(OP.i32And)
          .load((7 - k) * 1024);
        if (k > 0) crc1.op(OP.i32Xor);
      }
      // ^ T3[byte 4] ^ … ^ T0[byte 7]
      for (let k = 4; k < 8; k++)
        crc1
          .get(0)
          .load8(k)
          .i32(2)
          .op(OP.i32Shl)
          .load((7 - k) * 1024)
          .op(OP.i32Xor);
      crc1.set(2).add(0, 8);
    },
  );
  crc1.loop(
    () => crc1.get(0).get(1).op(OP.i32GeU),
    () => {
      // c = T0[(c ^ byte) & 0xff] ^ (c >>> 8)
      crc1.get(2).get(0).load8(0).op(OP.i32Xor).i32(0xff).op(OP.i32And).i32(2).op(OP.i32Shl).load(0);
      crc1.get(2).i32(8).op(OP.i32ShrU).op(OP.i32Xor).set(2).add(0, 1);
    },
  );
  crc1.get(2);

  const i32s = (n: number): number[] => [n, ...Array<number>(n).fill(OP.i32)];
  return new Uint8Array([
    ...WASM_HEADER,
    // types: (i32 i32) -> (), (i32 i32 i32) -> (), (i32 i32 i32) -> i32
    ...section(1, [3, 0x60, ...i32s(2), 0, 0x60, ...i32s(3), 0, 0x60, ...i32s(3), 1, OP.i32]),
    ...section(3, [3, 0, 1, 2]),
    ...section(5, [1, 0x01, PAGES, PAGES]), // memory: min = max = PAGES
    ...section(7, [
      4,
      ...wasmName('reduce'),
      0x00,
      0,
      ...wasmName('xorr'),
      0x00,
      1,
      ...wasmName('crc1'),
      0x00,
      2,
      ...wasmName('memory'),
      0x02,
      0,
    ]),
    ...section(10, [3, ...reduce.encode(0), ...xorr.encode(0), ...crc1.encode(1)]),
  ]);
}

export type Crc = (crc: number, b: Uint8Array) => number;

interface CrcExports {
  reduce: (q: number, end: number) => void;
  xorr: (dst: number, src: number, n: number) => void;
  crc1: (p: number, end: number, c: number) => number;
  memory: { buffer: ArrayBuffer };
}

/**
 * The WebAssembly CRC, or null when this runtime has no WebAssembly (node --jitless) or no SIMD, or
 * the module disagrees with `small` (the JS version) on a self-test.
 */
export function createWasmCrc(tables: Int32Array, small: Crc): Crc | null {
  const wasm = wasmApi();
  if (!wasm) return null;
  let crc: Crc;
  try {
    const { reduce, xorr, crc1, memory } = new wasm.Instance(new wasm.Module(crcModuleBytes())).exports as CrcExports;
    const mem = new Uint8Array(memory.buffer);
    new Int32Array(memory.buffer, 0, TABLE_BYTES / 4).set(tables);
    /** The distances r values are read at (SPARSE_TOP − e). */
    const distances = SPARSE_LOW.map((e) => SPARSE_TOP - e);
    crc = (crc0: number, b: Uint8Array): number => {
      const len = b.length;
      // Bytes reduced: all but the last SPARSE_TOP, rounded down to whole turns.
      const reduced = len - SPARSE_TOP - ((len - SPARSE_TOP) % TURN);
      if (reduced < MIN_REDUCED) {
        if (len > WINDOW) return small(crc0, b);
        mem.set(b, BASE);
        return crc1(BASE, BASE + len, crc0) >>> 0;
      }
      mem.fill(0, BASE - HISTORY, BASE); // r before the message: 0
      for (let o = 0; ;) {
        // Every chunk but the last ends at or before `reduced`; the last holds the whole rest.
        const n = len - o <= WINDOW ? len - o : Math.min(WINDOW, reduced - o);
        mem.set(b.subarray(o, o + n), BASE);
        if (o === 0) {
          // A running CRC continues as the xor of it into the first four bytes (little-endian).
          mem[BASE] = (mem[BASE] ?? 0) ^ (crc0 & 0xff);
          mem[BASE + 1] = (mem[BASE + 1] ?? 0) ^ ((crc0 >>> 8) & 0xff);
          mem[BASE + 2] = (mem[BASE + 2] ?? 0) ^ ((crc0 >>> 16) & 0xff);
          mem[BASE + 3] = (mem[BASE + 3] ?? 0) ^ (crc0 >>> 24);
        }
        reduce(BASE - SPARSE_TOP, BASE - SPARSE_TOP + Math.min(n, reduced - o));
        if (o + n === len) {
          // The rest [reduced, len): each byte also gets the r values whose partner it is.
          const rest = BASE + reduced - o;
          for (const d of distances) xorr(rest, rest - d, d);
          return crc1(rest, BASE + n, 0) >>> 0;
        }
        mem.copyWithin(BASE - HISTORY, BASE + n - HISTORY, BASE + n);
        o += n;
      }
    };
  } catch {
    return null; // no WebAssembly SIMD, or this module refused (should not happen)
  }
  return selfTest(crc, small) ? crc : null;
}

function selfTest(crc: Crc, small: Crc): boolean {
  const b = new Uint8Array(2 * WINDOW + 3 * TURN + 7);
  let x = 0x12345678;
  for (let i = 0; i < b.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) | 0;
    b[i] = x >>> 24;
  }
  return [b, b.subarray(1, 1 + 5 * TURN), b.subarray(3, 3 + 2 * MIN_REDUCED), b.subarray(5, WINDOW + SPARSE_TOP + 1)].every(
    (s) => crc(0xdeadbeef, s) === small(0xdeadbeef, s),
  );
}

export const CRC_WINDOW_BYTES = WINDOW;
