/**
 * Answering a thinned `get_data` from tiers.
 *
 * For [start, end) and a stride, `chooseWidth` picks the coarsest tier width w that fits in an output
 * bucket (2 × stride for min/max, stride for the mean); output buckets are W = w·⌈target / w⌉ wide,
 * aligned on multiples of W (the same query gives the same grid whatever its start). `cover` splits
 * [start, end) into whole tier buckets of w in the interior and, at the ragged edges, whole buckets of
 * finer tiers and finally raw samples (less than the finest width on each side). `reduceField` fetches
 * those pieces and emits, per output bucket, its min and max samples at their real times (sorted; one
 * point when they coincide), or its mean at the middle of its first and last sample time. Every time is
 * a sample's time or between two, so every timestamp is inside [start, end).
 */
import { F, nBuckets, STRIDE } from './bucket';

/** `minmax` (default, the contract's answer) or `mean` (the sisock `reduce` keyword). */
export type Reduce = 'minmax' | 'mean';

export interface RawSamples {
  t: ArrayLike<number>;
  v: ArrayLike<number>;
}

/** What a store offers for one field. */
export interface TierReader {
  /** Tier widths of this field, ascending; each divides the next. */
  readonly widths: readonly number[];
  /** Packed buckets of `width` with idxLo <= idx < idxHi, in any order, possibly one array per source. */
  buckets(width: number, idxLo: number, idxHi: number): Promise<Float64Array[]> | Float64Array[];
  /** Raw samples with start <= t < end (NaN values are skipped). */
  raw(start: number, end: number): Promise<RawSamples> | RawSamples;
}

export type Piece = { kind: 'tier'; width: number; idxLo: number; idxHi: number } | { kind: 'raw'; start: number; end: number };

/**
 * The coarsest width ≤ the output bucket (2 × stride, or stride for the mean); failing that the finest
 * width ≤ twice it (an answer with at least half the asked resolution, from tiers rather than every raw
 * sample); else null: answer from raw samples.
 */
export function chooseWidth(widths: readonly number[], stride: number, reduce: Reduce = 'minmax'): number | null {
  const target = reduce === 'mean' ? stride : 2 * stride;
  let best: number | null = null;
  for (const w of widths) if (w <= target && (best === null || w > best)) best = w;
  if (best !== null) return best;
  for (const w of widths) if (w <= 2 * target && (best === null || w < best)) best = w;
  return best;
}

/** Output bucket width for a tier width: a multiple of it. */
export function outputWidth(w: number, stride: number, reduce: Reduce = 'minmax'): number {
  const target = reduce === 'mean' ? stride : 2 * stride;
  return w * Math.max(1, Math.ceil(target / w - 1e-9));
}

/** Whole buckets of the widths ≤ `top` (descending use) in the interior, raw samples at the edges; in time order. */
export function cover(start: number, end: number, widths: readonly number[], top: number): Piece[] {
  const ws = widths.filter((w) => w <= top).sort((a, b) => b - a);
  const out: Piece[] = [];
  const rec = (lo: number, hi: number, level: number): void => {
    if (!(hi > lo)) return;
    const w = ws[level];
    if (w === undefined) {
      out.push({ kind: 'raw', start: lo, end: hi });
      return;
    }
    let a = Math.ceil(lo / w);
    let b = Math.floor(hi / w);
    if (a * w < lo) a++; // lo / w rounded (underflow, last bit): buckets must lie inside [lo, hi)
    if (b * w > hi) b--;
    if (a >= b) {
      rec(lo, hi, level + 1);
      return;
    }
    rec(lo, a * w, level + 1);
    out.push({ kind: 'tier', width: w, idxLo: a, idxHi: b });
    rec(b * w, hi, level + 1);
  };
  rec(start, end, 0);
  return out;
}

export interface Points {
  t: number[];
  v: number[];
}

/**
 * The thinned answer for one numeric field, or null when no tier is fine enough for the stride
 * (answer from raw samples then). Memory: one accumulator per non-empty output bucket.
 */
export async function reduceField(
  r: TierReader,
  start: number,
  end: number,
  stride: number,
  reduce: Reduce = 'minmax',
): Promise<Points | null> {
  const w = chooseWidth(r.widths, stride, reduce);
  if (w === null) return null;
  const W = outputWidth(w, stride, reduce);
  const acc = new Map<number, number>(); // output bucket → offset in `out`
  const out: number[] = [];
  const add = (ob: number, count: number, min: number, max: number, sum: number, tf: number, tl: number, tmn: number, tmx: number) => {
    const o = acc.get(ob);
    if (o === undefined) {
      acc.set(ob, out.length);
      out.push(ob, count, min, max, sum, tf, tl, tmn, tmx);
      return;
    }
    out[o + 1] = (out[o + 1] ?? 0) + count;
    out[o + 4] = (out[o + 4] ?? 0) + sum;
    const mn = out[o + 2] ?? min;
    if (min < mn || (min === mn && tmn < (out[o + 7] ?? tmn))) {
      out[o + 2] = min;
      out[o + 7] = tmn;
    }
    const mx = out[o + 3] ?? max;
    if (max > mx || (max === mx && tmx > (out[o + 8] ?? tmx))) {
      out[o + 3] = max;
      out[o + 8] = tmx;
    }
    if (tf < (out[o + 5] ?? tf)) out[o + 5] = tf;
    if (tl > (out[o + 6] ?? tl)) out[o + 6] = tl;
  };
  for (const p of cover(start, end, r.widths, w)) {
    if (p.kind === 'raw') {
      const s = await r.raw(p.start, p.end);
      const n = Math.min(s.t.length, s.v.length);
      for (let i = 0; i < n; i++) {
        const t = s.t[i] ?? NaN;
        const x = s.v[i] ?? NaN;
        if (x !== x || !(t >= p.start && t < p.end)) continue;
        add(Math.floor(t / W), 1, x, x, x, t, t, t, t);
      }
    } else {
      // Chunks of every source go straight into the output accumulator (it merges exactly).
      const per = Math.round(W / p.width);
      for (const chunk of await r.buckets(p.width, p.idxLo, p.idxHi)) {
        const n = nBuckets(chunk);
        for (let k = 0; k < n; k++) {
          const o = k * STRIDE;
          const idx = chunk[o] ?? NaN;
          const count = chunk[o + 1] ?? 0;
          if (!(idx >= p.idxLo && idx < p.idxHi) || !(count > 0)) continue;
          const b = (i: number) => chunk[o + i] ?? NaN;
          add(Math.floor(idx / per), count, b(F.min), b(F.max), b(F.sum), b(F.tFirst), b(F.tLast), b(F.tMin), b(F.tMax));
        }
      }
    }
  }
  return emit(out, reduce);
}

function emit(out: number[], reduce: Reduce): Points {
  const n = Math.floor(out.length / STRIDE);
  const order = Array.from({ length: n }, (_, k) => k).sort((a, b) => (out[a * STRIDE] ?? 0) - (out[b * STRIDE] ?? 0));
  const t: number[] = [];
  const v: number[] = [];
  for (const k of order) {
    const b = (i: number) => out[k * STRIDE + i] ?? NaN;
    if (!(b(F.count) > 0)) continue;
    if (reduce === 'mean') {
      t.push((b(F.tFirst) + b(F.tLast)) / 2);
      v.push(b(F.sum) / b(F.count));
      continue;
    }
    const tmn = b(F.tMin);
    const tmx = b(F.tMax);
    if (tmn === tmx) {
      t.push(tmn);
      v.push(b(F.min));
    } else if (tmn < tmx) {
      t.push(tmn, tmx);
      v.push(b(F.min), b(F.max));
    } else {
      t.push(tmx, tmn);
      v.push(b(F.max), b(F.min));
    }
  }
  return { t, v };
}

/**
 * Several fields of one timeline on one time axis: the sorted union of their times; a field has its
 * value at its own times and null elsewhere.
 */
export function joinFields(fields: Array<Points | null>): { t: number[]; columns: Array<Array<number | null>> } {
  const all = new Set<number>();
  for (const f of fields) if (f) for (const x of f.t) all.add(x);
  const t = [...all].sort((a, b) => a - b);
  if (fields.length === 1 && fields[0]) return { t: fields[0].t.slice(), columns: [fields[0].v.slice()] };
  const pos = new Map(t.map((x, i) => [x, i]));
  const columns = fields.map((f) => {
    const c = new Array<number | null>(t.length).fill(null);
    if (f)
      f.t.forEach((x, i) => {
        const at = pos.get(x);
        if (at !== undefined) c[at] = f.v[i] ?? null;
      });
    return c;
  });
  return { t, columns };
}

/** The same answer straight from raw samples (no tiers): output buckets of 2 × stride (min/max) or stride (mean). */
export function reduceSamples(
  t: ArrayLike<number>,
  v: ArrayLike<number>,
  start: number,
  end: number,
  stride: number,
  reduce: Reduce = 'minmax',
): Points {
  const W = reduce === 'mean' ? stride : 2 * stride;
  const acc = new Map<number, number>();
  const out: number[] = [];
  const n = Math.min(t.length, v.length);
  for (let i = 0; i < n; i++) {
    const ti = t[i] ?? NaN;
    const x = v[i] ?? NaN;
    if (x !== x || !(ti >= start && ti < end)) continue;
    const ob = Math.floor(ti / W);
    const o = acc.get(ob);
    if (o === undefined) {
      acc.set(ob, out.length);
      out.push(ob, 1, x, x, x, ti, ti, ti, ti);
      continue;
    }
    out[o + 1] = (out[o + 1] ?? 0) + 1;
    out[o + 4] = (out[o + 4] ?? 0) + x;
    if (x < (out[o + 2] ?? x) || (x === out[o + 2] && ti < (out[o + 7] ?? ti))) {
      out[o + 2] = x;
      out[o + 7] = ti;
    }
    if (x > (out[o + 3] ?? x) || (x === out[o + 3] && ti > (out[o + 8] ?? ti))) {
      out[o + 3] = x;
      out[o + 8] = ti;
    }
    if (ti < (out[o + 5] ?? ti)) out[o + 5] = ti;
    if (ti > (out[o + 6] ?? ti)) out[o + 6] = ti;
  }
  return emit(out, reduce);
}
