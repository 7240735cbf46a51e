/**
 * Time windows for fetching a large range from a node piece by piece.
 *
 * The bridge asks the node for consecutive windows [w0, w1), [w1, w2), … that tile [start, end)
 * exactly, each aiming at about `targetPoints` samples: the first (an eighth of that, so that the
 * first chunk comes soon) from the nominal rate of the requested fields (get_fields `interval`)
 * when known, else a short probe; each next window is
 * scaled by target / observed (at most ×8 or ÷8 per step; ×8 after an empty window, so that a
 * sparse or empty stretch is crossed in a few calls). With `min_stride`, windows are whole
 * multiples of it, so that the node's thinning buckets line up across windows.
 */
export interface WindowPlanOptions {
  start: number;
  end: number;
  targetPoints: number;
  /** Expected samples per second over all requested fields, or null when unknown. */
  rate: number | null;
  /** Requested fields (an upper bound on samples per row). */
  nFields: number;
  minStride: number | null;
  /** First window when the rate is unknown, seconds (default 60). */
  probeSeconds?: number;
}

export class WindowPlanner {
  private cursor: number;
  private width: number;
  private last: [number, number] | null = null;
  readonly end: number;

  constructor(private readonly o: WindowPlanOptions) {
    this.cursor = o.start;
    this.end = o.end;
    let w: number;
    // the first window is smaller (an eighth): the first chunk reaches the client sooner
    if (o.rate !== null && o.rate > 0) w = o.targetPoints / 8 / o.rate;
    else w = o.probeSeconds ?? 60;
    if (o.minStride) w = Math.max(w, (o.targetPoints / 8 / Math.max(1, o.nFields)) * o.minStride);
    this.width = this.align(w);
  }

  get done(): boolean {
    return this.cursor >= this.end;
  }

  private align(w: number): number {
    const s = this.o.minStride;
    const min = s ? s : 1e-3;
    w = Math.max(w, min);
    if (s) w = Math.ceil(w / s) * s;
    return w;
  }

  /** The next window; the last one ends exactly at `end`. */
  next(): [number, number] {
    const a = this.cursor;
    let b = a + this.width;
    if (!(b < this.end) || this.end - b < this.width * 1e-9) b = this.end;
    this.cursor = b;
    this.last = [a, b];
    return [a, b];
  }

  /** Adapts the width to the samples the last window held. */
  observe(points: number): void {
    if (!this.last) return;
    const [a, b] = this.last;
    const used = b - a;
    let factor = points > 0 ? this.o.targetPoints / points : 8;
    factor = Math.min(8, Math.max(1 / 8, factor));
    this.width = this.align(used * factor);
  }
}
