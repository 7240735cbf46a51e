/**
 * The gRPC data API (`sisock grpc`, sisock.proto package sisock.v1): a bridge to WAMP through the
 * client wrapper.
 *
 *   const srv = await startGrpcServer({ client: clientOptionsFromEnv(flags), port: 50051 });
 *   srv.address  // "127.0.0.1:50051"
 *   await srv.close();
 *
 * ListNodes   → hub `consumer.get_data_node_metadata` (falls back to `consumer.get_data_node`)
 * GetFields   → node `get_fields(start, end)`
 * GetData     → node `get_fields(start, end)` once (timelines, declared types, nominal rate), then
 *               `get_data(fields, w0, w1, min_stride)` for consecutive time windows (window.ts)
 *               with progressive results; every progressive piece is cut into bounded chunks
 *               (chunks.ts) and written as it arrives. At most about two windows are held: the
 *               next window is asked for only once the previous one is fetched and the writer is
 *               less than one window behind; the writer waits for 'drain' when `write()` says the
 *               stream is full. A cancelled call (client cancel, deadline) stops asking the node.
 * Subscribe   → node `consumer.<node>.data` topic, one WAMP subscription per node shared by every
 *               gRPC subscriber; response headers are sent once the subscription is made.
 *
 * Status codes: errors.ts. Deadlines: every WAMP call made for a gRPC call gets the time left
 * before the deadline as its timeout (and `callTimeoutMs` at most).
 */
import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { silentLogger, type Logger } from '../../common/log';
import {
  CallError, SisockClient, subscribeLive, type ClientOptions, type DataResult, type FieldsResult, type Handle,
} from '../../client';
import { chunkGroup, groupByTimeline, type ChunkLimits, type ChunkMsg, type DeclaredType } from './chunks';
import { GrpcError, invalidArgument, toGrpcError } from './errors';
import { loadSisockProto } from './proto';
import { WindowPlanner } from './window';

export const DEFAULT_GRPC_PORT = 50051;

export interface GrpcServerOptions {
  /** Connection options (the server creates, owns and closes the client) or an existing client. */
  client: ClientOptions | SisockClient;
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  /** Port (default 50051; 0: any free port, see `port` of the result). */
  port?: number;
  /** PEM certificate chain and key: serve TLS instead of plaintext. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  logger?: Logger;
  /** Most samples in one DataChunk (all fields together; default 65536). */
  chunkPoints?: number;
  /** About the most payload bytes in one DataChunk (default 1 MiB). */
  chunkBytes?: number;
  /** Samples the bridge aims at per get_data window it asks a node for (default 200000). */
  windowPoints?: number;
  /** Timeout of one WAMP call when the gRPC call has no (earlier) deadline, ms (default 60000). */
  callTimeoutMs?: number;
  /** How long a call waits for the WAMP session when the router is unreachable, ms (default 5000). */
  connectWaitMs?: number;
  /** Chunks a Subscribe reader may lag behind before it is dropped (RESOURCE_EXHAUSTED; default 1000). */
  maxLiveBacklog?: number;
}

/** What the server did for one finished call (tests, logs). */
export interface CallRecord {
  method: 'ListNodes' | 'GetFields' | 'GetData' | 'Subscribe';
  code: grpc.status;
  details: string;
  /** GetData: get_data calls made to the node. */
  nodeCalls: number;
  /** GetData/Subscribe: samples and chunks sent. */
  points: number;
  chunks: number;
  /** GetData: the largest chunk sent, in samples. */
  maxChunkPoints: number;
}

export interface RunningGrpcServer {
  readonly host: string;
  readonly port: number;
  /** `host:port` */
  readonly address: string;
  readonly tls: boolean;
  readonly client: SisockClient;
  /** Emits 'callEnd' (CallRecord) when a call is over, after the last WAMP call it made settled. */
  readonly events: EventEmitter;
  /** get_data calls made to nodes since the start (all calls together). */
  readonly stats: { nodeGetDataCalls: number; activeCalls: number };
  close(): Promise<void>;
}

// ---- request shapes as proto-loader gives them (keepCase, defaults, oneofs) ----
interface GetFieldsRequest { node: string; start?: number; end?: number }
interface GetDataRequest { node: string; fields: string[]; start?: number; end?: number; min_stride?: number; max_chunk_points: number }
interface SubscribeRequest { node: string; fields: string[] }

const NODE_NAME_RE = /^[^\s.#]+$/;

function checkNode(node: unknown): string {
  if (typeof node !== 'string' || node === '') throw invalidArgument('node must be a non-empty node name');
  if (!NODE_NAME_RE.test(node)) throw invalidArgument(`node ${JSON.stringify(node)} is not a valid node name (no dots, spaces or #)`);
  return node;
}

function resolveTime(name: string, v: number | undefined, dflt: number, now: number): number {
  const t = v === undefined ? dflt : v;
  if (typeof t !== 'number' || !Number.isFinite(t)) throw invalidArgument(`${name} must be a finite number of UNIX seconds (or <= 0 for relative to now)`);
  return t <= 0 ? now + t : t;
}

function timeRange(start: number | undefined, end: number | undefined): { start: number; end: number } {
  const now = Date.now() / 1000;
  const s = resolveTime('start', start, 1, now);
  const e = resolveTime('end', end, 0, now);
  if (s >= e) throw invalidArgument(`start must be before end, got start=${s} end=${e} (after resolving times <= 0 against now)`);
  return { start: s, end: e };
}

/**
 * Per-call state: cancelled by the client, by the deadline, or by the server closing. WAMP calls
 * get `timeoutMs()`; producers check `cancelled` before asking a node for more.
 */
class CallContext {
  cancelled = false;
  reason: 'client' | 'deadline' | 'shutdown' | 'failed' | null = null;
  /** Why the call failed (reason 'failed'). */
  failure: GrpcError | null = null;
  readonly deadline: number;
  private timer: NodeJS.Timeout | null = null;
  private readonly cancelCbs = new Set<() => void>();

  constructor(call: { getDeadline(): grpc.Deadline; on(ev: 'cancelled', cb: () => void): unknown }, private readonly callTimeoutMs: number) {
    const d = call.getDeadline();
    this.deadline = d instanceof Date ? d.getTime() : typeof d === 'number' ? d : Infinity;
    // grpc-js reports a passed deadline as 'cancelled' too (it has sent DEADLINE_EXCEEDED itself)
    call.on('cancelled', () => this.cancel(Date.now() >= this.deadline - 20 ? 'deadline' : 'client'));
    if (Number.isFinite(this.deadline)) {
      this.timer = setTimeout(() => this.cancel('deadline'), Math.max(0, this.deadline - Date.now()));
    }
  }

  /** Ends the call with `err` (unless it is already over): stops the producers and writers. */
  fail(err: GrpcError): void {
    if (this.cancelled) return;
    this.failure = err;
    this.cancel('failed');
  }

  /** True when the client already has its status (it cancelled, or its deadline passed). */
  get clientGone(): boolean {
    return this.reason === 'client' || this.reason === 'deadline';
  }

  cancel(reason: 'client' | 'deadline' | 'shutdown' | 'failed'): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.reason = reason;
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
    for (const cb of [...this.cancelCbs]) cb();
  }

  onCancel(cb: () => void): () => void {
    if (this.cancelled) { cb(); return () => {}; }
    this.cancelCbs.add(cb);
    return () => this.cancelCbs.delete(cb);
  }

  timeoutMs(): number {
    const left = this.deadline - Date.now();
    return Math.max(1, Math.min(this.callTimeoutMs, left));
  }

  /** The error that ends a cancelled call (the client has its own status already but not for shutdown). */
  cancelError(): GrpcError {
    if (this.reason === 'failed' && this.failure) return this.failure;
    if (this.reason === 'deadline') return new GrpcError(grpc.status.DEADLINE_EXCEEDED, 'deadline exceeded');
    if (this.reason === 'shutdown') return new GrpcError(grpc.status.UNAVAILABLE, 'sisock grpc server is shutting down');
    return new GrpcError(grpc.status.CANCELLED, 'cancelled by the client');
  }

  dispose(): void {
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
    this.cancelCbs.clear();
  }
}

/**
 * Writes with backpressure: at most `maxInFlight` messages handed to the call and not yet passed on
 * to HTTP/2 (the call's own buffer takes 16, whatever their size), and a wait for 'drain' whenever
 * `write()` says the stream is full. `write` resolves when the caller may write again.
 */
class BoundedWriter {
  private inFlight = 0;
  private wake: (() => void) | null = null;
  constructor(private readonly call: grpc.ServerWritableStream<unknown, unknown>, private readonly ctx: CallContext, private readonly maxInFlight = 4) {}

  async write(msg: unknown): Promise<void> {
    this.inFlight++;
    const ok = this.call.write(msg, () => {
      this.inFlight--;
      if (this.wake && this.inFlight < this.maxInFlight) { const w = this.wake; this.wake = null; w(); }
    });
    if (!ok) await this.until('drain');
    while (this.inFlight >= this.maxInFlight && !this.ctx.cancelled) await this.until(null);
  }

  private until(event: 'drain' | null): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        if (event) this.call.off(event, done);
        if (this.wake === done) this.wake = null;
        undo();
        resolve();
      };
      const undo = this.ctx.onCancel(done);
      if (event) this.call.on(event, done);
      else this.wake = done;
    });
  }
}

/**
 * Pieces fetched but not yet written, with their sample counts; the producer waits on
 * `whenBelow(n)`, the writer on `next()`.
 */
class PieceQueue {
  private items: Array<{ piece: DataResult; points: number }> = [];
  private ended = false;
  points = 0;
  private waiter: (() => void) | null = null;
  private belowWaiters: Array<{ n: number; resolve: () => void }> = [];

  push(piece: DataResult, points: number): void {
    this.items.push({ piece, points });
    this.points += points;
    this.wake();
  }

  end(): void {
    this.ended = true;
    this.wake();
    for (const w of this.belowWaiters.splice(0)) w.resolve();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    if (w) w();
  }

  async next(): Promise<DataResult | undefined> {
    for (;;) {
      const it = this.items.shift();
      if (it) {
        this.points -= it.points;
        this.belowWaiters = this.belowWaiters.filter((w) => {
          if (this.points <= w.n) { w.resolve(); return false; }
          return true;
        });
        return it.piece;
      }
      if (this.ended) return undefined;
      await new Promise<void>((r) => { this.waiter = r; });
    }
  }

  whenBelow(n: number): Promise<void> {
    if (this.points <= n || this.ended) return Promise.resolve();
    return new Promise((resolve) => this.belowWaiters.push({ n, resolve }));
  }
}

function countPoints(piece: DataResult, wanted: ReadonlySet<string>): number {
  let n = 0;
  for (const [f, v] of Object.entries(piece?.data ?? {})) if (wanted.has(f) && Array.isArray(v)) n += v.length;
  return n;
}

function fieldMaps(fields: FieldsResult): { fieldTimeline: Map<string, string>; declared: Map<string, DeclaredType>; intervals: Map<string, number | null> } {
  const [finfo, tinfo] = Array.isArray(fields) ? fields : [{}, {}];
  const fieldTimeline = new Map<string, string>();
  const declared = new Map<string, DeclaredType>();
  const intervals = new Map<string, number | null>();
  for (const [f, info] of Object.entries(finfo ?? {})) {
    if (!info || typeof info !== 'object') continue;
    if (typeof info.timeline === 'string') fieldTimeline.set(f, info.timeline);
    if (info.type === 'number' || info.type === 'string' || info.type === 'bool') declared.set(f, info.type);
  }
  for (const [tl, info] of Object.entries(tinfo ?? {})) {
    intervals.set(tl, info && typeof info.interval === 'number' && info.interval > 0 ? info.interval : null);
  }
  return { fieldTimeline, declared, intervals };
}

const FIELD_TYPE: Record<string, string> = { number: 'NUMBER', string: 'STRING', bool: 'BOOL' };

export async function startGrpcServer(opts: GrpcServerOptions): Promise<RunningGrpcServer> {
  const log = (opts.logger ?? silentLogger).child({ component: 'grpc' });
  const ownsClient = !(opts.client instanceof SisockClient);
  const client = opts.client instanceof SisockClient
    ? opts.client
    // JSON first: for large get_data answers autobahn's msgpack decoder is several times slower
    : new SisockClient({ logger: log, connectWaitMs: opts.connectWaitMs ?? 5000, serializers: ['json'], ...opts.client });
  client.start();
  const host = opts.host ?? '127.0.0.1';
  const callTimeoutMs = opts.callTimeoutMs ?? 60000;
  const connectWaitMs = opts.connectWaitMs ?? client.options.connectWaitMs ?? 5000;
  const serverLimits: ChunkLimits = { maxPoints: Math.max(1, opts.chunkPoints ?? 65536), maxBytes: Math.max(1024, opts.chunkBytes ?? 1024 * 1024) };
  const windowPoints = Math.max(1000, opts.windowPoints ?? 200000);
  const maxLiveBacklog = opts.maxLiveBacklog ?? 1000;
  const events = new EventEmitter();
  const stats = { nodeGetDataCalls: 0, activeCalls: 0 };
  const contexts = new Set<CallContext>();
  const { service } = loadSisockProto();

  /** Runs a WAMP call for `ctx`: waits (bounded) for a session, applies the deadline, maps errors. */
  async function wamp<T>(ctx: CallContext, what: string, node: string | undefined, f: (timeoutMs: number) => Promise<T>): Promise<T> {
    if (ctx.cancelled) throw ctx.cancelError();
    if (!client.isReady) {
      const wait = Math.min(connectWaitMs, ctx.timeoutMs());
      try {
        await client.whenReady(wait);
      } catch {
        if (ctx.cancelled) throw ctx.cancelError();
        throw new GrpcError(grpc.status.UNAVAILABLE, `${what}: WAMP router ${client.options.url} unreachable (no session after ${wait} ms)`);
      }
    }
    try {
      return await f(ctx.timeoutMs());
    } catch (err) {
      if (err instanceof CallError && err.uri === 'wamp.error.timeout') {
        if (Date.now() >= ctx.deadline - 5) throw new GrpcError(grpc.status.DEADLINE_EXCEEDED, `${what}: deadline exceeded`);
        throw new GrpcError(grpc.status.DEADLINE_EXCEEDED, `${what}: no answer within ${callTimeoutMs} ms`);
      }
      if (ctx.cancelled && ctx.reason !== 'client') throw ctx.cancelError();
      throw toGrpcError(err, what, node);
    }
  }

  function begin(call: { getDeadline(): grpc.Deadline; on(ev: 'cancelled', cb: () => void): unknown }): CallContext {
    const ctx = new CallContext(call, callTimeoutMs);
    contexts.add(ctx);
    stats.activeCalls++;
    return ctx;
  }

  function finish(ctx: CallContext, rec: Omit<CallRecord, 'nodeCalls' | 'points' | 'chunks' | 'maxChunkPoints'> & Partial<CallRecord>): void {
    ctx.dispose();
    contexts.delete(ctx);
    stats.activeCalls--;
    const full: CallRecord = { nodeCalls: 0, points: 0, chunks: 0, maxChunkPoints: 0, ...rec };
    const level = full.code === grpc.status.OK || full.code === grpc.status.CANCELLED ? 'debug' : full.code === grpc.status.INTERNAL ? 'warn' : 'info';
    log[level]({ method: full.method, code: grpc.status[full.code], details: full.details, points: full.points, chunks: full.chunks, nodeCalls: full.nodeCalls }, 'call ended');
    events.emit('callEnd', full);
  }

  function unary<Req, Res>(method: CallRecord['method'], handler: (req: Req, ctx: CallContext) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      const ctx = begin(call);
      void (async () => {
        try {
          const res = await handler(call.request, ctx);
          callback(null, res);
          finish(ctx, { method, code: grpc.status.OK, details: 'OK' });
        } catch (err) {
          const ge = err instanceof GrpcError ? err : toGrpcError(err, method);
          callback(ge.toResponse());
          finish(ctx, { method, code: ge.code, details: ge.message });
        }
      })();
    };
  }

  // ---------------------------------------------------------------- ListNodes
  interface MetaEntry { name: string; description?: string; host?: string | null; pid?: number | null; sisock_version?: string | null; started?: number | null; n_fields?: number | null; newest_sample?: number | null; process?: string | null; added?: number | null; available?: boolean }
  const listNodesImpl = async (_req: unknown, ctx: CallContext) => {
    const entries = await wamp(ctx, 'ListNodes', undefined, async (t): Promise<MetaEntry[]> => {
      try {
        return await client.call<MetaEntry[]>(client.uri('consumer.get_data_node_metadata'), [], {}, { timeoutMs: t });
      } catch (err) {
        if (!(err instanceof CallError && err.uri === 'wamp.error.no_such_procedure')) throw err;
        // an original (Python) hub: names and descriptions only
        const list = await client.call<MetaEntry[]>(client.uri('consumer.get_data_node'), [], {}, { timeoutMs: t });
        return (Array.isArray(list) ? list : []).map((e) => ({ name: e.name, description: e.description, available: false }));
      }
    });
    if (!Array.isArray(entries)) throw new GrpcError(grpc.status.INTERNAL, 'ListNodes: the hub answered something that is not a list');
    const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
    const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
    return {
      nodes: entries.filter((e) => e && typeof e.name === 'string').map((e) => {
        const n: Record<string, unknown> = { name: e.name, description: str(e.description) ?? '', available: e.available === true };
        const opt: Record<string, unknown> = {
          host: str(e.host), pid: num(e.pid), version: str(e.sisock_version), started: num(e.started), n_fields: num(e.n_fields),
          newest_sample: num(e.newest_sample), process: str(e.process), added: num(e.added),
        };
        for (const [k, v] of Object.entries(opt)) if (v !== undefined) n[k] = v;
        return n;
      }),
    };
  };

  // ---------------------------------------------------------------- GetFields
  const getFieldsImpl = async (req: GetFieldsRequest, ctx: CallContext) => {
    const node = checkNode(req.node);
    const { start, end } = timeRange(req.start, req.end);
    const res = await wamp(ctx, `GetFields(${node})`, node, (t) => client.call<FieldsResult>(client.uri(`consumer.${node}.get_fields`), [start, end], {}, { timeoutMs: t }));
    if (!Array.isArray(res) || res.length !== 2) throw new GrpcError(grpc.status.INTERNAL, `GetFields(${node}): the node answered something that is not [field, timeline]`);
    const [finfo, tinfo] = res;
    return {
      fields: Object.entries(finfo ?? {}).map(([name, f]) => {
        const out: Record<string, unknown> = { name, timeline: String(f?.timeline ?? ''), type: FIELD_TYPE[f?.type] ?? 'FIELD_TYPE_UNSPECIFIED' };
        if (typeof f?.description === 'string') out.description = f.description;
        if (typeof f?.units === 'string') out.units = f.units;
        return out;
      }),
      timelines: Object.entries(tinfo ?? {}).map(([name, tl]) => {
        const out: Record<string, unknown> = { name, fields: Array.isArray(tl?.field) ? tl.field.map(String) : [] };
        if (typeof tl?.interval === 'number' && Number.isFinite(tl.interval)) out.interval = tl.interval;
        return out;
      }),
    };
  };

  // ---------------------------------------------------------------- GetData
  function getData(call: grpc.ServerWritableStream<GetDataRequest, ChunkMsg>): void {
    const ctx = begin(call);
    const rec = { nodeCalls: 0, points: 0, chunks: 0, maxChunkPoints: 0 };
    void (async () => {
      const req = call.request;
      const node = checkNode(req.node);
      if (!Array.isArray(req.fields) || req.fields.length === 0) throw invalidArgument('fields must list at least one field');
      for (const f of req.fields) if (typeof f !== 'string' || f === '') throw invalidArgument('fields must be non-empty strings');
      const fields = [...new Set(req.fields)];
      const { start, end } = timeRange(req.start, req.end);
      const minStride = req.min_stride;
      if (minStride !== undefined && (!Number.isFinite(minStride) || minStride < 0)) throw invalidArgument(`min_stride must be a finite number >= 0, got ${minStride}`);
      const stride = minStride && minStride > 0 ? minStride : null;
      const limits: ChunkLimits = {
        maxPoints: req.max_chunk_points > 0 ? Math.min(req.max_chunk_points, serverLimits.maxPoints) : serverLimits.maxPoints,
        maxBytes: serverLimits.maxBytes,
      };
      const what = `GetData(${node})`;
      const fres = await wamp(ctx, what, node, (t) => client.call<FieldsResult>(client.uri(`consumer.${node}.get_fields`), [start, end], {}, { timeoutMs: t }));
      const { fieldTimeline, declared, intervals } = fieldMaps(fres);
      let rate = 0;
      let known = true;
      for (const f of fields) {
        const tl = fieldTimeline.get(f);
        if (tl === undefined) continue; // unknown or no data in range
        const iv = intervals.get(tl);
        if (iv) rate += 1 / iv; else known = false;
      }
      const planner = new WindowPlanner({ start, end, targetPoints: windowPoints, rate: known && rate > 0 ? rate : null, nFields: fields.length, minStride: stride });
      const wanted = new Set(fields);
      const queue = new PieceQueue();
      const uGetData = client.uri(`consumer.${node}.get_data`);
      const undoCancel = ctx.onCancel(() => queue.end());

      const produce = async () => {
        try {
          while (!planner.done && !ctx.cancelled) {
            const [a, b] = planner.next();
            let points = 0;
            const add = (piece: unknown) => {
              if (ctx.cancelled || !piece || typeof piece !== 'object') return;
              const p = piece as DataResult;
              const n = countPoints(p, wanted);
              points += n;
              queue.push(p, n);
            };
            rec.nodeCalls++;
            stats.nodeGetDataCalls++;
            const last = await wamp(ctx, what, node, (t) => client.call<DataResult>(uGetData, [fields, a, b], { min_stride: stride }, { onProgress: add, timeoutMs: t }));
            add(last);
            planner.observe(points);
            await queue.whenBelow(windowPoints);
          }
        } catch (err) {
          ctx.fail(err instanceof GrpcError ? err : toGrpcError(err, what, node));
        } finally {
          queue.end();
        }
      };

      const writer = new BoundedWriter(call as grpc.ServerWritableStream<unknown, unknown>, ctx);
      const consume = async () => {
        for (;;) {
          const piece = await queue.next();
          if (piece === undefined || ctx.cancelled) return;
          const { groups, skipped } = groupByTimeline(piece, fieldTimeline, wanted);
          if (skipped.length) log.warn({ node, fields: skipped }, 'node answered fields whose length matches no timeline; left out');
          for (const g of groups) {
            for (const c of chunkGroup(piece, g, limits, declared)) {
              if (ctx.cancelled) return;
              const msg = c as ChunkMsg;
              msg.seq = rec.chunks++;
              const n = c.t.length * c.columns.length;
              rec.points += n;
              if (n > rec.maxChunkPoints) rec.maxChunkPoints = n;
              await writer.write(msg);
            }
          }
        }
      };

      await Promise.all([produce(), consume()]);
      undoCancel();
      if (ctx.cancelled) throw ctx.cancelError();
      const trailer = new grpc.Metadata();
      trailer.set('sisock-points', String(rec.points));
      call.end(trailer);
      finish(ctx, { method: 'GetData', code: grpc.status.OK, details: 'OK', ...rec });
    })().catch((err: unknown) => {
      const ge = err instanceof GrpcError ? err : toGrpcError(err, 'GetData');
      if (!ctx.clientGone) call.emit('error', ge.toResponse());
      finish(ctx, { method: 'GetData', code: ge.code, details: ge.message, ...rec });
    });
  }

  // ---------------------------------------------------------------- Subscribe
  /** node → one WAMP subscription shared by the gRPC subscribers of that node */
  const live = new Map<string, { handle: Promise<Handle>; listeners: Set<(r: DataResult) => void> }>();

  function addLiveListener(node: string, cb: (r: DataResult) => void): { ready: Promise<void>; remove: () => void } {
    let entry = live.get(node);
    if (!entry) {
      const listeners = new Set<(r: DataResult) => void>();
      const e = { listeners, handle: subscribeLive(client, node, (r) => { for (const l of [...listeners]) l(r); }) };
      entry = e;
      live.set(node, e);
      e.handle.catch(() => { if (live.get(node) === e) live.delete(node); });
    }
    const e = entry;
    e.listeners.add(cb);
    return {
      ready: e.handle.then(() => undefined),
      remove: () => {
        e.listeners.delete(cb);
        if (e.listeners.size === 0 && live.get(node) === e) {
          live.delete(node);
          void e.handle.then((h) => h.remove()).catch(() => {});
        }
      },
    };
  }

  function subscribe(call: grpc.ServerWritableStream<SubscribeRequest, ChunkMsg>): void {
    const ctx = begin(call);
    const rec = { nodeCalls: 0, points: 0, chunks: 0, maxChunkPoints: 0 };
    let remove: (() => void) | null = null;
    void (async () => {
      const req = call.request;
      const node = checkNode(req.node);
      const wanted = Array.isArray(req.fields) && req.fields.length ? new Set(req.fields) : undefined;
      const what = `Subscribe(${node})`;
      const fres = await wamp(ctx, what, node, (t) => client.call<FieldsResult>(client.uri(`consumer.${node}.get_fields`), [1, 0], {}, { timeoutMs: t }));
      let { fieldTimeline, declared } = fieldMaps(fres);
      let overflow = false;
      const onSample = (r: DataResult) => {
        if (ctx.cancelled || overflow) return;
        const { groups } = groupByTimeline(r, fieldTimeline, wanted);
        for (const g of groups) {
          for (const c of chunkGroup(r, g, serverLimits, declared)) {
            const msg = c as ChunkMsg;
            msg.seq = rec.chunks++;
            rec.points += c.t.length * c.columns.length;
            call.write(msg);
          }
        }
        if (call.writableLength > maxLiveBacklog) {
          overflow = true;
          ctx.fail(new GrpcError(grpc.status.RESOURCE_EXHAUSTED, `${what}: the reader is more than ${maxLiveBacklog} chunks behind; dropped`));
        }
      };
      const l = addLiveListener(node, onSample);
      remove = l.remove;
      const undo = ctx.onCancel(() => l.remove());
      try {
        await wamp(ctx, what, node, () => l.ready);
      } catch (err) {
        undo();
        throw err;
      }
      if (ctx.cancelled) throw ctx.cancelError();
      call.sendMetadata(new grpc.Metadata());
      // keep the types fresh for fields that appear later (cheap; once)
      void client.call<FieldsResult>(client.uri(`consumer.${node}.get_fields`), [1, 0], {}, { timeoutMs: 5000 })
        .then((f) => { ({ fieldTimeline, declared } = fieldMaps(f)); })
        .catch(() => {});
      await new Promise<void>((resolve) => ctx.onCancel(resolve));
      throw ctx.cancelError();
    })().catch((err: unknown) => {
      if (remove) remove();
      const ge = err instanceof GrpcError ? err : toGrpcError(err, 'Subscribe');
      if (!ctx.clientGone) call.emit('error', ge.toResponse());
      finish(ctx, { method: 'Subscribe', code: ge.code, details: ge.message, ...rec });
    });
  }

  const server = new grpc.Server({
    'grpc.max_send_message_length': Math.max(4 * 1024 * 1024, serverLimits.maxBytes * 2),
    // requests are small; bound what one connection may ask for at once and how long it may idle
    'grpc.max_receive_message_length': 1024 * 1024,
    'grpc.max_concurrent_streams': 100,
    'grpc.max_connection_idle_ms': 5 * 60_000,
  });
  server.addService(service, {
    ListNodes: unary('ListNodes', listNodesImpl),
    GetFields: unary('GetFields', getFieldsImpl),
    GetData: getData,
    Subscribe: subscribe,
  } as grpc.UntypedServiceImplementation);

  const creds = opts.tls
    ? grpc.ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(opts.tls.cert), private_key: Buffer.from(opts.tls.key) }], false)
    : grpc.ServerCredentials.createInsecure();
  const bindHost = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(`${bindHost}:${opts.port ?? DEFAULT_GRPC_PORT}`, creds, (err, p) => (err ? reject(err) : resolve(p)));
    });
  } catch (err) {
    if (ownsClient) await client.close();
    throw err;
  }
  log.info({ host, port, tls: !!opts.tls }, 'gRPC server listening');

  let closing: Promise<void> | null = null;
  return {
    host,
    port,
    address: `${host}:${port}`,
    tls: !!opts.tls,
    client,
    events,
    stats,
    close() {
      if (closing) return closing;
      closing = (async () => {
        for (const ctx of [...contexts]) ctx.cancel('shutdown');
        await new Promise<void>((resolve) => {
          const force = setTimeout(() => { server.forceShutdown(); resolve(); }, 2000);
          server.tryShutdown(() => { clearTimeout(force); resolve(); });
        });
        for (const e of live.values()) await e.handle.then((h) => h.remove()).catch(() => {});
        live.clear();
        if (ownsClient) await client.close();
      })();
      return closing;
    },
  };
}
