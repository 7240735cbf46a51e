/**
 * MQTT → store. Connects with a fixed client id and `clean: false` (a persistent session: the broker
 * queues QoS 1 messages while the bridge is away and delivers them when it comes back), subscribes
 * to the config's topic filters with QoS 1, maps each message (mapping.ts) and queues the samples in
 * the store, which writes them in batches (every `batch_ms`, or at `batch_size` queued rows).
 *
 * Rejected messages are counted by reason, logged (rate-limited) with the reason and kept as dead
 * letters; they never stop or slow the stream. After each batch `onFlush` receives what was
 * inserted (the node pushes it live).
 *
 * Acknowledgement: the client acknowledges a message when it has been mapped and queued, not when
 * its batch is committed (mqtt.js handles incoming packets one at a time, so holding the PUBACK
 * until the commit would serialise the stream). A crash (not a clean stop, a broker restart or a
 * network cut) can therefore lose at most the last `batch_ms` of messages.
 *
 * Store failures (SQLite busy, disk full, …) never escape the MQTT 'message' handler: they are
 * logged (rate-limited) and counted in `store_errors`. A failed write rolls its transaction back and
 * leaves the queue as it was; the queue is KEPT and retried with exponential backoff (from
 * `batch_ms` up to 30 s; messages arriving meanwhile are queued without triggering a write), and
 * bounded by `store.max_queue`: beyond it the oldest queued samples are dropped and counted in
 * `dropped`. So a transient failure loses nothing and a lasting one costs bounded memory.
 */
import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { silentLogger, type Logger } from '../../common/log';
import { redactUrl } from '../../common/redact';
import type { MqttConfig } from './config';
import { mapMessage, REJECT_REASONS, type RejectReason } from './mapping';
import type { FlushResult, MqttStore } from './store';
import { RateLimitedLog } from '../../common/config-file';
import { SYS_DROPPED_TOPIC, SysDropWatch } from './broker-loss';
import { SequenceGaps } from './sequence';
import { getPath } from './mapping';

export interface IngestStats {
  received: number;
  mapped: number;
  rejected: number;
  byReason: Record<RejectReason, number>;
  /** samples stored (a message carries one per field) */
  inserted: number;
  /** samples already stored (a redelivered message) */
  duplicates: number;
  /** messages dropped by a topic's dedupe_window */
  deduped: number;
  /** failed store writes (each attempt) */
  storeErrors: number;
  /** queued samples dropped because the store kept failing and the queue reached max_queue */
  dropped: number;
  connected: boolean;
  connects: number;
  pending: number;
  /**
   * Messages the broker reports it dropped (its `$SYS/broker/publish/messages/dropped` counter rose
   * by this much while we were connected; broker-wide, see broker-loss.ts).
   */
  brokerDropped: number;
  /** MQTT protocol version of the current connection. */
  protocolVersion: number;
  /** jumps in the payloads' sequence numbers (topics with `sequence:`), and the messages missing in them */
  seqGaps: number;
  seqMissing: number;
}

export interface IngestOptions {
  logger?: Logger;
  /** Clock, UNIX seconds (tests). */
  now?: () => number;
  onFlush?: (r: FlushResult) => void;
  /** Overrides of the mqtt.js options (tests). */
  mqttOptions?: Partial<IClientOptions>;
}

export class MqttIngest {
  private readonly _stats: IngestStats;

  /** Counters (inserted/duplicates/pending read from the store). */
  get stats(): IngestStats {
    this.syncTotals();
    return this._stats;
  }
  client: MqttClient | null = null;
  private readonly log: Logger;
  private readonly rejectLog: RateLimitedLog;
  private readonly now: () => number;
  private flushTimer: NodeJS.Timeout | null = null;
  private pruneTimer: NodeJS.Timeout | null = null;
  private readonly recent = new Map<string, number>();
  private readonly anyDedupe: boolean;
  private connectWaiters: Array<() => void> = [];
  private closed = false;
  /** true between a completed subscribe (or a resumed session) and the next connection loss */
  private subscribedNow = false;
  private readonly sysDrops = new SysDropWatch();
  private readonly seqGaps = new SequenceGaps();
  private readonly anySequence: boolean;
  private readonly lossLog: RateLimitedLog;
  /** set when the broker refused MQTT 5: later connections use 3.1.1 */
  private forceV4 = false;
  /** after a failed write: no new attempt before this time (UNIX seconds), and the current backoff */
  private retryAt = 0;
  private backoff = 0;
  private readonly storeLog: RateLimitedLog;

  constructor(
    readonly config: MqttConfig,
    readonly store: MqttStore,
    private readonly opts: IngestOptions = {},
  ) {
    this.log = opts.logger ?? silentLogger;
    this.rejectLog = new RateLimitedLog((o, m) => this.log.warn(o, m));
    this.storeLog = new RateLimitedLog((o, m) => this.log.error(o, m));
    this.now = opts.now ?? (() => Date.now() / 1000);
    this.anyDedupe = config.topics.some((t) => t.dedupeWindow > 0);
    this.anySequence = config.topics.some((t) => t.sequence !== null);
    this.lossLog = new RateLimitedLog((o, m) => this.log.warn(o, m));
    if (opts.onFlush) store.onFlush = opts.onFlush;
    this._stats = {
      received: 0,
      mapped: 0,
      rejected: 0,
      duplicates: 0,
      inserted: 0,
      deduped: 0,
      storeErrors: 0,
      dropped: 0,
      connected: false,
      connects: 0,
      pending: 0,
      brokerDropped: 0,
      protocolVersion: 0,
      seqGaps: 0,
      seqMissing: 0,
      byReason: Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as Record<RejectReason, number>,
    };
  }

  /** Maps and queues one message (public: the bench and tests drive it without a broker). */
  handle(topic: string, payload: Buffer): void {
    this._stats.received++;
    const cfg = this.config;
    const arrival = this.now();
    const m = mapMessage(cfg.topics, topic, payload, arrival, cfg.store.maxPayloadBytes, cfg.store.maxFieldsPerMessage);
    if (!m.ok) {
      this.reject(topic, payload, arrival, m.reason, m.detail);
      return;
    }
    if (this.anyDedupe) {
      const w = cfg.topics[m.rule]?.dedupeWindow ?? 0;
      if (w > 0) {
        const key = `${topic}\0${payload.toString('latin1')}`;
        const seen = this.recent.get(key);
        if (seen !== undefined && arrival - seen < w) {
          this._stats.deduped++;
          return;
        }
        this.recent.set(key, arrival);
      }
    }
    if (this.anySequence) this.checkSequence(topic, payload, m.rule);
    let refused: ReturnType<MqttStore['add']>;
    try {
      refused = this.store.add(m);
    } catch (err) {
      // A new field could not be created (the store is failing): the message is lost, counted.
      this.storeFailed(err, 'store add failed');
      return;
    }
    if (refused) {
      this.reject(topic, payload, arrival, refused.reason, refused.detail);
      return;
    }
    this._stats.mapped++;
    if (arrival < this.retryAt) {
      if (this.store.pending > cfg.store.maxQueue) this.boundQueue();
    } else if (this.store.pending >= cfg.store.batchSize) this.safeFlush();
  }

  private reject(topic: string, payload: Buffer, arrival: number, reason: RejectReason, detail: string): void {
    this._stats.rejected++;
    this._stats.byReason[reason]++;
    this.rejectLog.log({ topic, reason, detail, bytes: payload.length }, 'mqtt message rejected');
    this.store.addDeadLetter(topic, reason, detail, payload, arrival);
  }

  private storeFailed(err: unknown, msg: string): void {
    this._stats.storeErrors++;
    this.storeLog.log({ err: (err as Error)?.message ?? String(err), pending: this.store.pending }, msg);
  }

  /** `flush`, but a failure is logged, counted and retried later (backoff), and the queue bounded. */
  private safeFlush(): void {
    try {
      this.flush();
    } catch (err) {
      this.storeFailed(err, 'store write failed; queue kept for a retry');
      this.backoff = Math.min(30, Math.max(this.config.store.batchMs / 1000, this.backoff * 2));
      this.retryAt = this.now() + this.backoff;
      this.boundQueue();
    }
  }

  private boundQueue(): void {
    const dropped = this.store.boundQueue(this.config.store.maxQueue);
    if (dropped) {
      this._stats.dropped += dropped;
      this.storeLog.log({ dropped, maxQueue: this.config.store.maxQueue }, 'store queue full: oldest samples dropped');
    }
  }

  /** Writes what is queued now; throws when the store fails (the timer and handler use safeFlush). */
  flush(): FlushResult {
    const r = this.store.flush();
    this.backoff = 0;
    this.retryAt = 0;
    if (this.anyDedupe && this.recent.size) {
      const maxW = Math.max(...this.config.topics.map((t) => t.dedupeWindow));
      const cutoff = this.now() - maxW;
      for (const [k, at] of this.recent) if (at < cutoff) this.recent.delete(k);
    }
    return r;
  }

  /** Starts the batch timer and, when `connect` (default), the MQTT client. */
  start(connect = true): this {
    const cfg = this.config;
    this.flushTimer = setInterval(() => {
      if (this.now() >= this.retryAt) this.safeFlush();
    }, cfg.store.batchMs);
    this.pruneTimer = setInterval(() => {
      try {
        const n = this.store.prune(this.now());
        if (n) this.log.info({ removed: n }, 'retention: old samples removed');
      } catch (err) {
        this.log.error({ err: (err as Error).message }, 'retention prune failed');
      }
    }, 60_000);
    this.pruneTimer.unref();
    this.store.prune(this.now());
    if (connect) this.connect();
    return this;
  }

  private connect(): void {
    const b = this.config.broker;
    if (!b.url) throw new Error('no broker URL: pass --broker mqtt://host:port or set broker.url');
    const v5 = b.protocolVersion === 5 && !this.forceV4;
    this._stats.protocolVersion = v5 ? 5 : 4;
    const options: IClientOptions = {
      clientId: b.clientId,
      clean: false,
      // MQTT 5: our Receive Maximum lets the broker keep a burst in flight (a stock Mosquitto
      // otherwise allows 20, queues 1000 and drops the rest); the session never expires, as a
      // 3.1.1 persistent session does not.
      ...(v5
        ? { protocolVersion: 5 as const, properties: { receiveMaximum: b.receiveMaximum, sessionExpiryInterval: 0xffffffff } }
        : { protocolVersion: 4 as const }),
      keepalive: b.keepalive,
      reconnectPeriod: b.reconnectPeriodMs,
      connectTimeout: 10_000,
      username: b.username,
      password: b.password,
      resubscribe: true,
      ...(b.ca ? { ca: readFileSync(b.ca) } : {}),
      ...(b.insecure ? { rejectUnauthorized: false } : {}),
      ...this.opts.mqttOptions,
    };
    const client = mqtt.connect(b.url, options);
    this.client = client;
    let subscribed = false;
    client.on('connect', (connack) => {
      // mqtt.js leaves Nagle on: PUBACKs would wait for the broker's delayed ACK (≈ 40 ms per
      // in-flight window), capping QoS 1 at a few hundred messages a second.
      (client.stream as { setNoDelay?: (v: boolean) => void } | undefined)?.setNoDelay?.(true);
      this._stats.connected = true;
      this._stats.connects++;
      this.log.info(
        { broker: redactUrl(b.url ?? ''), clientId: b.clientId, sessionPresent: connack.sessionPresent },
        'connected to MQTT broker',
      );
      const done = () => {
        this.subscribedNow = true;
        const w = this.connectWaiters;
        this.connectWaiters = [];
        for (const f of w) f();
      };
      this.sysDrops.reset();
      if (b.watchSys) client.subscribe(SYS_DROPPED_TOPIC, { qos: 0 }, () => undefined);
      if (!subscribed || !connack.sessionPresent) {
        const subs = Object.fromEntries(this.config.filters.map((f) => [f, { qos: b.qos }]));
        client.subscribe(subs, (err, granted) => {
          if (err) {
            this.log.error({ err: err.message }, 'subscribe failed');
            return;
          }
          subscribed = true;
          for (const g of granted ?? []) {
            if (g.qos === 128) this.log.error({ topic: g.topic }, 'broker refused the subscription (not authorised?)');
          }
          done();
        });
      } else done();
    });
    client.on('message', (topic, payload) => {
      if (topic === SYS_DROPPED_TOPIC) {
        this.onSysDropped(payload);
        return;
      }
      try {
        this.handle(topic, payload);
      } catch (err) {
        this.storeFailed(err, 'mqtt message handling failed');
      }
    });
    client.on('close', () => {
      if (this._stats.connected) this.log.warn({ broker: redactUrl(b.url ?? '') }, 'MQTT connection lost; reconnecting');
      this._stats.connected = false;
      this.subscribedNow = false;
    });
    client.on('error', (err) => {
      this.log.warn({ err: err.message, broker: redactUrl(b.url ?? '') }, 'MQTT error');
      if (v5 && !this.closed && /protocol version/i.test(err.message)) {
        this.log.warn(
          { broker: redactUrl(b.url ?? '') },
          'the broker refuses MQTT 5; reconnecting with MQTT 3.1.1 ' +
            '(no Receive Maximum: set max_inflight_messages and max_queued_messages on the broker)',
        );
        this.forceV4 = true;
        client.end(true, {}, () => {
          if (!this.closed) this.connect();
        });
      }
    });
  }

  /** Counts a jump in the payload's sequence number (topics with `sequence:`) as lost messages. */
  private checkSequence(topic: string, payload: Buffer, rule: number): void {
    const path = this.config.topics[rule]?.sequence;
    if (!path) return;
    let seq: unknown;
    try {
      seq = getPath(JSON.parse(payload.toString('utf8')) as unknown, path);
    } catch {
      return;
    }
    if (typeof seq !== 'number') return;
    const missing = this.seqGaps.observe(topic, seq);
    if (missing === 0) return;
    this._stats.seqGaps = this.seqGaps.gaps;
    this._stats.seqMissing = this.seqGaps.missing;
    this.lossLog.log({ topic, missing, before: seq, totalMissing: this.seqGaps.missing }, 'MQTT messages lost: the sequence number jumped');
  }

  /** One `$SYS/broker/publish/messages/dropped` payload (the MQTT client feeds it; tests may too). */
  onSysDropped(payload: Buffer): void {
    const n = this.sysDrops.onPayload(payload);
    if (n === 0) return;
    this._stats.brokerDropped = this.sysDrops.total;
    this.log.warn(
      { dropped: n, total: this.sysDrops.total, broker: redactUrl(this.config.broker.url ?? '') },
      'the MQTT broker reports dropped messages (its $SYS/broker/publish/messages/dropped rose; ' +
        "a subscriber's in-flight window and queue were full): data may be missing",
    );
  }

  /** Resolves when the client is connected and subscribed. */
  whenSubscribed(timeoutMs = 10000): Promise<void> {
    if (this.subscribedNow) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`MQTT: not connected and subscribed after ${timeoutMs} ms`)), timeoutMs);
      this.connectWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Publishes (commands). Rejects when the broker does not acknowledge. */
  publish(topic: string, payload: string | Buffer, qos: 0 | 1 | 2, retain: boolean): Promise<void> {
    const c = this.client;
    if (!c) return Promise.reject(new Error('not connected to an MQTT broker'));
    return new Promise((resolve, reject) => c.publish(topic, payload, { qos, retain }, (err) => (err ? reject(err) : resolve())));
  }

  statsSnapshot(): IngestStats & { dead_letters: number; pruned: number } {
    this.syncTotals();
    return {
      ...this._stats,
      byReason: { ...this._stats.byReason },
      dead_letters: this.store.totals.deadLetters,
      pruned: this.store.totals.pruned,
    };
  }

  /**
   * The loss figures a node's metadata reports (`get_metadata().status`): the broker's dropped
   * messages (broker-wide, see broker-loss.ts), the sequence gaps and missing messages, the samples
   * dropped after the store kept failing, and whether the broker connection is up.
   */
  lossStatus(): Record<string, number | boolean> {
    const s = this._stats;
    return {
      mqtt_connected: s.connected,
      broker_dropped: s.brokerDropped,
      sequence_gaps: s.seqGaps,
      sequence_missing: s.seqMissing,
      store_dropped: s.dropped,
    };
  }

  private syncTotals(): void {
    this._stats.inserted = this.store.totals.inserted;
    this._stats.duplicates = this.store.totals.duplicates;
    this._stats.pending = this.store.pending;
  }

  /** Ends the MQTT client (waiting for in-flight acks), writes what is queued. Leaves the store open. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.flushTimer) clearInterval(this.flushTimer);
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    const c = this.client;
    if (c) await new Promise<void>((resolve) => c.end(false, {}, () => resolve()));
    this.safeFlush();
  }
}
