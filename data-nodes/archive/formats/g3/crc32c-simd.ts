/**
 * CRC-32C (spt3g variant: reflected 0x82F63B78, register from 0, no final inversion) in WebAssembly
 * SIMD, the module's bytes emitted here at load (no toolchain, no native code).
 *
 * Method: the 16 byte lanes of a 128-bit vector are 16 interleaved CRCs. Lane i sees the bytes at
 * positions ≡ i (mod 16); it keeps its own 32-bit register, held as four byte planes (plane j, lane
 * i = byte j of lane i's register). One step reads K = 16 vectors (256 bytes) and updates each lane's
 * register as a CRC over "15 zero bytes, then its byte" per vector — the same linear map for every
 * lane, so one table serves all 16 lanes: byte lookups are split into nibbles and done with
 * i8x16.swizzle on 16-entry tables, one per output byte. Because this CRC is linear (init 0, no
 * xor-out), the message CRC is lane 0's register shifted by 15 bytes, xor lane 1's shifted by 14, …
 * (Horner: c = shift1(c) ^ lane_i), and a running CRC is continued by xoring it into the first four
 * bytes of the data.
 *
 * The memory is two fixed pages (tables, then a 124 KiB data window): data is copied in chunks, so
 * it never grows with the input.
 */

/** Bytes per step: K vectors of 16 bytes. */
const K = 16;
const STEP = 16 * K;
const PAGES = 2;
/** Tables: (K + 4) byte lookups × (lo, hi nibble) × 4 output bytes × 16 entries. */
const TABLE_BYTES = (K + 4) * 2 * 4 * 16;
const OUT = TABLE_BYTES;
const BASE = 4096;
const WINDOW = Math.floor((PAGES * 65536 - BASE) / STEP) * STEP;

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

/** Opcodes used (core and 0xFD-prefixed SIMD). */
const OP = {
  block: 0x02,
  loop: 0x03,
  br: 0x0c,
  brIf: 0x0d,
  end: 0x0b,
  localGet: 0x20,
  localSet: 0x21,
  i32Const: 0x41,
  i32Eqz: 0x45,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  void: 0x40,
  i32: 0x7f,
  v128: 0x7b,
  simd: 0xfd,
  v128Load: 0x00,
  v128Store: 0x0b,
  swizzle: 0x0e,
  relaxedSwizzle: 0x100,
  i8x16Splat: 0x0f,
  v128And: 0x4e,
  v128Xor: 0x51,
  i16x8ShrU: 0x8d,
} as const;

/**
 * The module: memory (2 pages, fixed) and `crc(p, steps, out)`, which runs `steps` steps over the
 * bytes at p and stores the four register planes (64 bytes) at `out`.
 */
export function crcModuleBytes(relaxed: boolean): Uint8Array {
  const c: number[] = [];
  const op = (...b: number[]): void => {
    c.push(...b);
  };
  const get = (i: number): void => op(OP.localGet, ...uleb(i));
  const set = (i: number): void => op(OP.localSet, ...uleb(i));
  const i32 = (n: number): void => op(OP.i32Const, ...sleb(n));
  const simd = (o: number, ...imm: number[]): void => op(OP.simd, ...uleb(o), ...imm);
  // Params: p 0, steps 1, out 2. Locals (v128): registers 3-6, accumulators 7-10, nibbles 11-12,
  // a data vector 13, the nibble mask 14, the registers' nibbles 15-22.
  const P = 0;
  const N = 1;
  const OUTP = 2;
  const S = [3, 4, 5, 6];
  const A = [7, 8, 9, 10];
  const LO = 11;
  const HI = 12;
  const V = 13;
  const MASK = 14;
  const SLO = [15, 16, 17, 18];
  const SHI = [19, 20, 21, 22];
  const V128_LOCALS = 20;
  const nibbles = (src: number, lo: number, hi: number): void => {
    get(src);
    get(MASK);
    simd(OP.v128And);
    set(lo);
    get(src);
    i32(4);
    simd(OP.i16x8ShrU);
    get(MASK);
    simd(OP.v128And);
    set(hi);
  };
  /** Pushes the lookup of table m, nibble h (0 low, 1 high), output byte j, indexed by `idx`. */
  const lookup = (m: number, h: number, j: number, idx: number): void => {
    i32(0);
    simd(OP.v128Load, 4, ...uleb(((m * 2 + h) * 4 + j) * 16));
    get(idx);
    simd(relaxed ? OP.relaxedSwizzle : OP.swizzle);
  };

  i32(0x0f);
  simd(OP.i8x16Splat);
  set(MASK);
  op(OP.block, OP.void, OP.loop, OP.void);
  get(N);
  op(OP.i32Eqz, OP.brIf, 1);
  // The data first (independent of the registers), then the registers: a short dependency chain.
  for (let k = 0; k < K; k++) {
    get(P);
    simd(OP.v128Load, 4, ...uleb(16 * k));
    set(V);
    nibbles(V, LO, HI);
    for (let j = 0; j < 4; j++) {
      lookup(4 + k, 0, j, LO);
      lookup(4 + k, 1, j, HI);
      simd(OP.v128Xor);
      if (k > 0) {
        get(A[j] ?? 0);
        simd(OP.v128Xor);
      }
      set(A[j] ?? 0);
    }
  }
  for (let s = 0; s < 4; s++) nibbles(S[s] ?? 0, SLO[s] ?? 0, SHI[s] ?? 0);
  for (let j = 0; j < 4; j++) {
    const term = (s: number): void => {
      lookup(s, 0, j, SLO[s] ?? 0);
      lookup(s, 1, j, SHI[s] ?? 0);
      simd(OP.v128Xor);
    };
    get(A[j] ?? 0);
    term(0);
    term(1);
    simd(OP.v128Xor);
    term(2);
    term(3);
    simd(OP.v128Xor);
    simd(OP.v128Xor);
    simd(OP.v128Xor);
    set(S[j] ?? 0);
  }
  get(P);
  i32(STEP);
  op(OP.i32Add);
  set(P);
  get(N);
  i32(1);
  op(OP.i32Sub);
  set(N);
  op(OP.br, 0, OP.end, OP.end);
  for (let j = 0; j < 4; j++) {
    get(OUTP);
    get(S[j] ?? 0);
    simd(OP.v128Store, 4, ...uleb(16 * j));
  }
  op(OP.end);

  const body = [1, ...uleb(V128_LOCALS), OP.v128, ...c];
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

/** The lookup tables: T_k[x] is the CRC of byte x followed by k zero bytes. */
function tables(t0: Int32Array): Uint8Array {
  const shifted = (k: number): Int32Array => {
    const t = new Int32Array(256);
    for (let x = 0; x < 256; x++) {
      let c = t0[x] ?? 0;
      for (let i = 0; i < k; i++) c = (t0[c & 0xff] ?? 0) ^ (c >>> 8);
      t[x] = c;
    }
    return t;
  };
  const out = new Uint8Array(TABLE_BYTES);
  for (let m = 0; m < K + 4; m++) {
    // m < 4: register byte m, at position m of the step; m ≥ 4: vector m - 4's byte, at 16(m-4)+15.
    const t = shifted(m < 4 ? STEP - 1 - m : STEP - 16 * (m - 4) - 16);
    for (let h = 0; h < 2; h++)
      for (let j = 0; j < 4; j++)
        for (let n = 0; n < 16; n++) out[((m * 2 + h) * 4 + j) * 16 + n] = ((t[h ? n << 4 : n] ?? 0) >>> (8 * j)) & 0xff;
  }
  return out;
}

export type Crc = (crc: number, b: Uint8Array) => number;

interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: object };
}

/**
 * The SIMD CRC (for inputs of at least one step; shorter tails go to `small`), or null when this
 * runtime has no WebAssembly SIMD (node --jitless, an old CPU) or it disagrees with `small` on a
 * self-test.
 */
export function createSimdCrc(t0: Int32Array, small: Crc): { crc: Crc; kind: string } | null {
  // The lib settings of this project (ES2022, node) do not declare WebAssembly: the little used here.
  const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (!wasm) return null;
  for (const relaxed of [true, false]) {
    let crc: Crc;
    try {
      const instance = new wasm.Instance(new wasm.Module(crcModuleBytes(relaxed)));
      const exports = instance.exports as { crc: (p: number, steps: number, out: number) => void; memory: { buffer: ArrayBuffer } };
      const mem = new Uint8Array(exports.memory.buffer);
      mem.set(tables(t0));
      const run = exports.crc;
      crc = (crc0: number, b: Uint8Array): number => {
        let c = crc0 | 0;
        let o = 0;
        const whole = b.length - (b.length % STEP);
        while (o < whole) {
          const n = Math.min(WINDOW, whole - o);
          mem.set(b.subarray(o, o + n), BASE);
          // Continue the running CRC: xor it into the first four bytes (the CRC is linear).
          mem[BASE] = (mem[BASE] ?? 0) ^ (c & 0xff);
          mem[BASE + 1] = (mem[BASE + 1] ?? 0) ^ ((c >>> 8) & 0xff);
          mem[BASE + 2] = (mem[BASE + 2] ?? 0) ^ ((c >>> 16) & 0xff);
          mem[BASE + 3] = (mem[BASE + 3] ?? 0) ^ (c >>> 24);
          run(BASE, n / STEP, OUT);
          c = 0;
          for (let i = 0; i < 16; i++) {
            c = (t0[c & 0xff] ?? 0) ^ (c >>> 8);
            c ^=
              (mem[OUT + i] ?? 0) | ((mem[OUT + 16 + i] ?? 0) << 8) | ((mem[OUT + 32 + i] ?? 0) << 16) | ((mem[OUT + 48 + i] ?? 0) << 24);
          }
          o += n;
        }
        return o === b.length ? c >>> 0 : small(c >>> 0, b.subarray(o));
      };
    } catch {
      continue; // no (relaxed) SIMD here
    }
    if (selfTest(crc, small)) return { crc, kind: relaxed ? 'wasm-simd-relaxed' : 'wasm-simd' };
  }
  return null;
}

function selfTest(crc: Crc, small: Crc): boolean {
  const b = new Uint8Array(WINDOW + 3 * STEP + 7);
  let x = 0x12345678;
  for (let i = 0; i < b.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) | 0;
    b[i] = x >>> 24;
  }
  return crc(0xdeadbeef, b) === small(0xdeadbeef, b) && crc(0, b.subarray(1, 1 + STEP)) === small(0, b.subarray(1, 1 + STEP));
}

/** Shortest input worth the copy into the WebAssembly memory. */
export const SIMD_MIN_BYTES = STEP;
