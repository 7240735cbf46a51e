/**
 * The reference the sorted fast path of data-nodes/sdk/tiers/bucket.ts is compared with, byte for byte
 * (test/unit/tiers-fast.test.ts), and the baseline of bench/buckets.ts: the general builder (the one
 * before the fast path, kept there for unsorted input) and `coarsen` as it was before it was rewritten
 * to allocate less (main 8788a26). Do not "improve" this coarsen.
 */
import { buildBucketsGeneral, mergeInto, nBuckets, STRIDE } from '../../data-nodes/sdk/tiers/bucket';

export const refBuildBuckets = buildBucketsGeneral;

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

function coarsen(p: Float64Array, from: number, to: number): Float64Array {
  const f = Math.round(to / from);
  const n = nBuckets(p);
  const out = new Float64Array(n * STRIDE);
  let m = 0; // buckets in out
  for (let k = 0; k < n; k++) {
    const idx = Math.floor((p[k * STRIDE] ?? NaN) / f);
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
