/**
 * A DataSource over one RingBuffer: every channel is a field on a single timeline. Shared by the
 * sensors and sim nodes, which only differ in what they push into the buffer; PeriodicRingSource is
 * their common base (a timer that fills the buffer, the DataSource methods delegated to it).
 */
import type { DataResult, DataSource, FieldInfo, FieldsResult, FieldType, Sample } from './types';
import { downsampleMinMax } from './downsample';
import { RingBuffer } from './ring-buffer';

export interface RingFieldSpec {
  name: string;
  description: string | null;
  units: string | null;
  type?: Extract<FieldType, 'number' | 'bool'>;
}

export class RingSource implements DataSource {
  readonly buffer: RingBuffer;
  private readonly specs: Map<string, RingFieldSpec>; // field name → its metadata

  constructor(
    readonly timeline: string,
    readonly interval: number | null,
    fields: readonly RingFieldSpec[],
    capacity: number,
  ) {
    this.specs = new Map(fields.map((f) => [f.name, f]));
    this.buffer = new RingBuffer(
      capacity,
      fields.map((f) => ({ name: f.name, type: f.type ?? 'number' })),
    );
  }

  fieldNames(): string[] {
    return [...this.specs.keys()];
  }

  getFields(start: number, end: number): FieldsResult {
    const fields: Record<string, FieldInfo> = {};
    const present: string[] = [];
    for (const spec of this.specs.values()) {
      if (!this.buffer.hasData(spec.name, start, end)) continue;
      present.push(spec.name);
      fields[spec.name] = { description: spec.description, timeline: this.timeline, type: spec.type ?? 'number', units: spec.units };
    }
    const timelines = present.length ? { [this.timeline]: { interval: this.interval, field: present } } : {};
    return [fields, timelines];
  }

  getData(fields: string[], start: number, end: number, minStride: number | null): DataResult {
    const result: DataResult = { data: {}, timeline: {} };
    const known = [...new Set(fields.filter((f) => this.specs.has(f)))];
    for (const f of fields) result.data[f] = [];
    if (known.length === 0) return result;
    const { t, columns } = this.buffer.range(start, end, known);
    if (t.length === 0) return result;
    const ds = downsampleMinMax(t, columns, minStride);
    known.forEach((f, i) => (result.data[f] = ds.columns[i] ?? []));
    result.timeline[this.timeline] = { t: ds.t, finalized_until: this.buffer.lastTime };
    return result;
  }

  /**
   * Append one sample; returns it in get_data shape (every field, one time) for a live push, or null
   * when the buffer refused it (time not newer than the last sample).
   */
  append(t: number, values: Record<string, number | boolean | null | undefined>): DataResult | null {
    if (!this.buffer.push(t, values)) return null;
    const { t: ts, columns } = this.buffer.range(t, Infinity); // t is now the newest time: exactly this row
    const data: Record<string, Sample[]> = {};
    this.buffer.channels.forEach((c, i) => (data[c.name] = columns[i] ?? [null]));
    return { data, timeline: { [this.timeline]: { t: ts, finalized_until: t } } };
  }
}

/**
 * The shape of the sensors and sim sources: a RingSource filled by a periodic `tick()` between
 * `start()` and `stop()`/`close()`, served as a DataSource, each new sample handed to `onSample`.
 */
export abstract class PeriodicRingSource implements DataSource {
  /** Set by the subclass (in its constructor, or once its fields are known). */
  protected ring!: RingSource;
  private timer: NodeJS.Timeout | null = null;
  onSample: ((sample: DataResult) => void) | undefined;

  /** Takes one sample; must not throw (a failure is the subclass's to log). */
  protected abstract tick(): void;
  /** Time between ticks, ms. */
  protected abstract get periodMs(): number;

  fieldNames(): string[] {
    return this.ring.fieldNames();
  }

  /** A tick now and then every `periodMs` until stop(). */
  start(): void {
    if (this.timer) return;
    this.tick();
    this.timer = setInterval(() => this.tick(), this.periodMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Called by the SDK when the node closes. */
  close(): void {
    this.stop();
  }

  newestSample(): number | null {
    return this.ring.buffer.lastTime;
  }

  getFields(start: number, end: number): FieldsResult {
    return this.ring.getFields(start, end);
  }

  getData(fields: string[], start: number, end: number, minStride: number | null): DataResult {
    return this.ring.getData(fields, start, end, minStride);
  }
}
