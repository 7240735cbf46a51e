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
 *
 * A sample more than `maxFuture` seconds (default 300) ahead of the clock is ignored and reported
 * as a problem (it would never expire and would push every later sample off the append path).
 * Each block's samples are sorted once and merged into the series: appending when they are newer
 * than what is cached (the usual case), otherwise one merge of the overlapping tail.
 */
import type { DataResult, DataSource, FieldInfo, FieldsResult, FieldType, Sample, TimelineInfo } from '../sdk/types';
import { downsampleMinMax } from '../sdk/downsample';

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
  /** Samples further ahead of `now` than this (seconds, default 300) are refused. */
  maxFuture?: number;
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
  readonly maxFuture: number;
  readonly naming: FeedNaming;
  readonly addressRoot: string;
  private readonly now: () => number;
  stats = { events: 0, samples: 0, rejected: 0 };

  constructor(o: FeedCacheOptions = {}) {
    this.bufferTime = o.bufferTime ?? 3600;
    this.maxSamples = o.maxSamples ?? 1_000_000;
    this.maxFuture = o.maxFuture ?? 300;
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
    const agentAddress = typeof feedData.agent_address === 'string' ? feedData.agent_address : (m?.[1] ?? `${this.addressRoot}.unknown`);
    const feedName = typeof feedData.feed_name === 'string' ? feedData.feed_name : (m?.[2] ?? 'unknown');
    const agent = agentAddress.startsWith(`${this.addressRoot}.`) ? agentAddress.slice(this.addressRoot.length + 1) : agentAddress;
    if (isObj(message) && isObj(message.data) && Array.isArray(message.timestamps))
      message = { [String(message.block_name ?? 'block')]: message };

    const now = this.now();
    const cutoff = now - this.bufferTime;
    const horizon = now + this.maxFuture;
    const live: DataResult = { data: {}, timeline: {} };
    let added = 0;
    for (const [blockKey, block] of Object.entries(message)) {
      if (!isObj(block) || !isObj(block.data) || !Array.isArray(block.timestamps)) {
        problems.push(`block ${blockKey}: not {block_name, data, timestamps}`);
        continue;
      }
      const ts = block.timestamps as number[];
      if (!ts.every((x) => typeof x === 'number' && Number.isFinite(x))) {
        problems.push(`block ${blockKey}: timestamps must be numbers`);
        continue;
      }
      // The block's rows in time order (stable: of equal times the later one wins), without those
      // outside [cutoff, now + maxFuture].
      let future = 0;
      const order: number[] = [];
      for (const [i, x] of ts.entries()) {
        if (x > horizon) future++;
        else if (x >= cutoff) order.push(i);
      }
      if (future)
        problems.push(
          `block ${blockKey}: ${future} sample${future > 1 ? 's' : ''} more than ` +
            `${this.maxFuture} s in the future ignored (e.g. t = ${ts.find((x) => x > horizon)})`,
        );
      let sorted = true;
      for (let j = 1; j < order.length; j++)
        if (ts[order[j]!]! < ts[order[j - 1]!]!) {
          sorted = false;
          break;
        }
      if (!sorted) order.sort((a, b) => ts[a]! - ts[b]! || a - b);
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
        let type: FieldType | null = null;
        for (const i of order) {
          const v = values[i];
          const ty = typeOf(v);
          if (v !== null && ty === null) {
            problems.push(`${rawKey}: value ${JSON.stringify(v)} is not a number, string or bool`);
            continue;
          }
          type ??= ty;
          // equal times in one block: the later row replaces the one before
          if (liveT.length && liveT[liveT.length - 1] === ts[i]) liveV[liveV.length - 1] = v as Sample;
          else {
            liveT.push(ts[i]!);
            liveV.push(v as Sample);
          }
          added++;
        }
        if (liveT.length) {
          if (!s) {
            s = { timeline, type: type ?? 'number', t: [], v: [], head: 0 };
            this.series.set(name, s);
          }
          mergeSorted(s, liveT, liveV);
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
      const last = s.t.length > s.head ? (s.t.at(-1) ?? null) : null;
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
      result.data[f] = ds.columns[0] ?? [];
      result.timeline[s.timeline] = { t: ds.t, finalized_until: s.t.at(-1) ?? null };
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

/**
 * Merges strictly ascending samples into the series: appended when all are newer than its last
 * sample (the usual case), else one merge of the overlapping tail (O(tail + new)); a sample at an
 * existing time replaces it.
 */
export function mergeSorted(s: { t: number[]; v: Sample[]; head: number }, t: number[], v: Sample[]): void {
  const n = s.t.length;
  if (t.length === 0) return;
  if (n === s.head || s.t[n - 1]! < t[0]!) {
    for (const [j, x] of t.entries()) {
      s.t.push(x);
      s.v.push(v[j] ?? null);
    }
    return;
  }
  const from = lowerBound(s.t, t[0]!, s.head);
  const oldT = s.t.splice(from);
  const oldV = s.v.splice(from);
  let a = 0;
  let b = 0;
  while (a < oldT.length || b < t.length) {
    if (b >= t.length || (a < oldT.length && oldT[a]! < t[b]!)) {
      s.t.push(oldT[a]!);
      s.v.push(oldV[a]!);
      a++;
    } else {
      if (a < oldT.length && oldT[a] === t[b]) a++;
      s.t.push(t[b]!);
      s.v.push(v[b]!);
      b++;
    }
  }
}
