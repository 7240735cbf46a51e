/**
 * Slows down secret guessing (WAMP-CRA, ticket): failed authentications are counted per source
 * IP and per authid; past `freeFailures` each further failure locks that key for an exponentially
 * growing time (`baseLockMs` · 2^(n − freeFailures − 1), at most `maxLockMs`). While a key is
 * locked the router refuses the handshake at HELLO (wamp.error.authentication_failed, "too many
 * failed attempts"), without asking the auth method.
 *
 * Neither lock applies to an (IP, authid) pair that authenticated recently (within `forgetMs`), so
 * an attacker cannot lock a deployed node or the bridge out, from elsewhere or from its host. A success clears the IP's and
 * the authid's counts. State is bounded: at most `maxEntries` keys per table, least recently
 * failed dropped first; entries idle for `forgetMs` are forgotten.
 */

export interface AuthThrottleOptions {
  /** Failures per key allowed before any lock (default 5). */
  freeFailures?: number;
  /** First lock, ms (default 1000). */
  baseLockMs?: number;
  /** Longest lock, ms (default 5 min). */
  maxLockMs?: number;
  /** Keys kept per table (default 10 000). */
  maxEntries?: number;
  /** A key with no failure for this long is forgotten, ms (default 1 h). */
  forgetMs?: number;
  now?: () => number;
}

interface Entry {
  failures: number;
  lockedUntil: number;
  last: number;
}

/** Why a handshake is refused before it starts, or null. */
export interface Lockout {
  key: 'ip' | 'authid';
  retryAfterMs: number;
}

export class AuthThrottle {
  private readonly freeFailures: number;
  private readonly baseLockMs: number;
  private readonly maxLockMs: number;
  private readonly maxEntries: number;
  private readonly forgetMs: number;
  private readonly now: () => number;
  /** insertion order = least recently failed first */
  private readonly byIp = new Map<string, Entry>();
  private readonly byAuthid = new Map<string, Entry>();
  /** `${authid}\0${ip}` → last success, for the authid lock exemption */
  private readonly good = new Map<string, number>();
  /** Counters for metrics. */
  failures = 0;
  lockouts = 0;

  constructor(o: AuthThrottleOptions = {}) {
    this.freeFailures = Math.max(0, o.freeFailures ?? 5);
    this.baseLockMs = Math.max(1, o.baseLockMs ?? 1000);
    this.maxLockMs = Math.max(this.baseLockMs, o.maxLockMs ?? 5 * 60_000);
    this.maxEntries = Math.max(1, o.maxEntries ?? 10_000);
    this.forgetMs = o.forgetMs ?? 60 * 60_000;
    this.now = o.now ?? Date.now;
  }

  /** Number of keys held (both tables and the success list): bounded by 3 · maxEntries. */
  get size(): number {
    return this.byIp.size + this.byAuthid.size + this.good.size;
  }

  /** Whether a handshake from `ip` for `authid` must be refused now (and counts it as a lockout). */
  check(ip: string, authid: string | undefined): Lockout | null {
    const t = this.now();
    if (authid !== undefined && this.isGood(authid, ip, t)) return null;
    const e = this.live(this.byIp, ip, t);
    if (e && e.lockedUntil > t) {
      this.lockouts++;
      return { key: 'ip', retryAfterMs: e.lockedUntil - t };
    }
    if (authid !== undefined) {
      const a = this.live(this.byAuthid, authid, t);
      if (a && a.lockedUntil > t) {
        this.lockouts++;
        return { key: 'authid', retryAfterMs: a.lockedUntil - t };
      }
    }
    return null;
  }

  /** A failed authentication; returns the lock now in force for the IP (ms, 0 if none). */
  failure(ip: string, authid: string | undefined): number {
    this.failures++;
    const t = this.now();
    const ipLock = this.bump(this.byIp, ip, t);
    if (authid !== undefined) this.bump(this.byAuthid, authid, t);
    return ipLock;
  }

  success(ip: string, authid: string | undefined): void {
    this.byIp.delete(ip);
    if (authid === undefined) return;
    this.byAuthid.delete(authid);
    const k = `${authid}\0${ip}`;
    this.good.delete(k);
    this.good.set(k, this.now());
    this.trim(this.good);
  }

  private isGood(authid: string, ip: string, t: number): boolean {
    const at = this.good.get(`${authid}\0${ip}`);
    return at !== undefined && t - at < this.forgetMs;
  }

  private live(m: Map<string, Entry>, key: string, t: number): Entry | undefined {
    const e = m.get(key);
    if (e && t - e.last > this.forgetMs && e.lockedUntil <= t) {
      m.delete(key);
      return undefined;
    }
    return e;
  }

  private bump(m: Map<string, Entry>, key: string, t: number): number {
    const e = this.live(m, key, t) ?? { failures: 0, lockedUntil: 0, last: t };
    e.failures++;
    e.last = t;
    const over = e.failures - this.freeFailures;
    if (over > 0) e.lockedUntil = t + Math.min(this.maxLockMs, this.baseLockMs * 2 ** Math.min(over - 1, 30));
    m.delete(key); // re-insert: most recently failed last
    m.set(key, e);
    this.trim(m);
    return e.lockedUntil > t ? e.lockedUntil - t : 0;
  }

  private trim<V>(m: Map<string, V>): void {
    while (m.size > this.maxEntries) {
      const first = m.keys().next();
      if (first.done === true) break;
      m.delete(first.value);
    }
  }
}

/** The host part of a TransportInfo.peer (`tcp4:1.2.3.4:5678`, `tcp6:::1:5678`). */
export function peerHost(peer: string): string {
  const rest = peer.replace(/^tcp[46]:/, '');
  const i = rest.lastIndexOf(':');
  return i > 0 ? rest.slice(0, i) : rest;
}
