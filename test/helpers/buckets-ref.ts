/**
 * The tier bucket builder as it was before the fast sorted path (main 8788a26, data-nodes/sdk/tiers/bucket.ts):
 * the reference that test/unit/tiers-fast.test.ts compares the current one with, byte for byte, and the
 * baseline of bench/buckets.ts. Do not "improve" it.
 */
const STRIDE = 9;
const nBuckets = (p: Float64Array): number => Math.floor(p.length / STRIDE);

const g = (a: ArrayLike<number>, i: number): number => a[i] ?? NaN;

export function refBuildBuckets(t: ArrayLike<number>, v: ArrayLike<number>, width: number): Float64Array {
  const n = Math.min(t.length, v.length);
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

function bucketsAnyOrder(t: ArrayLike<number>, v: ArrayLike<number>, width: number, n: number): Float64Array {
  const out: number[] = [];
  const byIdx = new Map<number, number>();
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
    out[o + 1] = (out[o + 1] ?? 0) + 1;
    out[o + 4] = (out[o + 4] ?? 0) + x;
    const mnO = out[o + 2] ?? x;
    if (x < mnO || (x === mnO && ti < (out[o + 7] ?? ti))) {
      out[o + 2] = x;
      out[o + 7] = ti;
    }
    const mxO = out[o + 3] ?? x;
    if (x > mxO || (x === mxO && ti > (out[o + 8] ?? ti))) {
      out[o + 3] = x;
      out[o + 8] = ti;
    }
    if (ti < (out[o + 5] ?? ti)) out[o + 5] = ti;
    if (ti > (out[o + 6] ?? ti)) out[o + 6] = ti;
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

export function refBuildTiers(t: ArrayLike<number>, v: ArrayLike<number>, widths: readonly number[]): Map<number, Float64Array> {
  const out = new Map<number, Float64Array>();
  let finer: Float64Array | null = null;
  let finerW = 0;
  for (const w of [...widths].sort((a, b) => a - b)) {
    // A coarser tier is merged from the finer one when the widths nest (the ladder's do): cheaper.
    const p: Float64Array = finer !== null && w % finerW === 0 ? coarsen(finer, finerW, w) : refBuildBuckets(t, v, w);
    if (p.length) out.set(w, p);
    finer = p;
    finerW = w;
  }
  return out;
}

function mergeInto(dst: Float64Array | number[], o: number, src: Float64Array, k: number): void {
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

function coarsen(p: Float64Array, from: number, to: number): Float64Array {
  const f = Math.round(to / from);
  const n = nBuckets(p);
  const out = new Float64Array(n * STRIDE);
  let m = 0; // buckets in out
  for (let k = 0; k < n; k++) {
    const idx = Math.floor(g(p, k * STRIDE) / f);
    if (m > 0 && out[(m - 1) * STRIDE] === idx) {
      mergeInto(out, (m - 1) * STRIDE, p, k);
      continue;
    }
    out.set(p.subarray(k * STRIDE, (k + 1) * STRIDE), m * STRIDE);
    out[m * STRIDE] = idx;
    m++;
  }
  return out.slice(0, m * STRIDE);
}
