/**
 * Number columns recycled between decodes, for a caller that is done with a decoded file as soon as it
 * has summarised it (the scanner: file-summary.ts `summariseFile`). A scan of hour files made ~0.6 MB of
 * fresh columns per file, all garbage a moment later: with them recycled, a year of G3 hour files
 * (8760) scanned with ~1.2 s less CPU (14.0 -> 12.9 s; the collector's threads and page faults).
 *
 * Only arrays made here are taken back (`takeColumn`), each once, and only by `releaseColumns`: a
 * decode whose result is kept (the reader's) never sees its columns reused. Each thread has its own
 * pool (module state), bounded by MAX_POOLED_BYTES.
 */
import { keepFreedHeap } from '../../../common/heap';
import type { DecodedFile } from './types';

/** Bytes of columns kept for reuse at most, per thread. */
export const MAX_POOLED_BYTES = 16 * 2 ** 20;

let free = new Map<number, Float64Array[]>();
let pooledBytes = 0;
/** The arrays `takeColumn` made (only those are taken back). */
const ours = new WeakSet<Float64Array>();
/** The arrays in the pool now (none is given back twice). */
let pooled = new WeakSet<Float64Array>();

/**
 * A Float64Array of n values that the caller writes in full: not zeroed (Buffer.allocUnsafeSlow, not
 * Node's shared pool, so the array owns its ArrayBuffer), or one given back by `releaseColumns`.
 */
export function takeColumn(n: number): Float64Array {
  keepFreedHeap(); // columns are made and dropped by the dozen: keep malloc from giving their pages back each time
  const a = free.get(n)?.pop();
  if (a) {
    pooled.delete(a);
    pooledBytes -= a.byteLength;
    return a;
  }
  const made = new Float64Array(Buffer.allocUnsafeSlow(n * 8).buffer, 0, n);
  ours.add(made);
  return made;
}

function give(a: Float64Array): void {
  if (!ours.has(a) || pooled.has(a) || a.length === 0 || pooledBytes + a.byteLength > MAX_POOLED_BYTES) return;
  let list = free.get(a.length);
  if (!list) free.set(a.length, (list = []));
  list.push(a);
  pooled.add(a);
  pooledBytes += a.byteLength;
}

/** Gives back the number columns (and time axes) of `d` that `takeColumn` made: `d` must not be used after. */
export function releaseColumns(d: DecodedFile): void {
  for (const tl of d.timelines) {
    give(tl.t);
    for (const c of tl.columns) if (c.values instanceof Float64Array) give(c.values);
  }
}

/** Lets every pooled column go (an idle decode worker holds none). */
export function clearColumnPool(): void {
  free = new Map();
  pooled = new WeakSet();
  pooledBytes = 0;
}
