/**
 * The router: accepts connections, runs the opening handshake (HELLO → [CHALLENGE →
 * AUTHENTICATE →] WELCOME | ABORT), then hands every message of a joined session to its realm.
 * It owns the realms and the session-ID space; no routing state lives here.
 */
import { MessageType as T } from '../wamp/codes';
import { CloseUri, ErrorUri } from '../wamp/errors';
import { parseMessage, toArray, type Dict, type Message } from '../wamp/messages';
import { ProtocolViolation } from '../wamp/protocol-error';
import { randomId } from '../wamp/ids';
import { isValidUri } from '../wamp/uri';
import { ROUTER_ROLES } from '../wamp/features';
import type { Connection } from '../transport/types';
import { silentLogger, type Logger } from '../common/log';
import type { AuthMethod } from './auth/types';
import { allowAll, type Authorizer } from './authorizer';
import { installMetaApi } from './meta';
import { Realm, type RealmOptions } from './realm';
import { Session } from './session';
import { RouterStats } from './metrics';
import { Admission, type AdmissionOptions } from './admission';
import { AuthThrottle, peerHost, type AuthThrottleOptions } from './auth/throttle';
import { RateLimitedLog } from '../common/config-file';

export interface RouterOptions {
  /** Strict URI checking on every realm (default: loose). */
  strictUris?: boolean;
  /** Slow-consumer bound on each session's outbound queue, bytes (default 16 MiB). */
  maxOutboundBytes?: number;
  logger?: Logger;
  /** A connection must complete HELLO → WELCOME, and answer a router GOODBYE, within this (default 10 s; 0 = no limit). */
  handshakeTimeoutMs?: number;
  /** Subscriptions one session may hold, on every realm unless addRealm says otherwise (default 10,000). */
  maxSubscriptionsPerSession?: number;
  /** Registrations one session may hold, on every realm unless addRealm says otherwise (default 10,000). */
  maxRegistrationsPerSession?: number;
  /** Connection caps, in all and per source address (router/admission.ts). */
  admission?: AdmissionOptions;
  /** Failed-authentication throttling per source address and authid (router/auth/throttle.ts). */
  authThrottle?: AuthThrottleOptions;
}

/** What a transport contributes to a handshake: its auth methods and the roles they may yield. */
export interface TransportAuth {
  methods: AuthMethod[];
}

export const DEFAULT_MAX_OUTBOUND_BYTES = 16 * 1024 * 1024;

/** WebSocket close codes the router uses. */
const WS_NORMAL = 1000;
const WS_POLICY = 1008;
const WS_TRY_AGAIN_LATER = 1013;

export class Router {
  /** realm name → realm */
  readonly realms = new Map<string, Realm>();
  /** session ID → session, over all realms (IDs are global scope, WAMP 2.1.2) */
  readonly sessions = new Map<number, Session>();
  /** every connection not yet closed, joined or not (for shutdown), counted per source address */
  readonly admission: Admission;
  /** failed authentications per source address and authid */
  readonly authThrottle: AuthThrottle;
  /** @internal log lines about refused handshakes, bounded per window */
  readonly authLog: RateLimitedLog;
  /** @internal log lines about refused connections, bounded per window */
  readonly connLog: RateLimitedLog;
  readonly log: Logger;
  readonly maxOutboundBytes: number;
  readonly handshakeTimeoutMs: number;
  /** Plain counters of the message loop; read by metrics.ts at scrape time. */
  readonly stats = new RouterStats();
  private readonly strictUris: boolean;
  private readonly maxSubscriptionsPerSession: number | undefined;
  private readonly maxRegistrationsPerSession: number | undefined;
  private shuttingDown = false;

  constructor(options: RouterOptions = {}) {
    this.log = options.logger ?? silentLogger;
    this.maxOutboundBytes = options.maxOutboundBytes ?? DEFAULT_MAX_OUTBOUND_BYTES;
    this.handshakeTimeoutMs = options.handshakeTimeoutMs ?? 10_000;
    this.strictUris = options.strictUris ?? false;
    this.maxSubscriptionsPerSession = options.maxSubscriptionsPerSession;
    this.maxRegistrationsPerSession = options.maxRegistrationsPerSession;
    this.admission = new Admission(options.admission);
    this.authThrottle = new AuthThrottle(options.authThrottle);
    this.authLog = new RateLimitedLog((obj, msg) => this.log.warn(obj, msg), 20, 10_000);
    this.connLog = new RateLimitedLog((obj, msg) => this.log.warn(obj, msg), 20, 10_000);
  }

  addRealm(name: string, authorizer: Authorizer = allowAll, options: Partial<RealmOptions> = {}): Realm {
    const realm = new Realm(name, authorizer, {
      strictUris: options.strictUris ?? this.strictUris,
      maxSubscriptionsPerSession: options.maxSubscriptionsPerSession ?? this.maxSubscriptionsPerSession,
      maxRegistrationsPerSession: options.maxRegistrationsPerSession ?? this.maxRegistrationsPerSession,
    });
    this.realms.set(name, realm);
    installMetaApi(realm);
    return realm;
  }

  /** Takes a new connection. `auth` lists the methods its transport allows (default: anonymous). */
  accept(conn: Connection, auth: TransportAuth): void {
    if (this.shuttingDown) {
      conn.close(1001, CloseUri.SYSTEM_SHUTDOWN);
      return;
    }
    const refused = this.admission.admit(conn);
    if (refused !== null) {
      this.connLog.log({ peer: conn.info.peer, why: refused }, 'connection refused');
      conn.close(WS_TRY_AGAIN_LATER, 'too many connections; try again later');
      return;
    }
    new ConnectionHandler(this, conn, auth);
  }

  /**
   * A fresh random session ID not in use. The connection handler allocates one at HELLO, before
   * it is in `sessions` (that happens at WELCOME), and checks it is still free at WELCOME.
   */
  newSessionId(): number {
    let id = randomId();
    while (this.sessions.has(id)) id = randomId();
    return id;
  }

  /** @internal */ forget(conn: Connection): void {
    this.admission.release(conn);
  }

  /** Open connections, joined or still in the handshake. */
  get connectionCount(): number {
    return this.admission.size;
  }

  /** Says GOODBYE (wamp.close.system_shutdown) to every session and closes every connection. */
  close(): void {
    this.shuttingDown = true;
    for (const s of [...this.sessions.values()]) {
      s.send({ type: T.GOODBYE, details: { message: 'router is shutting down' }, reason: CloseUri.SYSTEM_SHUTDOWN });
      this.realms.get(s.realmName)?.leave(s);
      this.sessions.delete(s.id);
      s.closeTransport(1001, CloseUri.SYSTEM_SHUTDOWN);
    }
    for (const c of this.admission.connections()) c.close(1001, CloseUri.SYSTEM_SHUTDOWN);
    this.admission.clear();
  }
}

type State =
  | { kind: 'hello' }
  | { kind: 'challenge'; realm: Realm; method: AuthMethod; state: unknown; details: Dict; session: number }
  | { kind: 'joined'; realm: Realm; session: Session }
  | { kind: 'goodbye-sent'; realm: Realm; session: Session } // router-initiated close, awaiting the reply
  | { kind: 'closed' };

/** One connection's protocol state machine (WAMP 4.x "Session Lifecycle"). */
class ConnectionHandler {
  private state: State = { kind: 'hello' };

  /**
   * Bounds the states where the peer owes us something: the handshake (HELLO, AUTHENTICATE) and a
   * router-initiated close (the GOODBYE reply). A peer that stays silent there is dropped, so an
   * idle flood of unauthenticated connections cannot hold resources. One unref'd timer per
   * connection, cleared on WELCOME and on close.
   */
  private deadline: NodeJS.Timeout | null = null;

  constructor(
    private readonly router: Router,
    private readonly conn: Connection,
    private readonly auth: TransportAuth,
  ) {
    conn.onMessage = (frame) => this.onFrame(frame);
    conn.onClose = () => this.onClose();
    this.arm(router.handshakeTimeoutMs, 'handshake');
  }

  private arm(ms: number, what: string): void {
    this.disarm();
    if (ms <= 0) return;
    this.deadline = setTimeout(() => {
      this.deadline = null;
      if (this.state.kind === 'hello' || this.state.kind === 'challenge')
        this.abort(ErrorUri.PROTOCOL_VIOLATION, `${what} not completed within ${ms} ms`);
      else if (this.state.kind === 'goodbye-sent') this.closeConn(WS_NORMAL, CloseUri.KILLED);
    }, ms);
    this.deadline.unref();
  }

  private disarm(): void {
    if (this.deadline) clearTimeout(this.deadline);
    this.deadline = null;
  }

  private onFrame(frame: Buffer): void {
    if (this.state.kind === 'closed') return;
    const stats = this.router.stats;
    stats.bytesIn += frame.length;
    let msg: Message;
    try {
      msg = parseMessage(this.conn.serializer.decode(frame));
      stats.countIn(msg.type);
    } catch (e) {
      this.violation(
        e instanceof ProtocolViolation ? e.message : `undecodable ${this.conn.serializer.name} frame: ${(e as Error).message}`,
      );
      return;
    }
    try {
      this.dispatch(msg);
    } catch (e) {
      if (e instanceof ProtocolViolation) {
        this.violation(e.message);
        return;
      }
      // A payload nested so deeply that encoding it for a recipient overflows the stack is the
      // sender's fault, not ours: answer it like any other bad message, without an error log.
      // (Our MsgPack/CBOR encoders throw a RangeError of their own past 256 levels.)
      if (e instanceof RangeError) {
        this.violation(`message cannot be delivered: ${e.message}`);
        return;
      }
      // A bug of ours must not take the process down, nor leave this session half-open.
      this.router.log.error({ err: e, msgType: msg.type }, 'internal error while handling a message; closing the session');
      this.abort(ErrorUri.PROTOCOL_VIOLATION, 'internal router error');
    }
  }

  private dispatch(msg: Message): void {
    const st = this.state;
    switch (st.kind) {
      case 'hello':
      case 'challenge':
        // A client may give up during the handshake (WAMP 4.x): ABORT or GOODBYE just closes.
        if (msg.type === T.ABORT || msg.type === T.GOODBYE) {
          this.closeConn(WS_NORMAL, msg.reason);
          return;
        }
        if (st.kind === 'challenge') {
          if (msg.type !== T.AUTHENTICATE) throw new ProtocolViolation(`expected AUTHENTICATE, got message type ${msg.type}`);
          return this.onAuthenticate(st, msg.signature, msg.extra);
        }
        if (msg.type !== T.HELLO) throw new ProtocolViolation(`expected HELLO, got message type ${msg.type}`);
        return this.onHello(msg.realm, msg.details);
      case 'joined':
        if (msg.type === T.GOODBYE) {
          // WAMP 4.3: answer GOODBYE with GOODBYE, then the session is closed.
          st.session.send({ type: T.GOODBYE, details: {}, reason: CloseUri.GOODBYE_AND_OUT });
          this.leave(st.realm, st.session);
          this.closeConn(WS_NORMAL, CloseUri.GOODBYE_AND_OUT);
          return;
        }
        if (msg.type === T.ABORT) {
          this.leave(st.realm, st.session);
          this.closeConn(WS_NORMAL, msg.reason);
          return;
        }
        return st.realm.handle(st.session, msg);
      case 'goodbye-sent':
        // Messages in flight are dropped; the peer's GOODBYE finishes the close (WAMP 4.3).
        if (msg.type === T.GOODBYE || msg.type === T.ABORT) this.closeConn(WS_NORMAL, msg.reason);
        return;
    }
  }

  private onHello(realmName: string, details: Dict): void {
    // WAMP 4.1: the realm is a URI; the client must announce its roles.
    if (!isValidUri(realmName, false)) throw new ProtocolViolation(`invalid realm URI '${String(realmName).slice(0, 100)}'`);
    const roles = details.roles;
    if (typeof roles !== 'object' || roles === null || Array.isArray(roles) || Object.keys(roles).length === 0) {
      throw new ProtocolViolation('HELLO.Details.roles must announce at least one role');
    }
    const realm = this.router.realms.get(realmName);
    if (!realm) return this.abort(ErrorUri.NO_SUCH_REALM, `no realm '${realmName}' on this router`);

    const offered = Array.isArray(details.authmethods) && details.authmethods.length > 0 ? details.authmethods : ['anonymous'];
    const method = offered.map((name) => this.auth.methods.find((m) => m.name === name)).find((m): m is AuthMethod => m !== undefined);
    if (!method) {
      return this.abort(
        ErrorUri.NO_AUTH_METHOD,
        `none of the offered authentication methods is enabled on this transport ` +
          `(enabled: ${this.auth.methods.map((m) => m.name).join(', ') || 'none'})`,
      );
    }
    const authid = typeof details.authid === 'string' ? details.authid : undefined;
    const ip = peerHost(this.conn.info.peer);
    const locked = method.name === 'anonymous' ? null : this.router.authThrottle.check(ip, authid);
    if (locked !== null) {
      this.router.authLog.log(
        { peer: this.conn.info.peer, authid, lockedBy: locked.key, retryAfterMs: locked.retryAfterMs },
        'authentication locked out',
      );
      return this.abort(ErrorUri.AUTHENTICATION_FAILED, `too many failed attempts; retry in ${Math.ceil(locked.retryAfterMs / 1000)} s`);
    }
    // The session ID is allocated now, as Crossbar.io does, so that a CHALLENGE (wampcra) and the
    // WELCOME carry the same one. It is only a number until WELCOME: a refused handshake leaves
    // nothing behind.
    const session = this.router.newSessionId();
    const step = method.hello({ realm: realmName, details, authid, session });
    if (step.kind === 'refuse') return this.authFailed(method, authid, step.reason, step.message);
    if (step.kind === 'challenge') {
      this.state = { kind: 'challenge', realm, method, state: step.state, details, session };
      this.conn.send(this.conn.serializer.encode(toArray({ type: T.CHALLENGE, authmethod: method.name, extra: step.extra })));
      this.router.stats.countOut(T.CHALLENGE);
      return;
    }
    this.welcome(realm, details, step.identity, session);
  }

  private onAuthenticate(st: Extract<State, { kind: 'challenge' }>, signature: string, extra: Dict): void {
    const out = st.method.authenticate(st.state, signature, extra);
    const authid = typeof st.details.authid === 'string' ? st.details.authid : undefined;
    if (out.kind === 'refuse') return this.authFailed(st.method, authid, out.reason, out.message);
    if (st.method.name !== 'anonymous') this.router.authThrottle.success(peerHost(this.conn.info.peer), authid);
    this.welcome(st.realm, st.details, out.identity, st.session);
  }

  /** A refused authentication: counted against the address and the authid, logged, ABORT. */
  private authFailed(method: AuthMethod, authid: string | undefined, reason: string, message: string): void {
    if (method.name !== 'anonymous') {
      const lockMs = this.router.authThrottle.failure(peerHost(this.conn.info.peer), authid);
      this.router.authLog.log({ peer: this.conn.info.peer, authid, authmethod: method.name, reason, lockMs }, 'authentication failed');
    }
    this.abort(reason, message);
  }

  /** `allocated`: the session ID allocated at HELLO. */
  private welcome(realm: Realm, helloDetails: Dict, identity: Session['identity'], allocated: number): void {
    if (realm.authorizer.hasRole && !realm.authorizer.hasRole(identity.authrole)) {
      return this.abort(ErrorUri.NO_SUCH_ROLE, `role '${identity.authrole}' is not defined on realm '${realm.name}'`);
    }
    // Another handshake may have been given the same random ID and joined while this one waited
    // for AUTHENTICATE (odds 2^-53 per pair): IDs stay unique, at the price of a WELCOME ID that
    // differs from the one in the CHALLENGE in that case.
    const id = this.router.sessions.has(allocated) ? this.router.newSessionId() : allocated;
    const session = new Session(id, realm.name, identity, helloDetails, this.conn, {
      maxOutboundBytes: this.router.maxOutboundBytes,
      stats: this.router.stats,
    });
    session.onOverflow = (s) => {
      this.router.log.warn({ session: s.id, queued: s.queuedBytes }, 'slow consumer: outbound queue over its bound, closing the session');
      this.router.stats.slowConsumerDisconnects++;
      this.leave(realm, s);
      this.closeConn(WS_POLICY, `${CloseUri.SLOW_CONSUMER}: more than ${this.router.maxOutboundBytes} bytes queued`);
    };
    session.kill = (reason, message) => this.kill(reason, message);
    const details: Dict = {
      realm: realm.name,
      authid: identity.authid,
      authrole: identity.authrole,
      authmethod: identity.authmethod,
      authprovider: identity.authprovider,
      roles: ROUTER_ROLES,
    };
    if (identity.authextra) details.authextra = identity.authextra;
    this.state = { kind: 'joined', realm, session };
    this.disarm();
    this.conn.authenticated?.();
    session.send({ type: T.WELCOME, session: id, details });
    this.router.sessions.set(id, session);
    realm.join(session);
    this.router.log.debug({ session: id, realm: realm.name, authid: identity.authid, authrole: identity.authrole }, 'session joined');
  }

  /**
   * Router-initiated close of a joined session (wamp.session.kill): GOODBYE now, then wait for
   * the peer's GOODBYE (or the connection's end).
   */
  kill(reason: string, message?: string): void {
    const st = this.state;
    if (st.kind !== 'joined') return;
    st.session.send({ type: T.GOODBYE, details: message ? { message } : {}, reason });
    this.leave(st.realm, st.session);
    this.state = { kind: 'goodbye-sent', realm: st.realm, session: st.session };
    this.arm(this.router.handshakeTimeoutMs, 'GOODBYE reply');
  }

  private leave(realm: Realm, session: Session): void {
    this.router.sessions.delete(session.id);
    realm.leave(session);
  }

  private violation(message: string): void {
    this.router.stats.protocolViolations++;
    this.router.log.info({ message }, 'protocol violation; aborting the session');
    this.abort(ErrorUri.PROTOCOL_VIOLATION, message);
  }

  /** ABORT (WAMP 4.x) with a human-readable message, then close the connection. */
  private abort(reason: string, message: string): void {
    const st = this.state;
    if (st.kind === 'closed') return;
    try {
      this.conn.send(this.conn.serializer.encode(toArray({ type: T.ABORT, details: { message }, reason })));
      this.router.stats.countOut(T.ABORT);
    } catch {
      /* the connection may already be gone */
    }
    if (st.kind === 'joined' || st.kind === 'goodbye-sent') this.leave(st.realm, st.session);
    this.closeConn(reason === ErrorUri.PROTOCOL_VIOLATION ? 1002 : WS_NORMAL, reason);
  }

  private closeConn(code: number, reason: string): void {
    this.disarm();
    if (this.state.kind === 'joined' || this.state.kind === 'goodbye-sent') this.state.session.closed = true;
    this.state = { kind: 'closed' };
    this.router.forget(this.conn);
    this.conn.close(code, reason);
  }

  private onClose(): void {
    this.disarm();
    const st = this.state;
    if (st.kind === 'joined' || st.kind === 'goodbye-sent') this.leave(st.realm, st.session);
    this.state = { kind: 'closed' };
    this.router.forget(this.conn);
  }
}
