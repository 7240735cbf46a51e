/**
 * URI rules (WAMP 2.1.1 "URIs" and 16.x "Pattern-based Subscription/Registration").
 * Loose rules: components are non-empty and contain no whitespace and no '#'; strict rules:
 * components are [0-9a-z_]+ only. A pattern URI may have empty components ("wildcard" match).
 */

const LOOSE = /^([^\s.#]+\.)*([^\s.#]+)$/;
const LOOSE_EMPTY = /^(([^\s.#]+\.)|\.)*([^\s.#]+)?$/;
const STRICT = /^([0-9a-z_]+\.)*([0-9a-z_]+)$/;
const STRICT_EMPTY = /^(([0-9a-z_]+\.)|\.)*([0-9a-z_]+)?$/;

export type MatchPolicy = 'exact' | 'prefix' | 'wildcard';

/** Whether `uri` is a valid URI. `allowEmpty` admits empty components (wildcard patterns). */
export function isValidUri(uri: string, strict = false, allowEmpty = false): boolean {
  if (typeof uri !== 'string' || uri.length === 0) return false;
  if (allowEmpty) return (strict ? STRICT_EMPTY : LOOSE_EMPTY).test(uri);
  return (strict ? STRICT : LOOSE).test(uri);
}

/**
 * Whether `uri` is valid for the given match policy: an exact URI must be a full URI;
 * a prefix may end anywhere in a component and may not be empty; a wildcard may have empty components.
 */
export function isValidPattern(uri: string, match: MatchPolicy, strict = false): boolean {
  if (match === 'wildcard') return typeof uri === 'string' && uri.length > 0 && isValidUri(uri, strict, true);
  if (match === 'prefix') {
    if (typeof uri !== 'string' || uri.length === 0) return false;
    // "a.b." is a valid prefix (a trailing dot), as Crossbar accepts it.
    const trimmed = uri.endsWith('.') ? uri.slice(0, -1) : uri;
    return trimmed.length > 0 && isValidUri(trimmed, strict);
  }
  return isValidUri(uri, strict);
}

/** URIs under `wamp.` are reserved for the router (WAMP 2.1.1). */
export function isReserved(uri: string): boolean {
  return uri === 'wamp' || uri.startsWith('wamp.');
}
