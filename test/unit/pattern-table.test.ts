import { PatternTable } from '../../router/pattern-table';
import type { MatchPolicy } from '../../wamp/uri';

/** The definition the table's indexes must agree with (WAMP 16.x / 17.x). */
function matchesNaive(uri: string, pattern: string, match: MatchPolicy): boolean {
  if (match === 'exact') return uri === pattern;
  if (match === 'prefix') return uri.startsWith(pattern);
  const p = pattern.split('.');
  const u = uri.split('.');
  return p.length === u.length && p.every((c, i) => c === '' || c === u[i]);
}

/** A small deterministic PRNG so a failure names a reproducible seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('PatternTable', () => {
  test('get / has / set / delete per policy; the same string under two policies is two entries', () => {
    const t = new PatternTable<string>();
    t.set('a.b', 'exact', 'E');
    t.set('a.b', 'prefix', 'P');
    t.set('a.b', 'wildcard', 'W');
    expect([t.get('a.b', 'exact'), t.get('a.b', 'prefix'), t.get('a.b', 'wildcard')]).toEqual(['E', 'P', 'W']);
    expect(t.has('a.c', 'exact')).toBe(false);
    expect(t.size('prefix')).toBe(1);
    expect(t.delete('a.b', 'prefix')).toBe(true);
    expect(t.delete('a.b', 'prefix')).toBe(false);
    expect(t.get('a.b', 'prefix')).toBeUndefined();
    expect(t.matches('a.b')).toEqual(['E', 'W']);
    t.delete('a.b', 'wildcard');
    expect(t.hasPatterns).toBe(false);
    expect(t.exact('a.b')).toBe('E');
  });

  test('set on an existing pattern replaces the value and keeps its place', () => {
    const t = new PatternTable<string>();
    t.set('a..c', 'wildcard', '1');
    t.set('a.b.', 'wildcard', '2');
    t.set('a..c', 'wildcard', '1b');
    expect([...t.values('wildcard')]).toEqual(['1b', '2']);
    expect(t.patternMatches('a.b.c')).toEqual(['1b', '2']);
    t.set('x', 'prefix', 'p1');
    t.set('x', 'prefix', 'p2');
    expect(t.size('prefix')).toBe(1);
    expect(t.longestPrefix('xyz')).toBe('p2');
  });

  test('patternMatches: prefixes by ascending length, then wildcards in insertion order', () => {
    const t = new PatternTable<string>();
    t.set('a.b.c', 'prefix', 'long');
    t.set('a', 'prefix', 'short');
    t.set('a.', 'wildcard', 'w-late-empty');
    t.set('.b', 'wildcard', 'w-early-empty');
    t.set('a.b', 'prefix', 'mid');
    expect(t.patternMatches('a.b.c.d')).toEqual(['short', 'mid', 'long']);
    expect(t.patternMatches('a.b')).toEqual(['short', 'mid', 'w-late-empty', 'w-early-empty']);
    expect(t.patternMatches('ab')).toEqual(['short']);
    expect(t.patternMatches('z')).toEqual([]);
  });

  test('longestPrefix picks the longest; the empty prefix matches everything', () => {
    const t = new PatternTable<string>();
    expect(t.longestPrefix('a')).toBeUndefined();
    t.set('', 'prefix', 'all');
    t.set('com.example.', 'prefix', 'example');
    t.set('com.example.admin.', 'prefix', 'admin');
    expect(t.longestPrefix('com.example.admin.reset')).toBe('admin');
    expect(t.longestPrefix('com.example.data')).toBe('example');
    expect(t.longestPrefix('org')).toBe('all');
    expect(t.longestPrefix('')).toBe('all');
    t.delete('', 'prefix');
    expect(t.longestPrefix('org')).toBeUndefined();
  });

  test("bestWildcard: Crossbar's rule (first empty component latest, then most literals, then earliest)", () => {
    const t = new PatternTable<string>();
    t.set('a...d', 'wildcard', 'first-empty-1');
    t.set('a.b..', 'wildcard', 'first-empty-2');
    t.set('a.b..d.e', 'wildcard', 'other-length');
    expect(t.bestWildcard('a.b.c.d')).toBe('first-empty-2');
    t.set('a.b.c.', 'wildcard', 'first-empty-3');
    expect(t.bestWildcard('a.b.c.d')).toBe('first-empty-3');
    expect(t.bestWildcard('a.x.c.d')).toBe('first-empty-1');
    // Same first empty component: more literals win; equal: the earliest added.
    const u = new PatternTable<string>();
    u.set('a...', 'wildcard', 'fewer');
    u.set('a..c.', 'wildcard', 'tie-1');
    u.set('a...d', 'wildcard', 'tie-2');
    expect(u.bestWildcard('a.b.c.d')).toBe('tie-1');
    u.delete('a..c.', 'wildcard');
    expect(u.bestWildcard('a.b.c.d')).toBe('tie-2');
    u.set('a..c.', 'wildcard', 'tie-1-again');
    expect(u.bestWildcard('a.b.c.d')).toBe('tie-2');
    expect(u.bestWildcard('a.b.c')).toBeUndefined();
  });

  test('random patterns: the indexes agree with the definition, across adds and deletes', () => {
    for (let seed = 1; seed <= 10; seed++) {
      const r = rng(seed);
      const words = ['a', 'b', 'c'];
      const word = () => words[Math.floor(r() * words.length)] ?? 'a';
      const uriOf = (n: number) => Array.from({ length: n }, word).join('.');
      const policies: MatchPolicy[] = ['exact', 'prefix', 'wildcard'];
      const t = new PatternTable<string>();
      /** the model: insertion-ordered list of live (pattern, match) */
      let model: Array<{ uri: string; match: MatchPolicy }> = [];
      for (let step = 0; step < 300; step++) {
        const match = policies[Math.floor(r() * 3)] ?? 'exact';
        let uri = uriOf(1 + Math.floor(r() * 3));
        if (match === 'wildcard')
          uri = uri
            .split('.')
            .map((c) => (r() < 0.4 ? '' : c))
            .join('.');
        if (match === 'prefix' && r() < 0.3) uri = uri.slice(0, Math.max(0, uri.length - 1));
        const key = `${match}:${uri}`;
        if (r() < 0.35) {
          expect(t.delete(uri, match)).toBe(model.some((m) => m.uri === uri && m.match === match));
          model = model.filter((m) => !(m.uri === uri && m.match === match));
        } else if (!t.has(uri, match)) {
          t.set(uri, match, key);
          model.push({ uri, match });
        }
        const probe = uriOf(1 + Math.floor(r() * 3));
        const hits = model.filter((m) => matchesNaive(probe, m.uri, m.match));
        const ex = hits.filter((m) => m.match === 'exact').map((m) => `exact:${m.uri}`);
        const pre = hits
          .filter((m) => m.match === 'prefix')
          .sort((x, y) => x.uri.length - y.uri.length)
          .map((m) => `prefix:${m.uri}`);
        const wild = hits.filter((m) => m.match === 'wildcard');
        expect(t.matches(probe)).toEqual([...ex, ...pre, ...wild.map((m) => `wildcard:${m.uri}`)]);
        expect(t.longestPrefix(probe)).toBe(pre[pre.length - 1]);
        let best: { uri: string; firstEmpty: number; literals: number } | undefined;
        for (const w of wild) {
          const parts = w.uri.split('.');
          const e = parts.indexOf('');
          const firstEmpty = e < 0 ? parts.length : e;
          const literals = parts.filter((c) => c !== '').length;
          if (!best || firstEmpty > best.firstEmpty || (firstEmpty === best.firstEmpty && literals > best.literals)) {
            best = { uri: w.uri, firstEmpty, literals };
          }
        }
        expect(t.bestWildcard(probe)).toBe(best ? `wildcard:${best.uri}` : undefined);
      }
      for (const p of policies) expect(t.size(p)).toBe(model.filter((m) => m.match === p).length);
    }
  });
});
