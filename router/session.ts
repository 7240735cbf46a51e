/**
 * A joined WAMP session as the router sees it: identity, the connection it writes to, and the
 * outbound-queue policy. Routing state (subscriptions, registrations, pending calls) lives in the
 * broker and dealer, keyed by session ID, never here.
 */
import { MessageType as T } from '../wamp/codes';
import { toArray, type Dict, type Message } from '../wamp/messages';
import { IdSequence } from '../wamp/ids';
import type { Connection, Serializer, TransportInfo } from '../transport/types';
import { DISCARDED_STATS, type RouterStats } from './metrics';

export interface SessionIdentity {
  authid: string;
  authrole: string;
  authmethod: string;
  authprovider: string;
  /** Extra data from the authenticator, echoed in WELCOME.Details.authextra. */
  authextra?: Dict;
}

export interface SessionOptions {
  /**
   * Slow-consumer policy: when the bytes queued towards this session exceed this bound, the
   * session is closed with reason `sisock.close.slow_consumer` and its queue is dropped, so that
   * one stuck peer cannot make the router's memory grow without bound.
   */
  maxOutboundBytes: number;
  /** The router's counters (metrics.ts); default: counted nowhere. */
  stats?: RouterStats;
}

export class Session {
  /** Router-to-client INVOCATION IDs: the router's own sequence for this callee (WAMP 2.1.2). */
  readonly invocationIds = new IdSequence();
  /** HELLO.Details.roles as the client announced them. */
  readonly roles: Dict;
  /** Set once the session has left the realm; nothing is sent after that. */
  closed = false;
  /** Number of frames that were dropped because the session was closing. */
  dropped = 0;
  /** Called when the session's outbound queue overflows; the realm sets it to leave + close. */
  onOverflow: ((s: Session) => void) | null = null;
  /**
   * Router-initiated close (wamp.session.kill): sends GOODBYE with `reason`, removes the session
   * from its realm and waits for the peer's GOODBYE. Set by the connection handler.
   */
  kill: (reason: string, message?: string) => void = () => {};
  private readonly stats: RouterStats;

  constructor(
    readonly id: number,
    readonly realmName: string,
    readonly identity: SessionIdentity,
    helloDetails: Dict,
    private readonly outlet: Connection,
    private readonly options: SessionOptions,
  ) {
    const roles = helloDetails.roles;
    this.roles = typeof roles === 'object' && roles !== null && !Array.isArray(roles) ? (roles as Dict) : {};
    this.stats = options.stats ?? DISCARDED_STATS;
  }

  get authid(): string {
    return this.identity.authid;
  }
  get authrole(): string {
    return this.identity.authrole;
  }
  get serializer(): Serializer {
    return this.outlet.serializer;
  }
  get transport(): TransportInfo {
    return this.outlet.info;
  }

  /** Whether the client announced `feature` for `role` in HELLO (WAMP 13.x feature announcement). */
  hasFeature(role: string, feature: string): boolean {
    const r = this.roles[role] as Dict | undefined;
    const f = r && typeof r === 'object' ? (r.features as Dict | undefined) : undefined;
    return !!(f && typeof f === 'object' && f[feature] === true);
  }

  /** Encodes and sends one message. */
  send(msg: Message): void {
    if (this.closed) {
      this.dropped++;
      return;
    }
    this.sendFrame(this.outlet.serializer.encode(toArray(msg)), msg.type);
  }

  /**
   * Encodes and sends a message already in its wire (array) form, e.g. built with `withArgs`;
   * `type` is its message type (counters). Saves the message object on the hot paths.
   */
  sendArray(arr: unknown[], type: number): void {
    if (this.closed) {
      this.dropped++;
      return;
    }
    this.sendFrame(this.outlet.serializer.encode(arr), type);
  }

  /**
   * Sends an already-encoded frame (the broker encodes one EVENT once per serializer and
   * subscription and sends the same bytes to every subscriber); `type` is for the counters.
   */
  sendFrame(frame: Buffer, type: number = T.EVENT): void {
    if (this.closed) {
      this.dropped++;
      return;
    }
    this.stats.countOut(type);
    this.stats.bytesOut += frame.length;
    this.outlet.send(frame);
    if (this.outlet.bufferedAmount > this.options.maxOutboundBytes) this.onOverflow?.(this);
  }

  /** Bytes waiting to be written to this session's connection. */
  get queuedBytes(): number {
    return this.outlet.bufferedAmount;
  }

  /** Closes the connection (after the caller sent GOODBYE/ABORT, or for the slow-consumer policy). */
  closeTransport(code?: number, reason?: string): void {
    this.closed = true;
    this.outlet.close(code, reason);
  }

  /** Details for the session meta API (`wamp.session.get`, `on_join`). */
  metaDetails(): Dict {
    return {
      session: this.id,
      authid: this.identity.authid,
      authrole: this.identity.authrole,
      authmethod: this.identity.authmethod,
      authprovider: this.identity.authprovider,
      authextra: this.identity.authextra ?? null,
      transport: this.outlet.info,
    };
  }
}
