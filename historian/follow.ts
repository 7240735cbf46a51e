/**
 * Follows every data node the hub lists and writes what they hold into a Sink (store, exporter).
 *
 *   - On start, on every new session and on `hub.started`: lists the nodes (consumer.get_data_node)
 *     and attaches each; on `consumer.data_node_added` attaches that node; on `_subtracted` detaches.
 *   - Attaching a node subscribes to its live topic (`NodeUri.live`) first, then backfills: from the
 *     sink's cursor for that node (or `initialBackfill` seconds back for a node never seen) to now,
 *     from the node's get_fields/get_data, in windows of `chunkSeconds`. So a node that (re)appears,
 *     or a follower that restarts, leaves no gap (as far as the node still holds the data).
 *   - Live samples are written at once; they move the node's cursor only once its backfill has
 *     completed (a crash during a backfill re-reads the whole gap). Sinks are idempotent (the same
 *     field at the same time is stored once), so overlap between backfill and live costs nothing.
 *   - OCS feeds (`observatory.<agent>.feeds.<feed>`, wildcard subscription) when `feeds` is set:
 *     converted by the feed node's FeedCache (naming `<agent>.<feed>.<key>`) and written under the
 *     node name `feeds` (no backfill: OCS agents keep no history); a data node of that name is then not followed.
 *
 * Failures (a node that does not answer, a sink that cannot write) are logged and retried on the
 * node's next appearance or its next live sample; they never stop the other nodes. Every call and
 * subscription of the attach path is bounded (LIST_TIMEOUT_MS, CALL_TIMEOUT_MS): one that does not
 * answer is logged at warn, naming the node. A node list that fails while the hub is there is asked
 * again after LIST_RETRY_MS.
 */
import { silentLogger, type Logger } from '../common/log';
import { TimeoutError, withTimeout } from '../common/timeout';
import { classifyCallError, getData, getFields, listNodes, subscribeLive, type Handle, type SisockClient } from '../client';
import { HubUri, NodeUri, type DataResult, type FieldInfo, type NodeEntry } from '../contract';
import { FeedCache } from '../data-nodes/feed';
import type { Sink } from './sink';

/** Bound of the hub's node list, ms. */
export const LIST_TIMEOUT_MS = 30_000;
/** Bound of a node's get_fields and of the subscription to its live topic, ms. */
export const CALL_TIMEOUT_MS = 30_000;
/** Delay before a failed node list is asked again (the hub answers, but not this time), ms. */
export const LIST_RETRY_MS = 5_000;

export interface FollowOptions {
  client: SisockClient;
  sink: Sink;
  logger?: Logger;
  /** Node names not followed (e.g. the historian's own node). */
  exclude?: (name: string) => boolean;
  /** Seconds of history read from a node never seen before (default 86400; 0: live only). */
  initialBackfill?: number;
  /** Backfill window, seconds (default 21600). */
  chunkSeconds?: number;
  /** Follow OCS feeds too, written as node `feedsNode` (default off). */
  feeds?: boolean;
  feedsNode?: string;
  now?: () => number;
  /** Delay before a failed node list is asked again, ms (default LIST_RETRY_MS). */
  listRetryMs?: number;
}

interface NodeState {
  live: Handle | null;
  fields: Record<string, FieldInfo>;
  /** the node's get_metadata when it (re)appeared (undefined: none, e.g. a Python sisock node) */
  meta?: Record<string, unknown>;
  backfilled: boolean;
  backfill: Promise<void> | null;
  /** a new backfill was asked while one ran */
  again: boolean;
}

export function newestTime(r: DataResult): number | null {
  let newest: number | null = null;
  for (const tl of Object.values(r.timeline)) {
    const last = tl.t[tl.t.length - 1];
    if (last !== undefined && (newest === null || last > newest)) newest = last;
  }
  return newest;
}

export class Follower {
  private readonly nodes = new Map<string, NodeState>();
  private readonly handles: Handle[] = [];
  private readonly undo: Array<() => void> = [];
  private readonly log: Logger;
  private readonly now: () => number;
  private closed = false;
  private listRetry: NodeJS.Timeout | null = null;
  stats = { live: 0, backfilled: 0, errors: 0 };

  constructor(private readonly o: FollowOptions) {
    this.log = (o.logger ?? silentLogger).child({ component: 'follow' });
    this.now = o.now ?? (() => Date.now() / 1000);
  }

  /** Subscribes to the hub's events and attaches the listed nodes (again on every new session). */
  async start(): Promise<void> {
    const c = this.o.client;
    this.handles.push(await c.subscribe(c.uri(HubUri.DATA_NODE_ADDED), (args) => this.onAdded(args[0])));
    this.handles.push(await c.subscribe(c.uri(HubUri.DATA_NODE_SUBTRACTED), (args) => this.onSubtracted(args[0])));
    this.handles.push(await c.subscribe(c.uri(HubUri.HUB_STARTED), () => void this.refresh('hub started')));
    if (this.o.feeds) await this.followFeeds();
    this.undo.push(
      c.onOpen(() => {
        void this.refresh('session open');
      }),
    );
    this.undo.push(
      c.onClose(() => {
        for (const s of this.nodes.values()) s.backfilled = false;
      }),
    );
    c.start();
    if (c.isReady) await this.refresh('start');
  }

  /** Names of the nodes followed now. */
  followed(): string[] {
    return [...this.nodes.keys()];
  }

  /** Resolves when no backfill is running (tests, benches). */
  async idle(): Promise<void> {
    for (;;) {
      const running = [...this.nodes.values()].map((s) => s.backfill).filter((p): p is Promise<void> => p !== null);
      if (running.length === 0) return;
      await Promise.all(running);
    }
  }

  private async refresh(why: string): Promise<void> {
    if (this.closed) return;
    let list: NodeEntry[];
    const c = this.o.client;
    try {
      list = await listNodes(c, { timeoutMs: LIST_TIMEOUT_MS });
    } catch (e) {
      const err = (e as Error).message;
      if (classifyCallError(e) === 'not-found') this.log.info({ why, err }, 'no node list (no hub yet); waiting for hub.started');
      else if (!c.isReady) this.log.info({ why, err }, 'no node list (no session); listing again when one opens');
      else {
        // the hub is there but did not answer: nodes online now would not be followed until they re-announce
        const retryMs = this.o.listRetryMs ?? LIST_RETRY_MS;
        this.log.warn({ why, err }, `cannot list the nodes; trying again in ${retryMs / 1000} s`);
        if (!this.listRetry && !this.closed) {
          this.listRetry = setTimeout(() => {
            this.listRetry = null;
            void this.refresh('list retry');
          }, retryMs);
          this.listRetry.unref();
        }
      }
      return;
    }
    for (const n of list) if (n && typeof n.name === 'string') void this.attach(n.name, why);
  }

  private onAdded(arg: unknown): void {
    const name = (arg as NodeEntry | undefined)?.name;
    if (typeof name === 'string') void this.attach(name, 'added');
  }

  private onSubtracted(arg: unknown): void {
    const name = (arg as NodeEntry | undefined)?.name;
    if (typeof name !== 'string') return;
    const s = this.nodes.get(name);
    if (!s) return;
    this.nodes.delete(name);
    this.log.info({ node: name }, 'node left; keeping its history');
    void s.live?.remove();
  }

  private async attach(name: string, why: string): Promise<void> {
    if (this.closed || (this.o.exclude?.(name) ?? false) || (this.o.feeds && name === (this.o.feedsNode ?? 'feeds'))) return;
    let s = this.nodes.get(name);
    if (!s) {
      s = { live: null, fields: {}, backfilled: false, backfill: null, again: false };
      this.nodes.set(name, s);
      const state = s;
      if (!(await this.subscribeLive(name, state))) return;
      this.log.info({ node: name, why }, 'following node');
    }
    this.startBackfill(name, s);
  }

  /** Whether `state` is still the followed state of node `name` (it did not leave meanwhile, nor the follower close). */
  private current(name: string, state: NodeState): boolean {
    return !this.closed && this.nodes.get(name) === state;
  }

  /**
   * Subscribes to the node's live topic, bounded: without an answer within CALL_TIMEOUT_MS it warns
   * and goes on (the backfill runs; the subscription is kept when it comes). False when the node
   * left (or the follower closed) meanwhile: the subscription is undone.
   */
  private async subscribeLive(name: string, state: NodeState): Promise<boolean> {
    const keep = (h: Handle): boolean => {
      if (this.current(name, state)) {
        state.live = h;
        return true;
      }
      void h.remove().catch(() => {});
      return false;
    };
    const sub = subscribeLive(this.o.client, name, (r) => this.onLive(name, state, r));
    try {
      return keep(await withTimeout(sub, CALL_TIMEOUT_MS, 'the subscription to the live topic'));
    } catch (e) {
      if (!(e instanceof TimeoutError)) {
        this.log.warn({ node: name, err: (e as Error).message }, 'cannot subscribe to the live topic');
        return this.current(name, state);
      }
      this.log.warn(
        { node: name },
        `no answer to the subscription to the live topic within ${CALL_TIMEOUT_MS / 1000} s; backfilling meanwhile`,
      );
      sub.then(keep, (err: Error) => this.log.warn({ node: name, err: err.message }, 'cannot subscribe to the live topic'));
    }
    return this.current(name, state);
  }

  private onLive(name: string, s: NodeState, r: DataResult): void {
    if (!r || typeof r !== 'object' || typeof r.data !== 'object' || typeof r.timeline !== 'object' || !r.data || !r.timeline) return;
    try {
      for (const f of Object.keys(r.data))
        if (!s.fields[f]) {
          this.startBackfill(name, s);
          break;
        }
      this.o.sink.write(name, r, { fields: s.fields, cursorTo: s.backfilled ? newestTime(r) : null, meta: s.meta });
      this.stats.live++;
    } catch (e) {
      this.stats.errors++;
      this.log.error({ node: name, err: (e as Error).message }, 'cannot store live samples');
    }
  }

  private startBackfill(name: string, s: NodeState): void {
    if (s.backfill) {
      s.again = true;
      return;
    }
    s.backfilled = false;
    s.backfill = (async () => {
      do {
        s.again = false;
        try {
          await this.backfill(name, s);
          s.backfilled = true;
        } catch (e) {
          this.stats.errors++;
          this.log.warn({ node: name, err: (e as Error).message }, 'backfill failed; will try again when the node reappears');
        }
      } while (s.again && !this.closed);
    })().finally(() => {
      s.backfill = null;
    });
  }

  /** The node's get_metadata (for naming templates), or undefined when it has none or does not answer. */
  private async metadata(name: string): Promise<Record<string, unknown> | undefined> {
    try {
      const c = this.o.client;
      const m = await c.call<unknown>(c.uri(NodeUri.getMetadata(name)), [], {}, { timeoutMs: 10000 });
      return m !== null && typeof m === 'object' && !Array.isArray(m) ? (m as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  }

  private async backfill(name: string, s: NodeState): Promise<void> {
    const c = this.o.client;
    const to = this.now();
    const cursor = this.o.sink.cursor(name);
    const initial = this.o.initialBackfill ?? 86400;
    const from = cursor ?? (initial > 0 ? to - initial : to);
    // bounded: a node that never answers fails this backfill (logged), and the next live sample starts another
    const [fields] = await getFields(c, name, Math.max(1, from), to, { timeoutMs: CALL_TIMEOUT_MS });
    const all = await getFields(c, name, 1, to, { timeoutMs: CALL_TIMEOUT_MS }).then(
      ([f]) => f,
      () => fields,
    );
    s.fields = { ...all, ...fields };
    s.meta = await this.metadata(name);
    const names = Object.keys(fields);
    if (names.length === 0 || from >= to) return;
    const chunk = this.o.chunkSeconds ?? 21600;
    let n = 0;
    for (let a = from; a < to && !this.closed; a += chunk) {
      const b = Math.min(to, a + chunk);
      const r = await getData(c, name, names, a, b, null, { timeoutMs: 120000 });
      const newest = newestTime(r);
      this.o.sink.write(name, r, { fields: s.fields, cursorTo: newest, meta: s.meta });
      for (const v of Object.values(r.data)) n += v.length;
    }
    this.stats.backfilled += n;
    this.log.info({ node: name, from, to, samples: n }, 'backfilled');
  }

  private async followFeeds(): Promise<void> {
    const node = this.o.feedsNode ?? 'feeds';
    const cache = new FeedCache({ bufferTime: 60, naming: 'agent' });
    const c = this.o.client;
    this.handles.push(
      await c.subscribe(
        'observatory..feeds.',
        (args, _kw, details) => {
          const r = cache.ingest(args, details?.topic);
          cache.prune();
          if (!r.live) return;
          try {
            this.o.sink.write(node, r.live, { fields: cache.getFields(1, this.now())[0], cursorTo: newestTime(r.live) });
          } catch (e) {
            this.stats.errors++;
            this.log.error({ err: (e as Error).message }, 'cannot store OCS feed samples');
          }
        },
        { match: 'wildcard' },
      ),
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.listRetry) clearTimeout(this.listRetry);
    this.listRetry = null;
    for (const u of this.undo) u();
    for (const h of this.handles) await h.remove().catch(() => {});
    for (const s of this.nodes.values()) await s.live?.remove().catch(() => {});
    await Promise.all([...this.nodes.values()].map((s) => s.backfill));
    this.nodes.clear();
  }
}
