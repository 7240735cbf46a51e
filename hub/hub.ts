/**
 * The hub: the registry of data nodes that are online (contract section 1), as a WAMP client.
 * The registry itself (names ↔ sessions ↔ descriptions, bounds) is hub/registry.ts; this module
 * wires it to the router.
 *
 * Procedures it registers (every URI is `<base>.` + the rest; HubUri in contract/):
 *   data_node.add(name, description, session_id) → true | false
 *        true if the name is free, already held by that same session (re-announce: description
 *        updated, nothing published), or held by a session the router no longer has
 *        (`wamp.session.get` → no_such_session: the node is taken over). false if another live
 *        session holds it. Refused with wamp.error.not_authorized when session_id is not the
 *        caller's (the hub registers with `disclose_caller`, and the production roles disclose
 *        callers of data_node.*), or when `consumer.<name>.get_data` is registered by another
 *        session; with wamp.error.invalid_argument for a bad name (1..64 of [A-Za-z0-9_-]) or a
 *        description over 4 KiB; with sisock.error.limit_exceeded past 32 names per session or
 *        1 MiB of names and descriptions in all.
 *   data_node.subtract(name, session_id) → null; removes only when both match; not_authorized
 *        when session_id is not the caller's.
 *   consumer.get_data_node() → [{name, description}, …]
 *   consumer.get_data_node_metadata() → [{name, description, added, host, pid, process,
 *        sisock_version, started, n_fields, newest_sample, available}] — from each node's
 *        `consumer.<name>.get_metadata` (asked at call time, 2 s timeout; `available: false` and
 *        nulls when a node does not answer, e.g. a Python original node). No session ids.
 * Topics it publishes: consumer.data_node_added / consumer.data_node_subtracted with one positional
 * argument {name, description}.
 *
 * Nodes leave when the router publishes `wamp.session.on_leave(session_id)`; in addition every
 * `sweepIntervalMs` the hub drops entries whose session the router no longer knows.
 *
 * Re-announce protocol (hub restart, router restart): once its procedures are registered on a new
 * session, the hub publishes `<base>.hub.started` with one positional argument
 * {session_id, started, sisock_version}; sisock nodes subscribe to it and call data_node.add again.
 * In addition the hub rebuilds its list from the router meta API where it can: every
 * `<base>.consumer.<name>.get_data` registration and its callee is a node; the description comes
 * from the node's `get_metadata` ('' when it has none). On every new session it also drops entries
 * whose session the router no longer knows (their on_leave was lost with a router restart).
 */
import { SISOCK_VERSION } from '../common/defaults';
import { silentLogger, type Logger } from '../common/log';
import { ReadyGate } from '../common/ready';
import { RateLimitedLog } from '../common/config-file';
import { ErrorUri, SisockClient, HandlerError, MetaUri, type ClientOptions, type InvocationDetails } from '../client';
import { CONSUMER_PREFIX, HUB_CALL_TIMEOUT_MS, HubUri, NodeUri, type NodeMetadataEntry } from '../contract';
import { NodeRegistry, type NodeRecord, type RegistryLimits } from './registry';
import { RouterQueries } from './router-queries';
import { metadataEntry } from './metadata';

export type { NodeRecord } from './registry';

export interface HubOptions {
  client: ClientOptions | SisockClient;
  logger?: Logger;
  /** Timeout of the calls the hub makes to nodes and meta procedures, ms (default HUB_CALL_TIMEOUT_MS). */
  callTimeoutMs?: number;
  /** Bounds of the registry (defaults: DEFAULT_REGISTRY_LIMITS). */
  limits?: Partial<RegistryLimits>;
  /** How often entries of vanished sessions are looked for, ms (default 30 000; 0: never). */
  sweepIntervalMs?: number;
}

export interface HubHandle {
  readonly client: SisockClient;
  /** The current list, in order of arrival. */
  nodes(): NodeRecord[];
  /** Resolves once the hub's procedures are registered and hub.started is published. */
  ready(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

function isSessionId(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v);
}

export async function runHub(opts: HubOptions): Promise<HubHandle> {
  const log = (opts.logger ?? silentLogger).child({ component: 'hub' });
  const ownsClient = !(opts.client instanceof SisockClient);
  const client = opts.client instanceof SisockClient ? opts.client : new SisockClient({ logger: log, ...opts.client });
  const timeoutMs = opts.callTimeoutMs ?? HUB_CALL_TIMEOUT_MS;
  const started = Date.now() / 1000;
  const registry = new NodeRegistry(opts.limits);
  const queries = new RouterQueries(client, timeoutMs, log);
  const readyGate = new ReadyGate((ms) => new Error(`hub not ready after ${ms} ms`));

  const uAdded = client.uri(HubUri.DATA_NODE_ADDED);
  const uSubtracted = client.uri(HubUri.DATA_NODE_SUBTRACTED);
  const consumerBase = client.uri(CONSUMER_PREFIX);
  const getDataSuffix = NodeUri.getData('').slice(CONSUMER_PREFIX.length); // '.get_data'
  const nodeNameOf = (uri: string): string | null =>
    uri.startsWith(consumerBase) && uri.endsWith(getDataSuffix) ? uri.slice(consumerBase.length, -getDataSuffix.length) || null : null;
  let warnedUndisclosed = false;

  function publish(topic: string, rec: NodeRecord): void {
    void client
      .publish(topic, [{ name: rec.name, description: rec.description }])
      .catch((e) => log.warn({ err: (e as Error).message }, 'publish failed'));
  }

  function added(rec: NodeRecord): void {
    log.info({ node: rec.name, session: rec.sessionId }, 'data node added');
    publish(uAdded, rec);
  }

  function removed(rec: NodeRecord, why: string): void {
    log.info({ node: rec.name, session: rec.sessionId, why }, 'data node removed');
    publish(uSubtracted, rec);
  }

  // A caller that keeps sending refused requests cannot flood the log: 50 lines per 10 s, then a count.
  const refusalLog = new RateLimitedLog((obj, msg) => log.warn(obj, msg), 50, 10_000);

  /** Logs a refused request and returns the error that goes back to the caller. */
  function refuse(uri: string, procedure: string, message: string, ctx: Record<string, unknown>): HandlerError {
    refusalLog.log({ ...ctx, error: uri, why: message }, `${procedure} refused`);
    return new HandlerError(uri, `${procedure}: ${message}`);
  }

  /**
   * The session the request is made for, once it is proven to be the caller's: the router
   * discloses the caller; a router that does not (a Crossbar role without disclose) leaves only
   * "the claimed session exists".
   */
  async function ownSession(procedure: string, claimed: number, details: InvocationDetails, ctx: Record<string, unknown>): Promise<number> {
    const caller = details.caller;
    if (caller !== undefined) {
      if (caller !== claimed) {
        throw refuse(ErrorUri.NOT_AUTHORIZED, procedure, "session_id is not the caller's session", { ...ctx, caller });
      }
      return claimed;
    }
    if (!warnedUndisclosed) {
      warnedUndisclosed = true;
      log.warn(
        'the router does not disclose callers of data_node.*: node ownership cannot be verified ' +
          '(set disclose.caller on those permissions)',
      );
    }
    if ((await queries.sessionAlive(claimed)) === false) throw refuse(ErrorUri.NOT_AUTHORIZED, procedure, 'no such session', ctx);
    return claimed;
  }

  async function add(args: unknown[], details: InvocationDetails): Promise<boolean> {
    const [name, description, claimed] = args;
    const P = HubUri.DATA_NODE_ADD;
    const bad =
      registry.checkName(name) ??
      registry.checkDescription(description) ??
      (isSessionId(claimed) ? null : "session_id must be an integer (the node's WAMP session id)");
    if (bad !== null || typeof name !== 'string' || !isSessionId(claimed)) {
      throw refuse(ErrorUri.INVALID_ARGUMENT, `${P}(name, description, session_id)`, bad ?? 'bad arguments', { caller: details.caller });
    }
    const ctx = { node: name, claimed };
    const sid = await ownSession(P, claimed, details, ctx);
    // The node's get_data must be registered by this session, or by nobody yet (a node may announce first).
    const callees = await queries.calleesOf(client.uri(NodeUri.getData(name)));
    if (callees !== null && callees.length > 0 && !callees.includes(sid)) {
      throw refuse(ErrorUri.NOT_AUTHORIZED, P, `another session serves ${NodeUri.getData(name)}`, { ...ctx, callees });
    }
    const desc = typeof description === 'string' ? description : '';
    const out = registry.add(name, desc, sid);
    if (out.kind === 'added') {
      added(out.record);
      return true;
    }
    if (out.kind === 'updated') return true;
    if (out.kind === 'limit') throw refuse(ErrorUri.LIMIT_EXCEEDED, P, out.message, ctx);
    const alive = await queries.sessionAlive(out.holder);
    // state may have changed while we waited: decide on the current entry
    const now = registry.get(name);
    if (now && now.sessionId !== out.holder) {
      if (now.sessionId === sid) return registry.add(name, desc, sid).kind !== 'limit';
      return false; // someone else got it meanwhile
    }
    if (now && alive !== false) {
      log.warn({ ...ctx, holder: now.sessionId }, 'data_node.add refused: name held by a live session');
      return false;
    }
    const old = registry.remove(name);
    if (old) removed(old, 'taken over: old session gone');
    const again = registry.add(name, desc, sid);
    if (again.kind === 'added') {
      added(again.record);
      return true;
    }
    if (again.kind === 'limit') throw refuse(ErrorUri.LIMIT_EXCEEDED, P, again.message, ctx);
    return again.kind === 'updated';
  }

  async function subtract(args: unknown[], details: InvocationDetails): Promise<null> {
    const [name, claimed] = args;
    const P = HubUri.DATA_NODE_SUBTRACT;
    if (typeof name !== 'string' || !isSessionId(claimed)) {
      const why = 'name must be a string and session_id an integer';
      throw refuse(ErrorUri.INVALID_ARGUMENT, `${P}(name, session_id)`, why, { caller: details.caller });
    }
    if (details.caller !== undefined && details.caller !== claimed) {
      const ctx = { node: name.slice(0, 80), claimed, caller: details.caller };
      throw refuse(ErrorUri.NOT_AUTHORIZED, P, "session_id is not the caller's session", ctx);
    }
    const rec = registry.remove(name, claimed);
    if (rec) removed(rec, 'subtract');
    return null;
  }

  function dropSession(sid: number, why: string): void {
    for (const rec of registry.removeSession(sid)) removed(rec, why);
  }

  /** Drops entries of sessions the router no longer has. */
  async function sweep(why: string): Promise<void> {
    for (const sid of registry.sessions()) {
      if ((await queries.sessionAlive(sid)) === false) dropSession(sid, why);
    }
  }

  async function getMetadata(name: string): Promise<unknown> {
    try {
      return await client.call<unknown>(client.uri(NodeUri.getMetadata(name)), [], {}, { timeoutMs });
    } catch {
      return undefined; // a node without get_metadata (e.g. the Python original) or one that is gone
    }
  }

  async function metadataList(): Promise<NodeMetadataEntry[]> {
    return Promise.all(registry.list().map(async (r) => metadataEntry(r, await getMetadata(r.name))));
  }

  /** Drops entries of sessions the router no longer has; adds nodes found in the registration meta API. */
  async function rebuild(): Promise<void> {
    await sweep('session gone (checked on hub session start)');
    const found = await queries.registeredNodes(nodeNameOf);
    for (const { name, callee } of found ?? []) {
      if (registry.get(name) || registry.checkName(name) !== null) continue;
      const meta = await getMetadata(name);
      const d = meta !== null && typeof meta === 'object' ? (meta as { description?: unknown }).description : undefined;
      const description = typeof d === 'string' && registry.checkDescription(d) === null ? d : '';
      if (registry.get(name)) continue;
      const out = registry.add(name, description, callee);
      if (out.kind === 'added') added(out.record);
      else if (out.kind === 'limit') log.warn({ node: name, why: out.message }, 'node found in the registration meta API not listed');
    }
  }

  const disclose = { disclose_caller: true };
  await client.register(client.uri(HubUri.DATA_NODE_ADD), (args, _kw, details) => add(args, details), disclose);
  await client.register(client.uri(HubUri.DATA_NODE_SUBTRACT), (args, _kw, details) => subtract(args, details), disclose);
  await client.register(client.uri(HubUri.GET_DATA_NODE), () => registry.publicList());
  await client.register(client.uri(HubUri.GET_DATA_NODE_METADATA), () => metadataList());
  await client.subscribe(MetaUri.session.ON_LEAVE, (args) => {
    if (isSessionId(args[0])) dropSession(args[0], 'session left');
  });

  const sweepMs = opts.sweepIntervalMs ?? 30_000;
  const sweepTimer =
    sweepMs > 0
      ? setInterval(() => {
          if (client.isReady) void sweep('session gone (periodic check)');
        }, sweepMs)
      : null;
  sweepTimer?.unref();

  client.onClose(() => readyGate.reset());
  client.onOpen(async () => {
    const sid = client.sessionId;
    await client.publish(client.uri(HubUri.HUB_STARTED), [{ session_id: sid, started, sisock_version: SISOCK_VERSION }]);
    readyGate.open();
    log.info({ session: sid }, 'hub ready');
    await rebuild();
  });
  client.start();

  return {
    client,
    nodes: () => registry.list(),
    ready: (t?: number) => readyGate.wait(t),
    async close() {
      if (sweepTimer) clearInterval(sweepTimer);
      readyGate.close(new Error('hub closed'));
      if (ownsClient) await client.close();
    },
  };
}
