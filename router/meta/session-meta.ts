/**
 * Session meta API (WAMP 16.x "Session Meta API", as Crossbar.io serves it).
 *
 * Events:
 * - `wamp.session.on_join`  — one positional arg: the session details dict
 *   {session, authid, authrole, authmethod, authprovider, authextra, transport}.
 * - `wamp.session.on_leave` — EXACTLY one positional arg: the leaving session's ID (Crossbar
 *   sends exactly that; sisock hubs rely on it).
 *
 * Procedures:
 * - `wamp.session.count(filter_authroles?)` → number
 * - `wamp.session.list(filter_authroles?)` → [session ID]
 * - `wamp.session.get(session)` → details | ERROR wamp.error.no_such_session
 * - `wamp.session.kill(session, reason?, message?)` → null; killing oneself is invalid_argument
 * - `wamp.session.kill_by_authid(authid, reason?, message?)` → [killed session ID] (caller spared)
 * - `wamp.session.kill_by_authrole(authrole, reason?, message?)` → [killed session ID] (caller spared)
 * `reason` and `message` may be positional or keyword arguments. Who may call these is the
 * authorizer's decision (e.g. only an admin role may call `wamp.session.kill`).
 */
import { MetaUri } from '../../wamp/meta-uris';
import { CloseUri, ErrorUri } from '../../wamp/errors';
import type { Dict } from '../../wamp/messages';
import { WampError } from '../../wamp/wamp-error';
import { isValidUri } from '../../wamp/uri';
import type { Realm } from '../realm';
import type { Session } from '../session';

/** The session meta API's URIs (declared once in wamp/meta-uris.ts). */
export const SessionMeta = MetaUri.session;

/** Optional list of authroles: positional arg 0 or kwarg `filter_authroles`; null = no filter. */
function authroleFilter(args: unknown[], kwargs: Dict): Set<string> | null {
  const f = args.length > 0 ? args[0] : kwargs.filter_authroles;
  if (f === undefined || f === null) return null;
  if (!Array.isArray(f) || !f.every((x) => typeof x === 'string')) {
    throw new WampError(ErrorUri.INVALID_ARGUMENT, 'filter_authroles must be a list of strings');
  }
  return new Set(f as string[]);
}

function sessionIdArg(args: unknown[], kwargs: Dict): number {
  const id = args.length > 0 ? args[0] : kwargs.session;
  if (typeof id !== 'number' || !Number.isInteger(id)) throw new WampError(ErrorUri.INVALID_ARGUMENT, 'a session ID (integer) is required');
  return id;
}

function stringArg(args: unknown[], kwargs: Dict, i: number, name: string): string {
  const v = args.length > i ? args[i] : kwargs[name];
  if (typeof v !== 'string') throw new WampError(ErrorUri.INVALID_ARGUMENT, `${name} (string) is required`);
  return v;
}

/** reason (a URI, default wamp.close.killed) and message from positional args at i, i+1 or kwargs. */
function killArgs(args: unknown[], kwargs: Dict, i: number): { reason: string; message: string | undefined } {
  const r = args.length > i ? args[i] : kwargs.reason;
  const m = args.length > i + 1 ? args[i + 1] : kwargs.message;
  if (r !== undefined && r !== null && (typeof r !== 'string' || !isValidUri(r))) {
    throw new WampError(ErrorUri.INVALID_URI, 'reason must be a valid URI');
  }
  if (m !== undefined && m !== null && typeof m !== 'string') throw new WampError(ErrorUri.INVALID_ARGUMENT, 'message must be a string');
  return { reason: (r as string | null | undefined) || CloseUri.KILLED, message: (m as string | null | undefined) ?? undefined };
}

function killWhere(realm: Realm, caller: Session, pred: (s: Session) => boolean, reason: string, message: string | undefined): number[] {
  // Collect first: killing a session removes it from realm.sessions.
  const victims = [...realm.sessions.values()].filter((s) => s !== caller && pred(s));
  for (const s of victims) s.kill(reason, message);
  return victims.map((s) => s.id);
}

export function installSessionMeta(realm: Realm): void {
  const publish = (topic: string, args: unknown[]): void => {
    realm.broker.publishInternal(topic, args);
  };

  const prevJoin = realm.onJoin;
  realm.onJoin = (s) => {
    prevJoin?.(s);
    publish(SessionMeta.ON_JOIN, [s.metaDetails()]);
  };
  const prevLeave = realm.onLeave;
  realm.onLeave = (s) => {
    prevLeave?.(s);
    publish(SessionMeta.ON_LEAVE, [s.id]); // exactly one positional argument
  };

  const d = realm.dealer;
  d.registerInternal(SessionMeta.COUNT, (_c, args, kwargs) => {
    const f = authroleFilter(args, kwargs);
    if (f === null) return { args: [realm.sessions.size] };
    let n = 0;
    for (const s of realm.sessions.values()) if (f.has(s.authrole)) n++;
    return { args: [n] };
  });
  d.registerInternal(SessionMeta.LIST, (_c, args, kwargs) => {
    const f = authroleFilter(args, kwargs);
    const ids: number[] = [];
    for (const s of realm.sessions.values()) if (f === null || f.has(s.authrole)) ids.push(s.id);
    return { args: [ids] };
  });
  d.registerInternal(SessionMeta.GET, (_c, args, kwargs) => {
    const id = sessionIdArg(args, kwargs);
    const details = realm.sessionDetails(id);
    if (details === null) throw new WampError(ErrorUri.NO_SUCH_SESSION, `no session ${id} on this realm`);
    return { args: [details] };
  });
  d.registerInternal(SessionMeta.KILL, (caller, args, kwargs) => {
    const id = sessionIdArg(args, kwargs);
    const { reason, message } = killArgs(args, kwargs, 1);
    if (id === caller.id) throw new WampError(ErrorUri.INVALID_ARGUMENT, 'a session cannot kill itself (leave instead)');
    const s = realm.sessions.get(id);
    if (s === undefined) throw new WampError(ErrorUri.NO_SUCH_SESSION, `no session ${id} on this realm`);
    s.kill(reason, message);
    return {};
  });
  d.registerInternal(SessionMeta.KILL_BY_AUTHID, (caller, args, kwargs) => {
    const authid = stringArg(args, kwargs, 0, 'authid');
    const { reason, message } = killArgs(args, kwargs, 1);
    return { args: [killWhere(realm, caller, (s) => s.authid === authid, reason, message)] };
  });
  d.registerInternal(SessionMeta.KILL_BY_AUTHROLE, (caller, args, kwargs) => {
    const authrole = stringArg(args, kwargs, 0, 'authrole');
    const { reason, message } = killArgs(args, kwargs, 1);
    return { args: [killWhere(realm, caller, (s) => s.authrole === authrole, reason, message)] };
  });
}
