/**
 * The OCS feed cache (what sisock's `data_feed` node did): OCS agents publish on
 * `observatory.<agent>.feeds.<feed>` one positional argument `[message, feed_data]` with
 * `message = {<block>: {block_name, data: {field: [..]}, timestamps: [..]}}` and `feed_data`
 * holding `agent_address` and `feed_name`. Every sample younger than `bufferTime` is kept in memory
 * and served by get_fields/get_data.
 *
 * Field names: a data key lower-cased with spaces as '_' (as data_feed did). When the cache follows
 * one agent's one feed, that is the name (timeline `<agent_address>.<key>`, as data_feed named it);
 * following several feeds of one agent it is `<feed>.<key>`; following every agent,
 * `<agent>.<feed>.<key>` (timeline `<agent_address>.<feed>.<key>`).
 */
import type { DataResult, DataSource, FieldInfo, FieldsResult, FieldType, Sample, TimelineInfo } from '../sdk/types';
import { downsampleMinMax } from '../weather/downsample';

export type FeedNaming = 'key' | 'feed' | 'agent';

interface Series {
  timeline: string;
  type: FieldType;
  t: number[];
  v: Sample[];
  /** index of the first live sample (older ones are dropped lazily) */
  head: number;
}

export interface FeedCacheOptions {
  /** Seconds of data kept (default 3600). */
  bufferTime?: number;
  /** Samples kept per field at most (default 1,000,000). */
  maxSamples?: number;
  naming?: FeedNaming;
  /** Topic root of the agents (default "observatory"). */
  addressRoot?: string;
  now?: () => number;
}

export interface IngestResult {
  /** the new samples in get_data shape (for the live push), or null when none */
  live: DataResult | null;
  samples: number;
  /** why (part of) the event was ignored */
  problems: string[];
}

function typeOf(v: unknown): FieldType | null {
  if (typeof v === 'number') return 'number';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'string') return 'string';
  return null;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export class FeedCache implements DataSource {
  private readonly series = new Map<string, Series>();
  readonly bufferTime: number;
  readonly maxSamples: number;
  readonly naming: FeedNaming;
  readonly addressRoot: string;
  private readonly now: () => number;
  stats = { events: 0, samples: 0, rejected: 0 };

  constructor(o: FeedCacheOptions = {}) {
    this.bufferTime = o.bufferTime ?? 3600;
    this.maxSamples = o.maxSamples ?? 1_000_000;
    this.naming = o.naming ?? 'key';
    this.addressRoot = o.addressRoot ?? 'observatory';
    this.now = o.now ?? (() => Date.now() / 1000);
  }

  /** One feed event: `args` and the topic it came on. */
  ingest(args: unknown[], topic?: string): IngestResult {
    this.stats.events++;
    const problems: string[] = [];
    const arg = Array.isArray(args) ? args[0] : undefined;
    if (!Array.isArray(arg) || arg.length < 2 || !isObj(arg[0]) || !isObj(arg[1])) {
      this.stats.rejected++;
      return { live: null, samples: 0, problems: ['event is not one positional argument [message, feed_data]'] };
    }
    let message = arg[0] as Record<string, unknown>;
    const feedData = arg[1] as Record<string, unknown>;
    // topic observatory.<agent>.feeds.<feed> gives the fallbacks for a feed_data without them
    const m = topic ? /^(.*)\.feeds\.([^.]+)$/.exec(topic) : null;
    const agentAddress = typeof feedData.agent_address === 'string' ? feedData.agent_address : m?.[1] ?? `${this.addressRoot}.unknown`;
    const feedName = typeof feedData.feed_name === 'string' ? feedData.feed_name : m?.[2] ?? 'unknown';
    const agent = agentAddress.startsWith(`${this.addressRoot}.`) ? agentAddress.slice(this.addressRoot.length + 1) : agentAddress;
    if (isObj(message) && isObj(message.data) && Array.isArray(message.timestamps)) message = { [String(message.block_name ?? 'block')]: message };

    const now = this.now();
    const cutoff = now - this.bufferTime;
    const live: DataResult = { data: {}, timeline: {} };
    let added = 0;
    for (const [blockKey, block] of Object.entries(message)) {
      if (!isObj(block) || !isObj(block.data) || !Array.isArray(block.timestamps)) {
        problems.push(`block ${blockKey}: not {block_name, data, timestamps}`);
        continue;
      }
      const ts = block.timestamps as unknown[];
      if (!ts.every((x) => typeof x === 'number' && Number.isFinite(x))) {
        problems.push(`block ${blockKey}: timestamps must be numbers`);
        continue;
      }
      for (const [rawKey, values] of Object.entries(block.data)) {
        if (!Array.isArray(values) || values.length !== ts.length) {
          problems.push(`block ${blockKey}: data ${rawKey} must be a list as long as timestamps (${ts.length})`);
          continue;
        }
        const key = rawKey.toLowerCase().replace(/ /g, '_');
        const name = this.naming === 'key' ? key : this.naming === 'feed' ? `${feedName}.${key}` : `${agent}.${feedName}.${key}`;
        const timeline = this.naming === 'key' ? `${agentAddress}.${key}` : `${agentAddress}.${feedName}.${key}`;
        let s = this.series.get(name);
        const liveT: number[] = [];
        const liveV: Sample[] = [];
        for (let i = 0; i < ts.length; i++) {
          const t = ts[i] as number;
          const v = values[i];
          const type = typeOf(v);
          if (v !== null && type === null) {
            problems.push(`${rawKey}: value ${JSON.stringify(v)} is not a number, string or bool`);
            continue;
          }
          if (t < cutoff) continue;
          if (!s) {
            s = { timeline, type: type ?? 'number', t: [], v: [], head: 0 };
            this.series.set(name, s);
          }
          insertSorted(s, t, v as Sample);
          liveT.push(t);
          liveV.push(v as Sample);
          added++;
        }
        if (s) this.trim(s, cutoff);
        if (liveT.length) {
          live.data[name] = liveV;
          live.timeline[timeline] = { t: liveT, finalized_until: null };
        }
      }
    }
    this.stats.samples += added;
    if (problems.length) this.stats.rejected++;
    return { live: added ? live : null, samples: added, problems };
  }

  private trim(s: Series, cutoff: number): void {
    while (s.head < s.t.length && s.t[s.head]! < cutoff) s.head++;
    if (s.t.length - s.head > this.maxSamples) s.head = s.t.length - this.maxSamples;
    if (s.head > 4096 && s.head > s.t.length / 2) {
      s.t = s.t.slice(s.head);
      s.v = s.v.slice(s.head);
      s.head = 0;
    }
  }

  /** Drops what is older than the buffer time (the node calls it periodically). */
  prune(): void {
    const cutoff = this.now() - this.bufferTime;
    for (const [name, s] of this.series) {
      this.trim(s, cutoff);
      if (s.head >= s.t.length) this.series.delete(name);
    }
  }

  fieldNames(): string[] {
    return [...this.series.keys()];
  }

  newestSample(): number | null {
    let n: number | null = null;
    for (const s of this.series.values()) {
      const last = s.t.length > s.head ? s.t[s.t.length - 1]! : null;
      if (last !== null && (n === null || last > n)) n = last;
    }
    return n;
  }

  private range(s: Series, start: number, end: number): [number, number] {
    return [lowerBound(s.t, start, s.head), lowerBound(s.t, end, s.head)];
  }

  getFields(start: number, end: number): FieldsResult {
    this.prune();
    const fields: Record<string, FieldInfo> = {};
    const timelines: Record<string, TimelineInfo> = {};
    for (const [name, s] of this.series) {
      const [a, b] = this.range(s, start, end);
      if (a >= b) continue;
      fields[name] = { description: null, timeline: s.timeline, type: s.type, units: null };
      (timelines[s.timeline] ??= { interval: null, field: [] }).field.push(name);
    }
    return [fields, timelines];
  }

  getData(fields: string[], start: number, end: number, minStride: number | null): DataResult {
    this.prune();
    const result: DataResult = { data: {}, timeline: {} };
    for (const f of fields) {
      result.data[f] = [];
      const s = this.series.get(f);
      if (!s) continue;
      const [a, b] = this.range(s, start, end);
      if (a >= b) continue;
      const ds = downsampleMinMax(s.t.slice(a, b), [s.v.slice(a, b)], minStride);
      result.data[f] = ds.columns[0]!;
      result.timeline[s.timeline] = { t: ds.t, finalized_until: s.t[s.t.length - 1]! };
    }
    return result;
  }
}

function lowerBound(a: number[], x: number, lo: number): number {
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Appends (the usual case) or inserts in time order; a sample at an existing time replaces it. */
function insertSorted(s: Series, t: number, v: Sample): void {
  const n = s.t.length;
  if (n === s.head || s.t[n - 1]! < t) {
    s.t.push(t);
    s.v.push(v);
    return;
  }
  const i = lowerBound(s.t, t, s.head);
  if (s.t[i] === t) {
    s.v[i] = v;
    return;
  }
  s.t.splice(i, 0, t);
  s.v.splice(i, 0, v);
}
