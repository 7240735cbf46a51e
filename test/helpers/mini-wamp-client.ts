/**
 * A small, strict WAMP client for integration tests (the fuzz test's well-behaved peers): WebSocket
 * with any of our serializers, anonymous join, register/call/subscribe, YIELD from handlers.
 * Every inbound frame is decoded and checked; anything unexpected is recorded in `problems`
 * instead of being thrown, so a test can assert on it.
 */
import WebSocket from 'ws';
import { MessageType as T } from '../../wamp';
import type { Serializer } from '../../transport/types';

type Dict = Record<string, unknown>;
type Handler = (args: unknown[], kwargs: Dict, details: Dict) => { args?: unknown[]; kwargs?: Dict } | void;

const ROLES = {
  caller: { features: { progressive_call_results: true, call_canceling: true, call_timeout: true } },
  callee: {
    features: { progressive_call_results: true, call_canceling: true, shared_registration: true, pattern_based_registration: true },
  },
  publisher: { features: { publisher_exclusion: true, subscriber_blackwhite_listing: true } },
  subscriber: { features: { pattern_based_subscription: true } },
};

export class WampCallError extends Error {
  constructor(
    readonly uri: string,
    readonly args: unknown[],
    readonly kwargs: Dict,
  ) {
    super(`${uri} ${JSON.stringify(args)}`);
  }
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export class MiniClient {
  sessionId = 0;
  /** Protocol problems seen (undecodable frames, unknown request IDs, ...). */
  readonly problems: string[] = [];
  /** Whether the connection is gone, and why. */
  closedReason: string | null = null;
  readonly closed: Promise<string>;
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly registrations = new Map<number, Handler>();
  private readonly subscriptions = new Map<number, Handler>();
  private welcome: Pending | null = null;

  private constructor(
    private readonly ws: WebSocket,
    readonly serializer: Serializer,
  ) {
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closedReason = `${code} ${reason.toString()}`;
        const err = new Error(`connection closed: ${this.closedReason}`);
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
        this.welcome?.reject(err);
        resolve(this.closedReason);
      });
    });
    ws.on('error', (e) => {
      this.problems.push(`socket error: ${e.message}`);
    });
    ws.on('message', (data: Buffer) => this.onFrame(data));
  }

  static connect(url: string, realm: string, serializer: Serializer): Promise<MiniClient> {
    const ws = new WebSocket(url, [serializer.subprotocol]);
    const c = new MiniClient(ws, serializer);
    return new Promise((resolve, reject) => {
      c.welcome = { resolve: () => resolve(c), reject };
      ws.once('open', () => c.send([T.HELLO, realm, { roles: ROLES }]));
    });
  }

  private send(msg: unknown[]): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.send(this.serializer.encode(msg), { binary: this.serializer.binary });
  }

  private req(): number {
    return ++this.nextId;
  }

  private request(msg: (id: number) => unknown[]): Promise<unknown> {
    const id = this.req();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.send(msg(id));
    });
  }

  private onFrame(data: Buffer): void {
    let m: unknown;
    try {
      m = this.serializer.decode(data);
    } catch (e) {
      this.problems.push(`undecodable frame: ${(e as Error).message}`);
      return;
    }
    if (!Array.isArray(m) || typeof m[0] !== 'number') {
      this.problems.push(`not a message: ${String(m).slice(0, 100)}`);
      return;
    }
    const take = (id: number): Pending | undefined => {
      const p = this.pending.get(id);
      if (!p) this.problems.push(`unknown request ${id} in ${JSON.stringify(m).slice(0, 200)}`);
      this.pending.delete(id);
      return p;
    };
    switch (m[0]) {
      case T.WELCOME:
        this.sessionId = m[1] as number;
        this.welcome?.resolve(undefined);
        this.welcome = null;
        return;
      case T.ABORT:
        this.welcome?.reject(new Error(`ABORT ${String(m[2])}`));
        this.welcome = null;
        return;
      case T.GOODBYE:
        this.send([T.GOODBYE, {}, 'wamp.close.goodbye_and_out']);
        return;
      case T.REGISTERED:
      case T.SUBSCRIBED:
      case T.PUBLISHED:
      case T.UNREGISTERED:
      case T.UNSUBSCRIBED:
        take(m[1] as number)?.resolve(m[2]);
        return;
      case T.RESULT: {
        if ((m[2] as Dict)?.progress) return;
        take(m[1] as number)?.resolve({ args: (m[3] as unknown[]) ?? [], kwargs: (m[4] as Dict) ?? {} });
        return;
      }
      case T.ERROR:
        take(m[2] as number)?.reject(new WampCallError(m[4] as string, (m[5] as unknown[]) ?? [], (m[6] as Dict) ?? {}));
        return;
      case T.INVOCATION: {
        const h = this.registrations.get(m[2] as number);
        if (!h) {
          this.problems.push(`INVOCATION for unknown registration ${String(m[2])}`);
          return;
        }
        try {
          const out = h((m[4] as unknown[]) ?? [], (m[5] as Dict) ?? {}, m[3] as Dict) ?? {};
          this.send([T.YIELD, m[1], {}, out.args ?? [], out.kwargs ?? {}]);
        } catch (e) {
          this.send([T.ERROR, T.INVOCATION, m[1], {}, 'test.error.handler', [String(e)]]);
        }
        return;
      }
      case T.INTERRUPT:
        // We announced call_canceling: answer the interrupt as a callee should.
        this.send([T.ERROR, T.INVOCATION, m[1], {}, 'wamp.error.canceled']);
        return;
      case T.EVENT: {
        const h = this.subscriptions.get(m[1] as number);
        if (!h) {
          this.problems.push(`EVENT for unknown subscription ${String(m[1])}`);
          return;
        }
        h((m[4] as unknown[]) ?? [], (m[5] as Dict) ?? {}, m[3] as Dict);
        return;
      }
      default:
        this.problems.push(`unexpected message type ${String(m[0])}`);
    }
  }

  async register(procedure: string, handler: Handler, options: Dict = {}): Promise<number> {
    const reg = (await this.request((id) => [T.REGISTER, id, options, procedure])) as number;
    this.registrations.set(reg, handler);
    return reg;
  }

  async subscribe(topic: string, handler: Handler, options: Dict = {}): Promise<number> {
    const sub = (await this.request((id) => [T.SUBSCRIBE, id, options, topic])) as number;
    this.subscriptions.set(sub, handler);
    return sub;
  }

  call(procedure: string, args: unknown[] = [], kwargs: Dict = {}, options: Dict = {}): Promise<{ args: unknown[]; kwargs: Dict }> {
    return this.request((id) => [T.CALL, id, options, procedure, args, kwargs]) as Promise<{ args: unknown[]; kwargs: Dict }>;
  }

  publish(topic: string, args: unknown[] = [], kwargs: Dict = {}, options: Dict = { acknowledge: true }): Promise<unknown> {
    return this.request((id) => [T.PUBLISH, id, options, topic, args, kwargs]);
  }

  get isOpen(): boolean {
    return this.closedReason === null;
  }

  /** GOODBYE, then waits for the connection to close (terminates it after 2 s). */
  async close(): Promise<void> {
    if (this.closedReason !== null) return;
    this.send([T.GOODBYE, {}, 'wamp.close.close_realm']);
    const t = setTimeout(() => this.ws.terminate(), 2000);
    this.ws.close(1000);
    await this.closed;
    clearTimeout(t);
  }
}
