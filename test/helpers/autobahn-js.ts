/**
 * autobahn-js (npm `autobahn`, a WAMP client nobody here wrote) loaded for Node 20: it expects a
 * global WebSocket, and attaches no `error` listener to it, so a refused handshake would throw
 * from the `ws` EventEmitter; the subclass below swallows `error` (a `close` event follows it,
 * which autobahn handles).
 */
import WebSocket from 'ws';
import type { AbSession as ClientAbSession } from '../../client/autobahn-types';

class QuietWebSocket extends WebSocket {
  constructor(address: string, protocols?: string | string[]) {
    super(address, protocols);
    this.on('error', () => {});
  }
}
(globalThis as { WebSocket?: unknown }).WebSocket = QuietWebSocket;

export const autobahn = require('autobahn') as AutobahnModule;

// autobahn-js warns through console on every connection close; quiet unless AUTOBAHN_DEBUG is set.
if (!process.env.AUTOBAHN_DEBUG) {
  (require('autobahn/lib/log.js') as { warn: (...a: unknown[]) => void }).warn = () => {};
}

/*
 * Minimal typings of the parts of autobahn-js these tests use. id, isOpen, publish and leave are the
 * client's (client/autobahn-types.ts); call (generic, cancelable), register and subscribe (loose
 * details) are typed wider here for the tests.
 */
export interface AbSession extends Pick<ClientAbSession, 'id' | 'isOpen' | 'publish' | 'leave'> {
  call<T = unknown>(procedure: string, args?: unknown[], kwargs?: Record<string, unknown>, options?: Record<string, unknown>): AbPromise<T>;
  register(
    procedure: string,
    endpoint: (args: unknown[], kwargs: Record<string, unknown>, details: AbDetails) => unknown,
    options?: Record<string, unknown>,
  ): Promise<{ id: number }>;
  subscribe(
    topic: string,
    handler: (args: unknown[], kwargs: Record<string, unknown>, details: AbDetails) => void,
    options?: Record<string, unknown>,
  ): Promise<{ id: number }>;
}
export interface AbPromise<T> extends PromiseLike<T> {
  then<R1 = T, R2 = never>(
    onOk?: ((v: T) => R1 | PromiseLike<R1>) | null,
    onErr?: ((e: unknown) => R2 | PromiseLike<R2>) | null,
    onProgress?: (p: unknown) => void,
  ): PromiseLike<R1 | R2>;
  cancel(options?: { mode?: 'skip' | 'kill' | 'killnowait' }): void;
}
export interface AbDetails {
  topic?: string;
  procedure?: string;
  progress?: ((args?: unknown[], kwargs?: Record<string, unknown>) => void) | null;
  [k: string]: unknown;
}
export interface AbError {
  error: string;
  args: unknown[];
  kwargs: Record<string, unknown>;
}
interface AbConnection {
  onopen: ((s: AbSession, details: Record<string, unknown>) => void) | null;
  onclose: ((reason: string, details: Record<string, unknown>) => boolean | void) | null;
  open(): void;
  close(reason?: string, message?: string): void;
  isOpen: boolean;
}
interface AutobahnModule {
  Connection: new (opts: Record<string, unknown>) => AbConnection;
  Result: new (args?: unknown[], kwargs?: Record<string, unknown>) => { args: unknown[]; kwargs: Record<string, unknown> };
  Error: new (error: string, args?: unknown[], kwargs?: Record<string, unknown>) => AbError;
  serializer: { JSONSerializer: new () => unknown; MsgpackSerializer: new () => unknown; CBORSerializer: new () => unknown };
  auth_cra: {
    sign(key: string, challenge: string): string;
    derive_key(secret: string, salt: string, iterations?: number, keylen?: number): string;
  };
}

export interface JsAuth {
  authmethod: 'wampcra' | 'ticket';
  authid: string;
  secret: string;
}

export interface Opened {
  session: AbSession;
  details: Record<string, unknown>;
  close(): Promise<void>;
}

/** Thrown when the router refused the join: `reason` is the ABORT reason. */
export class JoinRefused extends Error {
  constructor(
    readonly reason: string,
    readonly closeReason: string,
    message: string,
  ) {
    super(`${closeReason}: ${reason} ${message}`);
  }
}

const open = new Set<Opened>();

function makeSerializer(name: 'json' | 'msgpack' | 'cbor'): unknown {
  const S = autobahn.serializer;
  if (name === 'json') return new S.JSONSerializer();
  if (name === 'msgpack') return new S.MsgpackSerializer();
  return new S.CBORSerializer();
}

/** Opens a connection (no retries) and resolves once joined. */
export function connect(url: string, realm: string, serializer: 'json' | 'msgpack' | 'cbor', auth?: JsAuth): Promise<Opened> {
  return new Promise((resolve, reject) => {
    let joined = false;
    let closedResolve: () => void = () => {};
    const closed = new Promise<void>((r) => {
      closedResolve = r;
    });
    const opts: Record<string, unknown> = {
      url,
      realm,
      protocols: [`wamp.2.${serializer}`],
      serializers: [makeSerializer(serializer)],
      max_retries: 0,
      retry_if_unreachable: false,
      initial_retry_delay: 0.01,
    };
    if (auth) {
      opts.authmethods = [auth.authmethod];
      opts.authid = auth.authid;
      opts.onchallenge = (_session: AbSession, method: string, extra: Record<string, unknown>): string => {
        if (method === 'ticket') return auth.secret;
        if (method === 'wampcra') {
          const key =
            typeof extra.salt === 'string'
              ? autobahn.auth_cra.derive_key(auth.secret, extra.salt, extra.iterations as number, extra.keylen as number)
              : auth.secret;
          return autobahn.auth_cra.sign(key, extra.challenge as string);
        }
        throw new Error(`unexpected challenge ${method}`);
      };
    }
    const c = new autobahn.Connection(opts);
    const handle: Opened = {
      session: undefined as unknown as AbSession,
      details: {},
      close: async () => {
        open.delete(handle);
        if (c.isOpen) {
          try {
            c.close();
          } catch {
            /* already closing */
          }
        }
        await closed;
      },
    };
    c.onopen = (session, details) => {
      joined = true;
      handle.session = session;
      handle.details = details;
      open.add(handle);
      resolve(handle);
    };
    c.onclose = (reason, details) => {
      closedResolve();
      if (!joined) reject(new JoinRefused(String(details?.reason ?? ''), reason, String(details?.message ?? '')));
      return true; // no reconnect
    };
    c.open();
  });
}

/** Closes every connection `connect` opened and that is still open. */
export async function closeAll(): Promise<void> {
  await Promise.all([...open].map((o) => o.close()));
}

/** Resolves after `n` calls of the returned function; the function records its arguments. */
export function collector<T>(n: number): { fn: (v: T) => void; items: T[]; done: Promise<T[]> } {
  const items: T[] = [];
  let res: (v: T[]) => void = () => {};
  const done = new Promise<T[]>((r) => {
    res = r;
  });
  return {
    fn: (v: T) => {
      items.push(v);
      if (items.length === n) res(items);
    },
    items,
    done,
  };
}

/** A promise and its resolver. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve: (v: T) => void = () => {};
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Awaits an autobahn promise and returns its rejection (or throws if it resolved). */
export async function rejection(p: PromiseLike<unknown>): Promise<AbError> {
  try {
    await p;
  } catch (e) {
    return e as AbError;
  }
  throw new Error('expected the call to fail');
}
