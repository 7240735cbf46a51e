/**
 * A bounded, columnar ring buffer of samples on one timeline: a Float64Array of times and one
 * Float64Array per channel, all of `capacity` rows. When full, a new row overwrites the oldest.
 * Missing values are NaN inside and null outside. Times must increase strictly: a row that is not
 * newer than the last one is refused (`push` returns false), which keeps the buffer sorted so a range
 * query is two binary searches. Shared by the sensors and sim nodes.
 */
import type { Sample, FieldType } from './types';

export interface ChannelSpec {
  name: string;
  /** `bool` channels are stored as 0/1 and come out as booleans. Default `number`. */
  type?: Extract<FieldType, 'number' | 'bool'>;
}

export class RingBuffer {
  readonly capacity: number;
  readonly channels: readonly ChannelSpec[];
  private readonly index = new Map<string, number>(); // channel name → column
  private readonly times: Float64Array;
  private readonly cols: Float64Array[];
  private head = 0; // physical index of the oldest row
  private count = 0;

  constructor(capacity: number, channels: readonly (ChannelSpec | string)[]) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`ring buffer capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
    this.channels = channels.map((c) => (typeof c === 'string' ? { name: c, type: 'number' as const } : { type: 'number' as const, ...c }));
    this.channels.forEach((c, i) => {
      if (this.index.has(c.name)) throw new Error(`duplicate channel ${c.name}`);
      this.index.set(c.name, i);
    });
    this.times = new Float64Array(capacity);
    this.cols = this.channels.map(() => new Float64Array(capacity));
  }

  get length(): number {
    return this.count;
  }

  has(channel: string): boolean {
    return this.index.has(channel);
  }

  /** Time of the logical row i (0 = oldest; i < length). */
  timeAt(i: number): number {
    return this.times[(this.head + i) % this.capacity] ?? NaN; // a physical index is < capacity
  }

  get firstTime(): number | null {
    return this.count ? this.timeAt(0) : null;
  }

  get lastTime(): number | null {
    return this.count ? this.timeAt(this.count - 1) : null;
  }

  /**
   * Append a row. `values` by channel name (absent, null or non-finite → missing) or by column order.
   * Returns false (and stores nothing) when `t` is not finite or not newer than the last row.
   */
  push(t: number, values: Record<string, number | boolean | null | undefined> | ArrayLike<number>): boolean {
    if (!Number.isFinite(t)) return false;
    const last = this.lastTime;
    if (last !== null && !(t > last)) return false;
    let phys: number;
    if (this.count < this.capacity) {
      phys = (this.head + this.count) % this.capacity;
      this.count++;
    } else {
      phys = this.head;
      this.head = (this.head + 1) % this.capacity;
    }
    this.times[phys] = t;
    const byOrder = isArrayLike(values);
    for (const [c, col] of this.cols.entries()) {
      const raw = byOrder ? (values as ArrayLike<number>)[c] : (values as Record<string, unknown>)[this.channels[c]?.name ?? ''];
      const v = typeof raw === 'boolean' ? (raw ? 1 : 0) : typeof raw === 'number' && Number.isFinite(raw) ? raw : NaN;
      col[phys] = v;
    }
    return true;
  }

  /** Logical index of the first row with time >= x. */
  private lowerBound(x: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.timeAt(mid) < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Rows with time in [start, end), the named channels only (unknown names give all-null columns). */
  range(start: number, end: number, channels: readonly string[] = this.channels.map((c) => c.name)): { t: number[]; columns: Sample[][] } {
    const i0 = this.lowerBound(start);
    const i1 = Math.max(i0, this.lowerBound(end));
    const t: number[] = new Array(i1 - i0);
    for (let i = i0; i < i1; i++) t[i - i0] = this.timeAt(i);
    const columns = channels.map((name) => {
      const c = this.index.get(name);
      const out: Sample[] = new Array(i1 - i0).fill(null);
      const col = c === undefined ? undefined : this.cols[c];
      if (c === undefined || col === undefined) return out;
      const bool = this.channels[c]?.type === 'bool';
      for (let i = i0; i < i1; i++) {
        const v = col[(this.head + i) % this.capacity] ?? NaN;
        out[i - i0] = Number.isNaN(v) ? null : bool ? v !== 0 : v;
      }
      return out;
    });
    return { t, columns };
  }

  /** True when the channel has at least one non-missing value in [start, end). */
  hasData(channel: string, start: number, end: number): boolean {
    const c = this.index.get(channel);
    if (c === undefined) return false;
    const i0 = this.lowerBound(start);
    const i1 = this.lowerBound(end);
    const col = this.cols[c];
    if (!col) return false;
    for (let i = i0; i < i1; i++) if (!Number.isNaN(col[(this.head + i) % this.capacity] ?? NaN)) return true;
    return false;
  }
}

function isArrayLike(v: unknown): v is ArrayLike<number> {
  return Array.isArray(v) || ArrayBuffer.isView(v);
}
