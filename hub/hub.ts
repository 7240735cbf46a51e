/**
 * The hub: the registry of data nodes that are online (contract section 1), as a WAMP client.
 *
 * Procedures it registers (every URI is `<base>.` + the rest):
 *   data_node.add(name, description, session_id) → true | false
 *        true if the name is free, already held by that same session (re-announce: description
 *        updated, nothing published), or held by a session the router no longer has
 *        (`wamp.session.get` → no_such_session: the node is taken over). false if another live
 *        session holds it.
 *   data_node.subtract(name, session_id) → null; removes only when both match.
 *   consumer.get_data_node() → [{name, description}, …]
 *   consumer.get_data_node_metadata() → [{name, description, session_id, added, host, pid,
 *        process, sisock_version, started, n_fields, newest_sample, available}] — from each node's
 *        `consumer.<name>.get_metadata` (asked at call time, 2 s timeout; `available: false` and
 *        nulls when a node does not answer, e.g. a Python original node).
 * Topics it publishes: consumer.data_node_added / consumer.data_node_subtracted with one positional
 * argument {name, description}.
 *
 * Nodes leave when the router publishes `wamp.session.on_leave(session_id)`.
 *
 * Re-announce protocol (hub restart, router restart): once its procedures are registered on a new
 * session, the hub publishes `<base>.hub.started` with one positional argument
 * {session_id, started, sisock_version}; sisock nodes subscribe to it and call data_node.add again.
 * In addition the hub rebuilds its list from the router meta API where it can:
 * `wamp.registration.list` → every `<base>.consumer.<name>.get_data` registration and its callee
 * (`wamp.registration.list_callees`) is a node; the description comes from the node's
 * `get_metadata` ('' when it has none). On every new session it also drops entries whose session
 * the router no longer knows (their on_leave was lost with a router restart).
 */
import { SISOCK_VERSION } from '../common/defaults';
import { silentLogger, type Logger } from '../common/log';
import { ReadyGate } from '../common/ready';
import { CallError, SisockClient, HandlerError, type ClientOptions } from '../client';

export interface HubOptions {
  client: ClientOptions | SisockClient;
  logger?: Logger;
  /** Timeout of the calls the hub makes to nodes and meta procedures, ms (default 2000). */
  callTimeoutMs?: number;
}

export interface NodeRecord {
  name: string;
  description: string;
  sessionId: number;
  /** UNIX seconds when the hub accepted it. */
  added: number;
}

export interface HubHandle {
  readonly client: SisockClient;
  /** The current list, in order of arrival. */
  nodes(): NodeRecord[];
  /** Resolves once the hub's procedures are registered and hub.started is published. */
  ready(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const NO_SUCH_SESSION = 'wamp.error.no_such_session';

export async function runHub(opts: HubOptions): Promise<HubHandle> {
  const log = (opts.logger ?? silentLogger).child({ component: 'hub' });
  const ownsClient = !(opts.client instanceof SisockClient);
  const client = opts.client instanceof SisockClient ? opts.client : new SisockClient({ logger: log, ...opts.client });
  const timeoutMs = opts.callTimeoutMs ?? 2000;
  const started = Date.now() / 1000;

  /** name → record */
  const byName = new Map<string, NodeRecord>();
  /** session id → names it announced (reverse index, for on_leave) */
  const bySession = new Map<number, Set<string>>();

  const uAdded = client.uri('consumer.data_node_added');
  const uSubtracted = client.uri('consumer.data_node_subtracted');
  const nodeRe = new RegExp(`^${client.uri('consumer.').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(.+)\\.get_data$`);

  const readyGate = new ReadyGate((ms) => new Error(`hub not ready after ${ms} ms`));

  function insert(name: string, description: string, sessionId: number): void {
    const rec: NodeRecord = { name, description, sessionId, added: Date.now() / 1000 };
    byName.set(name, rec);
    let names = bySession.get(sessionId);
    if (!names) bySession.set(sessionId, (names = new Set()));
    names.add(name);
    log.info({ node: name, session: sessionId }, 'data node added');
    void client.publish(uAdded, [{ name, description }]).catch((e) => log.warn({ err: (e as Error).message }, 'publish failed'));
  }

  function remove(name: string, why: string): void {
    const rec = byName.get(name);
    if (!rec) return;
    byName.delete(name);
    const names = bySession.get(rec.sessionId);
    if (names) {
      names.delete(name);
      if (names.size === 0) bySession.delete(rec.sessionId);
    }
    log.info({ node: name, session: rec.sessionId, why }, 'data node removed');
    void client.publish(uSubtracted, [{ name: rec.name, description: rec.description }]).catch((e) => log.warn({ err: (e as Error).message }, 'publish failed'));
  }

  /** true: the router has this session; false: it does not; null: cannot tell. */
  async function sessionAlive(sessionId: number): Promise<boolean | null> {
    try {
      await client.call('wamp.session.get', [sessionId], {}, { timeoutMs });
      return true;
    } catch (err) {
      if (err instanceof CallError && err.uri === NO_SUCH_SESSION) return false;
      log.warn({ err: (err as Error).message }, 'wamp.session.get failed; treating the session as alive');
      return null;
    }
  }

  async function add(args: unknown[]): Promise<boolean> {
    const [name, description, sessionId] = args;
    if (typeof name !== 'string' || name === '') throw new HandlerError('wamp.error.invalid_argument', 'data_node.add(name, description, session_id): name must be a non-empty string');
    if (typeof description !== 'string' && description !== null && description !== undefined) throw new HandlerError('wamp.error.invalid_argument', 'data_node.add: description must be a string');
    if (typeof sessionId !== 'number' || !Number.isInteger(sessionId)) throw new HandlerError('wamp.error.invalid_argument', 'data_node.add: session_id must be an integer (the node\'s WAMP session id)');
    const desc = description ?? '';
    const cur = byName.get(name);
    if (!cur) { insert(name, desc, sessionId); return true; }
    if (cur.sessionId === sessionId) { cur.description = desc; return true; }
    const alive = await sessionAlive(cur.sessionId);
    // state may have changed while we waited: decide on the current entry
    const now = byName.get(name);
    if (now && now.sessionId === sessionId) { now.description = desc; return true; }
    if (now && now.sessionId !== cur.sessionId) return false; // someone else got it meanwhile
    if (now && alive !== false) {
      log.warn({ node: name, holder: now.sessionId, asker: sessionId }, 'data_node.add refused: name held by a live session');
      return false;
    }
    if (now) remove(name, 'taken over: old session gone');
    insert(name, desc, sessionId);
    return true;
  }

  function subtract(args: unknown[]): null {
    const [name, sessionId] = args;
    const rec = typeof name === 'string' ? byName.get(name) : undefined;
    if (rec && rec.sessionId === sessionId) remove(rec.name, 'subtract');
    return null;
  }

  function onLeave(args: unknown[]): void {
    const sid = args[0];
    if (typeof sid !== 'number') return;
    const names = bySession.get(sid);
    if (!names) return;
    for (const n of [...names]) remove(n, 'session left');
  }

  async function metadataList(): Promise<Record<string, unknown>[]> {
    const recs = [...byName.values()];
    return Promise.all(recs.map(async (r) => {
      const basic = { name: r.name, description: r.description, session_id: r.sessionId, added: r.added };
      try {
        const meta = await client.call<Record<string, unknown>>(client.uri(`consumer.${r.name}.get_metadata`), [], {}, { timeoutMs });
        return { host: null, pid: null, process: null, sisock_version: null, started: null, n_fields: null, newest_sample: null, ...meta, ...basic, available: true };
      } catch {
        return { ...basic, host: null, pid: null, process: null, sisock_version: null, started: null, n_fields: null, newest_sample: null, available: false };
      }
    }));
  }

  /** Drops entries of sessions the router no longer has; adds nodes found in the registration meta API. */
  async function rebuild(): Promise<void> {
    for (const rec of [...byName.values()]) {
      if ((await sessionAlive(rec.sessionId)) === false && byName.get(rec.name) === rec) remove(rec.name, 'session gone (checked on hub session start)');
    }
    let ids: number[];
    try {
      const list = await client.call<{ exact?: number[] }>('wamp.registration.list', [], {}, { timeoutMs });
      ids = list?.exact ?? [];
    } catch (err) {
      log.debug({ err: (err as Error).message }, 'no registration meta API; relying on hub.started');
      return;
    }
    await Promise.all(ids.map(async (id) => {
      try {
        const reg = await client.call<{ uri?: string }>('wamp.registration.get', [id], {}, { timeoutMs });
        const m = typeof reg?.uri === 'string' ? nodeRe.exec(reg.uri) : null;
        const name = m?.[1];
        if (!name) return;
        if (byName.has(name)) return;
        const callees = await client.call<number[]>('wamp.registration.list_callees', [id], {}, { timeoutMs });
        const sid = Array.isArray(callees) ? callees[0] : undefined;
        if (typeof sid !== 'number') return;
        let description = '';
        try {
          const meta = await client.call<{ description?: unknown }>(client.uri(`consumer.${name}.get_metadata`), [], {}, { timeoutMs });
          if (typeof meta?.description === 'string') description = meta.description;
        } catch { /* a node without get_metadata (e.g. the Python original) */ }
        if (!byName.has(name)) insert(name, description, sid);
      } catch (err) {
        log.debug({ id, err: (err as Error).message }, 'registration vanished during rebuild');
      }
    }));
  }

  await client.register(client.uri('data_node.add'), (args) => add(args));
  await client.register(client.uri('data_node.subtract'), (args) => subtract(args));
  await client.register(client.uri('consumer.get_data_node'), () => [...byName.values()].map((r) => ({ name: r.name, description: r.description })));
  await client.register(client.uri('consumer.get_data_node_metadata'), () => metadataList());
  await client.subscribe('wamp.session.on_leave', (args) => onLeave(args));

  client.onClose(() => readyGate.reset());
  client.onOpen(async () => {
    const sid = client.sessionId;
    await client.publish(client.uri('hub.started'), [{ session_id: sid, started, sisock_version: SISOCK_VERSION }]);
    readyGate.open();
    log.info({ session: sid }, 'hub ready');
    await rebuild();
  });
  client.start();

  return {
    client,
    nodes: () => [...byName.values()].map((r) => ({ ...r })),
    ready: (t?: number) => readyGate.wait(t),
    async close() {
      readyGate.close(new Error('hub closed'));
      if (ownsClient) await client.close();
    },
  };
}
