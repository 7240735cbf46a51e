/**
 * The field catalogue: which nodes are online and what fields they serve, following the hub.
 *
 *  - subscribes to `consumer.data_node_added` / `consumer.data_node_subtracted` (a node appears or
 *    goes at once) and `hub.started` (resync), and resyncs from `consumer.get_data_node` on every
 *    new WAMP session (events missed while disconnected);
 *  - a node's fields come from its `get_fields(1, 0)` (all time), fetched when it appears and again
 *    when older than `fieldsTtlMs` at the time someone asks (search, variable, page), or at once
 *    when a query names a field the cached list lacks — never stale for longer than the TTL;
 *  - remembers the added/subtracted events it saw (annotations: "events").
 *
 * A resync that overlaps with events is repeated, so a list fetched before an event cannot undo it.
 */
import { CallError, ErrorUri, classifyCallError, listNodes, type CallErrorKind, type FieldInfo, type SisockClient } from '../../client';
import { silentLogger, type Logger } from '../../common/log';
import { HubUri, NodeUri, type TimelineInfo } from '../../contract';
import { notFound, unavailable, HttpError } from './errors';
import { globMatcher } from './request';

export interface NodeInfo {
  name: string;
  description: string;
  /** null until the first get_fields answer. */
  fields: Record<string, FieldInfo> | null;
  timelines: Record<string, TimelineInfo> | null;
  /** Date.now() of the last get_fields answer (0: never). */
  fieldsAt: number;
  /** Why the last get_fields failed, if it did. */
  fieldsError: string | null;
}

export interface HubEvent {
  /** epoch ms */
  time: number;
  kind: 'added' | 'subtracted';
  name: string;
  description: string;
}

export interface CatalogueOptions {
  logger?: Logger;
  /** Cached field lists older than this are refreshed when asked for (default 5000 ms). */
  fieldsTtlMs?: number;
  /** Timeout of get_fields / get_data_node calls (default 5000 ms). */
  callTimeoutMs?: number;
  /** Events kept for annotations (default 1000). */
  maxEvents?: number;
}

export class FieldCatalogue {
  /** node name → what we know of it */
  private readonly byName = new Map<string, NodeInfo>();
  /** node name → pending get_fields (one at a time per node) */
  private readonly fetching = new Map<string, Promise<NodeInfo | undefined>>();
  private readonly eventLog: HubEvent[] = [];
  private readonly listeners = new Set<() => void>();
  private readonly log: Logger;
  private readonly ttl: number;
  private readonly timeout: number;
  private readonly maxEvents: number;
  /** Bumped by every added/subtracted event (a resync overlapping one is redone). */
  private eventSeq = 0;
  private synced = false;
  private syncing: Promise<void> | null = null;
  /** Why the last sync failed (no hub…), null when it worked. */
  private syncError: string | null = null;
  private lastSyncAttempt = 0;
  private undo: Array<() => void | Promise<void>> = [];
  private closed = false;

  constructor(
    readonly client: SisockClient,
    opts: CatalogueOptions = {},
  ) {
    this.log = (opts.logger ?? silentLogger).child({ component: 'catalogue' });
    this.ttl = opts.fieldsTtlMs ?? 5000;
    this.timeout = opts.callTimeoutMs ?? 5000;
    this.maxEvents = opts.maxEvents ?? 1000;
  }

  /** Subscribes to the hub's topics and syncs on every session. Returns at once. */
  async start(): Promise<void> {
    const c = this.client;
    const onEvent = (kind: HubEvent['kind']) => (args: unknown[]) => {
      const a = args[0] as { name?: unknown; description?: unknown } | undefined;
      if (!a || typeof a.name !== 'string') return;
      this.applyEvent(kind, a.name, typeof a.description === 'string' ? a.description : '');
    };
    const subs = [
      await c.subscribe(c.uri(HubUri.DATA_NODE_ADDED), onEvent('added')),
      await c.subscribe(c.uri(HubUri.DATA_NODE_SUBTRACTED), onEvent('subtracted')),
      await c.subscribe(c.uri(HubUri.HUB_STARTED), () => {
        void this.sync().catch(() => undefined);
      }),
    ];
    this.undo.push(() => Promise.all(subs.map((s) => s.remove())).then(() => undefined));
    this.undo.push(
      c.onOpen(() => {
        void this.sync().catch(() => undefined);
      }),
    );
    this.undo.push(
      c.onClose(() => {
        this.synced = false;
      }),
    );
    c.start();
    if (c.isReady) void this.sync().catch(() => undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const u of this.undo.splice(0).reverse()) await u();
    this.listeners.clear();
  }

  /** Called on every change of the node list or of a node's fields. */
  onChange(cb: () => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  private changed(): void {
    for (const cb of [...this.listeners]) {
      try {
        cb();
      } catch {
        /* a listener's problem */
      }
    }
  }

  private applyEvent(kind: HubEvent['kind'], name: string, description: string): void {
    this.eventSeq++;
    this.eventLog.push({ time: Date.now(), kind, name, description });
    if (this.eventLog.length > this.maxEvents) this.eventLog.splice(0, this.eventLog.length - this.maxEvents);
    if (kind === 'added') {
      const cur = this.byName.get(name);
      if (cur) cur.description = description;
      else this.byName.set(name, { name, description, fields: null, timelines: null, fieldsAt: 0, fieldsError: null });
      // New or re-announced (maybe restarted with other fields): fetch its fields afresh.
      void this.fetchFields(name).catch(() => undefined);
    } else {
      this.byName.delete(name);
    }
    this.log.debug({ kind, node: name }, 'hub event');
    this.changed();
  }

  /** Replaces the node list with the hub's (repeated while events arrive meanwhile). */
  sync(): Promise<void> {
    if (this.syncing) return this.syncing;
    this.lastSyncAttempt = Date.now();
    this.syncing = (async () => {
      try {
        for (let attempt = 0; attempt < 5; attempt++) {
          const seq = this.eventSeq;
          const list = await listNodes(this.client);
          if (seq !== this.eventSeq) continue;
          if (!Array.isArray(list)) throw new Error('consumer.get_data_node did not answer a list');
          const names = new Set<string>();
          for (const n of list) {
            if (!n || typeof n.name !== 'string') continue;
            names.add(n.name);
            const cur = this.byName.get(n.name);
            const description = typeof n.description === 'string' ? n.description : '';
            if (cur) cur.description = description;
            else {
              this.byName.set(n.name, { name: n.name, description, fields: null, timelines: null, fieldsAt: 0, fieldsError: null });
              void this.fetchFields(n.name).catch(() => undefined);
            }
          }
          for (const name of [...this.byName.keys()]) if (!names.has(name)) this.byName.delete(name);
          break;
        }
        this.synced = true;
        this.syncError = null;
        this.changed();
      } catch (err) {
        this.synced = false;
        this.syncError =
          err instanceof CallError && err.uri === ErrorUri.NO_SUCH_PROCEDURE
            ? `no hub: ${this.client.uri(HubUri.GET_DATA_NODE)} is not registered (start \`sisock hub\`)`
            : `cannot list the data nodes: ${(err as Error).message}`;
        this.log.warn({ err: this.syncError }, 'catalogue sync failed');
        throw err;
      } finally {
        this.syncing = null;
      }
    })();
    return this.syncing;
  }

  /**
   * Resolves when the catalogue mirrors the hub; 503 when the router or the hub is not there.
   * A failed sync is retried at most once a second.
   */
  async ensureSynced(): Promise<void> {
    if (!this.client.isReady)
      throw unavailable(`sisock router unreachable (${this.client.options.url}, realm ${this.client.options.realm})`);
    if (this.synced) return;
    if (this.syncing) {
      await this.syncing.catch(() => undefined);
    } else if (!this.syncError || Date.now() - this.lastSyncAttempt > 1000) await this.sync().catch(() => undefined);
    if (!this.synced) throw unavailable(this.syncError ?? 'the node list is not available yet');
  }

  /** Health: null when all is well, else why not. */
  async problem(): Promise<string | null> {
    try {
      await this.ensureSynced();
      return null;
    } catch (err) {
      return (err as Error).message;
    }
  }

  get isSynced(): boolean {
    return this.synced;
  }

  /** Nodes in name order. */
  nodes(): NodeInfo[] {
    return [...this.byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  events(fromMs = -Infinity, toMs = Infinity): HubEvent[] {
    return this.eventLog.filter((e) => e.time >= fromMs && e.time < toMs);
  }

  /** get_fields(1, 0) for one node; one call at a time per node. */
  fetchFields(name: string): Promise<NodeInfo | undefined> {
    const pending = this.fetching.get(name);
    if (pending) return pending;
    const p = (async () => {
      try {
        const res = await this.client.call<unknown>(this.client.uri(NodeUri.getFields(name)), [1, 0], {}, { timeoutMs: this.timeout });
        const info = this.byName.get(name);
        if (!info) return undefined;
        if (!Array.isArray(res) || res.length < 2 || typeof res[0] !== 'object' || typeof res[1] !== 'object') {
          info.fieldsError = 'get_fields did not answer [field, timeline]';
          return info;
        }
        info.fields = (res[0] ?? {}) as Record<string, FieldInfo>;
        info.timelines = (res[1] ?? {}) as Record<string, TimelineInfo>;
        info.fieldsAt = Date.now();
        info.fieldsError = null;
        this.changed();
        return info;
      } catch (err) {
        const info = this.byName.get(name);
        if (info) info.fieldsError = (err as Error).message;
        this.log.debug({ node: name, err: (err as Error).message }, 'get_fields failed');
        throw err;
      } finally {
        this.fetching.delete(name);
      }
    })();
    this.fetching.set(name, p);
    return p;
  }

  /** A node with fields at most `maxAgeMs` old (default the TTL); undefined when unknown. */
  async node(name: string, maxAgeMs = this.ttl): Promise<NodeInfo | undefined> {
    await this.ensureSynced();
    const info = this.byName.get(name);
    if (!info) return undefined;
    if (!info.fields || Date.now() - info.fieldsAt > maxAgeMs) {
      try {
        await this.fetchFields(name);
      } catch (err) {
        if (!info.fields) throw nodeCallError(name, err);
      }
    }
    return this.byName.get(name);
  }

  /** Every node with fresh fields (nodes whose get_fields fails are listed without fields). */
  async all(maxAgeMs = this.ttl): Promise<NodeInfo[]> {
    await this.ensureSynced();
    await Promise.all(
      this.nodes().map((n) =>
        !n.fields || Date.now() - n.fieldsAt > maxAgeMs ? this.fetchFields(n.name).catch(() => undefined) : undefined,
      ),
    );
    return this.nodes();
  }

  /**
   * A target's node and field (either may be a glob) → the concrete (node, field, info) it names.
   * 404 for an unknown node or a field the node does not have (after one refresh of its list).
   */
  async resolve(nodePattern: string, fieldPattern: string): Promise<Array<{ node: string; field: string; info: FieldInfo }>> {
    await this.ensureSynced();
    const nm = globMatcher(nodePattern);
    const nodes = nm.literal
      ? this.byName.has(nodePattern)
        ? [nodePattern]
        : []
      : this.nodes()
          .map((n) => n.name)
          .filter((n) => nm.test(n));
    if (nodes.length === 0) {
      const known = this.nodes().map((n) => n.name);
      throw notFound(`unknown node "${nodePattern}"${known.length ? ` (online: ${known.join(', ')})` : ' (no node is online)'}`);
    }
    const fm = globMatcher(fieldPattern);
    const out: Array<{ node: string; field: string; info: FieldInfo }> = [];
    for (const name of nodes) {
      // Cached list first (fast path); a miss refreshes it once (new fields appear).
      let info = this.byName.get(name);
      const pick = () => {
        const fields = info?.fields ?? {};
        return fm.literal
          ? fields[fieldPattern]
            ? [fieldPattern]
            : []
          : Object.keys(fields)
              .filter((f) => fm.test(f))
              .sort();
      };
      let found = info?.fields ? pick() : [];
      if (found.length === 0 || !fm.literal) {
        if (found.length === 0 || Date.now() - (info?.fieldsAt ?? 0) > this.ttl) {
          try {
            info = await this.fetchFields(name);
          } catch (err) {
            if (!info?.fields) throw nodeCallError(name, err);
          }
          found = pick();
        }
      }
      for (const f of found) {
        const fieldInfo = info?.fields?.[f];
        if (fieldInfo) out.push({ node: name, field: f, info: fieldInfo });
      }
    }
    if (out.length === 0) {
      throw notFound(
        nodes.length === 1 ? `node "${nodes[0]}" has no field "${fieldPattern}"` : `no field matches "${nodePattern}::${fieldPattern}"`,
      );
    }
    return out;
  }
}

/** HTTP status of each kind of failed call (client/errors.ts has the URI → kind table). */
const HTTP_STATUS: Readonly<Record<CallErrorKind, number>> = {
  'invalid-argument': 400,
  'permission-denied': 403,
  'not-found': 404,
  unavailable: 503,
  timeout: 504,
  internal: 502,
};

/** The call failed because this client has no session (or lost it, or the callee left mid-call). */
const lostRouter = (err: unknown): boolean =>
  err instanceof CallError && (err.uri === ErrorUri.NO_SESSION || err.uri === ErrorUri.CANCELED);

/** Milliseconds as people say them: 10000 → "10 s", 1500 → "1.5 s", 200 → "200 ms". */
export function showDuration(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${Math.round(ms)} ms`;
}

/**
 * A failed call to a node → the HTTP error to answer. With `timeoutMs`, a timeout names the node
 * and the wait ("node sim did not answer in 10 s"); only a lost router session (the client's
 * `canceled`/`no_session`) is "router unreachable".
 */
export function nodeCallError(node: string, err: unknown, timeoutMs?: number): HttpError {
  if (err instanceof HttpError) return err;
  const kind = classifyCallError(err);
  const msg = err instanceof CallError ? (err.args.length ? String(err.args[0]) : err.uri) : ((err as Error)?.message ?? String(err));
  const status = HTTP_STATUS[kind];
  switch (kind) {
    case 'invalid-argument':
      return new HttpError(status, `node "${node}": ${msg}`);
    case 'not-found':
      return new HttpError(status, `node "${node}" is not online`);
    case 'timeout':
      return new HttpError(
        status,
        timeoutMs === undefined
          ? `node "${node}" did not answer in time`
          : `node ${node} did not answer in ${showDuration(timeoutMs)} (is it hung? the wait is --query-timeout)`,
      );
    case 'unavailable':
      return new HttpError(status, lostRouter(err) ? `sisock router unreachable: ${msg}` : `node "${node}" unavailable: ${msg}`);
    case 'permission-denied':
      return new HttpError(status, `node "${node}": not allowed: ${msg}`);
    case 'internal':
      return new HttpError(status, `node "${node}" failed: ${msg}`);
  }
}
