/**
 * Static authorization from Crossbar.io realm roles (`realms[].roles[].permissions[]`).
 *
 * Decision for (role, uri): the most specific matching permission of the role decides, the rest
 * are not consulted; no match denies everything.
 *   1. `exact` permission whose uri equals the URI;
 *   2. else a matching `wildcard` permission (Crossbar.io lets a wildcard override a prefix match;
 *      among several: the longest literal head before the first empty component, then the most
 *      literal components);
 *   3. else the `prefix` permission with the longest uri that is a string prefix of the URI
 *      (uri "" matches everything).
 * Decisions are cached per (role, uri) in a bounded map (per role, uri → permission).
 */
import { ALLOWED, DENIED, DISCLOSED, type Action, type Authorizer, type Decision, type Disclose } from './authorizer';
import type { MatchPolicy } from '../wamp/uri';
import { PatternTable } from './pattern-table';
import type { Session } from './session';

export interface Permission {
  uri: string;
  match: MatchPolicy;
  allow: { call: boolean; register: boolean; publish: boolean; subscribe: boolean };
  disclose: { caller: boolean; publisher: boolean };
}

export interface RoleConfig {
  name: string;
  permissions: Permission[];
}

/** A permission that allows everything on every URI (the dev router's role). */
export function allowEverything(discloseIdentity = false): Permission {
  return {
    uri: '',
    match: 'prefix',
    allow: { call: true, register: true, publish: true, subscribe: true },
    disclose: { caller: discloseIdentity, publisher: discloseIdentity },
  };
}

/**
 * Crossbar.io "starred" URIs, used when a permission has no explicit `match`: no star → exact;
 * one trailing star → prefix (star removed); otherwise wildcard (stars removed). Same as
 * autobahn's `convert_starred_uri`.
 */
export function convertStarredUri(uri: string): { uri: string; match: MatchPolicy } {
  const stars = uri.split('*').length - 1;
  if (stars === 0) return { uri, match: 'exact' };
  if (stars === 1 && uri.endsWith('*')) return { uri: uri.slice(0, -1), match: 'prefix' };
  return { uri: uri.replace(/\*/g, ''), match: 'wildcard' };
}

class CompiledRole {
  /** (uri, match) → permission */
  private readonly table = new PatternTable<Permission>();

  constructor(readonly config: RoleConfig) {
    for (const p of config.permissions) {
      // A later duplicate `exact` permission replaces an earlier one, as in Crossbar's trie; among
      // duplicate prefix or wildcard permissions the first one listed decides.
      if (p.match === 'exact' || !this.table.has(p.uri, p.match)) this.table.set(p.uri, p.match, p);
    }
  }

  lookup(uri: string): Permission | null {
    return this.table.exact(uri) ?? this.table.bestWildcard(uri) ?? this.table.longestPrefix(uri) ?? null;
  }
}

export interface RoleAuthorizerOptions {
  /** Largest number of cached (role, uri) decisions (default 10 000). */
  cacheSize?: number;
}

export class RoleAuthorizer implements Authorizer {
  /** role name → compiled permissions */
  private readonly roles = new Map<string, CompiledRole>();
  /**
   * role name → (uri → deciding permission, null: nothing matches); insertion order = age. Nested
   * rather than keyed by `${role}\0${uri}`: no key string is built and hashed per lookup (the
   * URI string's hash is usually cached already by the broker's or dealer's own lookup).
   */
  private readonly cache = new Map<string, Map<string, Permission | null>>();
  /** Number of decisions in `cache`, over all roles. */
  private cached = 0;
  private readonly cacheSize: number;

  constructor(roles: RoleConfig[], options: RoleAuthorizerOptions = {}) {
    for (const r of roles) {
      this.roles.set(r.name, new CompiledRole(r));
      this.cache.set(r.name, new Map());
    }
    this.cacheSize = Math.max(1, options.cacheSize ?? 10_000);
  }

  hasRole(role: string): boolean {
    return this.roles.has(role);
  }

  get roleNames(): string[] {
    return [...this.roles.keys()];
  }

  /** Number of cached (role, uri) decisions (at most `cacheSize`). */
  get cachedDecisions(): number {
    return this.cached;
  }

  /** The permission that decides for `role` on `uri`, or null when none matches (deny). */
  permissionFor(role: string, uri: string): Permission | null {
    const decisions = this.cache.get(role);
    if (decisions === undefined) return null; // unknown role: nothing is allowed
    const hit = decisions.get(uri);
    if (hit !== undefined) return hit;
    const perm = this.roles.get(role)!.lookup(uri);
    if (this.cached >= this.cacheSize) this.evictOne(decisions);
    decisions.set(uri, perm);
    this.cached++;
    return perm;
  }

  /** Drops the oldest decision of `preferred` (the role being looked up), else of another role. */
  private evictOne(preferred: Map<string, Permission | null>): void {
    let from = preferred;
    if (from.size === 0) {
      for (const m of this.cache.values())
        if (m.size > 0) {
          from = m;
          break;
        }
    }
    const oldest = from.keys().next();
    if (!oldest.done) {
      from.delete(oldest.value);
      this.cached--;
    }
  }

  /** Whether `role` may do `action` on `uri` (no session needed). */
  allows(role: string, uri: string, action: Action): boolean {
    const p = this.permissionFor(role, uri);
    return p !== null && p.allow[action] === true;
  }

  authorize(session: Session, uri: string, action: Action): boolean {
    return this.allows(session.authrole, uri, action);
  }

  /** authorize + disclose(uri) for a CALL or PUBLISH in one lookup (see Authorizer.decide). */
  decide(session: Session, uri: string, action: 'call' | 'publish'): Decision {
    const p = this.permissionFor(session.authrole, uri);
    if (p === null || p.allow[action] !== true) return DENIED;
    return p.disclose[action === 'call' ? 'caller' : 'publisher'] === true ? DISCLOSED : ALLOWED;
  }

  /**
   * Whether the caller's (publisher's) identity is disclosed. With `uri` (the procedure or
   * topic), the deciding permission says so, as in Crossbar. Without it, the answer is yes only
   * when every permission of the role that allows calling (publishing) discloses: never more
   * than Crossbar would disclose.
   */
  disclose(session: Session, what: Disclose, uri?: string): boolean {
    const role = session.authrole;
    if (uri !== undefined) {
      const p = this.permissionFor(role, uri);
      return p !== null && p.disclose[what] === true;
    }
    const compiled = this.roles.get(role);
    if (!compiled) return false;
    const action: Action = what === 'caller' ? 'call' : 'publish';
    const relevant = compiled.config.permissions.filter((p) => p.allow[action]);
    return relevant.length > 0 && relevant.every((p) => p.disclose[what]);
  }
}
