/**
 * The summary of four runs of values at once in WebAssembly SIMD, for `bucketsOnRuns` (bucket.ts): per
 * run its min, max, sum, the index of its first min and of its last max, the same numbers, bit for bit,
 * as `runPair` gives in JavaScript. The module's bytes are emitted here at load (no toolchain, no
 * native code).
 *
 * The four runs are the lanes of two f64x2 vectors, so each run's sum is still added one value at a time
 * in order (the sum of a bucket is the same double whatever summarised it); the four chains of additions
 * run side by side instead of two. Per value only the sum, a block min (f64x2.pmin: `x < mn ? x : mn`,
 * JavaScript's `if (x < mn)`) and a block max (f64x2.pmax(x, mx): `mx < x ? x : mx`, the later value on
 * a tie, JavaScript's `if (x >= mx)`) are kept; once per block of 8 values the run's min and max take
 * the block's, and where the block's was lower (not lower or equal: the first min stays) or higher or
 * equal (the last max wins) the block's start is kept, as `pmax(index, k & mask)` (k exceeds every index
 * kept). The caller then finds the index in that block: the first value equal (===) to the min from
 * there, the last equal to the max before its end. That is runPair's index exactly: with no NaN, its
 * first min is the first value === the final min (an earlier equal one would have been taken, and kept),
 * its last max the last value === the final max (a later equal one would have replaced it), ±0 included.
 * With a NaN in a run, its sum is NaN, and the caller summarises that run again skipping them
 * (runStatsNaN), as it does after runPair.
 *
 * Measured (a prototype, 20 columns × 3600 values in runs of 600, 5 alternated rounds on this 2-core
 * VM): 0.53-0.63 ns a value against runPair's 2.16-2.51, the copy of the values into the module's
 * memory 0.23-0.31 ns a value more. Here (two or three runs go as four, lanes repeated): a decode
 * worker's CPU for a G3 hour file (20 fields, 1 Hz) 606/680/616 → 530/557/541 µs; a year of them
 * scanned, the workers' CPU 6.3/5.9/6.5 → 5.2/5.8/5.2 s (old and new alternately). V8 (Node 20) compiles pmin/pmax to one minpd/maxpd each; a
 * v128.bitselect would be three instructions, hence the and + pmax for the indexes.
 */
import { section, uleb, WASM_HEADER, WASM_PAGE, WasmBody, wasmApi, wasmName } from '../../../common/wasm-bytes';

const OP = {
  end: 0x0b,
  i32: 0x7f,
  v128: 0x7b,
  i32GtU: 0x4b,
  i32GeU: 0x4f,
  i32Add: 0x6a,
  i32Shl: 0x74,
} as const;

/** SIMD instructions (after the 0xfd prefix). */
const S = {
  v128Load: 0x00,
  v128Store: 0x0b,
  v128Const: 0x0c,
  i8x16Shuffle: 0x0d,
  f64x2Lt: 0x49,
  f64x2Ge: 0x4c,
  v128And: 0x4e,
  v128Load64Lane: 0x57,
  v128Load64Zero: 0x5d,
  f64x2Add: 0xf0,
  f64x2Pmin: 0xf6,
  f64x2Pmax: 0xf7,
} as const;

/** Values per block (the indexes are kept per block). */
const BLK = 8;
/** The module's memory, fixed: the results, then the values of the four runs. */
const PAGES = 64;
const OUT_ADDR = 0;
const DATA_ADDR = 256;
/** Values of four runs together that the memory holds (longer ones: runPair). */
export const QUAD_MAX_VALUES = Math.floor((PAGES * WASM_PAGE - DATA_ADDR) / 8);

class Body extends WasmBody {
  /** v128.const of two doubles. */
  f64x2(a: number, b: number): this {
    return this.simd(S.v128Const, ...new Uint8Array(new Float64Array([a, b]).buffer));
  }
}

/**
 * quad(p0, p1, p2, p3, len, out): the byte addresses of four runs, their common length (≥ 1), where the
 * results go: 10 v128 (sum, min, max, index of the block of the first min, of the last max; each as two
 * vectors, runs 0-1 then 2-3), the indexes from each run's start, as doubles.
 */
function moduleBytes(): Uint8Array {
  const b = new Body();
  // params (i32): 0-3 the runs, 4 len, 5 out; locals: 6 o (byte offset), 7 end; v128 from 8
  const LEN = 4;
  const OUTP = 5;
  const O = 6;
  const END = 7;
  let vi = 8;
  const two = (): [number, number] => [vi++, vi++];
  /** Of a pair of locals (or runs), the one of vector j. */
  const of = (pair: readonly [number, number], j: number): number => (j === 0 ? pair[0] : pair[1]);
  const SUM = two();
  const MN = two();
  const MX = two();
  const IMN = two();
  const IMX = two();
  const X = two();
  const T = two();
  const BMN = two();
  const BMX = two();
  const K = vi++;
  const ONE = vi++;
  const EIGHT = vi++;
  const nV128 = vi - 8;
  const runsOf = (j: number): readonly [number, number] => (j === 0 ? [0, 1] : [2, 3]);
  const addr = (p: number): Body => b.get(p).get(O).op(OP.i32Add);
  /** Pushes (run a's value at o, run b's). */
  const loadPair = (pa: number, pb: number): void => {
    addr(pb);
    addr(pa).simd(S.v128Load64Zero, 3, 0);
    b.simd(S.v128Load64Lane, 3, 0, 1);
  };
  /**
   * Run min and max of vector j take `lo` / `hi` (a block's, or one value): the index K where `lo` is
   * lower (the first min stays) and where `hi` is higher or equal (the last max wins).
   */
  const fold = (j: number, lo: number, hi: number): void => {
    b.get(of(IMN, j)).get(K).get(lo).get(of(MN, j)).simd(S.f64x2Lt).simd(S.v128And).simd(S.f64x2Pmax).set(of(IMN, j));
    b.get(of(IMX, j)).get(K).get(hi).get(of(MX, j)).simd(S.f64x2Ge).simd(S.v128And).simd(S.f64x2Pmax).set(of(IMX, j));
    b.get(of(MN, j)).get(lo).simd(S.f64x2Pmin).set(of(MN, j));
    b.get(hi).get(of(MX, j)).simd(S.f64x2Pmax).set(of(MX, j));
  };
  // first values: sum, min and max; indexes 0 (the locals start at zero)
  b.i32(0).set(O);
  for (let j = 0; j < 2; j++) {
    loadPair(...runsOf(j));
    b.tee(of(SUM, j)).tee(of(MN, j)).set(of(MX, j));
  }
  b.f64x2(1, 1).tee(K).set(ONE);
  b.f64x2(BLK, BLK).set(EIGHT);
  b.get(LEN).i32(3).op(OP.i32Shl).set(END);
  b.i32(8).set(O);
  // Blocks: two values of each run per v128.load, zipped into (a, b) vectors by shuffles.
  const lo = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];
  const hi = [8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31];
  b.loop(
    () =>
      b
        .get(O)
        .i32(8 * BLK)
        .op(OP.i32Add)
        .get(END)
        .op(OP.i32GtU),
    () => {
      for (let h = 0; h < BLK / 2; h++) {
        for (let j = 0; j < 2; j++) {
          const [pa, pb] = runsOf(j);
          addr(pa)
            .simd(S.v128Load, 3, ...uleb(16 * h))
            .set(of(T, j));
          addr(pb)
            .simd(S.v128Load, 3, ...uleb(16 * h))
            .set(of(X, j));
          b.get(of(T, j))
            .get(of(X, j))
            .simd(S.i8x16Shuffle, ...hi); // the later pair, kept in T below
          b.get(of(T, j))
            .get(of(X, j))
            .simd(S.i8x16Shuffle, ...lo)
            .set(of(X, j));
          b.set(of(T, j));
        }
        for (const v of [X, T])
          for (let j = 0; j < 2; j++) {
            b.get(of(SUM, j)).get(of(v, j)).simd(S.f64x2Add).set(of(SUM, j));
            if (h === 0 && v === X) {
              b.get(of(v, j)).tee(of(BMN, j)).set(of(BMX, j));
              continue;
            }
            b.get(of(BMN, j)).get(of(v, j)).simd(S.f64x2Pmin).set(of(BMN, j));
            b.get(of(v, j)).get(of(BMX, j)).simd(S.f64x2Pmax).set(of(BMX, j));
          }
      }
      for (let j = 0; j < 2; j++) fold(j, of(BMN, j), of(BMX, j));
      b.get(K).get(EIGHT).simd(S.f64x2Add).set(K);
      b.get(O)
        .i32(8 * BLK)
        .op(OP.i32Add)
        .set(O);
    },
  );
  // The rest of the common length, a value at a time (the index exact).
  b.loop(
    () => b.get(O).get(END).op(OP.i32GeU),
    () => {
      for (let j = 0; j < 2; j++) {
        loadPair(...runsOf(j));
        b.set(of(X, j));
        b.get(of(SUM, j)).get(of(X, j)).simd(S.f64x2Add).set(of(SUM, j));
        fold(j, of(X, j), of(X, j));
      }
      b.get(K).get(ONE).simd(S.f64x2Add).set(K);
      b.get(O).i32(8).op(OP.i32Add).set(O);
    },
  );
  [SUM, MN, MX, IMN, IMX].flat().forEach((l, i) =>
    b
      .get(OUTP)
      .get(l)
      .simd(S.v128Store, 4, ...uleb(16 * i)),
  );
  const code = [2, ...uleb(2), OP.i32, ...uleb(nV128), OP.v128, ...b.c, OP.end];
  return new Uint8Array([
    ...WASM_HEADER,
    ...section(1, [1, 0x60, 6, ...Array<number>(6).fill(OP.i32), 0]), // (i32 × 6) -> ()
    ...section(3, [1, 0]),
    ...section(5, [1, 0x01, PAGES, PAGES]), // memory: min = max = PAGES
    ...section(7, [2, ...wasmName('quad'), 0x00, 0, ...wasmName('memory'), 0x02, 0]),
    ...section(10, [1, ...uleb(code.length), ...code]),
  ]);
}

/**
 * Summarises the runs k to k + m - 1 of `runs` (run q is v[runs[q]], …, v[runs[q + 1] - 1]; m from 1 to
 * 4, each not empty, runs[k + m] - runs[k] ≤ QUAD_MAX_VALUES; with fewer than four, the last one is
 * also the lanes left over) into `run` at 0, 8, 16, 24 as runPair writes RUN: index of the first value,
 * count, min, max, sum, index of the min, of the max, of the last value. Returns the length summarised
 * of each run (the shortest run's): the min, max, sum and their indexes are of each run's first `len`
 * values, and the caller goes on with the rest of a longer one (bucket.ts `runOn`). A run with a NaN (or
 * +∞ and -∞) there has a NaN sum, and its other numbers are not meaningful: the caller redoes it.
 */
export type QuadStats = (v: Float64Array, runs: Int32Array, k: number, m: number, run: Float64Array) => number;

function createQuad(): QuadStats | null {
  const wasm = wasmApi();
  if (!wasm) return null;
  let exports: {
    quad: (p0: number, p1: number, p2: number, p3: number, len: number, out: number) => void;
    memory: { buffer: ArrayBuffer };
  };
  try {
    exports = new wasm.Instance(new wasm.Module(moduleBytes())).exports as typeof exports;
  } catch {
    return null; // no WebAssembly SIMD (or this module refused: should not happen)
  }
  const { quad, memory } = exports;
  const mem = new Float64Array(memory.buffer);
  const R = new Float64Array(memory.buffer, OUT_ADDR, 20);
  const starts = new Float64Array(4);
  const ends = new Float64Array(4);
  return (v, runs, k, m, run) => {
    let len = Infinity;
    for (let r = 0; r < 4; r++) {
      const q = k + Math.min(r, m - 1);
      starts[r] = runs[q] as number;
      ends[r] = runs[q + 1] as number;
      len = Math.min(len, (ends[r] as number) - (starts[r] as number));
    }
    const s0 = runs[k] as number;
    mem.set(v.subarray(s0, runs[k + m]), DATA_ADDR / 8);
    const at = (r: number): number => DATA_ADDR + 8 * ((starts[r] as number) - s0);
    quad(at(0), at(1), at(2), at(3), len, OUT_ADDR);
    for (let r = 0; r < m; r++) {
      const s = starts[r] as number;
      const e = ends[r] as number;
      const q = 8 * r;
      const sum = R[r] as number;
      run[q] = s;
      run[q + 1] = e - s;
      run[q + 7] = e - 1;
      if (sum !== sum) {
        run[q + 4] = NaN; // redone by the caller
        continue;
      }
      const mn = R[4 + r] as number;
      const mx = R[8 + r] as number;
      // the first value === mn from the kept block's start; the last === mx before that block's end
      const common = s + len;
      let iMin = s + (R[12 + r] as number);
      while (iMin < common && v[iMin] !== mn) iMin++;
      let iMax = Math.min(s + (R[16 + r] as number) + BLK - 1, common - 1);
      while (iMax >= s && v[iMax] !== mx) iMax--;
      if (iMin === common || iMax < s) {
        run[q + 4] = NaN; // not found (cannot be, without a NaN): the caller redoes the run
        continue;
      }
      run[q + 2] = mn;
      run[q + 3] = mx;
      run[q + 4] = sum;
      run[q + 5] = iMin;
      run[q + 6] = iMax;
    }
    return len;
  };
}

let made: QuadStats | null | undefined;

/**
 * The WebAssembly version, or null without WebAssembly SIMD (node --jitless): runPair then. Made on
 * first use (a thread that builds no tiers makes no module), one per thread.
 */
export function quadStats(): QuadStats | null {
  if (made === undefined) made = createQuad();
  return made;
}
