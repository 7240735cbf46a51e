/**
 * SisockClient: the one typed wrapper over autobahn-js used by every sisock program.
 *
 *  - connects over ws:// or wss:// (custom CA via `options.ca`), anonymous, ticket or WAMP-CRA
 *    (salted or unsalted);
 *  - reconnects forever with capped exponential backoff, whatever ended the session (router down,
 *    refused handshake, router GOODBYE on shutdown), until `close()`;
 *  - registrations and subscriptions made through it are persistent: they are made again on every
 *    new session, and `onOpen` callbacks run after that (e.g. a data node re-announces itself);
 *    one asked for while a new session is being set up (e.g. from an event handler of a
 *    subscription already made on it) is made on that session too, before it is ready;
 *  - a REGISTER/SUBSCRIBE pending when the session is lost does not hang (autobahn would leave it
 *    pending): the entry stays, and the next session makes it;
 *  - calls made while disconnected wait up to `connectWaitMs` for a session; calls pending when the
 *    session is lost are rejected (autobahn would leave them hanging);
 *  - errors from the peer come back as `CallError` (`.uri`, `.args`, `.kwargs`); handlers signal a
 *    WAMP error by throwing `HandlerError(uri, message)` (a SisockError INVALID_ARGUMENT becomes
 *    `wamp.error.invalid_argument`); any other exception is logged and the caller gets a generic
 *    `wamp.error.runtime_error` (its message may hold paths, SQL or connection strings);
 *  - a registration/subscription the router refuses for good (not_authorized, invalid_uri, …) is
 *    logged once and reported to `onError` callbacks, not retried on that session; one that can
 *    heal (procedure_already_exists: an old session not yet dropped) is retried every second;
 *  - `installSignalHandlers()`: SIGINT/SIGTERM → GOODBYE → exit 0.
 */
import './websocket-shim';
import { setSocketOptions, onSocketError } from './websocket-shim';
import type { ClientOptions as WsClientOptions } from 'ws';
import { ErrorCode, SisockError } from '../common/errors';
import { CloseUri, ErrorUri } from '../wamp/errors';
import { silentLogger, type Logger } from '../common/log';
import { ReadyGate } from '../common/ready';
import type { AbConnection, AbDeferred, AbInvocation, AbRegistration, AbSession, AbSubscription, AutobahnModule } from './autobahn-types';
import type { ClientOptions } from './options';

const autobahn = require('autobahn') as AutobahnModule;

/**
 * A WAMP error a handler throws on purpose; becomes an ERROR with this URI and args [message], so
 * the message must be fit for the caller. (Not `wamp/wamp-error.ts`'s WampError, the router's.)
 */
export class HandlerError extends Error {
  readonly args: unknown[];
  constructor(
    readonly uri: string,
    message: string,
    readonly kwargs: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'HandlerError';
    this.args = [message];
  }
}

/** What an `onError` callback is told about: a registration or subscription the router refused for good. */
export interface RefusalInfo {
  kind: 'register' | 'subscribe';
  /** The procedure or topic. */
  uri: string;
}

/**
 * Errors of REGISTER/SUBSCRIBE that can heal by themselves, so the client retries them: an old
 * session of ours still holds the procedure (the router has not dropped it yet), or the request
 * was lost with the session. Everything else (not_authorized, invalid_uri, option_not_allowed, …)
 * is refused for good.
 */
const RETRYABLE: ReadonlySet<string> = new Set<string>([
  ErrorUri.PROCEDURE_ALREADY_EXISTS,
  ErrorUri.PROCEDURE_EXISTS_WITH_DIFFERENT_INVOCATION_POLICY,
  ErrorUri.CANCELED,
  ErrorUri.TIMEOUT,
  ErrorUri.NO_SESSION,
  ErrorUri.NETWORK_FAILURE,
  ErrorUri.UNAVAILABLE,
  ErrorUri.RUNTIME_ERROR,
]);

function isRetryable(err: unknown): boolean {
  return !(err instanceof CallError) || RETRYABLE.has(err.uri);
}

/** A call that the router or callee answered with an ERROR, or that could not be made. */
export class CallError extends SisockError {
  constructor(
    readonly uri: string,
    readonly procedure: string,
    readonly args: unknown[] = [],
    readonly kwargs: Record<string, unknown> = {},
  ) {
    super(
      ErrorCode.CALL_FAILED,
      `${procedure}: ${uri}${args.length ? ` (${args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join('; ')})` : ''}`,
    );
    this.name = 'CallError';
  }
}

/** Several positional and/or keyword results (a handler returns one to yield more than one value). */
export class CallResult {
  constructor(
    readonly args: unknown[] = [],
    readonly kwargs: Record<string, unknown> = {},
  ) {}
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
export interface Handle {
  remove(): Promise<void>;
}

/**
 * `refusedIn`: the generation (session) on which the router refused it for good; not retried there.
 * `triedIn`: the last generation whose set-up (restore) tried to make it.
 */
interface RegEntry {
  procedure: string;
  handler: Handler;
  options: Record<string, unknown>;
  current: AbRegistration | null;
  refusedIn?: number;
  triedIn?: number;
  /** The session generation a REGISTER of it is on its way in (the repair pass must not send a second). */
  making?: number;
}
interface SubEntry {
  topic: string;
  handler: EventHandler;
  options: Record<string, unknown>;
  current: AbSubscription | null;
  refusedIn?: number;
  triedIn?: number;
  /** The session generation a SUBSCRIBE of it is on its way in (the repair pass must not send a second). */
  making?: number;
}

/** A deferred with progress, so that progressive call results reach the caller (autobahn calls notify). */
function progressDeferred(): AbDeferred {
  let resolve!: (v: unknown) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<unknown>((res, rej) => {
    resolve = res;
    reject = rej;
  }) as AbDeferred['promise'];
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
      if (listener) listener(v);
      else pending.push(v);
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
  /** Whether a retry of refused registrations/subscriptions is scheduled on this session. */
  get retryPending(): boolean {
    return this.repairTimer !== null;
  }
  /** procedure → entry (persistent registrations). */
  private readonly registrations = new Map<string, RegEntry>();
  private readonly subscriptions = new Set<SubEntry>();
  private readonly openCallbacks = new Set<(client: SisockClient) => void | Promise<void>>();
  private readonly closeCallbacks = new Set<(reason: string, abort?: { reason?: string; message?: string }) => void>();
  private readonly errorCallbacks = new Set<(err: CallError, info: RefusalInfo) => void>();
  /** Open while a session is joined and the persistent registrations/subscriptions are made. */
  private readonly ready = new ReadyGate(
    (ms) =>
      new SisockError(ErrorCode.CONNECT_FAILED, `no WAMP session with ${this.options.url} (realm ${this.options.realm}) after ${ms} ms`),
  );
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
    if (this.started || this.closing) return this;
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
      on_user_error: (err: unknown, msg?: string) =>
        this.log.debug({ err: String((err as Error)?.message ?? err) }, msg ?? 'handler error'),
      on_internal_error: (err: unknown, msg?: string) =>
        this.log.warn({ err: String((err as Error)?.message ?? err) }, msg ?? 'autobahn internal error'),
    });
    this.conn.onopen = (session) => {
      void this.onJoin(session);
    };
    this.conn.onclose = (reason, details) => {
      this.onConnectionClosed(reason, details);
      return true;
    };
    this.log.debug({ url: o.url, realm: o.realm }, 'connecting');
    this.conn.open();
    return this;
  }

  /** `<base>.<suffix>` */
  uri(suffix: string): string {
    return `${this.options.uriBase}.${suffix}`;
  }

  get isReady(): boolean {
    return this.ready.isOpen && this.session !== null && this.session.isOpen;
  }

  /** The current WAMP session id, or null when disconnected. */
  get sessionId(): number | null {
    return this.session && this.session.isOpen ? this.session.id : null;
  }

  /**
   * Resolves once a session is open and the persistent registrations/subscriptions are made
   * (starts the client if needed). Rejects after `timeoutMs` (default: wait forever), and when
   * the client is closed.
   */
  whenReady(timeoutMs?: number): Promise<void> {
    this.start();
    if (this.isReady) return Promise.resolve();
    return this.ready.wait(timeoutMs);
  }

  /** Runs `cb` after every join (once the persistent registrations are made). Returns an undo. */
  onOpen(cb: (client: SisockClient) => void | Promise<void>): () => void {
    this.openCallbacks.add(cb);
    return () => this.openCallbacks.delete(cb);
  }

  /** `cb(reason, abort)`: `abort` carries the router's ABORT/GOODBYE reason URI and message, when it sent one. */
  onClose(cb: (reason: string, abort?: { reason?: string; message?: string }) => void): () => void {
    this.closeCallbacks.add(cb);
    return () => this.closeCallbacks.delete(cb);
  }

  /**
   * Runs `cb` when the router refuses a persistent registration/subscription for good while it is
   * being made again on a (new) session (e.g. not_authorized); it is not retried on that session.
   * A refusal while `register`/`subscribe` is awaited rejects that promise instead. Returns an undo.
   */
  onError(cb: (err: CallError, info: RefusalInfo) => void): () => void {
    this.errorCallbacks.add(cb);
    return () => this.errorCallbacks.delete(cb);
  }

  async call<T = unknown>(
    procedure: string,
    args: unknown[] = [],
    kwargs: Record<string, unknown> = {},
    opts: CallOptions = {},
  ): Promise<T> {
    if (!this.isReady) {
      if (this.closing) throw new CallError(ErrorUri.CANCELED, procedure, ['client closed']);
      try {
        await this.whenReady(this.options.connectWaitMs ?? 10000);
      } catch (err) {
        throw new CallError(ErrorUri.NO_SESSION, procedure, [(err as Error).message]);
      }
    }
    const session = this.session!;
    const options: Record<string, unknown> = { ...(opts.wamp ?? {}) };
    if (opts.onProgress) options.receive_progress = true;
    return new Promise<T>((resolve, reject) => {
      let timer: NodeJS.Timeout | null = null;
      let p: AbDeferred['promise'];
      const fail = (err: Error) => {
        finish();
        reject(err);
      };
      const finish = () => {
        if (timer) clearTimeout(timer);
        this.inflight.delete(fail);
      };
      this.inflight.add(fail);
      try {
        p = session.call(procedure, args, kwargs, options) as AbDeferred['promise'];
      } catch (err) {
        fail(new CallError(ErrorUri.NO_SESSION, procedure, [String(err)]));
        return;
      }
      if (opts.onProgress && p.progress) {
        const cb = opts.onProgress;
        p.progress((v) => {
          try {
            cb(v);
          } catch (err) {
            this.log.warn({ err: (err as Error).message }, 'progress callback threw');
          }
        });
      }
      if (opts.timeoutMs !== undefined) {
        timer = setTimeout(() => {
          try {
            (p as unknown as { cancel?: (o: unknown) => void }).cancel?.({ mode: 'kill' });
          } catch {
            /* session may be gone */
          }
          fail(new CallError(ErrorUri.TIMEOUT, procedure, [`no answer within ${opts.timeoutMs} ms`]));
        }, opts.timeoutMs);
      }
      p.then(
        (v) => {
          finish();
          resolve(v as T);
        },
        (e) => {
          finish();
          const err = e as { error?: string; args?: unknown[]; kwargs?: Record<string, unknown> };
          if (err && typeof err.error === 'string') reject(new CallError(err.error, procedure, err.args ?? [], err.kwargs ?? {}));
          else reject(new CallError(ErrorUri.RUNTIME_ERROR, procedure, [String(e)]));
        },
      );
    });
  }

  /** Publishes; a no-op (logged) while disconnected. With `acknowledge`, waits for the router. */
  async publish(
    topic: string,
    args: unknown[] = [],
    kwargs: Record<string, unknown> = {},
    options: Record<string, unknown> = {},
  ): Promise<void> {
    const s = this.session;
    if (!s || !s.isOpen) {
      this.log.debug({ topic }, 'publish dropped: not connected');
      return;
    }
    try {
      await s.publish(topic, args, kwargs, options);
    } catch (e) {
      const err = e as { error?: string; args?: unknown[] };
      throw new CallError(err?.error ?? ErrorUri.RUNTIME_ERROR, topic, err?.args ?? [String(e)]);
    }
  }

  /**
   * Registers `procedure` now (if connected) and again on every new session. Resolves once the
   * current session holds it (or at once when no session is ready: the one being set up, or the
   * next, makes it before it is ready); rejects if the router refuses it.
   */
  async register(procedure: string, handler: Handler, options: Record<string, unknown> = {}): Promise<Handle> {
    if (this.registrations.has(procedure)) throw new SisockError(ErrorCode.INVALID_ARGUMENT, `already registered: ${procedure}`);
    const entry: RegEntry = { procedure, handler, options, current: null };
    this.registrations.set(procedure, entry);
    return this.persist(
      entry,
      () => this.registrations.delete(procedure),
      (s) => this.doRegister(s, entry),
      (s, cur) => s.unregister(cur),
    );
  }

  async subscribe(topic: string, handler: EventHandler, options: Record<string, unknown> = {}): Promise<Handle> {
    const entry: SubEntry = { topic, handler, options, current: null };
    this.subscriptions.add(entry);
    return this.persist(
      entry,
      () => this.subscriptions.delete(entry),
      (s) => this.doSubscribe(s, entry),
      (s, cur) => s.unsubscribe(cur),
    );
  }

  /**
   * The handle of a persistent registration/subscription `entry` (already in its table; `forget`
   * takes it out): made now when a session is ready, and forgotten again if the router refuses it.
   * When none is ready it is made by the set-up of the session (onJoin: the one being set up now,
   * or the next). When the session is lost before the router answered, it stays, for the next one.
   */
  private async persist<C>(
    entry: { current: C | null },
    forget: () => void,
    make: (session: AbSession) => Promise<void>,
    undo: (session: AbSession, current: C) => Promise<unknown>,
  ): Promise<Handle> {
    const handle: Handle = {
      remove: async () => {
        forget();
        const cur = entry.current;
        entry.current = null;
        if (cur && this.session?.isOpen) await undo(this.session, cur).catch(() => {});
      },
    };
    if (this.isReady) {
      const gen = this.generation;
      try {
        await make(this.session!);
      } catch (err) {
        if (gen !== this.generation && !this.closing) return handle; // session lost meanwhile: the next one makes it
        forget();
        throw err;
      }
    }
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
    this.ready.close(new SisockError(ErrorCode.CONNECT_FAILED, `client of ${this.options.url} (realm ${this.options.realm}) closed`));
    this.closedPromise = new Promise<void>((resolve) => {
      const conn = this.conn;
      if (!conn || this.closed) {
        this.finalClose();
        resolve();
        return;
      }
      const giveUp = setTimeout(() => {
        this.finalClose();
        resolve();
      }, 2000);
      this.closeCallbacks.add(() => {
        clearTimeout(giveUp);
        this.finalClose();
        resolve();
      });
      try {
        conn.close(CloseUri.NORMAL);
      } catch {
        clearTimeout(giveUp);
        this.finalClose();
        resolve();
      }
    });
    return this.closedPromise;
  }

  /**
   * SIGINT/SIGTERM: GOODBYE, then exit 0. Returns an undo. Calling it again replaces the handlers
   * installed before (one pair of listeners at most).
   */
  installSignalHandlers(exit: (code: number) => void = (c) => process.exit(c)): () => void {
    this.removeSignalHandlers();
    const handler = () => {
      this.log.info('signal received, closing');
      void this.close().finally(() => exit(0));
    };
    this.signalHandler = handler;
    process.once('SIGINT', handler);
    process.once('SIGTERM', handler);
    return () => {
      if (this.signalHandler === handler) this.removeSignalHandlers();
    };
  }

  private removeSignalHandlers(): void {
    const handler = this.signalHandler;
    if (!handler) return;
    process.removeListener('SIGINT', handler);
    process.removeListener('SIGTERM', handler);
    this.signalHandler = null;
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
    // Until the gate opens, register()/subscribe() leave making new entries to this set-up (e.g. an
    // event handler of a subscription just made asks for another one): so another pass makes the
    // entries the last one did not see, and the check that none is left is synchronous with open().
    for (;;) {
      await this.restore(session, gen, true);
      if (gen !== this.generation || this.closing) return;
      if (!this.untried(gen)) break;
    }
    this.ready.open();
    for (const cb of [...this.openCallbacks]) {
      try {
        await cb(this);
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'onOpen callback failed');
      }
      if (gen !== this.generation) return;
    }
  }

  /** Whether a persistent registration/subscription was not yet tried on session `gen` (added during its set-up). */
  private untried(gen: number): boolean {
    for (const e of this.registrations.values()) if (!e.current && e.triedIn !== gen) return true;
    for (const e of this.subscriptions) if (!e.current && e.triedIn !== gen) return true;
    return false;
  }

  /**
   * Makes every persistent registration/subscription missing on `session` (with `onlyUntried`,
   * those not yet tried on it); retries the failures that can heal, reports the others once (see RETRYABLE).
   */
  private async restore(session: AbSession, gen: number, onlyUntried = false): Promise<void> {
    let failed = false;
    const attempt = async (kind: RefusalInfo['kind'], uri: string, entry: RegEntry | SubEntry, make: () => Promise<void>) => {
      // `making`: a register()/subscribe() on the ready session is waiting for the router's answer
      if (entry.current || entry.making === gen || entry.refusedIn === gen || (onlyUntried && entry.triedIn === gen)) return;
      entry.triedIn = gen;
      try {
        await make();
      } catch (err) {
        if (gen !== this.generation) return;
        if (isRetryable(err)) {
          failed = true;
          this.log.warn({ [kind === 'register' ? 'procedure' : 'topic']: uri, err: (err as Error).message }, `${kind} failed; will retry`);
          return;
        }
        entry.refusedIn = gen;
        this.refused(err as CallError, { kind, uri });
      }
    };
    for (const entry of [...this.registrations.values()]) {
      if (gen !== this.generation) return;
      await attempt('register', entry.procedure, entry, () => this.doRegister(session, entry));
    }
    for (const entry of [...this.subscriptions]) {
      if (gen !== this.generation) return;
      await attempt('subscribe', entry.topic, entry, () => this.doSubscribe(session, entry));
    }
    if (failed && !this.closing && gen === this.generation && !this.repairTimer) {
      // e.g. a procedure still held by a session the router has not yet dropped
      this.repairTimer = setTimeout(() => {
        this.repairTimer = null;
        if (gen === this.generation && session.isOpen) void this.restore(session, gen);
      }, 1000);
    }
  }

  /** A refusal for good: logged and reported once per session, not retried on it. */
  private refused(err: CallError, info: RefusalInfo): void {
    this.log.error(
      { [info.kind === 'register' ? 'procedure' : 'topic']: info.uri, err: err.message },
      `${info.kind} refused by the router; not retried on this session`,
    );
    for (const cb of [...this.errorCallbacks]) {
      try {
        cb(err, info);
      } catch (e) {
        this.log.warn({ err: (e as Error)?.message ?? String(e) }, 'onError callback threw');
      }
    }
  }

  private async doRegister(session: AbSession, entry: RegEntry): Promise<void> {
    const endpoint = (args: unknown[], kwargs: Record<string, unknown>, d: AbInvocation) => this.invoke(entry, args, kwargs, d);
    const gen = (entry.making = this.generation);
    try {
      const reg = await this.untilLost(session.register(entry.procedure, endpoint, entry.options), entry.procedure);
      if (this.registrations.get(entry.procedure) !== entry) {
        await session.unregister(reg).catch(() => {});
        return;
      }
      entry.current = reg;
    } catch (e) {
      if (e instanceof CallError) throw e;
      const err = e as { error?: string; args?: unknown[] };
      throw new CallError(err?.error ?? ErrorUri.RUNTIME_ERROR, entry.procedure, err?.args ?? [String(e)]);
    } finally {
      if (entry.making === gen) delete entry.making;
    }
  }

  /**
   * `p` (a REGISTER/SUBSCRIBE), rejected with CANCELED when the session is lost first: autobahn
   * leaves such a request pending for ever.
   */
  private untilLost<T>(p: Promise<T>, uri: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const lost = () => {
        this.inflight.delete(lost);
        reject(new CallError(ErrorUri.CANCELED, uri, ['connection lost']));
      };
      this.inflight.add(lost);
      p.then(
        (v) => {
          this.inflight.delete(lost);
          resolve(v);
        },
        (e: unknown) => {
          this.inflight.delete(lost);
          reject(e);
        },
      );
    });
  }

  private async doSubscribe(session: AbSession, entry: SubEntry): Promise<void> {
    const h = (args: unknown[], kwargs: Record<string, unknown>, d: { topic?: string; publisher?: number }) => {
      try {
        entry.handler(args ?? [], kwargs ?? {}, { topic: d?.topic ?? entry.topic, publisher: d?.publisher });
      } catch (err) {
        this.log.warn({ topic: entry.topic, err: (err as Error).message }, 'event handler threw');
      }
    };
    const gen = (entry.making = this.generation);
    try {
      const sub = await this.untilLost(session.subscribe(entry.topic, h, entry.options), entry.topic);
      if (!this.subscriptions.has(entry)) {
        await session.unsubscribe(sub).catch(() => {});
        return;
      }
      entry.current = sub;
    } catch (e) {
      if (e instanceof CallError) throw e;
      const err = e as { error?: string; args?: unknown[] };
      throw new CallError(err?.error ?? ErrorUri.RUNTIME_ERROR, entry.topic, err?.args ?? [String(e)]);
    } finally {
      if (entry.making === gen) delete entry.making;
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
      if (err instanceof HandlerError) throw new autobahn.Error(err.uri, err.args, err.kwargs);
      if (err instanceof SisockError && err.code === ErrorCode.INVALID_ARGUMENT)
        throw new autobahn.Error(ErrorUri.INVALID_ARGUMENT, [err.message]);
      // Anything else may carry SQL, file paths or connection strings: the detail stays in our log.
      this.log.error(
        { procedure: entry.procedure, err: (err as Error)?.message ?? String(err), stack: (err as Error)?.stack },
        'handler failed',
      );
      throw new autobahn.Error(ErrorUri.RUNTIME_ERROR, [`internal error in ${entry.procedure}; see the callee's log`]);
    }
  }

  private onConnectionClosed(reason: string, details: Record<string, unknown>): void {
    const wasReady = this.ready.isOpen;
    this.generation++;
    this.ready.reset();
    this.session = null;
    if (this.repairTimer) {
      clearTimeout(this.repairTimer);
      this.repairTimer = null;
    }
    for (const e of this.registrations.values()) e.current = null;
    for (const e of this.subscriptions) e.current = null;
    for (const fail of [...this.inflight]) fail(new CallError(ErrorUri.CANCELED, 'call', ['connection lost']));
    if (wasReady || details.reason) {
      this.log[this.closing ? 'debug' : 'warn']({ reason, wampReason: details.reason, message: details.message }, 'session closed');
    }
    for (const cb of [...this.closeCallbacks]) {
      const abort = {
        reason: typeof details.reason === 'string' ? details.reason : undefined,
        message: typeof details.message === 'string' ? details.message : undefined,
      };
      try {
        cb(reason, abort);
      } catch {
        /* ignore */
      }
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
    if (this.removeSocketErrorListener) {
      this.removeSocketErrorListener();
      this.removeSocketErrorListener = null;
    }
    this.removeSignalHandlers();
  }
}

/** Creates and starts a client. */
export function createClient(options: ClientOptions): SisockClient {
  return new SisockClient(options).start();
}
