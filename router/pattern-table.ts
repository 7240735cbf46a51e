/**
 * One table of URI patterns (WAMP 16.x / 17.x "Pattern-based Subscription/Registration"), shared
 * by the broker (every match gets the event), the dealer (one registration wins a CALL) and the
 * roles (one permission decides). Values are keyed by (pattern, match policy); the three indexes:
 *
 *   exact    uri → value                                  one lookup per URI
 *   prefix   prefix → value, plus the sorted distinct      a URI of length L is matched by looking up
 *            prefix lengths                                its leading `len` characters, len ≤ L
 *   wildcard pattern → entry, plus component count →       only patterns with as many components as
 *            entries (insertion order)                     the URI are compared
 *
 * Which match wins is the caller's rule; the table offers the pieces of Crossbar.io's:
 * `longestPrefix` and `bestWildcard` (among matching wildcards: the first empty component latest,
 * then the most literal components, then the earliest added).
 */
import type { MatchPolicy } from '../wamp/uri';

interface WildcardEntry<T> {
  value: T;
  /** pattern components ('' = any component) */
  readonly parts: readonly string[];
  /** index of the first empty component (parts.length when none) */
  readonly firstEmpty: number;
  /** number of non-empty components */
  readonly literals: number;
}

export class PatternTable<T> {
  /** uri → value of an exact pattern */
  private readonly exactMap = new Map<string, T>();
  /** prefix → value of a prefix pattern */
  private readonly prefixMap = new Map<string, T>();
  /** prefix length (characters) → number of prefixes of that length */
  private readonly prefixLengths = new Map<number, number>();
  /** keys of prefixLengths, ascending (rebuilt when a length appears or disappears) */
  private prefixLengthList: number[] = [];
  /** pattern → entry of a wildcard pattern (insertion order) */
  private readonly wildcardMap = new Map<string, WildcardEntry<T>>();
  /** component count → wildcard entries with that many components (a Set: insertion order, O(1) removal) */
  private readonly wildcardByLength = new Map<number, Set<WildcardEntry<T>>>();

  /** The value stored for (pattern, match), if any. */
  get(uri: string, match: MatchPolicy): T | undefined {
    switch (match) {
      case 'exact':
        return this.exactMap.get(uri);
      case 'prefix':
        return this.prefixMap.get(uri);
      case 'wildcard':
        return this.wildcardMap.get(uri)?.value;
    }
  }

  has(uri: string, match: MatchPolicy): boolean {
    switch (match) {
      case 'exact':
        return this.exactMap.has(uri);
      case 'prefix':
        return this.prefixMap.has(uri);
      case 'wildcard':
        return this.wildcardMap.has(uri);
    }
  }

  /** Stores `value` for (pattern, match); an existing pattern keeps its place and gets the new value. */
  set(uri: string, match: MatchPolicy, value: T): void {
    switch (match) {
      case 'exact':
        this.exactMap.set(uri, value);
        return;
      case 'prefix': {
        if (!this.prefixMap.has(uri)) {
          const n = this.prefixLengths.get(uri.length) ?? 0;
          this.prefixLengths.set(uri.length, n + 1);
          if (n === 0) this.prefixLengthList = [...this.prefixLengths.keys()].sort((a, b) => a - b);
        }
        this.prefixMap.set(uri, value);
        return;
      }
      case 'wildcard': {
        const old = this.wildcardMap.get(uri);
        if (old !== undefined) {
          old.value = value;
          return;
        }
        const parts = uri.split('.');
        const e = parts.indexOf('');
        const entry: WildcardEntry<T> = {
          value,
          parts,
          firstEmpty: e < 0 ? parts.length : e,
          literals: parts.filter((p) => p !== '').length,
        };
        this.wildcardMap.set(uri, entry);
        const list = this.wildcardByLength.get(parts.length);
        if (list === undefined) this.wildcardByLength.set(parts.length, new Set([entry]));
        else list.add(entry);
        return;
      }
    }
  }

  /** Removes (pattern, match); whether it was there. */
  delete(uri: string, match: MatchPolicy): boolean {
    switch (match) {
      case 'exact':
        return this.exactMap.delete(uri);
      case 'prefix': {
        if (!this.prefixMap.delete(uri)) return false;
        const n = (this.prefixLengths.get(uri.length) ?? 1) - 1;
        if (n > 0) this.prefixLengths.set(uri.length, n);
        else {
          this.prefixLengths.delete(uri.length);
          this.prefixLengthList = [...this.prefixLengths.keys()].sort((a, b) => a - b);
        }
        return true;
      }
      case 'wildcard': {
        const entry = this.wildcardMap.get(uri);
        if (entry === undefined) return false;
        this.wildcardMap.delete(uri);
        const list = this.wildcardByLength.get(entry.parts.length);
        if (list !== undefined) {
          list.delete(entry);
          if (list.size === 0) this.wildcardByLength.delete(entry.parts.length);
        }
        return true;
      }
    }
  }

  /** The exact pattern equal to `uri` (the hot path: one map lookup). */
  exact(uri: string): T | undefined {
    return this.exactMap.get(uri);
  }

  /** Whether any prefix or wildcard pattern is stored. */
  get hasPatterns(): boolean {
    return this.prefixMap.size > 0 || this.wildcardMap.size > 0;
  }

  /** Number of patterns under one policy. */
  size(match: MatchPolicy): number {
    switch (match) {
      case 'exact':
        return this.exactMap.size;
      case 'prefix':
        return this.prefixMap.size;
      case 'wildcard':
        return this.wildcardMap.size;
    }
  }

  /** Values under one policy, in insertion order. */
  *values(match: MatchPolicy): IterableIterator<T> {
    switch (match) {
      case 'exact':
        yield* this.exactMap.values();
        return;
      case 'prefix':
        yield* this.prefixMap.values();
        return;
      case 'wildcard':
        for (const e of this.wildcardMap.values()) yield e.value;
        return;
    }
  }

  /**
   * Values of every prefix and wildcard pattern matching `uri`, appended to `out`: prefixes by
   * ascending length, then wildcards in insertion order. Exact patterns are left to `exact()`.
   */
  patternMatches(uri: string, out: T[] = []): T[] {
    if (this.prefixMap.size > 0) {
      for (const len of this.prefixLengthList) {
        if (len > uri.length) break;
        const v = this.prefixMap.get(len === uri.length ? uri : uri.slice(0, len));
        if (v !== undefined) out.push(v);
      }
    }
    if (this.wildcardMap.size > 0) {
      const parts = uri.split('.');
      const candidates = this.wildcardByLength.get(parts.length);
      if (candidates !== undefined) {
        for (const e of candidates) if (wildcardMatches(e.parts, parts)) out.push(e.value);
      }
    }
    return out;
  }

  /** Every value matching `uri`: the exact one first, then as `patternMatches`. */
  matches(uri: string): T[] {
    const out: T[] = [];
    const ex = this.exactMap.get(uri);
    if (ex !== undefined) out.push(ex);
    return this.patternMatches(uri, out);
  }

  /** The value of the longest prefix of `uri`, if any. */
  longestPrefix(uri: string): T | undefined {
    const lengths = this.prefixLengthList;
    for (let i = lengths.length - 1; i >= 0; i--) {
      const len = lengths[i] ?? 0;
      if (len > uri.length) continue;
      const v = this.prefixMap.get(len === uri.length ? uri : uri.slice(0, len));
      if (v !== undefined) return v;
    }
    return undefined;
  }

  /**
   * The most specific wildcard pattern matching `uri` (Crossbar.io's rule): the first empty
   * component comes latest, then the most literal components; ties go to the earliest added.
   */
  bestWildcard(uri: string): T | undefined {
    if (this.wildcardMap.size === 0) return undefined;
    const parts = uri.split('.');
    const candidates = this.wildcardByLength.get(parts.length);
    if (candidates === undefined) return undefined;
    let best: WildcardEntry<T> | undefined;
    for (const e of candidates) {
      if (best !== undefined && !moreSpecific(e, best)) continue;
      if (wildcardMatches(e.parts, parts)) best = e;
    }
    return best?.value;
  }
}

/** Whether wildcard `a` wins over `b` (first empty component later, else more literals; a tie keeps `b`). */
function moreSpecific<T>(a: WildcardEntry<T>, b: WildcardEntry<T>): boolean {
  return a.firstEmpty > b.firstEmpty || (a.firstEmpty === b.firstEmpty && a.literals > b.literals);
}

/** Whether URI components `u` match wildcard pattern components `p` (same length). */
function wildcardMatches(p: readonly string[], u: readonly string[]): boolean {
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c !== '' && c !== u[i]) return false;
  }
  return true;
}
