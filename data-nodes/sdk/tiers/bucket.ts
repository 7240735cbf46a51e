/**
 * Summary buckets: what a tier keeps per field and bucket width, built from raw samples, mergeable.
 *
 * A bucket covers [idx * width, (idx + 1) * width) and keeps count, min, max, sum, the first and last
 * sample time, and the times of its min and max. Buckets are packed into a Float64Array, STRIDE numbers
 * per bucket in the order of `F` (idx first), sorted by idx: that is what storage keeps (one BLOB per
 * source, field and width) and what queries merge. Merging is exact and order-free for disjoint inputs:
 * counts and sums add, min/max keep the earliest time of the min and the latest time of the max (the
 * same tie rule as `downsampleMinMax`), first/last times widen. NaN values are not samples.
 */

import { QUAD_MAX_VALUES, quadStats } from './run-stats-wasm';

/** Positions inside one packed bucket. */
export const F = { idx: 0, count: 1, min: 2, max: 3, sum: 4, tFirst: 5, tLast: 6, tMin: 7, tMax: 8 } as const;
/**
 * Numbers per packed bucket. Declared, then exported (not `export const`): CommonJS output then reads
 * the local binding here, not a property of `exports` in every hot loop.
 */
const STRIDE = 9;
export { STRIDE };

/** The ladder of widths (seconds); each divides the next, so finer buckets nest in coarser ones. */
export const LADDER: readonly number[] = [1, 10, 60, 600, 3600, 21600, 86400];

/**
 * A field's tier widths: the ladder rungs at least `factor` × its native interval (so buckets summarise
 * hundreds of samples and stay ~1% of the raw data), and always the top (1 day).
 */
export function ladderFor(nativeInterval: number | null, factor = 300): number[] {
  const native = nativeInterval !== null && nativeInterval > 0 && Number.isFinite(nativeInterval) ? nativeInterval : 1;
  const top = LADDER[LADDER.length - 1] ?? 86400;
  return LADDER.filter((w) => w >= native * factor || w === top);
}

export interface Bucket {
  idx: number;
  count: number;
  min: number;
  max: number;
  sum: number;
  tFirst: number;
  tLast: number;
  tMin: number;
  tMax: number;
}

const g = (a: ArrayLike<number>, i: number): number => a[i] ?? NaN;

/** Bucket `k` of a packed array as an object (for tests and small uses). */
export function bucketAt(p: Float64Array, k: number): Bucket {
  const o = k * STRIDE;
  return {
    idx: g(p, o),
    count: g(p, o + 1),
    min: g(p, o + 2),
    max: g(p, o + 3),
    sum: g(p, o + 4),
    tFirst: g(p, o + 5),
    tLast: g(p, o + 6),
    tMin: g(p, o + 7),
    tMax: g(p, o + 8),
  };
}

/** Number of buckets in a packed array. */
export function nBuckets(p: Float64Array): number {
  return Math.floor(p.length / STRIDE);
}

/**
 * Buckets of `width` from samples. `t` need not be sorted (late and out-of-order samples are fine);
 * NaN values are skipped. Returns a packed array sorted by idx. Time-sorted input without NaN times
 * (the common case) is built on its runs (`axisRuns`, then `bucketsOnRuns`, as a timeline's columns in
 * the scan); anything else by `bucketsGeneral`. Both give the same bytes where the first applies
 * (test/unit/tiers-fast.test.ts compares them with the builder before).
 */
export function buildBuckets(t: ArrayLike<number>, v: ArrayLike<number>, width: number): Float64Array {
  const n = Math.min(t.length, v.length);
  const runs = t.length === v.length ? axisRuns(t, width) : null;
  return runs ? bucketsOnRuns(t, runs, v, width, { first: -1, last: -1, n: 0 }) : bucketsGeneral(t, v, width, n);
}

/**
 * Whether sorted samples would average 8 or more a bucket (from the first and last time): else the
 * few compares per bucket of the run path cost more than the division per sample of `bucketsGeneral`
 * (an MQTT topic sending once a minute, a 60 s tier). False for NaN and infinite end times too.
 */
function manyPerBucket(t: ArrayLike<number>, width: number, n: number): boolean {
  const buckets = Math.floor((t[n - 1] as number) / width) - Math.floor((t[0] as number) / width) + 1;
  return buckets * 8 <= n;
}

/**
 * Where `bucketsOnRuns` and `coarsen` build their result before the copy they return (a typed array
 * allocation costs as much as summarising hundreds of samples); a bigger result grows its own array.
 */
const SCRATCH = new Float64Array(4096 * STRIDE);
/** The length of the last run `axisRuns` found: where the next one probably ends. */
let RUN_LEN = 1;

/**
 * The end of the run of samples from s with the idx of t[s], or -1 if t[s] < t[s - 1] or is NaN. The
 * first t >= (idx + 1) * width by a galloping search from s + len, then floor on both sides of it:
 * the product may round either way, and floor(t / width) decides, as in `bucketsGeneral`.
 */
function runEnd(t: ArrayLike<number>, width: number, s: number, n: number, len: number): number {
  const ts = t[s] as number;
  if (!(ts >= (s > 0 ? (t[s - 1] as number) : ts))) return -1;
  const cur = Math.floor(ts / width);
  let e = seek(t, (cur + 1) * width, s + 1, n, Math.min(n, s + Math.max(1, len)));
  while (e > s + 1 && Math.floor((t[e - 1] as number) / width) !== cur) e--;
  while (e < n && Math.floor((t[e] as number) / width) === cur) e++;
  return e;
}

/**
 * `runPair`'s results, for its runs a (at 0) and b (at 8) (`runOne`'s: a only; `quadStats`'s: four, to
 * 24): index of the first value, count (0: no value), min, max, sum, index of the min, of the max, of
 * the last value.
 */
const RUN = new Float64Array(32);

/** Shortest run `bucketsOnRunsInto` gives `quadStats` (shorter ones cost more to copy and call than they save). */
const QUAD_MIN_RUN = 32;

/** The bucket of one run with NaN values (t already checked), into RUN at k: NaN values are skipped. */
function runStatsNaN(k: number, v: ArrayLike<number>, s: number, e: number): void {
  let j = s;
  let x = v[j] as number;
  while (x !== x) {
    if (++j === e) {
      RUN[k + 1] = 0;
      return;
    }
    x = v[j] as number;
  }
  const j0 = j;
  let nan = 0;
  let mn = x;
  let mx = x;
  let sum = x;
  let iMin = j;
  let iMax = j;
  for (j++; j < e; j++) {
    const y = v[j] as number;
    if (y !== y) {
      nan++;
      continue;
    }
    sum += y;
    if (y < mn) {
      mn = y;
      iMin = j;
    }
    if (y >= mx) {
      mx = y;
      iMax = j;
    }
  }
  let last = e - 1;
  for (let y = v[last] as number; y !== y; y = v[last] as number) last--;
  RUN[k] = j0;
  RUN[k + 1] = e - j0 - nan;
  RUN[k + 2] = mn;
  RUN[k + 3] = mx;
  RUN[k + 4] = sum;
  RUN[k + 5] = iMin;
  RUN[k + 6] = iMax;
  RUN[k + 7] = last;
}

/**
 * The first i in [lo, n) with t[i] >= x (n if none), t ascending, starting from the guess g in [lo, n]:
 * galloping away from g, then bisecting.
 */
function seek(t: ArrayLike<number>, x: number, lo: number, n: number, g: number): number {
  let a: number; // the answer is in [a, b]
  let b: number;
  if (g > lo && (t[g - 1] as number) >= x) {
    b = g - 1;
    let d = 1;
    while (b - d >= lo && (t[b - d] as number) >= x) {
      b -= d;
      d *= 2;
    }
    a = Math.max(lo, b - d + 1);
  } else {
    a = g;
    b = g;
    let d = 1;
    while (b < n && (t[b] as number) < x) {
      a = b + 1;
      b += d;
      d *= 2;
    }
    if (b > n) b = n;
  }
  while (a < b) {
    const mid = (a + b) >>> 1;
    if ((t[mid] as number) >= x) b = mid;
    else a = mid + 1;
  }
  return a;
}

/**
 * The runs of a time axis at `width` (a bucket each): run k is [runs[k], runs[k + 1]), the last entry
 * is t.length. Null where `buildBuckets` would not take its sorted path (times not ascending, a NaN
 * time, a width or end times not finite, fewer than 8 samples a bucket on average). Columns sharing
 * the axis (a timeline's) then find their buckets with `bucketsOnRuns`, without reading `t` again.
 */
export function axisRuns(t: ArrayLike<number>, width: number): Int32Array | null {
  const n = t.length;
  if (!(width > 0 && width < Infinity && n > 0 && manyPerBucket(t, width, n))) return null;
  let p = t[0] as number;
  for (let i = 1; i < n; i++) {
    const x = t[i] as number;
    if (!(x >= p)) return null;
    p = x;
  }
  const ends: number[] = [0];
  for (let s = 0; s < n;) {
    s = runEnd(t, width, s, n, RUN_LEN);
    RUN_LEN = s - (ends[ends.length - 1] as number);
    ends.push(s);
  }
  return Int32Array.from(ends);
}

/** Where `bucketsOnRuns` puts the span of the values: first and last index with a value, and how many. */
export interface ValueSpan {
  first: number;
  last: number;
  n: number;
}

/**
 * `buildBuckets(t, v, width)` for `runs = axisRuns(t, width)` (not null) and v as long as t: the same
 * bytes (each run summarised as `bucketsGeneral` would, two runs at a time), from one pass over v. Also
 * fills `span` (first/last index with a value, -1 if none; how many): every value is in a run, so
 * reading v once more for them is not needed.
 */
export function bucketsOnRuns(t: ArrayLike<number>, runs: Int32Array, v: ArrayLike<number>, width: number, span: ValueSpan): Float64Array {
  const need = (runs.length - 1) * STRIDE; // a bucket per run at most
  const out = need <= SCRATCH.length ? SCRATCH : new Float64Array(need);
  return out.slice(0, bucketsOnRunsInto(t, runs, v, width, span, out, 0));
}

/** Whether runs k to k + m - 1 are for `quadStats`: each QUAD_MIN_RUN values at least, all of them within its memory. */
function quadFits(runs: Int32Array, k: number, m: number): boolean {
  for (let q = 1; q <= m; q++) if ((runs[k + q] as number) - (runs[k + q - 1] as number) < QUAD_MIN_RUN) return false;
  return (runs[k + m] as number) - (runs[k] as number) <= QUAD_MAX_VALUES;
}

/**
 * `bucketsOnRuns` written into out[at…] (room for a bucket per run: (runs.length - 1) × STRIDE numbers);
 * returns where its buckets end. `TierPack` builds a file's tiers in one buffer this way.
 */
function bucketsOnRunsInto(
  t: ArrayLike<number>,
  runs: Int32Array,
  v: ArrayLike<number>,
  width: number,
  span: ValueSpan,
  out: Float64Array,
  at: number,
): number {
  let o = at; // where the next bucket goes
  let first = -1;
  let last = -1;
  let count = 0;
  const r = runs.length - 1;
  const quad = v instanceof Float64Array ? quadStats() : null;
  for (let k = 0; k < r;) {
    // up to four runs in WebAssembly where they are long enough and fit its memory, else two (or one) here
    let m = Math.min(4, r - k);
    if (quad !== null && m >= 2 && quadFits(runs, k, m)) {
      const len = quad(v as Float64Array, runs, k, m, RUN);
      // the rest of the longer runs (a NaN sum is redone below)
      for (let q = 0; q < m; q++) {
        const s = runs[k + q] as number;
        if (RUN[8 * q + 4] === RUN[8 * q + 4] && (runs[k + q + 1] as number) - s > len) runOn(8 * q, v, s + len, runs[k + q + 1] as number);
      }
    } else if (m === 1) runOne(v, runs[k] as number, runs[k + 1] as number);
    else {
      m = 2;
      runPair(v, runs[k] as number, runs[k + 1] as number, runs[k + 2] as number);
    }
    // a NaN sum: NaN values (or +Infinity + -Infinity), the run is done again, skipping them
    for (let q = 0; q < m; q++)
      if (RUN[8 * q + 4] !== RUN[8 * q + 4]) runStatsNaN(8 * q, v, runs[k + q] as number, runs[k + q + 1] as number);
    k += m;
    for (let q = 0; q < 8 * m; q += 8) {
      const c = RUN[q + 1] as number;
      if (!(c > 0)) continue;
      const i0 = RUN[q] as number;
      const t0 = t[i0] as number;
      out[o] = Math.floor(t0 / width); // of the first value's time, as bucketsGeneral: -0 stays -0
      out[o + 1] = c;
      out[o + 2] = RUN[q + 2] as number;
      out[o + 3] = RUN[q + 3] as number;
      out[o + 4] = RUN[q + 4] as number;
      out[o + 5] = t0;
      out[o + 6] = t[RUN[q + 7] as number] as number;
      out[o + 7] = t[RUN[q + 5] as number] as number;
      out[o + 8] = t[RUN[q + 6] as number] as number;
      o += STRIDE;
      if (first < 0) first = i0;
      last = RUN[q + 7] as number;
      count += c;
    }
  }
  span.first = first;
  span.last = last;
  span.n = count;
  return o;
}

/**
 * The buckets of the runs [a, b) and [b, be) (b < be) into RUN, from v only: their times ascend
 * (`axisRuns` checked them). The same operations in the same order for each run as the loop of
 * `bucketsGeneral`, hence the same bytes: a sum started at the first value and added in order, `<` for
 * the min (the earliest time of it), `>=` for the max (the latest). Two runs at a time: two independent
 * chains of additions (the sum of one bucket must be added in order, and an addition waits for the one
 * before). No NaN expected: a NaN value makes its run's sum NaN, and `bucketsOnRuns` has `runStatsNaN`
 * do that run again. No call inside: a call site without feedback when TurboFan compiles the loop on
 * stack deoptimised it again and again (seen: 2-4x slower).
 */
function runPair(v: ArrayLike<number>, a: number, b: number, be: number): void {
  let mnA = v[a] as number;
  let mxA = mnA;
  let sumA = mnA;
  let iMinA = a;
  let iMaxA = a;
  let mnB = v[b] as number;
  let mxB = mnB;
  let sumB = mnB;
  let iMinB = b;
  let iMaxB = b;
  const both = b - a < be - b ? b - a : be - b;
  for (let k = 1; k < both; k++) {
    const x = v[a + k] as number;
    const y = v[b + k] as number;
    sumA += x;
    sumB += y;
    if (x < mnA) {
      mnA = x;
      iMinA = a + k;
    }
    if (x >= mxA) {
      mxA = x;
      iMaxA = a + k;
    }
    if (y < mnB) {
      mnB = y;
      iMinB = b + k;
    }
    if (y >= mxB) {
      mxB = y;
      iMaxB = b + k;
    }
  }
  for (let j = a + both; j < b; j++) {
    const x = v[j] as number;
    sumA += x;
    if (x < mnA) {
      mnA = x;
      iMinA = j;
    }
    if (x >= mxA) {
      mxA = x;
      iMaxA = j;
    }
  }
  for (let j = b + both; j < be; j++) {
    const y = v[j] as number;
    sumB += y;
    if (y < mnB) {
      mnB = y;
      iMinB = j;
    }
    if (y >= mxB) {
      mxB = y;
      iMaxB = j;
    }
  }
  RUN[0] = a;
  RUN[1] = b - a;
  RUN[2] = mnA;
  RUN[3] = mxA;
  RUN[4] = sumA;
  RUN[5] = iMinA;
  RUN[6] = iMaxA;
  RUN[7] = b - 1;
  RUN[8] = b;
  RUN[9] = be - b;
  RUN[10] = mnB;
  RUN[11] = mxB;
  RUN[12] = sumB;
  RUN[13] = iMinB;
  RUN[14] = iMaxB;
  RUN[15] = be - 1;
}

/** `runPair` for one run [a, ae) (the last of an odd number), into RUN at 0. */
function runOne(v: ArrayLike<number>, a: number, ae: number): void {
  const x = v[a] as number;
  RUN[0] = a;
  RUN[1] = ae - a;
  RUN[2] = RUN[3] = RUN[4] = x;
  RUN[5] = RUN[6] = a;
  RUN[7] = ae - 1;
  runOn(0, v, a + 1, ae);
}

/**
 * Goes on with the run in RUN at q over v[from, to) (its count and last index already its whole run's):
 * its sum, min, max and their indexes, as runPair's loop (the rest of a run `quadStats` summarised in
 * part, and runOne's).
 */
function runOn(q: number, v: ArrayLike<number>, from: number, to: number): void {
  let mn = RUN[q + 2] as number;
  let mx = RUN[q + 3] as number;
  let sum = RUN[q + 4] as number;
  let iMin = RUN[q + 5] as number;
  let iMax = RUN[q + 6] as number;
  for (let j = from; j < to; j++) {
    const x = v[j] as number;
    sum += x;
    if (x < mn) {
      mn = x;
      iMin = j;
    }
    if (x >= mx) {
      mx = x;
      iMax = j;
    }
  }
  RUN[q + 2] = mn;
  RUN[q + 3] = mx;
  RUN[q + 4] = sum;
  RUN[q + 5] = iMin;
  RUN[q + 6] = iMax;
}

/**
 * `buildBuckets` without the sorted fast path: the builder as it was before it, and what the fast path
 * must equal byte for byte (test/unit/tiers-fast.test.ts; the baseline of bench/buckets.ts).
 */
export function buildBucketsGeneral(t: ArrayLike<number>, v: ArrayLike<number>, width: number): Float64Array {
  return bucketsGeneral(t, v, width, Math.min(t.length, v.length));
}

/** `buildBuckets` for any input: one pass with the open bucket in locals; the first sample out of order restarts on `bucketsAnyOrder`. */
function bucketsGeneral(t: ArrayLike<number>, v: ArrayLike<number>, width: number, n: number): Float64Array {
  let out: Float64Array = new Float64Array(Math.min(n, 64) * STRIDE);
  let m = 0; // buckets in out
  let cur = NaN; // idx of the open bucket (NaN: none)
  let count = 0;
  let mn = 0;
  let mx = 0;
  let sum = 0;
  let tFirst = 0;
  let tLast = 0;
  let tMin = 0;
  let tMax = 0;
  for (let i = 0; i < n; i++) {
    // i < n: in bounds (no `?? NaN`, which keeps this loop monomorphic on typed arrays)
    const x = v[i] as number;
    const ti = t[i] as number;
    if (x !== x || ti !== ti) continue;
    if (ti < tLast && count > 0) return bucketsAnyOrder(t, v, width, n);
    const idx = Math.floor(ti / width);
    if (idx !== cur) {
      if (count > 0) {
        if ((m + 1) * STRIDE > out.length) out = grow(out, m);
        writeBucket(out, m++ * STRIDE, cur, count, mn, mx, sum, tFirst, tLast, tMin, tMax);
      }
      cur = idx;
      count = 1;
      mn = mx = sum = x;
      tFirst = tLast = tMin = tMax = ti;
      continue;
    }
    // times ascend: the earliest time of the min is the first seen, the latest of the max the last
    count++;
    sum += x;
    if (x < mn) {
      mn = x;
      tMin = ti;
    }
    if (x >= mx) {
      mx = x;
      tMax = ti;
    }
    tLast = ti;
  }
  if (count > 0) {
    if ((m + 1) * STRIDE > out.length) out = grow(out, m);
    writeBucket(out, m++ * STRIDE, cur, count, mn, mx, sum, tFirst, tLast, tMin, tMax);
  }
  return out.length === m * STRIDE ? out : out.slice(0, m * STRIDE);
}

function grow(out: Float64Array, m: number): Float64Array {
  const grown = new Float64Array(Math.max(64, m * 2) * STRIDE);
  grown.set(out);
  return grown;
}

function writeBucket(
  out: Float64Array,
  o: number,
  idx: number,
  count: number,
  mn: number,
  mx: number,
  sum: number,
  tFirst: number,
  tLast: number,
  tMin: number,
  tMax: number,
): void {
  out[o] = idx;
  out[o + 1] = count;
  out[o + 2] = mn;
  out[o + 3] = mx;
  out[o + 4] = sum;
  out[o + 5] = tFirst;
  out[o + 6] = tLast;
  out[o + 7] = tMin;
  out[o + 8] = tMax;
}

/** `buildBuckets` for samples in any time order: each bucket found by its idx. */
function bucketsAnyOrder(t: ArrayLike<number>, v: ArrayLike<number>, width: number, n: number): Float64Array {
  const out: number[] = [];
  const byIdx = new Map<number, number>();
  const one = new Float64Array(STRIDE); // each sample as a bucket of its own, merged by `mergeInto`
  one[1] = 1;
  for (let i = 0; i < n; i++) {
    const x = g(v, i);
    const ti = g(t, i);
    if (x !== x || ti !== ti) continue;
    const idx = Math.floor(ti / width);
    const o = byIdx.get(idx);
    if (o === undefined) {
      byIdx.set(idx, out.length);
      out.push(idx, 1, x, x, x, ti, ti, ti, ti);
      continue;
    }
    one[2] = one[3] = one[4] = x;
    one[5] = one[6] = one[7] = one[8] = ti;
    mergeInto(out, o, one, 0);
  }
  return sortPacked(Float64Array.from(out));
}

function sortPacked(p: Float64Array): Float64Array {
  const n = nBuckets(p);
  const order = Array.from({ length: n }, (_, k) => k).sort((a, b) => g(p, a * STRIDE) - g(p, b * STRIDE));
  const out = new Float64Array(p.length);
  order.forEach((k, j) => out.set(p.subarray(k * STRIDE, (k + 1) * STRIDE), j * STRIDE));
  return out;
}

/** Merges bucket `k` of `src` into bucket `o` (offset) of `dst`, which has the same idx. */
export function mergeInto(dst: Float64Array | number[], o: number, src: Float64Array, k: number): void {
  const s = k * STRIDE;
  const count = g(src, s + 1);
  if (!(count > 0)) return;
  dst[o + 1] = g(dst, o + 1) + count;
  dst[o + 4] = g(dst, o + 4) + g(src, s + 4);
  const mn = g(src, s + 2);
  const tmn = g(src, s + 7);
  if (mn < g(dst, o + 2) || (mn === g(dst, o + 2) && tmn < g(dst, o + 7))) {
    dst[o + 2] = mn;
    dst[o + 7] = tmn;
  }
  const mx = g(src, s + 3);
  const tmx = g(src, s + 8);
  if (mx > g(dst, o + 3) || (mx === g(dst, o + 3) && tmx > g(dst, o + 8))) {
    dst[o + 3] = mx;
    dst[o + 8] = tmx;
  }
  if (g(src, s + 5) < g(dst, o + 5)) dst[o + 5] = g(src, s + 5);
  if (g(src, s + 6) > g(dst, o + 6)) dst[o + 6] = g(src, s + 6);
}

/**
 * Merges packed arrays (any order, overlapping idx allowed) into one sorted packed array, keeping only
 * buckets with idxLo <= idx < idxHi.
 */
export function mergePacked(parts: Iterable<Float64Array>, idxLo = -Infinity, idxHi = Infinity): Float64Array {
  if (idxHi - idxLo <= DENSE_SPAN && Number.isInteger(idxLo)) {
    const list = Array.isArray(parts) ? (parts as Float64Array[]) : [...parts];
    return mergeDense(list, idxLo, idxHi) ?? mergeSparse(list, idxLo, idxHi);
  }
  return mergeSparse(parts, idxLo, idxHi);
}

/**
 * `mergePacked` for a narrow range (a stored chunk's: CHUNK indexes): each bucket goes to the slot of
 * its idx in SLOTS, so no map and no sort; the same merges in the same order, hence the same bytes.
 * Null (nothing changed) for an idx that is not an integer (NaN): `mergeSparse` then.
 */
function mergeDense(parts: Float64Array[], idxLo: number, idxHi: number): Float64Array | null {
  const span = Math.ceil(idxHi - idxLo);
  FILLED.fill(0, 0, span);
  let m = 0;
  for (const p of parts) {
    const n = nBuckets(p);
    for (let k = 0; k < n;) {
      const s = k * STRIDE;
      const idx = p[s] as number;
      if (idx < idxLo || idx >= idxHi || !((p[s + 1] as number) > 0)) {
        k++;
        continue;
      }
      const d = idx - idxLo;
      if (!Number.isInteger(d)) return null;
      if (FILLED[d] === 0) {
        // The run of buckets from here at the next indexes and empty slots goes in one copy (a file's
        // buckets mostly follow each other): copied one element at a time, the buckets of a year of hour
        // files took ~0.45 s of the scanner's thread, whose writes are a scan's critical path.
        let e = k + 1;
        for (let j = d + 1; e < n && j < span; e++, j++) {
          const x = e * STRIDE;
          // its slot as the loop above finds it (idx + 1 would round past 2^53)
          if ((p[x] as number) - idxLo !== j || FILLED[j] !== 0 || !((p[x + 1] as number) > 0)) break;
        }
        // (a view costs more than it saves for a bucket or two)
        if (e - k > 2) {
          SLOTS.set(p.subarray(s, e * STRIDE), d * STRIDE);
          FILLED.fill(1, d, d + (e - k));
        } else
          for (let b = k, j = d; b < e; b++, j++) {
            FILLED[j] = 1;
            for (let x = b * STRIDE, o = j * STRIDE, z = x + STRIDE; x < z;) SLOTS[o++] = p[x++] as number;
          }
        m += e - k;
        k = e;
      } else {
        mergeAt(SLOTS, d * STRIDE, p, s);
        k++;
      }
    }
  }
  const out = new Float64Array(m * STRIDE);
  // the filled slots in runs, each one copy
  for (let d = 0, o = 0; o < out.length;) {
    d = FILLED.indexOf(1, d);
    if (d < 0 || d >= span) throw new Error('mergeDense: fewer filled slots than buckets counted'); // a bug, never a loop
    let e = FILLED.indexOf(0, d);
    if (e < 0 || e > span) e = span;
    if (e - d > 2) {
      out.set(SLOTS.subarray(d * STRIDE, e * STRIDE), o);
      o += (e - d) * STRIDE;
    } else for (let x = d * STRIDE, z = e * STRIDE; x < z;) out[o++] = SLOTS[x++] as number;
    d = e;
  }
  return out;
}

/** The widest range `mergeDense` takes (a stored chunk: table.ts CHUNK = 512), and its slots. */
const DENSE_SPAN = 1024;
const SLOTS = new Float64Array(DENSE_SPAN * STRIDE);
const FILLED = new Uint8Array(DENSE_SPAN);

function mergeSparse(parts: Iterable<Float64Array>, idxLo: number, idxHi: number): Float64Array {
  const at = new Map<number, number>();
  const out: number[] = [];
  for (const p of parts) {
    const n = nBuckets(p);
    for (let k = 0; k < n; k++) {
      const idx = g(p, k * STRIDE);
      if (idx < idxLo || idx >= idxHi || !(g(p, k * STRIDE + 1) > 0)) continue;
      const o = at.get(idx);
      if (o === undefined) {
        at.set(idx, out.length);
        for (let j = 0; j < STRIDE; j++) out.push(g(p, k * STRIDE + j));
      } else mergeInto(out, o, p, k);
    }
  }
  return sortPacked(Float64Array.from(out));
}

/** Packed buckets ↔ bytes (little-endian float64), for BLOB columns. */
/** Whether this host stores numbers little-endian (the stored form's order). */
export const LITTLE_ENDIAN = new Uint8Array(new Float64Array([1]).buffer)[7] === 0x3f;

export function packToBuffer(p: Float64Array): Buffer {
  if (LITTLE_ENDIAN) return Buffer.from(p.buffer.slice(p.byteOffset, p.byteOffset + p.byteLength));
  const b = Buffer.alloc(p.length * 8);
  for (let i = 0; i < p.length; i++) b.writeDoubleLE(g(p, i), i * 8);
  return b;
}

/**
 * `packToBuffer` without the copy where the bytes already are little-endian: a view of `p`'s memory, for
 * rows written at once (the drivers copy bound BLOBs). Changing `p` later changes the view.
 */
export function packView(p: Float64Array): Buffer {
  return LITTLE_ENDIAN ? Buffer.from(p.buffer, p.byteOffset, p.byteLength) : packToBuffer(p);
}

export function packFromBuffer(b: Uint8Array): Float64Array {
  const n = Math.floor(b.byteLength / 8 / STRIDE) * STRIDE;
  // a copy (Uint8Array's slice, not Buffer's view): aligned whatever b's offset in its pool
  if (LITTLE_ENDIAN) return new Float64Array(Uint8Array.prototype.slice.call(b, 0, n * 8).buffer);
  const out = new Float64Array(n);
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, true);
  return out;
}

/**
 * Every tier of one field from its samples: width → packed buckets (only non-empty widths). `finest`:
 * the buckets of the smallest width when the caller has them (`bucketsOnRuns`), else they are built.
 */
export function buildTiers(
  t: ArrayLike<number>,
  v: ArrayLike<number>,
  widths: readonly number[],
  finest?: Float64Array,
): Map<number, Float64Array> {
  const out = new Map<number, Float64Array>();
  let finer: Float64Array | null = null;
  let finerW = 0;
  // ascending (a ladder's are: no copy to sort, which was most of what a file's tiers allocated)
  let sorted = true;
  for (let i = 1; i < widths.length && sorted; i++) sorted = (widths[i] as number) > (widths[i - 1] as number);
  for (const w of sorted ? widths : [...widths].sort((a, b) => a - b)) {
    // A coarser tier is merged from the finer one when the widths nest (the ladder's do): cheaper.
    const p: Float64Array =
      finer !== null && w % finerW === 0 ? coarsen(finer, finerW, w) : finer === null && finest ? finest : buildBuckets(t, v, w);
    if (p.length) out.set(w, p);
    finer = p;
    finerW = w;
  }
  return out;
}

/** Buckets of `from` width (sorted by idx) merged into buckets of `to` width (a multiple of it): one linear pass. */
export function coarsen(p: Float64Array, from: number, to: number): Float64Array {
  const n = nBuckets(p) * STRIDE;
  const out = n <= SCRATCH.length ? SCRATCH : new Float64Array(n);
  return out.slice(0, coarsenInto(p, 0, n, from, to, out, 0));
}

/**
 * `coarsen` of the buckets src[s0, s1) (whole buckets) written into out[at…] (room for as many numbers
 * as it reads; `out` may be `src` when at >= s1); returns where its buckets end.
 */
function coarsenInto(src: Float64Array, s0: number, s1: number, from: number, to: number, out: Float64Array, at: number): number {
  const f = Math.round(to / from);
  let o = at - STRIDE; // offset of the last bucket in out
  for (let s = s0; s < s1; s += STRIDE) {
    const idx = Math.floor((src[s] as number) / f);
    if (o >= at && out[o] === idx) {
      mergeAt(out, o, src, s);
      continue;
    }
    o += STRIDE;
    out[o] = idx;
    for (let j = 1; j < STRIDE; j++) out[o + j] = src[s + j] as number;
  }
  return o + STRIDE;
}

/**
 * The tiers of a file's fields built one after another into one buffer, then handed out as views of
 * one array: a worker's result is copied to the scanner's thread as one buffer, not one per field and
 * width. Built in place, a field's widths need no array each (bucketsOnRuns' and coarsen's `slice`,
 * four per field of a G3 hour file) and no copy into the one array afterwards (what file-summary's
 * packTogether did), which together cost about a fifth of summarising such a file.
 *
 * Per column: `onRuns` (or `add`, for tiers built elsewhere) appends its tiers, then `keep` makes them a
 * field's or `drop` forgets them. `finish` makes the one array and fills the kept fields' maps with
 * views of it, in the order they were kept and each field's widths ascending (the layout packTogether made).
 */
export class TierPack {
  private buf: Float64Array;
  private used = 0;
  /** The column's parts not yet kept or dropped: width, start, length, flat. */
  private pending: number[] = [];
  /** The kept fields' maps, and their parts (width, start, length, flat) in `kept` from `from[i]`. */
  private readonly maps: Array<Map<number, Float64Array>> = [];
  private readonly from: number[] = [];
  private readonly kept: number[] = [];

  constructor() {
    this.buf = PACK_BUF ?? new Float64Array(4096 * STRIDE);
    PACK_BUF = null; // another TierPack made before this one finishes gets its own
  }

  private room(n: number): void {
    if (this.used + n <= this.buf.length) return;
    const grown = new Float64Array(Math.max(2 * this.buf.length, this.used + n));
    grown.set(this.buf.subarray(0, this.used));
    this.buf = grown;
  }

  private part(w: number, at: number, end: number): void {
    if (end > at) this.pending.push(w, at, end - at);
    this.used = end;
  }

  /**
   * `buildTiers(t, v, widths, bucketsOnRuns(t, runs, v, widths[0], span))` appended, `runs` being
   * `axisRuns(t, widths[0])` and `widths` strictly ascending (a ladder's are); fills `span` as
   * `bucketsOnRuns`. The same bytes: each width as buildTiers makes it, coarsened from the one before
   * when it is a multiple of it.
   */
  onRuns(t: ArrayLike<number>, runs: Int32Array, v: ArrayLike<number>, widths: readonly number[], span: ValueSpan): void {
    for (let i = 1; i < widths.length; i++)
      if (!((widths[i] as number) > (widths[i - 1] as number))) {
        const finest = Math.min(...widths);
        this.add(buildTiers(t, v, widths, bucketsOnRuns(t, runs, v, finest, span)));
        return;
      }
    let finerAt = 0;
    let finerEnd = 0;
    let finerW = 0;
    for (let i = 0; i < widths.length; i++) {
      const w = widths[i] as number;
      const at = this.used;
      if (i === 0) {
        this.room((runs.length - 1) * STRIDE);
        this.part(w, at, bucketsOnRunsInto(t, runs, v, w, span, this.buf, at));
      } else if (w % finerW === 0) {
        this.room(finerEnd - finerAt);
        this.part(w, at, coarsenInto(this.buf, finerAt, finerEnd, finerW, w, this.buf, at));
      } else {
        const p = buildBuckets(t, v, w);
        this.room(p.length);
        this.buf.set(p, at);
        this.part(w, at, at + p.length);
      }
      finerAt = at;
      finerEnd = this.used;
      finerW = w;
    }
  }

  /** Appends tiers built elsewhere (copied), in their map's order. */
  add(byWidth: Map<number, Float64Array>): void {
    for (const [w, p] of byWidth) {
      const at = this.used;
      this.room(p.length);
      this.buf.set(p, at);
      this.part(w, at, at + p.length);
    }
  }

  /**
   * The column's tiers appended since the last keep/drop become the field of `byWidth` (filled by
   * `finish`); returns their smallest width, or null when there are none (nothing to keep).
   */
  keep(byWidth: Map<number, Float64Array>): number | null {
    const p = this.pending;
    if (p.length === 0) return null;
    let min = Infinity;
    this.maps.push(byWidth);
    this.from.push(this.kept.length);
    for (let i = 0; i < p.length; i += 3) {
      const w = p[i] as number;
      if (w < min) min = w;
      this.kept.push(w, p[i + 1] as number, p[i + 2] as number);
    }
    this.pending = [];
    return min;
  }

  /** Forgets the column's tiers appended since the last keep/drop. */
  drop(): void {
    if (this.pending.length > 0) this.used = this.pending[1] as number;
    this.pending = [];
  }

  /**
   * One array for every kept part; each kept map gets its views. The parts lie end to end in `buf`, in
   * the order kept (an empty width takes no room, and `drop` gives back the end of the buffer): one copy.
   */
  finish(): void {
    this.drop();
    const all = this.buf.slice(0, this.used);
    for (let f = 0; f < this.maps.length; f++) {
      const byWidth = this.maps[f] as Map<number, Float64Array>;
      const end = f + 1 < this.from.length ? (this.from[f + 1] as number) : this.kept.length;
      for (let i = this.from[f] as number; i < end; i += 3) {
        const at = this.kept[i + 1] as number;
        byWidth.set(this.kept[i] as number, all.subarray(at, at + (this.kept[i + 2] as number)));
      }
    }
    if (this.buf.length <= PACK_KEEP) PACK_BUF = this.buf;
  }
}

/** A TierPack's buffer, kept for the next one (the scan summarises thousands of files a thread). */
let PACK_BUF: Float64Array | null = null;
/** The most a kept buffer holds (8 MiB); a file that needed more had its own. */
const PACK_KEEP = 2 ** 20;

/** `mergeInto` for two packed arrays, by offsets. */
function mergeAt(dst: Float64Array, o: number, src: Float64Array, s: number): void {
  const count = src[s + 1] as number;
  if (!(count > 0)) return;
  dst[o + 1] = (dst[o + 1] as number) + count;
  dst[o + 4] = (dst[o + 4] as number) + (src[s + 4] as number);
  const mn = src[s + 2] as number;
  const tmn = src[s + 7] as number;
  if (mn < (dst[o + 2] as number) || (mn === dst[o + 2] && tmn < (dst[o + 7] as number))) {
    dst[o + 2] = mn;
    dst[o + 7] = tmn;
  }
  const mx = src[s + 3] as number;
  const tmx = src[s + 8] as number;
  if (mx > (dst[o + 3] as number) || (mx === dst[o + 3] && tmx > (dst[o + 8] as number))) {
    dst[o + 3] = mx;
    dst[o + 8] = tmx;
  }
  const tFirst = src[s + 5] as number;
  if (tFirst < (dst[o + 5] as number)) dst[o + 5] = tFirst;
  const tLast = src[s + 6] as number;
  if (tLast > (dst[o + 6] as number)) dst[o + 6] = tLast;
}

/**
 * Every branch of the sorted path at load, on Float64Arrays (what the archive's decoders give):
 * runs of unequal lengths both ways, an odd number of runs, a NaN value, +Infinity with -Infinity. So
 * TurboFan compiles these functions with feedback for all their operations. Otherwise a branch first
 * taken after the compile (a longer second run, say) deoptimises them, and V8 was then seen to run
 * `runPair` only through on-stack replacement, about 2x slower for the rest of the process
 * (bench/buckets.ts, some runs in three).
 */
function warmUp(): void {
  const lengths = [10, 7, 5, 12, 8];
  const t: number[] = [];
  lengths.forEach((len, k) => {
    for (let i = 0; i < len; i++) t.push(k * 10 + (i * 10) / len);
  });
  const v = t.map((x, i) => (i === 12 ? NaN : i === 25 ? Infinity : i === 26 ? -Infinity : Math.sin(x)));
  const t64 = Float64Array.from(t);
  const v64 = Float64Array.from(v);
  // V8 gives a function its feedback vector after ~8 calls: the branches must run after that (the
  // finest width on the runs path: axisRuns, bucketsOnRuns, runPair, runOne, runStatsNaN)
  for (let i = 0; i < 16; i++) buildTiers(t64, v64, [10, 20, 60]);
}
warmUp();
