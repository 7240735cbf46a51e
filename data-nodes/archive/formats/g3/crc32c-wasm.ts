/**
 * CRC-32C (spt3g variant: reflected 0x82F63B78, register from 0, no final inversion) in
 * WebAssembly, the module's bytes emitted here at load (no toolchain, no native code).
 *
 * Method: slicing-by-8 (eight bytes per step, as the JS version) on STREAMS independent parts of
 * the input in one loop, so the CPU works on several dependency chains at once (a single chain
 * waits on each table load). This CRC is linear (init 0, no xor-out), so
 * crc(A ‖ B) = crc(A)·x^(8|B|) mod P ⊕ crc(B): the parts are joined with a GF(2) multiplication, and
 * a running CRC is continued by xoring it into the first four bytes of the data.
 *
 * The loop is bound by the number of instructions (about five per byte: copy, shift, mask, table
 * load, xor), so: bytes 4–7 of each step, which do not depend on the running CRC, are loaded one by
 * one (load, shift: no copy or mask); the parts sit at a fixed stride (one pointer for all); and each
 * part's CRC is stored at the end of its step: the store orders the step's loads, which keeps V8's
 * scheduler from hoisting every part's table loads ahead of their xors (a third of the loop was
 * register spills). 15 MB with the data in place: 3.7 ms → 3.0 ms on x86-64. (Two 64 Ki-entry
 * tables for bytes 4–5 and 6–7 made the loop alone faster still, 2.5 ms, but a decode, which writes
 * its columns between frames, evicts their 512 KiB from L2: slower there.)
 *
 * The memory is fixed (tables, then a ~120 KiB data window): data is copied in chunks, so it never
 * grows with the input.
 */

const POLY = 0x82f63b78;
/** Independent parts per loop (3 and 4 measured best of 2–5 on x86-64). */
const STREAMS = 3;
/** Steps (8 bytes of each part) per loop turn: unrolled twice, the loop check and the few spills of its counters count half (~2%). */
const UNROLL = 2;
/** Bytes per loop turn. */
const TURN = 8 * STREAMS * UNROLL;
/** The slicing-by-8 tables (8 × 256 int32) at 0, table k at 1024·k. */
const TABLE_BYTES = 8 * 1024;
/** Each part's CRC (int32) after the byte tables. */
const OUT = TABLE_BYTES;
/** The data window: part s at BASE + s·STRIDE. */
const BASE = OUT + 64;
const STRIDE = 40000;
const WINDOW = STREAMS * STRIDE;
const PAGES = Math.ceil((BASE + WINDOW) / 65536);
/** Shortest input worth the copy and the join (shorter ones: the JS version). */
export const WASM_MIN_BYTES = 2048;

const uleb = (n: number): number[] => {
  const o: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    o.push(b);
  } while (n);
  return o;
};

const sleb = (n: number): number[] => {
  const o: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) {
      o.push(b);
      return o;
    }
    o.push(b | 0x80);
  }
};

/** The opcodes used. */
const OP = {
  block: 0x02,
  loop: 0x03,
  br: 0x0c,
  brIf: 0x0d,
  end: 0x0b,
  void: 0x40,
  i32: 0x7f,
  localGet: 0x20,
  localSet: 0x21,
  i32Load: 0x28,
  i32Load8U: 0x2d,
  i32Store: 0x36,
  i32Const: 0x41,
  i32GeU: 0x4f,
  i32Add: 0x6a,
  i32And: 0x71,
  i32Xor: 0x73,
  i32Shl: 0x74,
  i32ShrU: 0x76,
} as const;

/**
 * The module: memory (PAGES, fixed) and `crc(p, len, out)`: the CRCs (from 0) of the STREAMS parts
 * p + s·STRIDE … of len bytes each (len a multiple of 8·UNROLL, up to STRIDE), stored as int32 at out + 4s.
 */
export function crcModuleBytes(): Uint8Array {
  const c: number[] = [];
  const op = (...b: number[]): void => {
    c.push(...b);
  };
  const get = (i: number): void => op(OP.localGet, ...uleb(i));
  const set = (i: number): void => op(OP.localSet, ...uleb(i));
  const i32 = (n: number): void => op(OP.i32Const, ...sleb(n));
  const load = (offset: number): void => op(OP.i32Load, 2, ...uleb(offset));
  // Params p 0, len 1, out 2; locals: end 3, then per part its CRC and its first data word.
  const P = 0;
  const LEN = 1;
  const OUTP = 2;
  const END = 3;
  const C = (s: number): number => 4 + s;
  const W = (s: number): number => 4 + STREAMS + s;
  const LOCALS = 1 + 2 * STREAMS;

  get(P);
  get(LEN);
  op(OP.i32Add);
  set(END);
  op(OP.block, OP.void, OP.loop, OP.void);
  get(P);
  get(END);
  op(OP.i32GeU, OP.brIf, 1);
  for (let step = 0; step < UNROLL; step++) {
    for (let s = 0; s < STREAMS; s++) {
      const at = s * STRIDE + 8 * step;
      // w = the step's first four bytes ^ the part's CRC
      get(P);
      load(at);
      get(C(s));
      op(OP.i32Xor);
      set(W(s));
      // T7[w & 0xff] ^ T6[w >>> 8 & 0xff] ^ T5[…] ^ T4[w >>> 24] (table offset: 4 × byte)
      for (let k = 0; k < 4; k++) {
        get(W(s));
        if (k === 0) {
          i32(2);
          op(OP.i32Shl);
        } else {
          i32(8 * k - 2);
          op(OP.i32ShrU);
        }
        i32(0x3fc);
        op(OP.i32And);
        load((7 - k) * 1024);
        if (k > 0) op(OP.i32Xor);
      }
      // ^ T3[byte 4] ^ … ^ T0[byte 7]
      for (let k = 4; k < 8; k++) {
        get(P);
        op(OP.i32Load8U, 0, ...uleb(at + k));
        i32(2);
        op(OP.i32Shl);
        load((7 - k) * 1024);
        op(OP.i32Xor);
      }
      set(C(s));
      // out[s] = CRC now (the final answer once the loop ends; in the loop, it orders the steps)
      get(OUTP);
      get(C(s));
      op(OP.i32Store, 2, ...uleb(4 * s));
    }
  }
  get(P);
  i32(8 * UNROLL);
  op(OP.i32Add);
  set(P);
  op(OP.br, 0, OP.end, OP.end);
  op(OP.end);

  const body = [1, ...uleb(LOCALS), OP.i32, ...c];
  const section = (id: number, b: number[]): number[] => [id, ...uleb(b.length), ...b];
  const name = (s: string): number[] => [s.length, ...Array.from(s, (ch) => ch.charCodeAt(0))];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [1, 0x60, 3, OP.i32, OP.i32, OP.i32, 0]), // type: (i32 i32 i32) -> ()
    ...section(3, [1, 0]), // one function of type 0
    ...section(5, [1, 0x01, PAGES, PAGES]), // memory: min = max = PAGES
    ...section(7, [2, ...name('crc'), 0x00, 0, ...name('memory'), 0x02, 0]),
    ...section(10, [1, ...uleb(body.length), ...body]),
  ]);
}

/** a·b mod P, polynomials in the reflected bit order (bit 31 = x^0); after Mark Adler's crc32c.c. */
export function multModP(a: number, b: number): number {
  let m = 0x80000000;
  let p = 0;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1)) === 0) break;
    }
    m >>>= 1;
    b = b & 1 ? (b >>> 1) ^ POLY : b >>> 1;
  }
  return p >>> 0;
}

/** X2N[k] = x^(2^k) mod P. */
const X2N: number[] = [];
for (let k = 0, p = 0x40000000; k < 64; k++, p = multModP(p, p)) X2N.push(p);

/** x^(8n) mod P: what a CRC is multiplied by when n bytes follow. */
export function bytesShift(n: number): number {
  let p = 0x80000000;
  for (let k = 3; n > 0; n = Math.floor(n / 2), k++) if (n % 2) p = multModP(X2N[k] ?? 0, p);
  return p;
}

export type Crc = (crc: number, b: Uint8Array) => number;

interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: object };
}

/**
 * The WebAssembly CRC (inputs shorter than one turn go to `small`, as does the tail), or null when
 * this runtime has no WebAssembly (node --jitless) or the module disagrees with `small` on a self-test.
 */
export function createWasmCrc(tables: Int32Array, small: Crc): Crc | null {
  // The lib settings of this project (ES2022, node) do not declare WebAssembly: the little used here.
  const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (!wasm) return null;
  let crc: Crc;
  try {
    const instance = new wasm.Instance(new wasm.Module(crcModuleBytes()));
    const exports = instance.exports as { crc: (p: number, len: number, out: number) => void; memory: { buffer: ArrayBuffer } };
    const mem = new Uint8Array(exports.memory.buffer);
    new Int32Array(exports.memory.buffer, 0, TABLE_BYTES / 4).set(tables);
    const parts = new Int32Array(exports.memory.buffer, OUT, STREAMS);
    const run = exports.crc;
    let lastLen = -1;
    let lastShift = 0;
    crc = (crc0: number, b: Uint8Array): number => {
      let c = crc0 | 0;
      let o = 0;
      const whole = b.length - (b.length % TURN);
      while (o < whole) {
        const n = Math.min(WINDOW, whole - o);
        const len = n / STREAMS;
        for (let s = 0; s < STREAMS; s++) mem.set(b.subarray(o + s * len, o + (s + 1) * len), BASE + s * STRIDE);
        mem[BASE] = (mem[BASE] ?? 0) ^ (c & 0xff);
        mem[BASE + 1] = (mem[BASE + 1] ?? 0) ^ ((c >>> 8) & 0xff);
        mem[BASE + 2] = (mem[BASE + 2] ?? 0) ^ ((c >>> 16) & 0xff);
        mem[BASE + 3] = (mem[BASE + 3] ?? 0) ^ (c >>> 24);
        run(BASE, len, OUT);
        if (len !== lastLen) {
          lastLen = len;
          lastShift = bytesShift(len);
        }
        c = parts[0] ?? 0;
        for (let s = 1; s < STREAMS; s++) c = multModP(lastShift, c) ^ (parts[s] ?? 0);
        o += n;
      }
      return o === b.length ? c >>> 0 : small(c >>> 0, b.subarray(o));
    };
  } catch {
    return null; // WebAssembly present but this module refused (should not happen)
  }
  return selfTest(crc, small) ? crc : null;
}

function selfTest(crc: Crc, small: Crc): boolean {
  const b = new Uint8Array(WINDOW + 3 * TURN + 7);
  let x = 0x12345678;
  for (let i = 0; i < b.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) | 0;
    b[i] = x >>> 24;
  }
  return crc(0xdeadbeef, b) === small(0xdeadbeef, b) && crc(0, b.subarray(1, 1 + 5 * TURN)) === small(0, b.subarray(1, 1 + 5 * TURN));
}

export const CRC_WINDOW_BYTES = WINDOW;
