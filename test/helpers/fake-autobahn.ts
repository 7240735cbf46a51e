/**
 * A scripted stand-in for autobahn-js, so that the real SisockClient (and what runs over it) can be
 * driven through a session's set-up step by step. A test file installs it with
 *   jest.mock('autobahn', () => jest.requireActual('../helpers/fake-autobahn').fakeAutobahn);
 * then joins sessions by hand: `lastConnection().onopen(session, {})`, loses them with `lose()`.
 * Connection.open() does nothing (no socket): sessions exist only when the test joins them.
 */
import type {
  AbConnection,
  AbEventDetails,
  AbInvocation,
  AbRegistration,
  AbSession,
  AbSubscription,
  AutobahnModule,
} from '../../client/autobahn-types';

type EventFn = (args: unknown[], kwargs: Record<string, unknown>, details: AbEventDetails) => void;
type Endpoint = (args: unknown[], kwargs: Record<string, unknown>, details: AbInvocation) => unknown;

/**
 * A session whose SUBSCRIBE/REGISTER are answered at once, except those of the URIs in `hold`:
 * those wait until the test calls the answer `asked(uri)` resolves with (never, like autobahn, when the session is lost).
 */
export class FakeSession implements AbSession {
  isOpen = true;
  /** topics and procedures the "router" confirmed, in order */
  readonly made: string[] = [];
  readonly handlers = new Map<string, EventFn>();
  readonly endpoints = new Map<string, Endpoint>();
  readonly hold = new Set<string>();
  /** every SUBSCRIBE/REGISTER the client sent, by URI, in order (answered or not) */
  readonly asks: string[] = [];
  /** URI → error URI: the next request for it is refused with that error (once) */
  readonly failOnce = new Map<string, string>();
  /** procedure → answer of a CALL (a function of its args; throwing rejects it); others: no_such_procedure */
  readonly answers = new Map<string, (args: unknown[]) => unknown>();
  private readonly waiting = new Map<string, (answer: () => void) => void>();
  private readonly held = new Map<string, () => void>();
  private nextId = 1;

  constructor(readonly id: number) {}

  /** Resolves with the function that answers the held request for `uri`, once the client sent it. */
  asked(uri: string): Promise<() => void> {
    const h = this.held.get(uri);
    if (h) return Promise.resolve(h);
    return new Promise((resolve) => this.waiting.set(uri, resolve));
  }

  /** Delivers an EVENT to the handler the client subscribed `topic` with (throws when it did not). */
  event(topic: string, args: unknown[]): void {
    const h = this.handlers.get(topic);
    if (!h) throw new Error(`not subscribed to ${topic} on session ${this.id}`);
    h(args, {}, { publication: this.nextId++, topic });
  }

  private request<T>(uri: string, confirm: () => T): Promise<T> {
    this.asks.push(uri);
    const refusal = this.failOnce.get(uri);
    if (refusal !== undefined) {
      this.failOnce.delete(uri);
      return Promise.reject(new FakeError(refusal, [uri]));
    }
    return new Promise<T>((resolve) => {
      const answer = () => resolve(confirm());
      if (!this.hold.has(uri)) return answer();
      this.held.set(uri, answer);
      this.waiting.get(uri)?.(answer);
    });
  }

  subscribe(topic: string, handler: EventFn): Promise<AbSubscription> {
    return this.request(topic, () => {
      this.made.push(topic);
      this.handlers.set(topic, handler);
      return { id: this.nextId++, topic, active: true };
    });
  }

  register(procedure: string, endpoint: Endpoint): Promise<AbRegistration> {
    return this.request(procedure, () => {
      this.made.push(procedure);
      this.endpoints.set(procedure, endpoint);
      return { id: this.nextId++, procedure, active: true };
    });
  }

  async unsubscribe(sub: AbSubscription): Promise<unknown> {
    this.handlers.delete(sub.topic);
    return null;
  }

  async unregister(reg: AbRegistration): Promise<unknown> {
    this.endpoints.delete(reg.procedure);
    return null;
  }

  async call(procedure: string, args: unknown[] = []): Promise<unknown> {
    const a = this.answers.get(procedure);
    if (!a) throw new FakeError('wamp.error.no_such_procedure', [procedure]);
    return a(args);
  }

  async publish(): Promise<unknown> {
    return null;
  }

  leave(): void {}
}

export class FakeConnection implements AbConnection {
  static readonly all: FakeConnection[] = [];
  onopen: AbConnection['onopen'] = null;
  onclose: AbConnection['onclose'] = null;
  isOpen = false;
  session: AbSession | null = null;

  constructor(readonly options: Record<string, unknown>) {
    FakeConnection.all.push(this);
  }

  open(): void {}

  /** The session joins (as autobahn calls onopen). */
  join(session: FakeSession): void {
    this.isOpen = true;
    this.session = session;
    this.onopen?.(session, {});
  }

  /** The session is lost (the socket dropped): autobahn calls onclose. */
  lose(): void {
    if (this.session) (this.session as FakeSession).isOpen = false;
    this.isOpen = false;
    this.session = null;
    this.onclose?.('lost', {});
  }

  close(): void {
    this.lose();
  }
}

export function lastConnection(): FakeConnection {
  const c = FakeConnection.all[FakeConnection.all.length - 1];
  if (!c) throw new Error('no connection made yet (client not started?)');
  return c;
}

class FakeResult {
  constructor(
    readonly args: unknown[] = [],
    readonly kwargs: Record<string, unknown> = {},
  ) {}
}

/** A WAMP error as autobahn hands it over (`error`, `args`, `kwargs`). */
class FakeError extends Error {
  constructor(
    readonly error: string,
    readonly args: unknown[] = [],
    readonly kwargs: Record<string, unknown> = {},
  ) {
    super(error);
  }
}

export const fakeAutobahn: AutobahnModule = {
  Connection: FakeConnection,
  Result: FakeResult,
  Error: FakeError,
  auth_cra: {
    sign: () => '',
    derive_key: () => '',
  },
  serializer: { JSONSerializer: class {} },
  log: { warn: () => {}, debug: () => {} },
};
