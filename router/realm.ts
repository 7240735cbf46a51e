/**
 * A realm: its joined sessions, and one broker and one dealer that each own their routing state.
 * `handle` is the dispatcher for a joined session: one handler family per message type.
 */
import { MessageType as T, MessageName } from '../wamp/codes';
import { ErrorUri } from '../wamp/errors';
import type { Message, Dict } from '../wamp/messages';
import { ProtocolViolation } from '../wamp/protocol-error';
import { WampError } from '../wamp/wamp-error';
import { DENIED, DISCLOSED, type Authorizer } from './authorizer';
import { Broker } from './broker';
import { Dealer } from './dealer';
import type { Session } from './session';
import { noMeta, type MetaSink } from './meta-events';

export interface RealmOptions {
  /** Strict URI rules ([0-9a-z_] components) instead of the loose default. */
  strictUris: boolean;
  /** Subscriptions one session may hold at once, any match policy (default 10,000). */
  maxSubscriptionsPerSession?: number;
  /** Registrations one session may hold at once, any match policy (default 10,000). */
  maxRegistrationsPerSession?: number;
}

export const DEFAULT_MAX_SUBSCRIPTIONS_PER_SESSION = 10_000;
export const DEFAULT_MAX_REGISTRATIONS_PER_SESSION = 10_000;

export class Realm {
  /** session ID → session, for every session joined to this realm */
  readonly sessions = new Map<number, Session>();
  readonly broker: Broker;
  readonly dealer: Dealer;
  /** Set by the meta API module; receives broker/dealer state changes. */
  meta: MetaSink = noMeta;
  /** Actions refused with not_authorized (router metrics). */
  refused = 0;
  /** Called after a session joined (meta API: `wamp.session.on_join`). */
  onJoin: ((s: Session) => void) | null = null;
  /** Called after a session left and its state was removed (meta API: `wamp.session.on_leave`). */
  onLeave: ((s: Session) => void) | null = null;

  /**
   * Memory bounds per session: SUBSCRIBE / REGISTER beyond them get ERROR
   * `sisock.error.limit_exceeded` (a repeat of one the session already holds is still answered).
   */
  readonly maxSubscriptionsPerSession: number;
  readonly maxRegistrationsPerSession: number;

  constructor(
    readonly name: string,
    public authorizer: Authorizer,
    readonly options: RealmOptions,
  ) {
    this.maxSubscriptionsPerSession = options.maxSubscriptionsPerSession ?? DEFAULT_MAX_SUBSCRIPTIONS_PER_SESSION;
    this.maxRegistrationsPerSession = options.maxRegistrationsPerSession ?? DEFAULT_MAX_REGISTRATIONS_PER_SESSION;
    this.broker = new Broker(this);
    this.dealer = new Dealer(this);
  }

  join(session: Session): void {
    this.sessions.set(session.id, session);
    this.onJoin?.(session);
  }

  /**
   * Removes a session and everything it owned: its subscriptions and registrations vanish, calls
   * it made are dropped, calls pending on it as a callee fail at once for their callers.
   * Idempotent.
   */
  leave(session: Session): void {
    if (!this.sessions.delete(session.id)) return;
    session.closed = true;
    this.dealer.removeSession(session);
    this.broker.removeSession(session);
    this.onLeave?.(session);
  }

  /**
   * Dispatches one message from a joined session. A WampError thrown by a handler becomes an
   * ERROR for that request; a ProtocolViolation propagates to the connection handler (ABORT +
   * close).
   */
  handle(session: Session, msg: Message): void {
    try {
      switch (msg.type) {
        case T.PUBLISH:
          return this.broker.publish(session, msg);
        case T.SUBSCRIBE:
          return this.broker.subscribe(session, msg);
        case T.UNSUBSCRIBE:
          return this.broker.unsubscribe(session, msg);
        case T.CALL:
          return this.dealer.call(session, msg);
        case T.CANCEL:
          return this.dealer.cancel(session, msg);
        case T.REGISTER:
          return this.dealer.register(session, msg);
        case T.UNREGISTER:
          return this.dealer.unregister(session, msg);
        case T.YIELD:
          return this.dealer.yield(session, msg);
        case T.ERROR:
          // WAMP 9.2.5: the only ERROR a client may send is one answering an INVOCATION.
          if (msg.requestType !== T.INVOCATION)
            throw new ProtocolViolation(`ERROR for request type ${msg.requestType} is not allowed from a client`);
          return this.dealer.invocationError(session, msg);
        case T.EVENT_RECEIVED:
          return; // acknowledged-event delivery is not offered; ignore the acknowledgement
        default:
          // HELLO, AUTHENTICATE after join, or any router-to-client message (WAMP 4.x / 5.x).
          throw new ProtocolViolation(`${MessageName[msg.type]} is not allowed from a joined client`);
      }
    } catch (e) {
      if (!(e instanceof WampError)) throw e;
      const req = (msg as { request?: number }).request ?? 0;
      session.send({
        type: T.ERROR,
        requestType: msg.type,
        request: req,
        details: {},
        error: e.uri,
        ...(e.wireArgs() ? { args: e.wireArgs() } : {}),
        ...(e.kwargs ? { kwargs: e.kwargs } : {}),
      });
    }
  }

  /** Throws WampError(not_authorized) unless the session's role allows `action` on `uri`. */
  authorize(session: Session, uri: string, action: 'call' | 'register' | 'publish' | 'subscribe'): void {
    if (!this.authorizer.authorize(session, uri, action)) this.refuse(uri, action);
  }

  /**
   * For a CALL or PUBLISH: throws WampError(not_authorized) unless the session's role allows
   * `action` on `uri`; returns whether the role discloses the caller (publisher) identity on `uri`.
   * One permission lookup when the authorizer offers `decide`.
   */
  authorizeDisclose(session: Session, uri: string, action: 'call' | 'publish'): boolean {
    const a = this.authorizer;
    if (a.decide !== undefined) {
      const d = a.decide(session, uri, action);
      if (d === DENIED) this.refuse(uri, action);
      return d === DISCLOSED;
    }
    if (!a.authorize(session, uri, action)) this.refuse(uri, action);
    return a.disclose(session, action === 'call' ? 'caller' : 'publisher', uri);
  }

  private refuse(uri: string, action: string): never {
    this.refused++;
    throw new WampError(ErrorUri.NOT_AUTHORIZED, `session is not authorized to ${action} '${uri}'`);
  }

  /** Details dict used by the meta API for a session that is gone or present. */
  sessionDetails(id: number): Dict | null {
    return this.sessions.get(id)?.metaDetails() ?? null;
  }
}
