/**
 * `min_stride` downsampling that keeps extremes, shared by the data nodes (weather; sensors and sim through
 * ring-source.ts; mqtt, sql, feed, archive) and the Grafana bridge.
 *
 * When the input already has successive times at least `minStride` apart it is returned unchanged.
 * Otherwise time is cut into buckets of `2 * minStride` seconds, aligned on multiples of the bucket
 * width (so the same query gives the same grid whatever its start), and each non-empty bucket yields,
 * per column, its minimum and maximum samples at their real times (one when they coincide; for strings
 * the first and last). Columns of one timeline share the output times: the sorted union of those
 * times; a column has a value at its own extreme times and `null` at the others. Every output time is
 * an input time, so an answer never leaves [start, end). Numbers compare numerically, booleans as 0/1.
 * Ties: the earliest minimum, the latest maximum (a constant column yields its first and last sample).
 */
import type { Sample } from './types';

export interface Series {
  t: number[];
  columns: Sample[][];
}

/** True when successive times are all at least `minStride` apart. */
function alreadySparse(t: ArrayLike<number>, minStride: number): boolean {
  for (let i = 1; i < t.length; i++) if (t[i]! - t[i - 1]! < minStride) return false; // 0 < i < length
  return true;
}

function rank(v: Sample): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return null;
}

/**
 * Downsample one timeline. `t` must be sorted ascending; every column has `t.length` entries.
 * `minStride` null or <= 0 means no downsampling.
 */
export function downsampleMinMax(t: ArrayLike<number>, columns: ArrayLike<Sample>[], minStride: number | null): Series {
  const n = t.length;
  if (minStride === null || !(minStride > 0) || n < 2 || alreadySparse(t, minStride)) {
    return { t: Array.from(t), columns: columns.map((c) => Array.from(c)) };
  }
  const width = 2 * minStride;
  const outT: number[] = [];
  const outCols: Sample[][] = columns.map(() => []);
  let i = 0;
  // Indexes into t below are < n = t.length.
  while (i < n) {
    const ti = t[i]!;
    const bucket = Math.floor(ti / width);
    let j = i + 1;
    while (j < n && Math.floor(t[j]! / width) === bucket) j++;
    // per column its two extreme rows; the bucket's output rows are their sorted union
    const picks = columns.map((c) => extremes(c, i, j));
    const rows = [...new Set(picks.flat().filter((r) => r >= 0))].sort((a, b) => a - b);
    for (const r of rows) {
      outT.push(t[r]!);
      columns.forEach((col, c) => outCols[c]!.push(picks[c]!.includes(r) ? (col[r] ?? null) : null));
    }
    i = j;
  }
  return { t: outT, columns: outCols };
}

/** The rows a column contributes for the bucket [i, j): its min and max (or first and last) rows, -1 for none. */
function extremes(col: ArrayLike<Sample>, i: number, j: number): [number, number] {
  let minIdx = -1;
  let maxIdx = -1;
  let firstIdx = -1;
  let lastIdx = -1;
  for (let k = i; k < j; k++) {
    const v = col[k];
    if (v === null || v === undefined) continue;
    if (firstIdx < 0) firstIdx = k;
    lastIdx = k;
    const r = rank(v);
    if (r === null) continue;
    if (minIdx < 0 || r < (rank(col[minIdx] ?? null) as number)) minIdx = k;
    // `>=` so that a constant column yields its first and last occurrence.
    if (maxIdx < 0 || r >= (rank(col[maxIdx] ?? null) as number)) maxIdx = k;
  }
  if (minIdx < 0) return [firstIdx, lastIdx]; // no comparable value: strings (first and last) or nothing
  return [minIdx, maxIdx];
}

/** Index of the first element of sorted `t` that is >= `x` (t.length if none). */
export function lowerBound(t: ArrayLike<number>, x: number, lo = 0, hi = t.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (t[mid]! < x)
      lo = mid + 1; // lo <= mid < hi <= t.length
    else hi = mid;
  }
  return lo;
}

/**
 * Streaming pre-thinning for `downsampleMinMax`: fed rows in ascending time, it keeps only the rows
 * that `downsampleMinMax(…, minStride)` can look at (per bucket: the first and last row and, per
 * column, the first and last present value and the first minimum and last maximum), plus one pair
 * of rows closer than `minStride` (so "already sparse" is decided the same way). Downsampling the
 * kept rows gives the same answer as downsampling all of them, and the same holds after merging
 * several such inputs on one time axis as long as they do not overlap in time. Memory: a few rows
 * per bucket, whatever the number of input rows.
 */
export class StrideKeeper<R> {
  private readonly width: number;
  private readonly kept = new Map<number, R>();
  private bucket = NaN;
  private cand = new Map<number, R>();
  private first = -1;
  private firstRow: R | undefined;
  private lastIdx = -1;
  private lastRow: R | undefined;
  private readonly minI: number[];
  private readonly minR: number[];
  private readonly maxI: number[];
  private readonly maxR: number[];
  private readonly fpI: number[];
  private readonly lpI: number[];
  private readonly rows = new Map<number, R>();
  private prevT = NaN;
  private prevIdx = -1;
  private prevRow: R | undefined;
  private witness = false;

  constructor(
    private readonly minStride: number,
    private readonly nCols: number,
    private readonly value: (row: R, k: number) => Sample | undefined,
  ) {
    this.width = 2 * minStride;
    this.minI = new Array(nCols).fill(-1);
    this.minR = new Array(nCols).fill(0);
    this.maxI = new Array(nCols).fill(-1);
    this.maxR = new Array(nCols).fill(0);
    this.fpI = new Array(nCols).fill(-1);
    this.lpI = new Array(nCols).fill(-1);
  }

  /** Rows kept so far (finished buckets). */
  get size(): number {
    return this.kept.size;
  }

  add(i: number, t: number, row: R): void {
    if (!this.witness && this.prevIdx >= 0 && t - this.prevT < this.minStride) {
      this.witness = true;
      this.kept.set(this.prevIdx, this.prevRow as R);
      this.kept.set(i, row);
    }
    this.prevT = t;
    this.prevIdx = i;
    this.prevRow = row;
    const b = Math.floor(t / this.width);
    if (b !== this.bucket) {
      this.close();
      this.bucket = b;
      this.first = i;
      this.firstRow = row;
    }
    this.lastIdx = i;
    this.lastRow = row;
    let needed = false;
    for (let k = 0; k < this.nCols; k++) {
      const v = this.value(row, k);
      if (v === null || v === undefined) continue;
      if (this.fpI[k]! < 0) {
        this.fpI[k] = i;
        needed = true;
      }
      this.lpI[k] = i;
      needed = true;
      const r = typeof v === 'number' ? (Number.isFinite(v) ? v : null) : typeof v === 'boolean' ? (v ? 1 : 0) : null;
      if (r === null) continue;
      if (this.minI[k]! < 0 || r < this.minR[k]!) {
        this.minI[k] = i;
        this.minR[k] = r;
      }
      if (this.maxI[k]! < 0 || r >= this.maxR[k]!) {
        this.maxI[k] = i;
        this.maxR[k] = r;
      }
    }
    if (needed) this.rows.set(i, row);
    if (this.rows.size > 8 * this.nCols + 16) this.compact();
  }

  /** Forgets candidate rows no column refers to any more. */
  private compact(): void {
    const keep = new Set<number>([...this.minI, ...this.maxI, ...this.fpI, ...this.lpI]);
    for (const i of this.rows.keys()) if (!keep.has(i)) this.rows.delete(i);
  }

  private close(): void {
    if (this.first < 0) return;
    this.kept.set(this.first, this.firstRow as R);
    this.kept.set(this.lastIdx, this.lastRow as R);
    for (const a of [this.minI, this.maxI, this.fpI, this.lpI]) {
      for (const [k, i] of a.entries()) {
        if (i >= 0) this.kept.set(i, this.rows.get(i) as R);
        a[k] = -1;
      }
    }
    this.rows.clear();
    this.first = -1;
  }

  /** The kept rows, by input index. */
  finish(): Array<[number, R]> {
    this.close();
    return [...this.kept].sort((a, b) => a[0] - b[0]);
  }
}
