import type { DataResult } from './types';

/**
 * Concatenates the pieces of a progressive `get_data` answer, per field and per timeline, in order;
 * `finalized_until` comes from the last piece that names the timeline.
 */
export function mergeDataResults(pieces: readonly DataResult[]): DataResult {
  if (pieces.length === 1 && pieces[0]) return pieces[0];
  const out: DataResult = { data: {}, timeline: {} };
  for (const p of pieces) {
    if (!p || typeof p !== 'object') continue;
    for (const [f, v] of Object.entries(p.data ?? {})) {
      const arr = (out.data[f] ??= []);
      for (const x of v) arr.push(x);
    }
    for (const [tl, v] of Object.entries(p.timeline ?? {})) {
      const cur = (out.timeline[tl] ??= { t: [], finalized_until: v.finalized_until });
      for (const x of v.t) cur.t.push(x);
      cur.finalized_until = v.finalized_until;
    }
  }
  return out;
}
