/**
 * SisockClient: the one typed wrapper over autobahn-js used by every sisock program.
 *
 *  - connects over ws:// or wss:// (custom CA via `options.ca`), anonymous, ticket or WAMP-CRA
 *    (salted or unsalted);
 *  - reconnects forever with capped exponential backoff, whatever ended the session (router down,
 *    refused handshake, router GOODBYE on shutdown), until `close()`;
 *  - registrations and subscriptions made through it are persistent: they are made again on every
 *    new session, and `onOpen` callbacks run after that (e.g. a data node re-announces itself);
 *  - calls made while disconnected wait up to `connectWaitMs` for a session; calls pending when the
 *    session is lost are rejected (autobahn would leave them hanging);
 *  - errors from the peer come back as `CallError` (`.uri`, `.args`, `.kwargs`); handlers signal a
 *    WAMP error by throwing `WampError(uri, message)`;
 *  - `installSignalHandlers()`: SIGINT/SIGTERM → GOODBYE → exit 0.
 */
import './websocket-shim';
import { setSocketOptions, onSocketError } from './websocket-shim';
import type { ClientOptions as WsClientOptions } from 'ws';
import { ErrorCode, SisockError } from '../common/errors';
import { silentLogger, type Logger } from '../common/log';
import type {
  AbConnection, AbDeferred, AbInvocation, AbRegistration, AbSession, AbSubscription, AutobahnModule,
} from './autobahn-types';
import type { ClientOptions } from './options';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const autobahn = require('autobahn') as AutobahnModule;

/** A WAMP error a handler throws on purpose; becomes an ERROR with this URI and args [message]. */
export class WampError extends Error {
  readonly args: unknown[];
  constructor(readonly uri: string, message: string, readonly kwargs: Record<string, unknown> = {}) {
    super(message);
    this.name = 'WampError';
    this.args = [message];
  }
}

/** A call that the router or callee answered with an ERROR, or that could not be made. */
export class CallError extends SisockError {
  constructor(
    readonly uri: string,
    readonly procedure: string,
    readonly args: unknown[] = [],
    readonly kwargs: Record<string, unknown> = {},
  ) {
    super(ErrorCode.CALL_FAILED, `${procedure}: ${uri}${args.length ? ` (${args.map(a => (typeof a === 'string' ? a : JSON.stringify(a))).join('; ')})` : ''}`);
    this.name = 'CallError';
  }
}

/** Several positional and/or keyword results (a handler returns one to yield more than one value). */
export class CallResult {
  constructor(readonly args: unknown[] = [], readonly kwargs: Record<string, unknown> = {}) {}
}

export interface InvocationDetails {
  procedure: string;
  /** Present when the caller asked for progressive results: sends one progressive RESULT. */
  progress?: (chunk: unknown) => void;
  caller?: number;
  callerAuthid?: string;
  callerAuthrole?: string;
}

export type Handler = (args: unknown[], kwargs: Record<string, unknown>, details: InvocationDetails) => unknown;
export type EventHandler = (args: unknown[], kwargs: Record<string, unknown>, details: { topic?: string; publisher?: number }) => void;

export interface CallOptions {
  /** Called with each progressive result; asks the callee for progress (`receive_progress`). */
  onProgress?: (chunk: unknown) => void;
  /** Reject after this many ms (and send CANCEL). */
  timeoutMs?: number;
  /** Extra CALL options passed to the router. */
  wamp?: Record<string, unknown>;
}

/** A persistent registration or subscription; `remove()` undoes it for good. */
export interface Handle { remove(): Promise<void> }

interface RegEntry { procedure: string; handler: Handler; options: Record<string, unknown>; current: AbRegistration | null }
interface SubEntry { topic: string; handler: EventHandler; options: Record<string, unknown>; current: AbSubscription | null }

/** A deferred with progress, so that progressive call results reach the caller (autobahn calls notify). */
function progressDeferred(): AbDeferred {
  let resolve!: (v: unknown) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<unknown>((res, rej) => { resolve = res; reject = rej; }) as AbDeferred['promise'];
  const pending: unknown[] = [];
  let listener: ((v: unknown) => void) | null = null;
  promise.progress = (cb) => {
    listener = cb;
    for (const v of pending.splice(0)) cb(v);
  };
  return {
    promise,
    resolve,
    reject,
    notify(v: unknown) {
      if (listener) listener(v); else pending.push(v);
    },
  };
}

let silencedAutobahnLog = false;

export class SisockClient {
  readonly options: Required<Pick<ClientOptions, 'url' | 'realm' | 'uriBase'>> & ClientOptions;
  readonly log: Logger;
  private conn: AbConnection | null = null;
  private session: AbSession | null = null;
  /** Increases with every session (join); work for an older session is dropped. */
  private generation = 0;
  private started = false;
  private closing = false;
  private closed = false;
  private retryDelay: number;
  private retryTimer: NodeJS.Timeout | null = null;
  private repairTimer: NodeJS.Timeout | null = null;
  /** procedure → entry (persistent registrations). */
  private readonly registrations = new Map<string, RegEntry>();
  private readonly subscriptions = new Set<SubEntry>();
  private readonly openCallbacks = new Set<(client: SisockClient) => void | Promise<void>>();
  private readonly closeCallbacks = new Set<(reason: string) => void>();
  /** Resolvers waiting for the next ready session. */
  private readyWaiters = new Set<() => void>();
  private ready = false;
  /** Rejecters of calls in flight on the current session. */
  private readonly inflight = new Set<(err: Error) => void>();
  private closedPromise: Promise<void> | null = null;
  private removeSocketErrorListener: (() => void) | null = null;
  private signalHandler: (() => void) | null = null;

  constructor(options: ClientOptions) {
    this.options = { ...options };
    this.log = options.logger ?? silentLogger;
    this.retryDelay = options.initialRetryDelay ?? 0.2;
    if (!silencedAutobahnLog) {
      // autobahn warns on the console on every reconnect; route nothing there.
      silencedAutobahnLog = true;
      autobahn.log.warn = () => {};
    }
  }

  /** Starts connecting (and reconnecting forever); returns at once. */
  start(): this {
    if (this.started) return this;
    this.started = true;
    const o = this.options;
    const ws: WsClientOptions = { maxPayload: 256 * 1024 * 1024 };
    if (o.ca) ws.ca = o.ca;
    if (o.insecure) ws.rejectUnauthorized = false;
    setSocketOptions(o.url, ws);
    this.removeSocketErrorListener = onSocketError((url, err) => {
      if (url === o.url) this.log.debug({ err: err.message, url }, 'socket error');
    });
    // JSON by default: autobahn-js's MsgPack (msgpack5) decodes large get_data results 3-4x slower
    // than JSON.parse, and a router given both picks MsgPack (ours prefers it).
    const serializers = (o.serializers ?? ['json']).flatMap((s) => {
      if (s === 'json') return [new autobahn.serializer.JSONSerializer()];
      if (s === 'msgpack' && autobahn.serializer.MsgpackSerializer) return [new autobahn.serializer.MsgpackSerializer()];
      return [];
    });
    const hasSecret = o.authid !== undefined && o.secret !== undefined;
    const authmethods = o.authmethods ?? (hasSecret ? ['wampcra', 'ticket'] : ['anonymous']);
    this.conn = new autobahn.Connection({
      url: o.url,
      realm: o.realm,
      transports: [{ type: 'websocket', url: o.url, serializers }],
      authmethods,
      authid: o.authid,
      onchallenge: (_s: unknown, method: string, extra: Record<string, unknown>) => this.onChallenge(method, extra),
      // We reconnect ourselves: autobahn gives up after a router GOODBYE or an ABORT.
      max_retries: 0,
      retry_if_unreachable: false,
      use_deferred: progressDeferred,
      on_user_error: (err: unknown, msg?: string) => this.log.debug({ err: String((err as Error)?.message ?? err) }, msg ?? 'handler error'),
      on_internal_error: (err: unknown, msg?: string) => this.log.warn({ err: String((err as Error)?.message ?? err) }, msg ?? 'autobahn internal error'),
    });
    this.conn.onopen = (session) => { void this.onJoin(session); };
    this.conn.onclose = (reason, details) => { this.onConnectionClosed(reason, details); return true; };
    this.log.debug({ url: o.url, realm: o.realm }, 'connecting');
    this.conn.open();
    return this;
  }

  /** `<base>.<suffix>` */
  uri(suffix: string): string {
    return `${this.options.uriBase}.${suffix}`;
  }

  get isReady(): boolean {
    return this.ready && this.session !== null && this.session.isOpen;
  }

  /** The current WAMP session id, or null when disconnected. */
  get sessionId(): number | null {
    return this.session && this.session.isOpen ? this.session.id : null;
  }

  /**
   * Resolves once a session is open and the persistent registrations/subscriptions are made
   * (starts the client if needed). Rejects after `timeoutMs` (default: wait forever).
   */
  whenReady(timeoutMs?: number): Promise<void> {
    this.start();
    if (this.isReady) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | null = null;
      const done = () => { if (timer) clearTimeout(timer); this.readyWaiters.delete(done); resolve(); };
      this.readyWaiters.add(done);
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          this.readyWaiters.delete(done);
          reject(new SisockError(ErrorCode.CONNECT_FAILED, `no WAMP session with ${this.options.url} (realm ${this.options.realm}) after ${timeoutMs} ms`));
        }, timeoutMs);
      }
    });
  }

  /** Runs `cb` after every join (once the persistent registrations are made). Returns an undo. */
  onOpen(cb: (client: SisockClient) => void | Promise<void>): () => void {
    this.openCallbacks.add(cb);
    return () => this.openCallbacks.delete(cb);
  }

  onClose(cb: (reason: string) => void): () => void {
    this.closeCallbacks.add(cb);
    return () => this.closeCallbacks.delete(cb);
  }

  async call<T = unknown>(procedure: string, args: unknown[] = [], kwargs: Record<string, unknown> = {}, opts: CallOptions = {}): Promise<T> {
    if (!this.isReady) {
      if (this.closing) throw new CallError('wamp.error.canceled', procedure, ['client closed']);
      try {
        await this.whenReady(this.options.connectWaitMs ?? 10000);
      } catch (err) {
        throw new CallError('wamp.error.no_session', procedure, [(err as Error).message]);
      }
    }
    const session = this.session!;
    const options: Record<string, unknown> = { ...(opts.wamp ?? {}) };
    if (opts.onProgress) options.receive_progress = true;
    return new Promise<T>((resolve, reject) => {
      let timer: NodeJS.Timeout | null = null;
      let p: AbDeferred['promise'];
      const fail = (err: Error) => { finish(); reject(err); };
      const finish = () => { if (timer) clearTimeout(timer); this.inflight.delete(fail); };
      this.inflight.add(fail);
      try {
        p = session.call(procedure, args, kwargs, options) as AbDeferred['promise'];
      } catch (err) {
        fail(new CallError('wamp.error.no_session', procedure, [String(err)]));
        return;
      }
      if (opts.onProgress && p.progress) {
        const cb = opts.onProgress;
        p.progress((v) => { try { cb(v); } catch (err) { this.log.warn({ err: (err as Error).message }, 'progress callback threw'); } });
      }
      if (opts.timeoutMs !== undefined) {
        timer = setTimeout(() => {
          try { (p as unknown as { cancel?: (o: unknown) => void }).cancel?.({ mode: 'kill' }); } catch { /* session may be gone */ }
          fail(new CallError('wamp.error.timeout', procedure, [`no answer within ${opts.timeoutMs} ms`]));
        }, opts.timeoutMs);
      }
      p.then(
        (v) => { finish(); resolve(v as T); },
        (e) => {
          finish();
          const err = e as { error?: string; args?: unknown[]; kwargs?: Record<string, unknown> };
          if (err && typeof err.error === 'string') reject(new CallError(err.error, procedure, err.args ?? [], err.kwargs ?? {}));
          else reject(new CallError('wamp.error.runtime_error', procedure, [String(e)]));
        },
      );
    });
  }

  /** Publishes; a no-op (logged) while disconnected. With `acknowledge`, waits for the router. */
  async publish(topic: string, args: unknown[] = [], kwargs: Record<string, unknown> = {}, options: Record<string, unknown> = {}): Promise<void> {
    const s = this.session;
    if (!s || !s.isOpen) {
      this.log.debug({ topic }, 'publish dropped: not connected');
      return;
    }
    try {
      await s.publish(topic, args, kwargs, options);
    } catch (e) {
      const err = e as { error?: string; args?: unknown[] };
      throw new CallError(err?.error ?? 'wamp.error.runtime_error', topic, err?.args ?? [String(e)]);
    }
  }

  /**
   * Registers `procedure` now (if connected) and again on every new session. Resolves once the
   * current session holds it (or at once when disconnected); rejects if the router refuses it.
   */
  async register(procedure: string, handler: Handler, options: Record<string, unknown> = {}): Promise<Handle> {
    if (this.registrations.has(procedure)) throw new SisockError(ErrorCode.INVALID_ARGUMENT, `already registered: ${procedure}`);
    const entry: RegEntry = { procedure, handler, options, current: null };
    this.registrations.set(procedure, entry);
    const handle: Handle = {
      remove: async () => {
        this.registrations.delete(procedure);
        const cur = entry.current;
        entry.current = null;
        if (cur && this.session?.isOpen) await this.session.unregister(cur).catch(() => {});
      },
    };
    if (this.isReady) {
      try {
        await this.doRegister(this.session!, entry);
      } catch (err) {
        this.registrations.delete(procedure);
        throw err;
      }
    }
    return handle;
  }

  async subscribe(topic: string, handler: EventHandler, options: Record<string, unknown> = {}): Promise<Handle> {
    const entry: SubEntry = { topic, handler, options, current: null };
    this.subscriptions.add(entry);
    const handle: Handle = {
      remove: async () => {
        this.subscriptions.delete(entry);
        const cur = entry.current;
        entry.current = null;
        if (cur && this.session?.isOpen) await this.session.unsubscribe(cur).catch(() => {});
      },
    };
    if (this.isReady) await this.doSubscribe(this.session!, entry);
    return handle;
  }

  /** GOODBYE and stop reconnecting. Idempotent; resolves when the socket is closed. */
  close(): Promise<void> {
    if (this.closedPromise) return this.closedPromise;
    this.closing = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.repairTimer) clearTimeout(this.repairTimer);
    this.retryTimer = null;
    this.repairTimer = null;
    this.closedPromise = new Promise<void>((resolve) => {
      const conn = this.conn;
      if (!conn || this.closed) { this.finalClose(); resolve(); return; }
      const giveUp = setTimeout(() => { this.finalClose(); resolve(); }, 2000);
      this.closeCallbacks.add(() => { clearTimeout(giveUp); this.finalClose(); resolve(); });
      try {
        conn.close('wamp.close.normal');
      } catch {
        clearTimeout(giveUp);
        this.finalClose();
        resolve();
      }
    });
    return this.closedPromise;
  }

  /** SIGINT/SIGTERM: GOODBYE, then exit 0. Returns an undo. */
  installSignalHandlers(exit: (code: number) => void = (c) => process.exit(c)): () => void {
    const handler = () => {
      this.log.info('signal received, closing');
      void this.close().finally(() => exit(0));
    };
    this.signalHandler = handler;
    process.once('SIGINT', handler);
    process.once('SIGTERM', handler);
    return () => {
      process.removeListener('SIGINT', handler);
      process.removeListener('SIGTERM', handler);
    };
  }

  // ---------------------------------------------------------------------------------------------

  private onChallenge(method: string, extra: Record<string, unknown>): string {
    const secret = this.options.secret ?? '';
    if (method === 'wampcra') {
      let key = secret;
      if (typeof extra.salt === 'string' && extra.salt !== '') {
        key = autobahn.auth_cra.derive_key(secret, extra.salt, extra.iterations as number | undefined, extra.keylen as number | undefined);
      }
      return autobahn.auth_cra.sign(key, String(extra.challenge));
    }
    if (method === 'ticket') return secret;
    throw new Error(`unsupported authentication method ${method}`);
  }

  private async onJoin(session: AbSession): Promise<void> {
    const gen = ++this.generation;
    this.session = session;
    this.retryDelay = this.options.initialRetryDelay ?? 0.2;
    this.log.info({ url: this.options.url, realm: this.options.realm, session: session.id }, 'joined');
    await this.restore(session, gen);
    if (gen !== this.generation || this.closing) return;
    this.ready = true;
    for (const w of [...this.readyWaiters]) w();
    for (const cb of [...this.openCallbacks]) {
      try {
        await cb(this);
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'onOpen callback failed');
      }
      if (gen !== this.generation) return;
    }
  }

  /** Makes every persistent registration/subscription missing on `session`; retries failures. */
  private async restore(session: AbSession, gen: number): Promise<void> {
    let failed = false;
    for (const entry of [...this.registrations.values()]) {
      if (gen !== this.generation) return;
      if (entry.current) continue;
      try {
        await this.doRegister(session, entry);
      } catch (err) {
        failed = true;
        this.log.warn({ procedure: entry.procedure, err: (err as Error).message }, 'register failed; will retry');
      }
    }
    for (const entry of [...this.subscriptions]) {
      if (gen !== this.generation) return;
      if (entry.current) continue;
      try {
        await this.doSubscribe(session, entry);
      } catch (err) {
        failed = true;
        this.log.warn({ topic: entry.topic, err: (err as Error).message }, 'subscribe failed; will retry');
      }
    }
    if (failed && !this.closing) {
      // e.g. a procedure still held by a session the router has not yet dropped
      this.repairTimer = setTimeout(() => {
        this.repairTimer = null;
        if (gen === this.generation && session.isOpen) void this.restore(session, gen);
      }, 1000);
    }
  }

  private async doRegister(session: AbSession, entry: RegEntry): Promise<void> {
    const endpoint = (args: unknown[], kwargs: Record<string, unknown>, d: AbInvocation) => this.invoke(entry, args, kwargs, d);
    try {
      const reg = await session.register(entry.procedure, endpoint, entry.options);
      if (this.registrations.get(entry.procedure) !== entry) {
        await session.unregister(reg).catch(() => {});
        return;
      }
      entry.current = reg;
    } catch (e) {
      const err = e as { error?: string; args?: unknown[] };
      throw new CallError(err?.error ?? 'wamp.error.runtime_error', entry.procedure, err?.args ?? [String(e)]);
    }
  }

  private async doSubscribe(session: AbSession, entry: SubEntry): Promise<void> {
    const h = (args: unknown[], kwargs: Record<string, unknown>, d: { topic?: string; publisher?: number }) => {
      try {
        entry.handler(args ?? [], kwargs ?? {}, { topic: d?.topic ?? entry.topic, publisher: d?.publisher });
      } catch (err) {
        this.log.warn({ topic: entry.topic, err: (err as Error).message }, 'event handler threw');
      }
    };
    try {
      const sub = await session.subscribe(entry.topic, h, entry.options);
      if (!this.subscriptions.has(entry)) {
        await session.unsubscribe(sub).catch(() => {});
        return;
      }
      entry.current = sub;
    } catch (e) {
      const err = e as { error?: string; args?: unknown[] };
      throw new CallError(err?.error ?? 'wamp.error.runtime_error', entry.topic, err?.args ?? [String(e)]);
    }
  }

  private async invoke(entry: RegEntry, args: unknown[], kwargs: Record<string, unknown>, d: AbInvocation): Promise<unknown> {
    const details: InvocationDetails = {
      procedure: d?.procedure ?? entry.procedure,
      caller: d?.caller,
      callerAuthid: d?.caller_authid,
      callerAuthrole: d?.caller_authrole,
    };
    if (d?.progress) {
      const progress = d.progress;
      details.progress = (chunk: unknown) => progress([chunk]);
    }
    try {
      const res = await entry.handler(args ?? [], kwargs ?? {}, details);
      if (res instanceof CallResult) return new autobahn.Result(res.args, res.kwargs);
      return res === undefined ? null : res;
    } catch (err) {
      if (err instanceof WampError) throw new autobahn.Error(err.uri, err.args, err.kwargs);
      this.log.warn({ procedure: entry.procedure, err: (err as Error)?.message ?? String(err) }, 'handler failed');
      throw new autobahn.Error('wamp.error.runtime_error', [(err as Error)?.message ?? String(err)]);
    }
  }

  private onConnectionClosed(reason: string, details: Record<string, unknown>): void {
    const wasReady = this.ready;
    this.generation++;
    this.ready = false;
    this.session = null;
    if (this.repairTimer) { clearTimeout(this.repairTimer); this.repairTimer = null; }
    for (const e of this.registrations.values()) e.current = null;
    for (const e of this.subscriptions) e.current = null;
    for (const fail of [...this.inflight]) fail(new CallError('wamp.error.canceled', 'call', ['connection lost']));
    if (wasReady || details.reason) {
      this.log[this.closing ? 'debug' : 'warn']({ reason, wampReason: details.reason, message: details.message }, 'session closed');
    }
    for (const cb of [...this.closeCallbacks]) {
      try { cb(reason); } catch { /* ignore */ }
    }
    if (this.closing) return;
    const delay = this.retryDelay;
    const growth = this.options.retryDelayGrowth ?? 1.5;
    this.retryDelay = Math.min(this.retryDelay * growth, this.options.maxRetryDelay ?? 3);
    const jittered = delay * (0.9 + Math.random() * 0.2);
    this.log.debug({ delay: jittered }, 'reconnecting');
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.closing || !this.conn) return;
      try {
        this.conn.open();
      } catch (err) {
        this.log.warn({ err: String(err) }, 'reopen failed');
      }
    }, jittered * 1000);
  }

  private finalClose(): void {
    this.closed = true;
    if (this.removeSocketErrorListener) { this.removeSocketErrorListener(); this.removeSocketErrorListener = null; }
    if (this.signalHandler) {
      process.removeListener('SIGINT', this.signalHandler);
      process.removeListener('SIGTERM', this.signalHandler);
      this.signalHandler = null;
    }
  }
}

/** Creates and starts a client. */
export function createClient(options: ClientOptions): SisockClient {
  return new SisockClient(options).start();
}
