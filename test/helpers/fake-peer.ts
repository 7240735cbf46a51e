/**
 * Fake peers for unit tests: an in-memory Connection (JSON serializer by default) and a
 * FakeClient that joins a router and records everything the router sends it.
 */
import { MessageType as T, parseMessage, toArray, type Message, type Dict } from '../../wamp';
import type { Connection, Serializer, TransportInfo } from '../../transport/types';
import type { Router } from '../../router/router';
import type { AuthMethod } from '../../router/auth/types';

/** Minimal JSON serializer for tests that do not care about the wire format. */
export const testJson: Serializer = {
  name: 'json',
  subprotocol: 'wamp.2.json',
  rawsocketId: 1,
  binary: false,
  encode: (m) => Buffer.from(JSON.stringify(m)),
  decode: (f) => JSON.parse(f.toString('utf8')),
};

export class FakeConnection implements Connection {
  readonly info: TransportInfo = { type: 'websocket', protocol: 'wamp.2.json', peer: 'fake', tls: false };
  bufferedAmount = 0;
  /** Frames the router sent, in order. */
  readonly sent: Buffer[] = [];
  closed: { code?: number; reason?: string } | null = null;
  onMessage: (frame: Buffer) => void = () => {};
  onClose: (reason: string) => void = () => {};
  constructor(readonly serializer: Serializer = testJson) {}
  send(frame: Buffer): void {
    if (!this.closed) this.sent.push(frame);
  }
  close(code?: number, reason?: string): void {
    if (this.closed) return;
    this.closed = { code, reason };
    this.onClose(reason ?? '');
  }
  /** Delivers a raw frame to the router as if it came from the network. */
  deliver(frame: Buffer): void {
    this.onMessage(frame);
  }
  /** Simulates the peer dropping the connection. */
  drop(): void {
    this.close(1006, 'dropped');
  }
}

export const anonymousAuth: AuthMethod = {
  name: 'anonymous',
  hello: (info) => ({
    kind: 'welcome',
    identity: { authid: info.authid ?? 'anon', authrole: 'anonymous', authmethod: 'anonymous', authprovider: 'static' },
  }),
  authenticate: () => ({ kind: 'refuse', reason: 'wamp.error.authentication_failed', message: 'unexpected' }),
};

const CLIENT_ROLES = {
  caller: { features: { caller_identification: true, progressive_call_results: true, call_canceling: true, call_timeout: true } },
  callee: {
    features: {
      caller_identification: true,
      progressive_call_results: true,
      call_canceling: true,
      pattern_based_registration: true,
      shared_registration: true,
    },
  },
  publisher: { features: { publisher_identification: true, publisher_exclusion: true, subscriber_blackwhite_listing: true } },
  subscriber: { features: { publisher_identification: true, pattern_based_subscription: true } },
};

export class FakeClient {
  readonly conn: FakeConnection;
  private read = 0;
  sessionId = 0;
  private nextRequest = 0;

  constructor(
    readonly router: Router,
    auth: AuthMethod[] = [anonymousAuth],
    serializer?: Serializer,
  ) {
    this.conn = new FakeConnection(serializer);
    router.accept(this.conn, { methods: auth });
  }

  /** Joins `realm` and returns the WELCOME. */
  static join(router: Router, realm = 'realm1', details: Dict = {}, auth?: AuthMethod[]): FakeClient {
    const c = new FakeClient(router, auth);
    c.send({ type: T.HELLO, realm, details: { roles: CLIENT_ROLES, ...details } });
    const w = c.next();
    if (w.type !== T.WELCOME) throw new Error(`expected WELCOME, got ${JSON.stringify(toArray(w))}`);
    c.sessionId = w.session;
    return c;
  }

  send(m: Message): void {
    this.conn.deliver(this.conn.serializer.encode(toArray(m)));
  }
  sendRaw(arr: unknown[]): void {
    this.conn.deliver(this.conn.serializer.encode(arr));
  }
  req(): number {
    return ++this.nextRequest;
  }

  /** All messages received and not yet read. */
  drain(): Message[] {
    const out: Message[] = [];
    for (let f = this.conn.sent[this.read]; f !== undefined; f = this.conn.sent[++this.read])
      out.push(parseMessage(this.conn.serializer.decode(f)));
    return out;
  }
  /** The next unread message; throws if there is none. */
  next(): Message {
    const frame = this.conn.sent[this.read];
    if (frame === undefined) throw new Error('no message from the router');
    this.read++;
    return parseMessage(this.conn.serializer.decode(frame));
  }
  /** Whether there is an unread message. */
  get pending(): number {
    return this.conn.sent.length - this.read;
  }
}
