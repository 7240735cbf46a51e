/**
 * Summary tiers: multi-resolution history for any node that keeps samples, so a thinned `get_data`
 * costs what it returns, not the span it covers.
 *
 * Per numeric field, buckets at a ladder of widths (1 s, 10 s, 1 min, 10 min, 1 h, 6 h, 1 d; the rungs
 * ≥ 300 × the field's native interval, and always 1 d). A bucket keeps count, min, max, sum, first and
 * last time, and the times of its min and max. Buckets are mergeable, so sources (files, batches) are
 * summarised separately and combined at query time, exactly.
 *
 * How to use it from a node (see data-nodes/archive for a full one, mqtt/store.ts for batches):
 *
 *   import { buildFieldTiers, SqliteTierStore, reduceField, joinFields, ladderFor } from '../sdk/tiers';
 *   // 1. write: per source (a file, a batch), in the same transaction as your own rows
 *   const tiers = new SqliteTierStore(db, 'myprefix_tiers');
 *   db.transaction(() => { ...; tiers.replaceSource(fileKey, buildFieldTiers(t, { temp: values }, interval)); })();
 *   //    removed file: tiers.removeSource(fileKey); merged batches: tiers.addToSource('live', fieldTiers)
 *   // 2. read: in getData(fields, start, end, minStride, opts) when minStride > 0; `widths` = the ladder you
 *   //    built EVERY source of the field with (a width some source lacks would miss its samples)
 *   const pts = await reduceField(tiers.reader(field, widths, rawSamplesFn), start, end, minStride, opts?.reduce);
 *   //    pts === null → no tier fine enough: answer from raw samples (downsampleMinMax) as before
 *   const { t, columns } = joinFields([ptsA, ptsB]);   // fields of one timeline on one axis
 *
 * Rules: sources of one field must not hold the same timestamp twice (counts and sums would double; the
 * archive falls back to raw samples when files overlap); `rawSamplesFn(lo, hi)` returns samples with
 * lo <= t < hi. Many small sources (files): keep rollups (table.ts ROLLUP_SOURCE, see
 * archive/index-db/sql.ts `rollUp`) so a coarse query reads buckets, not one row per source.
 * Other SQL backends store the same rows (table.ts: `tierTableSql`, `chunkRows`, `chunkQuery`, `rowBuckets`)
 * and implement `TierReader` (plan.ts) in a few lines. `reduce: 'mean'` is the sisock keyword argument of
 * `get_data` (docs/contract.md); the SDK passes it as `getData(…, { reduce })`.
 */
import { buildTiers, ladderFor } from './bucket';
import type { FieldTiers } from './sqlite';

export * from './bucket';
export * from './codec';
export * from './plan';
export * from './table';
export { SqliteTierStore, type FieldTiers } from './sqlite';

/**
 * Tiers of several numeric columns sharing one time axis (`t`: any order; NaN = missing), with the
 * widths from `ladderFor(interval)` (or `widths`). Columns with no value are left out.
 */
export function buildFieldTiers(
  t: ArrayLike<number>,
  columns: Record<string, ArrayLike<number>> | Map<string, ArrayLike<number>>,
  interval: number | null,
  widths: readonly number[] = ladderFor(interval),
): FieldTiers {
  const out: FieldTiers = new Map();
  const entries = columns instanceof Map ? [...columns] : Object.entries(columns);
  for (const [name, v] of entries) {
    const tiers = buildTiers(t, v, widths);
    if (tiers.size) out.set(name, tiers);
  }
  return out;
}
