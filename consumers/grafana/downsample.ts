/**
 * Shape-keeping downsampling for the bridge: per-bucket min and max.
 *
 * The request range is cut into `floor(maxPoints / 2)` buckets of equal time width; every bucket
 * that holds samples contributes the sample with its smallest and the one with its largest value,
 * at their own timestamps and in the order they occurred (one point when they are the same
 * sample). So the result never has more than `maxPoints` points, every spike that reaches a new
 * extreme of its bucket survives, and the overall minimum and maximum are exactly the raw ones
 * (a plain stride would drop a one-sample spike with probability 1 - 1/stride).
 *
 * Values: numbers compare numerically, booleans as 0/1, `null` and non-finite numbers are
 * ignored; a bucket with only nulls yields its first sample (a gap stays a gap); a bucket of
 * strings yields its first and last sample (state changes at the bucket edges stay visible).
 *
 * Works on indices, so callers pick the same samples from any parallel column.
 */
import type { Sample } from '../../client/data';

function rank(v: Sample | undefined): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return null;
}

/**
 * Indices (ascending) of the samples to keep. `t` ascending; `start`/`end` the request range in
 * the same unit as `t` (samples outside it go to the first/last bucket). Returns every index when
 * there are no more than `maxPoints` samples.
 */
export function minMaxIndices(
  t: ArrayLike<number>,
  v: ArrayLike<Sample>,
  maxPoints: number,
  start: number = t.length ? t[0]! : 0,
  end: number = t.length ? t[t.length - 1]! : 0,
): number[] {
  const n = t.length;
  const keep: number[] = [];
  if (n <= maxPoints) {
    for (let i = 0; i < n; i++) keep.push(i);
    return keep;
  }
  if (maxPoints < 1) return keep;
  if (maxPoints === 1) {
    // One point: the one furthest from the mean is the most telling; take the max for simplicity.
    let best = 0;
    let bestV = -Infinity;
    for (let i = 0; i < n; i++) {
      const r = rank(v[i]);
      if (r !== null && r > bestV) {
        bestV = r;
        best = i;
      }
    }
    return [best];
  }
  const buckets = Math.floor(maxPoints / 2);
  let lo = start;
  let span = end - start;
  if (!(span > 0)) {
    lo = t[0]!;
    span = t[n - 1]! - lo;
  }
  const scale = span > 0 ? buckets / span : 0;

  let cur = -1;
  let first = -1;
  let last = -1;
  let minI = -1;
  let maxI = -1;
  let minV = Infinity;
  let maxV = -Infinity;
  let strings = false;

  const flush = () => {
    if (cur < 0) return;
    if (minI >= 0) {
      if (minI === maxI) keep.push(minI);
      else if (minI < maxI) keep.push(minI, maxI);
      else keep.push(maxI, minI);
    } else if (strings && last !== first) {
      keep.push(first, last);
    } else {
      keep.push(first);
    }
  };

  for (let i = 0; i < n; i++) {
    let b = Math.floor((t[i]! - lo) * scale);
    if (b < 0) b = 0;
    else if (b >= buckets) b = buckets - 1;
    if (b !== cur) {
      flush();
      cur = b;
      first = i;
      minI = maxI = -1;
      minV = Infinity;
      maxV = -Infinity;
      strings = false;
    }
    last = i;
    const x = v[i];
    const r = rank(x);
    if (r !== null) {
      if (r < minV) {
        minV = r;
        minI = i;
      }
      if (r > maxV) {
        maxV = r;
        maxI = i;
      }
    } else if (typeof x === 'string') {
      strings = true;
    }
  }
  flush();
  return keep;
}

/** `minMaxIndices` applied: the kept times and values. */
export function minMaxDownsample<T extends Sample>(
  t: ArrayLike<number>,
  v: ArrayLike<T>,
  maxPoints: number,
  start?: number,
  end?: number,
): { t: number[]; v: T[] } {
  const idx = minMaxIndices(t, v, maxPoints, start, end);
  const outT = new Array<number>(idx.length);
  const outV = new Array<T>(idx.length);
  for (let k = 0; k < idx.length; k++) {
    outT[k] = t[idx[k]!]!;
    outV[k] = v[idx[k]!]!;
  }
  return { t: outT, v: outV };
}
