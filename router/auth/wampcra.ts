/**
 * WAMP-CRA, challenge-response (Crossbar.io `auth.wampcra {type: "static", users: {authid:
 * {secret, role, salt?, iterations?, keylen?}}}`), byte-compatible with Crossbar.io:
 *
 * - CHALLENGE `wampcra` with `{challenge}` where `challenge` is a JSON string
 *   `{"authid", "authrole", "authmethod": "wampcra", "authprovider": "static", "session", "nonce",
 *   "timestamp"}` (Python `json.dumps` spacing), plus `salt`, `iterations`, `keylen` for salted users;
 * - the expected signature is base64(HMAC-SHA256(key = UTF-8 of `secret`, challenge)).
 *
 * As in Crossbar, the `secret` of a salted user is the derived key, i.e. what a client computes
 * with autobahn's `auth_cra.derive_key(password, salt, iterations, keylen)` =
 * base64(PBKDF2-HMAC-SHA256(password, salt, iterations, keylen)); see `deriveKey`.
 *
 * An unknown authid gets a CHALLENGE that looks like a real one (a plausible role, salted or not
 * like the configured users, stable per authid) and then the same refusal as a wrong signature.
 */
import { createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import type { Dict } from '../../wamp/messages';
import type { AuthMethod, AuthOutcome, AuthStep, HelloInfo } from './types';
import { REFUSED, fakeBytes, newId, safeEqual } from './common';

export interface WampCraUser {
  /** The secret; for a salted user, the derived key (base64), as in Crossbar.io. */
  secret: string;
  role: string;
  salt?: string;
  iterations?: number;
  keylen?: number;
}

export const DEFAULT_ITERATIONS = 1000;
export const DEFAULT_KEYLEN = 32;

/** autobahn/Crossbar `derive_key`: base64(PBKDF2-HMAC-SHA256(secret, salt, iterations, keylen)). */
export function deriveKey(secret: string, salt: string, iterations = DEFAULT_ITERATIONS, keylen = DEFAULT_KEYLEN): string {
  return pbkdf2Sync(Buffer.from(secret, 'utf8'), Buffer.from(salt, 'utf8'), iterations, keylen, 'sha256').toString('base64');
}

/** autobahn/Crossbar `compute_wcs` / `auth_cra.sign`: base64(HMAC-SHA256(key, challenge)). */
export function signChallenge(key: string, challenge: string): string {
  return createHmac('sha256', Buffer.from(key, 'utf8')).update(challenge, 'utf8').digest('base64');
}

/** Python's `json.dumps(obj)` for a flat object: `{"a": 1, "b": "x"}`. */
function pythonJsonDumps(obj: Dict): string {
  return `{${Object.entries(obj)
    .map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`)
    .join(', ')}}`;
}

interface CraState {
  authid: string;
  user: WampCraUser | undefined;
  challenge: string;
}

export class WampCraAuth implements AuthMethod {
  readonly name = 'wampcra';
  /** authid → user */
  private readonly users: Map<string, WampCraUser>;
  /** configured users, the templates for fake challenges */
  private readonly templates: WampCraUser[];

  constructor(users: Record<string, WampCraUser>) {
    this.users = new Map(Object.entries(users));
    this.templates = [...this.users.values()];
  }

  hello(info: HelloInfo): AuthStep {
    if (info.authid === undefined) {
      return { kind: 'refuse', reason: REFUSED.reason, message: 'wampcra authentication needs HELLO.Details.authid' };
    }
    const authid = info.authid;
    const user = this.users.get(authid);
    const shape = user ?? this.fakeUser(authid);
    // The ID the router allocated at HELLO: WELCOME carries the same one (as with Crossbar.io).
    const session = info.session;
    const challenge = pythonJsonDumps({
      authid,
      authrole: shape.role,
      authmethod: 'wampcra',
      authprovider: 'static',
      session,
      nonce: newId(64),
      timestamp: new Date().toISOString(),
    });
    const extra: Dict = { challenge };
    if (shape.salt !== undefined) {
      extra.salt = shape.salt;
      extra.iterations = shape.iterations ?? DEFAULT_ITERATIONS;
      extra.keylen = shape.keylen ?? DEFAULT_KEYLEN;
    }
    const state: CraState = { authid, user, challenge };
    return { kind: 'challenge', extra, state };
  }

  authenticate(state: unknown, signature: string, _extra: Dict): AuthOutcome {
    const st = state as CraState;
    const given = typeof signature === 'string' ? signature : '';
    // Always compute and compare a signature, so that timing does not tell whether the user exists.
    const key = st.user ? st.user.secret : randomBytes(32).toString('base64');
    const expected = signChallenge(key, st.challenge);
    const ok = safeEqual(given, expected);
    if (!ok || !st.user) return REFUSED;
    return {
      kind: 'welcome',
      identity: { authid: st.authid, authrole: st.user.role, authmethod: 'wampcra', authprovider: 'static' },
    };
  }

  /** A user shape for an unknown authid: modelled on a configured user, stable per authid. */
  private fakeUser(authid: string): WampCraUser {
    const h = fakeBytes(`wampcra\u0000${authid}`, 40);
    const template = this.templates.length > 0 ? this.templates[h.readUInt32BE(0) % this.templates.length] : undefined;
    if (!template) return { secret: '', role: 'anonymous' };
    const fake: WampCraUser = { secret: '', role: template.role };
    if (template.salt !== undefined) {
      // Same length and alphabet class as the real salt is impossible to know in general; a
      // base64 string of the template's length is the common shape.
      const len = Math.max(1, template.salt.length);
      fake.salt = fakeBytes(`salt\u0000${authid}`, len).toString('base64').slice(0, len);
      fake.iterations = template.iterations;
      fake.keylen = template.keylen;
    }
    return fake;
  }
}
