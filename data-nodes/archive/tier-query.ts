/**
 * The archive's thinned answers from summary tiers (sdk/tiers): for one timeline's fields, each field's
 * stored buckets (every file's, merged) in the interior of [start, end) and raw samples from the one or
 * two files at each edge. Used when every file of every asked field in the range has tiers and no two of
 * those files overlap in time (then "the later file wins" needs the raw samples); otherwise the caller
 * answers from raw samples as before.
 */
import { joinFields, LADDER, reduceField, type Points, type RawSamples, type Reduce } from '../sdk/tiers';
import { lowerBound } from '../sdk/downsample';
import type { FileHit, IndexDb } from './index-db/types';

export interface TierQuery {
  db: IndexDb;
  /** The timeline's asked fields. */
  names: string[];
  /** Index hits of those fields in [start, end). */
  hits: FileHit[];
  start: number;
  end: number;
  stride: number;
  reduce: Reduce;
  /** The numeric values of `field` in a file, with its times (null when unreadable or not numeric). */
  column(hit: FileHit, field: string): Promise<{ t: Float64Array; v: Float64Array } | null>;
}

/** Widths usable for a field's files: the ladder from the coarsest of their finest tiers; null when a file has none or files overlap. */
function usableWidths(hits: FileHit[]): number[] | null {
  let finest = 0;
  const sorted = [...hits].sort((a, b) => a.tFirst - b.tFirst);
  let lastEnd = -Infinity;
  for (const h of sorted) {
    if (h.tierMin === null) return null;
    if (h.tFirst <= lastEnd) return null;
    lastEnd = Math.max(lastEnd, h.tLast);
    finest = Math.max(finest, h.tierMin);
  }
  return LADDER.filter((w) => w >= finest);
}

/** The timeline's answer from tiers, or null when it must come from raw samples. */
export async function answerFromTiers(q: TierQuery): Promise<{ t: number[]; columns: Array<Array<number | null>> } | null> {
  const per: Array<Points | null> = [];
  for (const field of q.names) {
    const hits = q.hits.filter((h) => h.field === field);
    if (hits.length === 0) { per.push(null); continue; }
    const widths = usableWidths(hits);
    if (widths === null) return null;
    const raw = async (lo: number, hi: number): Promise<RawSamples> => {
      const t: number[] = [];
      const v: number[] = [];
      for (const h of hits.filter((x) => x.tLast >= lo && x.tFirst < hi).sort((a, b) => a.tFirst - b.tFirst)) {
        const c = await q.column(h, field);
        if (c === null) continue;
        const a = lowerBound(c.t, lo);
        const b = lowerBound(c.t, hi, a);
        for (let i = a; i < b; i++) { t.push(c.t[i] ?? NaN); v.push(c.v[i] ?? NaN); }
      }
      return { t, v };
    };
    const pts = await reduceField({ widths, buckets: (w, lo, hi) => q.db.tierBuckets(field, w, lo, hi), raw }, q.start, q.end, q.stride, q.reduce);
    if (pts === null) return null;
    per.push(pts);
  }
  return joinFields(per);
}
