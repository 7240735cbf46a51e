import { RoleAuthorizer, allowEverything, convertStarredUri, type Permission } from '../../router/roles';
import type { Session } from '../../router/session';

function perm(
  uri: string,
  match: Permission['match'],
  allow: Partial<Permission['allow']>,
  disclose: Partial<Permission['disclose']> = {},
): Permission {
  return {
    uri,
    match,
    allow: { call: false, register: false, publish: false, subscribe: false, ...allow },
    disclose: { caller: false, publisher: false, ...disclose },
  };
}
const as = (authrole: string) => ({ authrole }) as unknown as Session;

describe('RoleAuthorizer', () => {
  const a = new RoleAuthorizer([
    {
      name: 'user',
      permissions: [
        perm('com.example.', 'prefix', { call: true, subscribe: true }),
        perm('com.example.admin.', 'prefix', {}),
        perm('com.example.admin.ping', 'exact', { call: true }),
        perm('com..public', 'wildcard', { publish: true }),
      ],
    },
    { name: 'all', permissions: [allowEverything()] },
    { name: 'none', permissions: [] },
  ]);

  test('the longest matching prefix decides', () => {
    expect(a.authorize(as('user'), 'com.example.data.get', 'call')).toBe(true);
    expect(a.authorize(as('user'), 'com.example.admin.reset', 'call')).toBe(false);
    expect(a.authorize(as('user'), 'com.example.data.get', 'register')).toBe(false);
  });

  test('an exact permission beats every prefix', () => {
    expect(a.authorize(as('user'), 'com.example.admin.ping', 'call')).toBe(true);
    expect(a.authorize(as('user'), 'com.example.admin.ping', 'subscribe')).toBe(false);
    expect(a.authorize(as('user'), 'com.example.admin.pingx', 'call')).toBe(false);
  });

  test('wildcards match component-wise and beat a prefix match (as in Crossbar.io)', () => {
    expect(a.authorize(as('user'), 'com.example.public', 'publish')).toBe(true);
    expect(a.authorize(as('user'), 'com.example.public', 'call')).toBe(false); // the wildcard decides
    expect(a.authorize(as('user'), 'com.other.public', 'publish')).toBe(true);
    expect(a.authorize(as('user'), 'com.a.b.public', 'publish')).toBe(false); // wrong component count
  });

  test('an empty prefix matches everything; no match denies', () => {
    for (const act of ['call', 'register', 'publish', 'subscribe'] as const) {
      expect(a.authorize(as('all'), 'x', act)).toBe(true);
      expect(a.authorize(as('none'), 'x', act)).toBe(false);
      expect(a.authorize(as('nobody'), 'x', act)).toBe(false);
    }
    expect(a.authorize(as('user'), 'org.other', 'call')).toBe(false);
  });

  test('hasRole', () => {
    expect(a.hasRole('user')).toBe(true);
    expect(a.hasRole('nobody')).toBe(false);
  });

  test('decisions are cached in a bounded map and stay correct', () => {
    const small = new RoleAuthorizer([{ name: 'r', permissions: [perm('a.', 'prefix', { call: true })] }], { cacheSize: 3 });
    for (let i = 0; i < 100; i++) {
      expect(small.allows('r', `a.${i}`, 'call')).toBe(true);
      expect(small.allows('r', `b.${i}`, 'call')).toBe(false);
    }
    expect(small.cachedDecisions).toBeLessThanOrEqual(3);
    expect(small.cachedDecisions).toBeGreaterThan(0);
  });

  test('disclose follows the deciding permission, or all permissions when no URI is given', () => {
    const d = new RoleAuthorizer([
      { name: 'open', permissions: [perm('', 'prefix', { call: true, publish: true }, { caller: true, publisher: true })] },
      { name: 'mixed', permissions: [perm('a.', 'prefix', { call: true }, { caller: true }), perm('b.', 'prefix', { call: true })] },
    ]);
    expect(d.disclose(as('open'), 'caller')).toBe(true);
    expect(d.disclose(as('open'), 'publisher', 'x.y')).toBe(true);
    expect(d.disclose(as('mixed'), 'caller', 'a.x')).toBe(true);
    expect(d.disclose(as('mixed'), 'caller', 'b.x')).toBe(false);
    expect(d.disclose(as('mixed'), 'caller')).toBe(false);
    expect(d.disclose(as('nobody'), 'caller')).toBe(false);
  });

  test('decide answers exactly as authorize then disclose', () => {
    const d = new RoleAuthorizer([
      {
        name: 'mixed',
        permissions: [
          perm('a.', 'prefix', { call: true, publish: true }, { caller: true }),
          perm('b.', 'prefix', { call: true }, { publisher: true }),
          perm('b.x', 'exact', { publish: true }, { publisher: true }),
          perm('c..z', 'wildcard', { call: true, publish: true }, { caller: true, publisher: true }),
        ],
      },
      { name: 'none', permissions: [] },
    ]);
    for (const role of ['mixed', 'none', 'nobody']) {
      for (const uri of ['a.x', 'b.x', 'b.y', 'c.q.z', 'c.q.y', 'd']) {
        for (const action of ['call', 'publish'] as const) {
          const s = as(role);
          const want = !d.authorize(s, uri, action) ? 0 : d.disclose(s, action === 'call' ? 'caller' : 'publisher', uri) ? 2 : 1;
          expect([role, uri, action, d.decide(s, uri, action)]).toEqual([role, uri, action, want]);
        }
      }
    }
  });
});

test('starred URIs convert as in autobahn', () => {
  expect(convertStarredUri('com.example.proc')).toEqual({ uri: 'com.example.proc', match: 'exact' });
  expect(convertStarredUri('com.example.*')).toEqual({ uri: 'com.example.', match: 'prefix' });
  expect(convertStarredUri('*')).toEqual({ uri: '', match: 'prefix' });
  expect(convertStarredUri('com.*.proc')).toEqual({ uri: 'com..proc', match: 'wildcard' });
});
