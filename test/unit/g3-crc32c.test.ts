/**
 * The G3 frame CRC (CRC-32C, spt3g variant: register from 0, no final inversion): the WebAssembly
 * version against the JS reference on random buffers (every length 0–100, lengths around the
 * WebAssembly thresholds, the 64-byte turn and the 64 KiB window, unaligned starts, continued CRCs),
 * known answers, the sparse multiple of the polynomial it reduces by, and the JS fallback when
 * WebAssembly is missing (`node --jitless`).
 */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { CRC32C_IMPLEMENTATION, crc32c, crc32cJs, crc32cWasm } from '../../data-nodes/archive/formats/g3/crc32c';
import { CRC32C_POLY, CRC_WINDOW_BYTES, SPARSE_LOW, SPARSE_TOP, createWasmCrc } from '../../data-nodes/archive/formats/g3/crc32c-wasm';

/** a·b mod P, polynomials in the reflected bit order (bit 31 = x^0); after Mark Adler's crc32c.c. */
function multModP(a: number, b: number): number {
  let m = 0x80000000;
  let p = 0;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1)) === 0) break;
    }
    m >>>= 1;
    b = b & 1 ? (b >>> 1) ^ CRC32C_POLY : b >>> 1;
  }
  return p >>> 0;
}

/** X2N[k] = x^(2^k) mod P. */
const X2N: number[] = [];
for (let k = 0, p = 0x40000000; k < 64; k++, p = multModP(p, p)) X2N.push(p);

/** x^(8n) mod P: what a CRC is multiplied by when n bytes follow (checks the sparse multiple below). */
function bytesShift(n: number): number {
  let p = 0x80000000;
  for (let k = 3; n > 0; n = Math.floor(n / 2), k++) if (n % 2) p = multModP(X2N[k] ?? 0, p);
  return p;
}

/** Deterministic pseudo-random bytes. */
function bytes(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed | 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) | 0;
    b[i] = x >>> 24;
  }
  return b;
}

const WINDOW = CRC_WINDOW_BYTES;

describe('G3 CRC-32C', () => {
  const wasm = crc32cWasm;

  test('this runtime uses the WebAssembly version', () => {
    expect(CRC32C_IMPLEMENTATION).toBe('wasm');
    expect(wasm).not.toBeNull();
  });

  test('known answers (standard CRC-32C = this variant from ~0, inverted; RFC 3720 B.4)', () => {
    const std = (f: (c: number, b: Uint8Array) => number, b: Uint8Array) => (f(0xffffffff, b) ^ 0xffffffff) >>> 0;
    for (const f of [crc32cJs, wasm ?? crc32cJs, crc32c]) {
      expect(std(f, Buffer.from('123456789'))).toBe(0xe3069283);
      expect(std(f, new Uint8Array(32))).toBe(0x8a9136aa);
      expect(std(f, new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
      expect(
        std(
          f,
          Uint8Array.from({ length: 32 }, (_, i) => i),
        ),
      ).toBe(0x46dd794e);
    }
    expect(crc32c(0, new Uint8Array(0))).toBe(0);
    expect(crc32c(0x12345678, new Uint8Array(0))).toBe(0x12345678);
  });

  test('the WebAssembly version reduces by a multiple of the polynomial with six terms, every distance ≥ 16 bytes', () => {
    // Q(x) = x^(8·top) + Σ x^(8·e) ≡ 0 (mod P): the xor of the x^(8e) mod P is 0.
    expect(SPARSE_LOW[0]).toBe(0);
    expect(SPARSE_LOW.reduce((acc, e) => acc ^ bytesShift(e), bytesShift(SPARSE_TOP))).toBe(0);
    // Not a multiple with a term moved by one byte (the check can fail).
    expect(SPARSE_LOW.reduce((acc, e) => acc ^ bytesShift(e), bytesShift(SPARSE_TOP + 1))).not.toBe(0);
    // 16-byte steps read only bytes already final: every distance top − e is at least 16.
    for (const e of SPARSE_LOW) expect(SPARSE_TOP - e).toBeGreaterThanOrEqual(16);
  });

  test('WASM = JS: every length 0-100 and around the thresholds, the turn (64 bytes) and the window, unaligned, any starting CRC', () => {
    if (!wasm) throw new Error('no WebAssembly CRC');
    const big = bytes(3 * WINDOW + 4096, 7);
    const lengths = [...Array.from({ length: 101 }, (_, i) => i), 255, 256, 257, 545, 546, 547, 609, 610, 611, 2047, 2048, 2049];
    // Around a reduced part of 256 bytes (the shortest reduced) and the window, with its tail of SPARSE_TOP.
    for (const n of [256 + SPARSE_TOP, 256 + SPARSE_TOP + 64, WINDOW, WINDOW + SPARSE_TOP, 2 * WINDOW + SPARSE_TOP])
      lengths.push(n - 1, n, n + 1, n + 63, n + 64);
    lengths.push(WINDOW + 255, WINDOW + 256, 2 * WINDOW + 17, 3 * WINDOW + 300);
    let checked = 0;
    for (const n of lengths) {
      for (const off of [0, 1, 3, 7, 13]) {
        const b = big.subarray(off, off + n);
        for (const init of [0, 0xffffffff, (n * 2654435761) >>> 0]) {
          const want = crc32cJs(init, b);
          expect(wasm(init, b)).toBe(want);
          expect(crc32c(init, b)).toBe(want);
          checked++;
        }
      }
    }
    expect(checked).toBe(lengths.length * 15);
    // A wrong result is noticed: one flipped bit changes the CRC.
    const b = big.slice(0, 1000);
    const before = wasm(0, b);
    b[500] = (b[500] ?? 0) ^ 4;
    expect(wasm(0, b)).not.toBe(before);
  });

  test('GF(2) join: crc(A ‖ B) = crc(A)·x^(8|B|) ⊕ crc(B)', () => {
    const b = bytes(10000, 5);
    for (const cut of [0, 1, 4, 999, 5000, 9999, 10000]) {
      const a = b.subarray(0, cut);
      const rest = b.subarray(cut);
      expect(multModP(bytesShift(rest.length), crc32cJs(0, a)) ^ crc32cJs(0, rest)).toBe(crc32cJs(0, b) | 0);
    }
  });

  test('a CRC continued piece by piece equals the CRC of the whole', () => {
    const b = bytes(300000, 11);
    const whole = crc32cJs(0, b);
    const rnd = bytes(64, 3);
    for (let trial = 0; trial < 8; trial++) {
      let c = 0;
      let at = 0;
      let k = 0;
      while (at < b.length) {
        // Pieces from 0 bytes to ~100 KiB, so both versions are used.
        const r = rnd[(trial * 8 + k++) % rnd.length] ?? 0;
        const n = Math.min(b.length - at, r < 64 ? r : r * 400);
        c = crc32c(c, b.subarray(at, at + n));
        at += n;
      }
      expect(c).toBe(whole);
    }
  });

  test('without WebAssembly the WebAssembly version is absent (the JS one is used)', () => {
    const g = globalThis as { WebAssembly?: unknown };
    const saved = g.WebAssembly;
    try {
      delete g.WebAssembly;
      expect(createWasmCrc(new Int32Array(2048), crc32cJs)).toBeNull();
    } finally {
      g.WebAssembly = saved;
    }
    // And under node --jitless (no WebAssembly at all) the module loads and falls back to JS.
    const root = path.resolve(__dirname, '../..');
    const out = execFileSync(
      process.execPath,
      [
        '--jitless',
        '--import',
        'tsx',
        '-e',
        "const m = require('./data-nodes/archive/formats/g3/crc32c.ts'); const b = new Uint8Array(5000).map((_, i) => i * 31);" +
          'console.log(m.CRC32C_IMPLEMENTATION, m.crc32c(0, b) === m.crc32cJs(0, b), m.crc32c(0, b));',
      ],
      { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
    );
    const b = new Uint8Array(5000).map((_, i) => i * 31);
    expect(out.trim()).toBe(`js true ${crc32cJs(0, b)}`);
  });
});
