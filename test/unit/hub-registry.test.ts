import { NODE_NAME_RE } from '../../contract';
import { nodeName } from '../../bin/common';
import { checkNode } from '../../consumers/grpc/requests';
import { NodeRegistry, DEFAULT_REGISTRY_LIMITS } from '../../hub';

describe('NodeRegistry', () => {
  let t = 1000;
  const clock = () => t;
  beforeEach(() => {
    t = 1000;
  });

  test('adds, re-announces (description updated) and lists in order of arrival', () => {
    const r = new NodeRegistry({}, clock);
    expect(r.add('a', 'first', 1)).toEqual({ kind: 'added', record: { name: 'a', description: 'first', sessionId: 1, added: 1000 } });
    t = 1001;
    expect(r.add('b', '', 2).kind).toBe('added');
    expect(r.add('a', 'again', 1)).toEqual({ kind: 'updated', record: { name: 'a', description: 'again', sessionId: 1, added: 1000 } });
    expect(r.publicList()).toEqual([
      { name: 'a', description: 'again' },
      { name: 'b', description: '' },
    ]);
    expect(r.list().map((x) => x.sessionId)).toEqual([1, 2]);
  });

  test('a name held by another session is reported as held, not changed', () => {
    const r = new NodeRegistry({}, clock);
    r.add('a', 'owner', 1);
    expect(r.add('a', 'thief', 2)).toEqual({ kind: 'held', holder: 1 });
    expect(r.get('a')?.description).toBe('owner');
  });

  test('remove with a session id removes only what that session holds', () => {
    const r = new NodeRegistry({}, clock);
    r.add('a', '', 1);
    expect(r.remove('a', 2)).toBeNull();
    expect(r.get('a')).toBeDefined();
    expect(r.remove('a', 1)?.name).toBe('a');
    expect(r.size).toBe(0);
    expect(r.sessions()).toEqual([]);
  });

  test('removeSession removes every name of that session and keeps the reverse index exact', () => {
    const r = new NodeRegistry({}, clock);
    r.add('a', '', 1);
    r.add('b', '', 1);
    r.add('c', '', 2);
    expect(r.namesOf(1)).toEqual(['a', 'b']);
    expect(r.removeSession(1).map((x) => x.name)).toEqual(['a', 'b']);
    expect(r.namesOf(1)).toEqual([]);
    expect(r.sessions()).toEqual([2]);
    expect(r.removeSession(99)).toEqual([]);
  });

  test('checkName: 1..64 of letters, digits, _ and -', () => {
    const r = new NodeRegistry();
    expect(r.checkName('weather_2-b')).toBeNull();
    for (const bad of ['', 'a.b', 'a b', 'x#', 'é', 'a/b', 42, null, undefined, {}]) expect(r.checkName(bad)).not.toBeNull();
    expect(r.checkName('x'.repeat(64))).toBeNull();
    expect(r.checkName('x'.repeat(65))).toMatch(/longer than 64/);
  });

  test("the CLI's --name, config files and the gRPC API refuse what the hub refuses (NODE_NAME_RE), the length too", () => {
    const r = new NodeRegistry();
    const cli = (n: string) => (() => nodeName(n)) as () => unknown;
    const grpc = (n: string) => (() => checkNode(n)) as () => unknown;
    for (const name of ['x'.repeat(64), 'weather_2-b']) {
      expect(r.checkName(name)).toBeNull();
      expect(NODE_NAME_RE.test(name)).toBe(true);
      expect(cli(name)).not.toThrow();
      expect(grpc(name)).not.toThrow();
    }
    for (const name of ['x'.repeat(65), 'a.b', '']) {
      expect(r.checkName(name)).not.toBeNull();
      expect(NODE_NAME_RE.test(name)).toBe(false);
      expect(cli(name)).toThrow();
      expect(grpc(name)).toThrow();
    }
    // a hostile name is not echoed whole
    expect(grpc('y'.repeat(100_000))).toThrow(/^(?!.{400})/s);
  });

  test('checkDescription bounds UTF-8 bytes, accepts null/undefined, refuses other types', () => {
    const r = new NodeRegistry({ maxDescriptionBytes: 10 });
    expect(r.checkDescription(undefined)).toBeNull();
    expect(r.checkDescription(null)).toBeNull();
    expect(r.checkDescription('0123456789')).toBeNull();
    expect(r.checkDescription('01234567890')).toMatch(/longer than 10 bytes/);
    expect(r.checkDescription('ééééé')).toBeNull(); // 10 bytes
    expect(r.checkDescription('éééééé')).not.toBeNull(); // 6 characters, 12 bytes
    expect(r.checkDescription(5)).toMatch(/string/);
    expect(new NodeRegistry().checkDescription('x'.repeat(6 * 1024 * 1024))).not.toBeNull();
  });

  test('a session holds at most maxNamesPerSession names; others are not affected', () => {
    const r = new NodeRegistry({ maxNamesPerSession: 2 });
    expect(r.add('a', '', 1).kind).toBe('added');
    expect(r.add('b', '', 1).kind).toBe('added');
    expect(r.add('c', '', 1)).toMatchObject({ kind: 'limit', message: expect.stringMatching(/at most 2 names/) });
    expect(r.add('a', 'update is fine', 1).kind).toBe('updated');
    expect(r.add('c', '', 2).kind).toBe('added');
  });

  test('the whole list stays within maxTotalBytes, counting updates and removals', () => {
    const r = new NodeRegistry({ maxTotalBytes: 20 });
    expect(r.add('a', 'x'.repeat(9), 1).kind).toBe('added'); // 10 bytes
    expect(r.bytes).toBe(10);
    expect(r.add('b', 'x'.repeat(10), 2).kind).toBe('limit'); // would be 21
    expect(r.add('b', 'x'.repeat(9), 2).kind).toBe('added'); // 20
    expect(r.add('a', 'x'.repeat(10), 1).kind).toBe('limit'); // update would be 21
    expect(r.get('a')?.description).toBe('x'.repeat(9));
    expect(r.add('a', '', 1).kind).toBe('updated');
    expect(r.bytes).toBe(11);
    r.removeSession(2);
    expect(r.bytes).toBe(1);
    r.remove('a');
    expect(r.bytes).toBe(0);
  });

  test('with the default bounds the largest possible list stays far below 16 MiB', () => {
    const d = DEFAULT_REGISTRY_LIMITS;
    const r = new NodeRegistry();
    let sid = 0;
    let refused = 0;
    for (let i = 0; i < 2000; i++) {
      const name = `n${i}`.padEnd(d.maxNameLength, 'x');
      const out = r.add(name, 'd'.repeat(d.maxDescriptionBytes), Math.floor(sid++ / d.maxNamesPerSession));
      if (out.kind === 'limit') refused++;
    }
    expect(refused).toBeGreaterThan(0);
    expect(JSON.stringify(r.publicList()).length).toBeLessThan(d.maxTotalBytes * 1.1);
    expect(d.maxTotalBytes).toBeLessThan((16 * 1024 * 1024) / 4);
  });
});
