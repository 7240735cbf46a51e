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
  start: number;
  end: number;
  stride: number;
  reduce: Reduce;
  /** The numeric values of `field` in a file, with its times (null when unreadable or not numeric). */
  column(hit: FileHit, field: string): Promise<{ t: Float64Array; v: Float64Array } | null>;
}

/** The timeline's answer from tiers, or null when it must come from raw samples. */
export async function answerFromTiers(q: TierQuery): Promise<{ t: number[]; columns: Array<Array<number | null>> } | null> {
  const plans = await Promise.all(q.names.map((f) => q.db.tierPlan(f, q.start, q.end)));
  // every file with tiers, no two overlapping (else "the later file wins" needs raw samples)
  if (plans.some((p) => p.files > 0 && (p.tiered < p.files || p.overlaps || p.tierMin === null))) return null;
  const per: Array<Points | null> = [];
  for (const [i, field] of q.names.entries()) {
    const plan = plans[i];
    if (!plan || plan.files === 0 || plan.tierMin === null) {
      per.push(null);
      continue;
    }
    const finest = plan.tierMin;
    const widths = LADDER.filter((w) => w >= finest);
    const raw = async (lo: number, hi: number): Promise<RawSamples> => {
      const t: number[] = [];
      const v: number[] = [];
      const hits = (await q.db.filesFor([field], lo, hi)).sort((a, b) => a.tFirst - b.tFirst);
      for (const h of hits) {
        const c = await q.column(h, field);
        if (c === null) continue;
        const a = lowerBound(c.t, lo);
        const b = lowerBound(c.t, hi, a);
        for (let k = a; k < b; k++) {
          t.push(c.t[k] ?? NaN);
          v.push(c.v[k] ?? NaN);
        }
      }
      return { t, v };
    };
    const reader = { widths, buckets: (w: number, lo: number, hi: number) => q.db.tierBuckets(field, w, lo, hi), raw };
    const pts = await reduceField(reader, q.start, q.end, q.stride, q.reduce);
    if (pts === null) return null;
    per.push(pts);
  }
  return joinFields(per);
}
