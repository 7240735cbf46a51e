import { CRC32C_POLY, createWasmCrc, WASM_MIN_BYTES } from './crc32c-wasm';

/**
 * The frame checksum of spt3g: CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) with the
 * register starting at 0 and no final inversion — not the usual crc32c() with ~0 init/xorout.
 * Slicing-by-8 tables: eight bytes per step. The tables are Int32Array so every entry is a small
 * integer for V8 (a Uint32Array entry ≥ 2^31 would be a heap double and make the loop 3× slower).
 */
const TABLES: Int32Array[] = (() => {
  const t0 = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ CRC32C_POLY : c >>> 1;
    t0[n] = c | 0;
  }
  const out = [t0];
  for (let s = 1; s < 8; s++) {
    const prev = out[s - 1] ?? t0;
    const t = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      const p = prev[n] ?? 0;
      t[n] = (p >>> 8) ^ (t0[p & 0xff] ?? 0);
    }
    out.push(t);
  }
  return out;
})();

const [T0, T1, T2, T3, T4, T5, T6, T7] = TABLES as [
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
];

/**
 * Continues `crc` over `b` (start with 0), or over b[start, end): the JS version (reference, and
 * fallback without WebAssembly).
 */
export function crc32cJs(crc: number, b: Uint8Array, start = 0, end = b.length): number {
  let c = crc | 0;
  let i = start;
  const n = end;
  const end8 = n - ((n - start) & 7);
  while (i < end8) {
    const lo = c ^ ((b[i] as number) | ((b[i + 1] as number) << 8) | ((b[i + 2] as number) << 16) | ((b[i + 3] as number) << 24));
    c =
      (T7[lo & 0xff] as number) ^
      (T6[(lo >>> 8) & 0xff] as number) ^
      (T5[(lo >>> 16) & 0xff] as number) ^
      (T4[(lo >>> 24) & 0xff] as number) ^
      (T3[b[i + 4] as number] as number) ^
      (T2[b[i + 5] as number] as number) ^
      (T1[b[i + 6] as number] as number) ^
      (T0[b[i + 7] as number] as number);
    i += 8;
  }
  while (i < n) c = (T0[(c ^ (b[i++] as number)) & 0xff] as number) ^ (c >>> 8);
  return c >>> 0;
}

const flat = new Int32Array(8 * 256);
TABLES.forEach((t, k) => flat.set(t, 256 * k));
const WASM = createWasmCrc(flat, crc32cJs);

/** Which implementation `crc32c` uses on long inputs: 'wasm' or 'js' (no WebAssembly or no SIMD: node --jitless). */
export const CRC32C_IMPLEMENTATION: 'wasm' | 'js' = WASM ? 'wasm' : 'js';

/** The WebAssembly version (null without WebAssembly), for tests against `crc32cJs`. */
export const crc32cWasm = WASM;

/** Continues `crc` over `b` (start with 0): WebAssembly from 256 bytes when available (2× the JS at 1 KB, ~8× at 50 KB). */
export function crc32c(crc: number, b: Uint8Array): number {
  return WASM && b.length >= WASM_MIN_BYTES ? WASM(crc, b) : crc32cJs(crc, b);
}

/** `crc32c` over b[start, end) (no subarray for the short ones: a frame has many short entries). */
export function crc32cAt(crc: number, b: Uint8Array, start: number, end: number): number {
  return WASM && end - start >= WASM_MIN_BYTES ? WASM(crc, b.subarray(start, end)) : crc32cJs(crc, b, start, end);
}
