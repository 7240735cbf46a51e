/**
 * Grafana Live push (optional): every live sample the nodes publish, sent to Grafana's HTTP push API
 *
 *   POST <grafana>/api/live/push/<streamId>
 *   Authorization: Bearer <service-account token>
 *   Content-Type: text/plain
 *   <body: InfluxDB line protocol, one line per node and timestamp>
 *
 * so that dashboards show them without polling: Grafana publishes each measurement on the channel
 * `stream/<streamId>/<measurement>`; here the measurement is the node's name, the fields are its
 * fields at that timestamp, the timestamp is in nanoseconds (Grafana's default precision):
 *
 *   sim hv_ch0_voltage=1000.25,hv_ch0_on=true,mode="scan" 1700000000123456000
 *
 * Lines are batched (one request at a time, every `batchMs` or at `maxBatchLines`); the queue is
 * bounded (oldest lines dropped and counted when Grafana is slower than the nodes); a failed request
 * is logged (once per distinct reason per minute) and its lines dropped: live data are not retried.
 * Nodes are followed through the catalogue (all online nodes, or those in `nodes`).
 */
import type { DataResult } from '../../client';
import { silentLogger, type Logger } from '../../common/log';
import type { LiveRelay } from '../web/live';
import type { FieldCatalogue } from './catalogue';
import { columnOf } from './query';

export interface LivePushOptions {
  /** Grafana's base URL, e.g. http://grafana:3000 (a path prefix such as /grafana is kept). */
  url: string;
  /** A service-account token with the Editor role (never logged). */
  token: string;
  /** The stream id in /api/live/push/<streamId> (default `sisock`). */
  streamId?: string;
  /** Only these nodes (default: every online node). */
  nodes?: string[];
  /** Longest wait before a batch is sent, ms (default 500). */
  batchMs?: number;
  /** Most lines in one request (default 5000). */
  maxBatchLines?: number;
  /** Most lines waiting; beyond, the oldest are dropped (default 100,000). */
  maxQueueLines?: number;
  /** Timeout of one request, ms (default 10000). */
  requestTimeoutMs?: number;
  logger?: Logger;
}

export interface LivePushStats {
  sent: number;
  dropped: number;
  failedRequests: number;
  requests: number;
}

/** Line protocol: measurement names escape commas and spaces. */
export function escapeMeasurement(s: string): string {
  return s.replace(/[\\, ]/g, (c) => `\\${c}`).replace(/\n/g, '\\n');
}

/** Line protocol: tag and field keys escape commas, equals signs and spaces. */
export function escapeKey(s: string): string {
  return s.replace(/[\\,= ]/g, (c) => `\\${c}`).replace(/\n/g, '\\n');
}

/** A field value: floats as numbers, bools as true/false, strings quoted; null/NaN → undefined (left out). */
export function fieldValue(v: unknown): string | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : undefined;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'string') return `"${v.replace(/[\\"]/g, (c) => `\\${c}`).replace(/\n/g, '\\n')}"`;
  return undefined;
}

/** UNIX seconds → integer nanoseconds as text (µs resolution, exact beyond 2^53). */
export function toNs(t: number): string {
  const us = Math.round(t * 1e6);
  return us === 0 ? '0' : `${us}000`;
}

/**
 * One live DataResult of `node` → line protocol, one line per timestamp with every field sampled
 * then, ascending in time. `timelineOf` names a field's timeline (else matched by length).
 */
export function toLines(node: string, result: DataResult, timelineOf: (field: string) => string | undefined): string[] {
  const byTime = new Map<number, string[]>();
  for (const field of Object.keys(result.data ?? {})) {
    const { t, v } = columnOf(result, field, timelineOf(field));
    const key = escapeKey(field);
    for (let i = 0; i < t.length; i++) {
      const ti = t[i];
      const value = fieldValue(v[i]);
      if (ti === undefined || value === undefined || !Number.isFinite(ti)) continue;
      let parts = byTime.get(ti);
      if (!parts) byTime.set(ti, (parts = []));
      parts.push(`${key}=${value}`);
    }
  }
  const m = escapeMeasurement(node);
  return [...byTime.entries()].sort(([a], [b]) => a - b).map(([t, parts]) => `${m} ${parts.join(',')} ${toNs(t)}`);
}

export class GrafanaLivePusher {
  private readonly log: Logger;
  private readonly endpoint: string;
  private readonly queue: string[] = [];
  private readonly watching = new Map<string, Promise<() => Promise<void>>>();
  private readonly lastWarn = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private inflight: Promise<void> | null = null;
  private undoCatalogue: (() => void) | null = null;
  private closed = false;
  readonly stats: LivePushStats = { sent: 0, dropped: 0, failedRequests: 0, requests: 0 };

  constructor(
    private readonly opts: LivePushOptions,
    private readonly catalogue: FieldCatalogue,
    private readonly relay: LiveRelay,
  ) {
    this.log = (opts.logger ?? silentLogger).child({ component: 'grafana-live' });
    const stream = opts.streamId ?? 'sisock';
    if (!/^[A-Za-z0-9_\-.]+$/.test(stream)) throw new Error(`grafana live stream id "${stream}": use letters, digits, _ - .`);
    const u = new URL(opts.url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`grafana live URL ${u.protocol}//…: use http:// or https://`);
    this.endpoint = `${u.origin}${u.pathname.replace(/\/+$/, '')}/api/live/push/${stream}`;
  }

  /** Follows the catalogue: watches every (wanted) online node, stops watching nodes that go. */
  start(): void {
    const sync = () => {
      if (this.closed) return;
      const online = new Set(
        this.catalogue
          .nodes()
          .map((n) => n.name)
          .filter((n) => !this.opts.nodes || this.opts.nodes.includes(n)),
      );
      for (const name of online) if (!this.watching.has(name)) this.watch(name);
      for (const [name, undo] of [...this.watching]) {
        if (!online.has(name)) {
          this.watching.delete(name);
          void undo.then((u) => u()).catch(() => undefined);
        }
      }
    };
    this.undoCatalogue = this.catalogue.onChange(sync);
    sync();
    this.log.info({ url: this.endpoint }, 'pushing live samples to Grafana Live');
  }

  private watch(name: string): void {
    const timelineOf = (field: string) => this.catalogue.nodes().find((n) => n.name === name)?.fields?.[field]?.timeline;
    const p = this.relay.watch(name, (r) => this.enqueue(toLines(name, r, timelineOf)));
    this.watching.set(name, p);
    p.catch((err: Error) => {
      if (this.watching.get(name) === p) this.watching.delete(name);
      this.warn(`cannot subscribe to ${name}'s live data: ${err.message}`);
    });
  }

  /** Queues lines (bounded) and schedules a send. */
  enqueue(lines: string[]): void {
    if (this.closed || lines.length === 0) return;
    this.queue.push(...lines);
    const max = this.opts.maxQueueLines ?? 100_000;
    if (this.queue.length > max) {
      const n = this.queue.length - max;
      this.queue.splice(0, n);
      this.stats.dropped += n;
      this.warn(`Grafana is slower than the nodes: dropped ${this.stats.dropped} lines so far`);
    }
    if (this.queue.length >= (this.opts.maxBatchLines ?? 5000)) this.kick();
    else if (!this.timer) this.timer = setTimeout(() => this.kick(), this.opts.batchMs ?? 500);
  }

  private kick(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.inflight || this.queue.length === 0) return;
    this.inflight = this.send().finally(() => {
      this.inflight = null;
      if (this.queue.length && !this.closed) this.kick();
    });
  }

  private async send(): Promise<void> {
    const batch = this.queue.splice(0, this.opts.maxBatchLines ?? 5000);
    this.stats.requests++;
    try {
      const res = await fetch(this.endpoint, {
        method: 'POST',
        headers: { Authorization: `Bearer ${this.opts.token}`, 'Content-Type': 'text/plain; charset=utf-8' },
        body: `${batch.join('\n')}\n`,
        signal: AbortSignal.timeout(this.opts.requestTimeoutMs ?? 10_000),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (!res.ok)
        throw new Error(
          `HTTP ${res.status}${res.status === 401 || res.status === 403 ? ' (check the service-account token and its role)' : ''}`,
        );
      this.stats.sent += batch.length;
    } catch (err) {
      this.stats.failedRequests++;
      this.stats.dropped += batch.length;
      this.warn(`push to ${this.endpoint} failed: ${(err as Error).message}`);
    }
  }

  private warn(msg: string): void {
    const now = Date.now();
    if (now - (this.lastWarn.get(msg) ?? 0) < 60_000) return;
    this.lastWarn.set(msg, now);
    this.log.warn(msg);
  }

  /** Sends what is queued, then stops. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.undoCatalogue?.();
    for (const undo of this.watching.values()) await undo.then((u) => u()).catch(() => undefined);
    this.watching.clear();
    this.kick();
    while (this.inflight) await this.inflight;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
