/**
 * The dealer: registrations and call routing (WAMP 6.x Remote Procedure Calls, 17.x advanced
 * RPC). Owns all registration and pending-call state of its realm.
 *
 * Every state change happens synchronously inside one handler (no await). The CALL → INVOCATION
 * → YIELD → RESULT path is the RPC hot path: one PendingCall object and the outgoing messages are
 * the only per-call allocations; no closures are created per call (the timeout timer uses one
 * bound handler and passes the call as the timer argument).
 *
 * Rules enforced here, with the spec clause where it applies:
 * - WAMP 2.1.1: `wamp.` URIs are reserved; clients may not register them (invalid_uri).
 * - Shared registrations (WAMP 17.x "Shared Registration"): invoke policies single (default),
 *   roundrobin, random, first, last. A REGISTER with another policy than the existing
 *   registration's, or a second REGISTER of a `single` procedure, or the same session registering
 *   the same procedure twice → procedure_already_exists.
 * - Pattern-based registrations (WAMP 17.x): on CALL an exact registration wins over prefix
 *   (the longest prefix wins) over wildcard (Crossbar.io's rule; among wildcards the one whose
 *   first empty component comes latest, then the one with most non-empty components, wins).
 *   INVOCATION.Details.procedure carries the called URI for pattern registrations.
 * - Caller identification: details caller/caller_authid/caller_authrole when the caller asked
 *   `disclose_me`, the caller's role discloses callers (authorizer.disclose), or a callee of the
 *   registration asked for it with REGISTER.Options.disclose_caller (WAMP 17.x "Caller
 *   Identification"; the hub uses it to learn who calls data_node.add).
 * - Progressive call results: `receive_progress` is forwarded when the caller asked for it and
 *   the callee announced progressive_call_results; progressive YIELDs are forwarded as RESULT
 *   with details.progress only then, and dropped otherwise (the callee was never told to send
 *   them). The final YIELD completes the call.
 * - Call timeout: `timeout` (ms) is passed to a callee that announced call_timeout; otherwise the
 *   router enforces it: the caller gets ERROR wamp.error.canceled (args ["call timed out"]) and a
 *   callee that supports call_canceling gets INTERRUPT {mode: killnowait, reason: wamp.error.timeout}.
 * - Call canceling: CANCEL.Options.mode skip | kill | killnowait (default killnowait if the callee
 *   supports call_canceling, else skip; a callee without call_canceling always gets skip):
 *   skip → ERROR canceled to the caller at once; kill → INTERRUPT, then the caller gets ERROR
 *   canceled when the callee answers with an ERROR (whatever its URI, as Crossbar does), or the
 *   RESULT if the callee finished first (WAMP 17.x); killnowait →
 *   INTERRUPT and ERROR canceled at once. CANCEL for an unknown or finished call is ignored.
 * - YIELD / ERROR for an unknown INVOCATION (finished, canceled, caller gone) are dropped.
 * - Callee leaves mid-call: every pending caller gets ERROR wamp.error.canceled with
 *   args ["callee left"] at once. Caller leaves mid-call: the callee gets INTERRUPT
 *   {mode: killnowait} if it supports call_canceling, and its eventual YIELD is dropped.
 *   The leaving session's registrations vanish (meta on_unregister, then on_delete when it was
 *   the last callee).
 */
import { MessageType as T } from '../wamp/codes';
import { ErrorUri } from '../wamp/errors';
import { withArgs, type Call, type Cancel, type Register, type Unregister, type Yield, type ErrorMsg, type Dict } from '../wamp/messages';
import { ProtocolViolation } from '../wamp/protocol-error';
import { WampError } from '../wamp/wamp-error';
import { randomId } from '../wamp/ids';
import { isReserved, isValidPattern, isValidUri, type MatchPolicy } from '../wamp/uri';
import { PatternTable } from './pattern-table';
import type { Realm } from './realm';
import type { Session } from './session';

/** A procedure served by the router itself (meta API). Returns [args, kwargs] or throws WampError. */
export type InternalProcedure = (caller: Session, args: unknown[], kwargs: Dict) => { args?: unknown[]; kwargs?: Dict };

export type InvokePolicy = 'single' | 'roundrobin' | 'random' | 'first' | 'last';
const INVOKE_POLICIES: ReadonlySet<string> = new Set(['single', 'roundrobin', 'random', 'first', 'last']);
const MATCH_POLICIES: ReadonlySet<string> = new Set(['exact', 'prefix', 'wildcard']);
const CANCEL_MODES: ReadonlySet<string> = new Set(['skip', 'kill', 'killnowait']);

/** Unanswered calls one session may have pending at once (see call()). */
export const MAX_PENDING_CALLS_PER_CALLER = 65_536;

/** The longest delay setTimeout honours (2^31 - 1 ms, about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

// Shared, never-mutated details objects: most messages of the hot path carry no details.
const NO_DETAILS: Dict = Object.freeze({}) as Dict;
const PROGRESS_DETAILS: Dict = Object.freeze({ progress: true }) as Dict;
const INTERRUPT_KILL: Dict = Object.freeze({ mode: 'kill', reason: ErrorUri.CANCELED }) as Dict;
const INTERRUPT_KILLNOWAIT: Dict = Object.freeze({ mode: 'killnowait', reason: ErrorUri.CANCELED }) as Dict;
const INTERRUPT_TIMEOUT: Dict = Object.freeze({ mode: 'killnowait', reason: ErrorUri.TIMEOUT }) as Dict;
const ARGS_CALLEE_LEFT: unknown[] = ['callee left'];
const ARGS_CANCELED: unknown[] = ['call canceled'];
const ARGS_TIMEOUT: unknown[] = ['call timed out'];

/** ERROR for a CALL, sent by the router itself, with no details (canceled, timed out, callee lost). */
function callError(caller: Session, request: number, error: string, args: unknown[]): void {
  caller.send({ type: T.ERROR, requestType: T.CALL, request, details: NO_DETAILS, error, args });
}

/** Payload passthru mode (WAMP 14.x) options that travel from CALL/YIELD/ERROR to the peer. */
const PPT_KEYS = ['ppt_scheme', 'ppt_serializer', 'ppt_cipher', 'ppt_keyid'] as const;
function pptDetails(from: Dict, base: Dict): Dict {
  if (from.ppt_scheme === undefined) return base;
  const d: Dict = { ...base };
  for (const k of PPT_KEYS) if (from[k] !== undefined) d[k] = from[k];
  return d;
}

/** One registration: a procedure URI or pattern with its match policy, and its callees. */
export class Registration {
  /** Callee sessions in registration order (first = earliest). */
  readonly callees: Session[] = [];
  /** Round-robin cursor: index into `callees` of the next callee. */
  rr = 0;
  /** A callee asked REGISTER.Options.disclose_caller: every INVOCATION carries the caller's identity. */
  discloseCaller = false;
  constructor(
    readonly id: number,
    readonly uri: string,
    readonly match: MatchPolicy,
    readonly invoke: InvokePolicy,
    /** ISO 8601 creation time (registration meta API). */
    readonly created: string,
  ) {}

  /** Details dict of the registration meta API (`wamp.registration.get`, `on_create`). */
  details(): Dict {
    return { id: this.id, created: this.created, uri: this.uri, match: this.match, invoke: this.invoke };
  }
}

/** A call between INVOCATION and its final YIELD / ERROR (or cancel, timeout, leave). */
class PendingCall {
  /** Router-enforced timeout timer, if any. */
  timer: NodeJS.Timeout | null = null;
  /** CANCEL mode kill was sent: the caller waits for the callee's answer; progress is dropped. */
  interrupted = false;
  constructor(
    readonly caller: Session,
    readonly callerPeer: PeerState,
    /** the caller's CALL.Request */
    readonly request: number,
    readonly callee: Session,
    readonly calleePeer: PeerState,
    /** the router's INVOCATION.Request towards the callee */
    readonly invocation: number,
    /** whether progressive results go to the caller */
    readonly progress: boolean,
  ) {}
}

/** Per-session dealer state: reverse indexes so a leaving session is cleaned up in O(its state). */
class PeerState {
  /** caller's CALL.Request → call this session made and that is pending */
  readonly calls = new Map<number, PendingCall>();
  /** INVOCATION.Request → call pending on this session as callee */
  readonly invocations = new Map<number, PendingCall>();
  /** registration ID → registration this session is a callee of */
  readonly registrations = new Map<number, Registration>();
  /** callee features announced in HELLO, read once */
  readonly progressive: boolean;
  readonly canceling: boolean;
  readonly timeout: boolean;
  constructor(session: Session) {
    this.progressive = session.hasFeature('callee', 'progressive_call_results');
    this.canceling = session.hasFeature('callee', 'call_canceling');
    this.timeout = session.hasFeature('callee', 'call_timeout');
  }
}

export class Dealer {
  /** session ID → dealer state of that session (created on its first REGISTER or CALL) */
  private readonly peers = new Map<number, PeerState>();
  /** registration ID → registration (all match policies) */
  private readonly byId = new Map<number, Registration>();
  /** (procedure URI or pattern, match policy) → registration */
  private readonly table = new PatternTable<Registration>();
  /** procedure URI → procedure served by the router itself (meta API) */
  private readonly internal = new Map<string, InternalProcedure>();

  constructor(private readonly realm: Realm) {}

  private peer(session: Session): PeerState {
    let p = this.peers.get(session.id);
    if (p === undefined) {
      p = new PeerState(session);
      this.peers.set(session.id, p);
    }
    return p;
  }

  // -------------------------------------------------------------------------------------------
  // REGISTER / UNREGISTER (WAMP 6.2)

  register(session: Session, msg: Register): void {
    const opts = msg.options;
    const uri = msg.procedure;
    const match = (opts.match ?? 'exact') as MatchPolicy;
    if (typeof match !== 'string' || !MATCH_POLICIES.has(match)) {
      throw new WampError(ErrorUri.INVALID_ARGUMENT, `invalid match policy '${String(match)}'`);
    }
    const invoke = (opts.invoke ?? 'single') as InvokePolicy;
    if (typeof invoke !== 'string' || !INVOKE_POLICIES.has(invoke)) {
      throw new WampError(ErrorUri.INVALID_ARGUMENT, `invalid invocation policy '${String(invoke)}'`);
    }
    if (!isValidPattern(uri, match, this.realm.options.strictUris)) {
      throw new WampError(ErrorUri.INVALID_URI, `invalid procedure URI '${String(uri).slice(0, 200)}' for match '${match}'`);
    }
    // WAMP 2.1.1: URIs under `wamp.` are reserved for the router.
    if (isReserved(uri)) throw new WampError(ErrorUri.INVALID_URI, `procedure URI '${uri}' is reserved`);
    this.realm.authorize(session, uri, 'register');

    const peer = this.peer(session);
    // Memory bound per session (checked before the shared-registration rules, which answer a
    // repeat with procedure_already_exists anyway).
    const max = this.realm.maxRegistrationsPerSession;
    if (peer.registrations.size >= max) {
      throw new WampError(
        ErrorUri.LIMIT_EXCEEDED,
        `this session already holds ${peer.registrations.size} registrations, the ` +
          `router's limit (max_registrations_per_session = ${max}); unregister one first`,
      );
    }
    let reg = this.table.get(uri, match);
    if (reg !== undefined) {
      // WAMP 17.x Shared Registration: all callees must agree on the policy; `single` admits one.
      if (reg.invoke === 'single' || reg.invoke !== invoke) {
        throw new WampError(
          ErrorUri.PROCEDURE_ALREADY_EXISTS,
          `procedure '${uri}' is already registered with invocation policy '${reg.invoke}'`,
        );
      }
      if (peer.registrations.has(reg.id)) {
        throw new WampError(ErrorUri.PROCEDURE_ALREADY_EXISTS, `this session already registered '${uri}'`);
      }
      reg.callees.push(session);
      if (opts.disclose_caller === true) reg.discloseCaller = true;
      peer.registrations.set(reg.id, reg);
      session.send({ type: T.REGISTERED, request: msg.request, registration: reg.id });
      this.realm.meta.registered(session.id, reg.id);
      return;
    }
    let id = randomId();
    while (this.byId.has(id)) id = randomId();
    reg = new Registration(id, uri, match, invoke, new Date().toISOString());
    reg.discloseCaller = opts.disclose_caller === true;
    reg.callees.push(session);
    this.table.set(uri, match, reg);
    this.byId.set(id, reg);
    peer.registrations.set(id, reg);
    session.send({ type: T.REGISTERED, request: msg.request, registration: id });
    this.realm.meta.registrationCreated(session.id, reg.details());
    this.realm.meta.registered(session.id, id);
  }

  unregister(session: Session, msg: Unregister): void {
    const peer = this.peers.get(session.id);
    const reg = peer?.registrations.get(msg.registration);
    if (peer === undefined || reg === undefined) {
      throw new WampError(ErrorUri.NO_SUCH_REGISTRATION, `no registration ${msg.registration} of this session`);
    }
    peer.registrations.delete(reg.id);
    session.send({ type: T.UNREGISTERED, request: msg.request });
    // Calls already pending on this callee stay pending: it may still answer them.
    this.removeCallee(reg, session);
  }

  /** Removes `session` from `reg`'s callees; deletes the registration when none is left. */
  private removeCallee(reg: Registration, session: Session): void {
    const i = reg.callees.indexOf(session);
    if (i < 0) return;
    reg.callees.splice(i, 1);
    if (i < reg.rr) reg.rr--;
    if (reg.rr >= reg.callees.length) reg.rr = 0;
    this.realm.meta.unregistered(session.id, reg.id);
    if (reg.callees.length === 0) {
      this.table.delete(reg.uri, reg.match);
      this.byId.delete(reg.id);
      this.realm.meta.registrationDeleted(session.id, reg.id);
    }
  }

  /** Picks the callee of a registration by its invocation policy (undefined only if it has none left). */
  private pick(reg: Registration): Session | undefined {
    const c = reg.callees;
    switch (reg.invoke) {
      case 'last':
        return c[c.length - 1];
      case 'random':
        return c[Math.floor(Math.random() * c.length)];
      case 'roundrobin': {
        const i = reg.rr < c.length ? reg.rr : 0;
        reg.rr = i + 1 < c.length ? i + 1 : 0;
        return c[i];
      }
      default:
        return c[0]; // single, first
    }
  }

  // -------------------------------------------------------------------------------------------
  // Lookups (also used by the registration meta API)

  /** The registration a CALL to `uri` would invoke: exact, else longest prefix, else wildcard. */
  matchRegistration(uri: string): Registration | undefined {
    return this.table.exact(uri) ?? (isReserved(uri) ? undefined : this.matchPattern(uri));
  }

  /** Crossbar.io's rule: the longest prefix, else the most specific wildcard (pattern-table.ts). */
  private matchPattern(uri: string): Registration | undefined {
    if (!this.table.hasPatterns) return undefined;
    return this.table.longestPrefix(uri) ?? this.table.bestWildcard(uri);
  }

  /** Registration by ID. */
  getRegistration(id: number): Registration | undefined {
    return this.byId.get(id);
  }

  /** Registration by URI/pattern and match policy (`wamp.registration.lookup`). */
  lookupRegistration(uri: string, match: MatchPolicy): Registration | undefined {
    return MATCH_POLICIES.has(match) ? this.table.get(uri, match) : undefined;
  }

  /** IDs of all registrations by match policy (`wamp.registration.list`). */
  listRegistrations(): { exact: number[]; prefix: number[]; wildcard: number[] } {
    const ids = (match: MatchPolicy): number[] => [...this.table.values(match)].map((r) => r.id);
    return { exact: ids('exact'), prefix: ids('prefix'), wildcard: ids('wildcard') };
  }

  // -------------------------------------------------------------------------------------------
  // CALL → INVOCATION (WAMP 6.3)

  call(session: Session, msg: Call): void {
    const uri = msg.procedure;
    let reg = this.table.exact(uri);
    if (reg === undefined) {
      // An exact registration exists only for a valid URI; validate only off that path.
      if (!isValidUri(uri, this.realm.options.strictUris)) {
        throw new WampError(ErrorUri.INVALID_URI, `invalid procedure URI '${String(uri).slice(0, 200)}'`);
      }
      const proc = this.internal.get(uri);
      if (proc !== undefined) {
        this.realm.authorize(session, uri, 'call');
        return this.callInternal(session, msg, proc);
      }
      // Reserved URIs are never routed to a client's pattern registration.
      if (!isReserved(uri)) reg = this.matchPattern(uri);
    }
    // One permission lookup: may call, and does the caller's role disclose it (authorizer.disclose).
    const roleDiscloses = this.realm.authorizeDisclose(session, uri, 'call');
    if (reg === undefined) throw new WampError(ErrorUri.NO_SUCH_PROCEDURE, `no callee registered procedure '${uri}'`);

    const callee = this.pick(reg);
    if (callee === undefined) throw new WampError(ErrorUri.NO_SUCH_PROCEDURE, `no callee registered procedure '${uri}'`);
    const callerPeer = this.peer(session);
    // WAMP 6.x: a request ID identifies one pending request; reusing it would orphan the first call.
    if (callerPeer.calls.has(msg.request)) throw new ProtocolViolation(`CALL request ${msg.request} is already pending`);
    // Memory bound: a session cannot pile up unanswered calls without limit (e.g. calling itself
    // and never yielding). The caller is told to back off; nothing is dropped silently.
    if (callerPeer.calls.size >= MAX_PENDING_CALLS_PER_CALLER) {
      throw new WampError(
        ErrorUri.UNAVAILABLE,
        `more than ${MAX_PENDING_CALLS_PER_CALLER} calls pending for this session; wait for results before calling again`,
      );
    }
    const calleePeer = this.peer(callee);
    const opts = msg.options;
    const progress = opts.receive_progress === true && calleePeer.progressive;
    const timeout = opts.timeout;
    // WAMP 17.x call timeout, in ms. setTimeout cannot wait longer than 2^31-1 ms (it fires at once):
    // a longer timeout is as good as none, and a fraction is rounded up.
    const hasTimeout = typeof timeout === 'number' && timeout > 0 && timeout <= MAX_TIMER_MS;
    const disclose = opts.disclose_me === true || roleDiscloses || reg.discloseCaller;

    let details = NO_DETAILS;
    if (disclose || progress || hasTimeout || reg.match !== 'exact' || opts.ppt_scheme !== undefined) {
      details = {};
      if (reg.match !== 'exact') details.procedure = uri; // WAMP 17.x pattern-based registration
      if (disclose) {
        details.caller = session.id;
        details.caller_authid = session.authid;
        details.caller_authrole = session.authrole;
      }
      if (progress) details.receive_progress = true;
      if (hasTimeout && calleePeer.timeout) details.timeout = timeout;
      details = pptDetails(opts, details);
    }

    const inv = callee.invocationIds.next();
    const p = new PendingCall(session, callerPeer, msg.request, callee, calleePeer, inv, progress);
    callerPeer.calls.set(msg.request, p);
    calleePeer.invocations.set(inv, p);
    if (hasTimeout && !calleePeer.timeout) {
      p.timer = setTimeout(this.onTimeout, Math.ceil(timeout as number), p);
      p.timer.unref();
    }
    callee.sendArray(withArgs([T.INVOCATION, inv, reg.id, details], msg.args, msg.kwargs), T.INVOCATION);
  }

  private callInternal(session: Session, msg: Call, proc: InternalProcedure): void {
    let out: { args?: unknown[]; kwargs?: Dict };
    try {
      out = proc(session, Array.isArray(msg.args) ? msg.args : [], msg.kwargs ?? {});
    } catch (e) {
      if (e instanceof WampError) throw e;
      // Never leak a stack or internal message to a peer.
      throw new WampError(ErrorUri.RUNTIME_ERROR, 'internal error in router procedure');
    }
    session.send({ type: T.RESULT, request: msg.request, details: NO_DETAILS, args: out.args, kwargs: out.kwargs });
  }

  /** Removes a call from both reverse indexes and stops its timer. */
  private finish(p: PendingCall): void {
    p.calleePeer.invocations.delete(p.invocation);
    if (p.callerPeer.calls.get(p.request) === p) p.callerPeer.calls.delete(p.request);
    if (p.timer !== null) {
      clearTimeout(p.timer);
      p.timer = null;
    }
  }

  private readonly onTimeout = (p: PendingCall): void => {
    p.timer = null;
    if (p.calleePeer.invocations.get(p.invocation) !== p) return; // already finished
    this.finish(p);
    if (p.calleePeer.canceling && !p.interrupted) {
      p.callee.send({ type: T.INTERRUPT, request: p.invocation, options: INTERRUPT_TIMEOUT });
    }
    callError(p.caller, p.request, ErrorUri.CANCELED, ARGS_TIMEOUT);
  };

  // -------------------------------------------------------------------------------------------
  // YIELD / ERROR from the callee (WAMP 6.3, 17.x progressive results)

  yield(session: Session, msg: Yield): void {
    const p = this.peers.get(session.id)?.invocations.get(msg.request);
    if (p === undefined) return; // finished, canceled or caller gone: drop
    if (msg.options.progress === true) {
      // WAMP 17.x: progressive results only go to a caller that asked for them.
      if (!p.progress || p.interrupted) return;
      p.caller.sendArray(withArgs([T.RESULT, p.request, pptDetails(msg.options, PROGRESS_DETAILS)], msg.args, msg.kwargs), T.RESULT);
      return;
    }
    this.finish(p);
    try {
      p.caller.sendArray(withArgs([T.RESULT, p.request, pptDetails(msg.options, NO_DETAILS)], msg.args, msg.kwargs), T.RESULT);
    } catch (e) {
      // The result cannot be encoded for the caller (e.g. nested too deeply for its serializer):
      // the caller must not wait forever. The callee, whose payload it was, is then aborted.
      callError(p.caller, p.request, ErrorUri.INVALID_ARGUMENT, ['the result could not be encoded for this caller']);
      throw e;
    }
  }

  invocationError(session: Session, msg: ErrorMsg): void {
    const p = this.peers.get(session.id)?.invocations.get(msg.request);
    if (p === undefined) return;
    this.finish(p);
    if (p.interrupted) {
      // WAMP 17.x call canceling, mode kill: whatever the callee answers to the INTERRUPT (AutobahnPython
      // answers wamp.error.runtime_error), the caller learns that its call was canceled, as Crossbar does.
      callError(p.caller, p.request, ErrorUri.CANCELED, ARGS_CANCELED);
      return;
    }
    p.caller.send({
      type: T.ERROR,
      requestType: T.CALL,
      request: p.request,
      details: pptDetails(msg.details, NO_DETAILS),
      error: msg.error,
      args: msg.args,
      kwargs: msg.kwargs,
    });
  }

  // -------------------------------------------------------------------------------------------
  // CANCEL (WAMP 17.x call canceling)

  cancel(session: Session, msg: Cancel): void {
    const mode0 = msg.options.mode;
    if (mode0 !== undefined && (typeof mode0 !== 'string' || !CANCEL_MODES.has(mode0))) {
      throw new WampError(ErrorUri.INVALID_ARGUMENT, `invalid cancel mode '${String(mode0)}'`);
    }
    const p = this.peers.get(session.id)?.calls.get(msg.request);
    if (p === undefined || p.interrupted) return; // unknown, finished, or a kill already underway
    // A callee without call_canceling cannot be interrupted: that is mode skip.
    const mode = !p.calleePeer.canceling ? 'skip' : (mode0 ?? 'killnowait');
    if (mode === 'kill') {
      p.interrupted = true;
      p.callee.send({ type: T.INTERRUPT, request: p.invocation, options: INTERRUPT_KILL });
      return;
    }
    this.finish(p);
    if (mode === 'killnowait') p.callee.send({ type: T.INTERRUPT, request: p.invocation, options: INTERRUPT_KILLNOWAIT });
    callError(session, p.request, ErrorUri.CANCELED, ARGS_CANCELED);
  }

  // -------------------------------------------------------------------------------------------
  // Internal procedures and session cleanup

  /** Serves `uri` from the router itself. Authorization still applies to calls. */
  registerInternal(uri: string, proc: InternalProcedure): void {
    this.internal.set(uri, proc);
  }

  /**
   * Everything a leaving session owned: calls it made (its callees get INTERRUPT killnowait if
   * they support canceling, their YIELD is dropped later), calls pending on it as callee (each
   * caller gets ERROR wamp.error.canceled with args ["callee left"] now), its registrations
   * (meta on_unregister / on_delete).
   */
  removeSession(session: Session): void {
    const peer = this.peers.get(session.id);
    if (peer === undefined) return;
    this.peers.delete(session.id);
    for (const p of peer.calls.values()) {
      p.calleePeer.invocations.delete(p.invocation);
      if (p.timer !== null) {
        clearTimeout(p.timer);
        p.timer = null;
      }
      if (p.calleePeer.canceling && !p.interrupted && p.callee !== session) {
        p.callee.send({ type: T.INTERRUPT, request: p.invocation, options: INTERRUPT_KILLNOWAIT });
      }
    }
    peer.calls.clear();
    for (const p of peer.invocations.values()) {
      if (p.callerPeer.calls.get(p.request) === p) p.callerPeer.calls.delete(p.request);
      if (p.timer !== null) {
        clearTimeout(p.timer);
        p.timer = null;
      }
      callError(p.caller, p.request, ErrorUri.CALLEE_LOST, ARGS_CALLEE_LEFT);
    }
    peer.invocations.clear();
    for (const reg of peer.registrations.values()) this.removeCallee(reg, session);
    peer.registrations.clear();
  }

  /** Number of calls pending in this realm (tests, metrics). */
  get pendingCalls(): number {
    let n = 0;
    for (const p of this.peers.values()) n += p.invocations.size;
    return n;
  }
}
