import { MessageType as T, ErrorUri, type Dict, type Message } from '../../wamp';
import { Router } from '../../router/router';
import { RoleAuthorizer, allowEverything } from '../../router/roles';
import WebSocket from 'ws';
import { AnonymousAuth, TicketAuth, WampCraAuth, createAuthMethods, deriveKey, type AuthMethod } from '../../router/auth';
import { FakeClient } from '../helpers/fake-peer';

// autobahn-js (the reference client) wants a global WebSocket on Node 20.
(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;
const autobahn = require('autobahn') as {
  auth_cra: { derive_key(s: string, salt: string, it?: number, kl?: number): string; sign(key: string, challenge: string): string };
};
const cra = autobahn.auth_cra;

const ROLES = { caller: {}, callee: {}, publisher: {}, subscriber: {} };

function makeRouter(): Router {
  const router = new Router();
  router.addRealm(
    'realm1',
    new RoleAuthorizer([
      { name: 'frontend', permissions: [allowEverything()] },
      { name: 'backend', permissions: [allowEverything()] },
      { name: 'anonymous', permissions: [allowEverything()] },
    ]),
  );
  return router;
}

function hello(router: Router, methods: AuthMethod[], details: Dict): { c: FakeClient; m: Message } {
  const c = new FakeClient(router, methods);
  c.send({ type: T.HELLO, realm: 'realm1', details: { roles: ROLES, ...details } });
  return { c, m: c.next() };
}

function challengeOf(m: Message): { method: string; extra: Dict } {
  if (m.type !== T.CHALLENGE) throw new Error(`expected CHALLENGE, got ${m.type}`);
  return { method: m.authmethod, extra: m.extra };
}

function authenticate(c: FakeClient, signature: string): Message {
  c.send({ type: T.AUTHENTICATE, signature, extra: {} });
  return c.next();
}

function expectRefused(c: FakeClient, m: Message): string {
  expect(m.type).toBe(T.ABORT);
  if (m.type !== T.ABORT) throw new Error('unreachable');
  expect(m.reason).toBe(ErrorUri.NOT_AUTHORIZED);
  expect(c.conn.closed).not.toBeNull();
  return String(m.details.message);
}

describe('anonymous', () => {
  test('welcomes with the configured role and a random authid', () => {
    const router = makeRouter();
    const { m } = hello(router, [new AnonymousAuth({ role: 'frontend' })], {});
    expect(m).toMatchObject({ type: T.WELCOME, details: { authrole: 'frontend', authmethod: 'anonymous', authprovider: 'static' } });
    if (m.type !== T.WELCOME) throw new Error();
    expect(m.details.authid).toMatch(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){5}$/);
  });

  test('ignores the authid the client asked for (as Crossbar does): no impersonation', () => {
    const { m } = hello(makeRouter(), [new AnonymousAuth({ role: 'frontend' })], { authid: 'agent7' });
    expect(m).toMatchObject({ type: T.WELCOME, details: { authrole: 'frontend' } });
    expect((m as unknown as { details: { authid: string } }).details.authid).not.toBe('agent7');
  });

  test('a role the realm does not define is refused with no_such_role', () => {
    const { m } = hello(makeRouter(), [new AnonymousAuth({ role: 'ghost' })], {});
    expect(m).toMatchObject({ type: T.ABORT, reason: ErrorUri.NO_SUCH_ROLE });
  });

  test('a transport without auth config is anonymous with role "anonymous" (Crossbar.io)', () => {
    const { m } = hello(makeRouter(), createAuthMethods({}), {});
    expect(m).toMatchObject({ type: T.WELCOME, details: { authrole: 'anonymous' } });
  });
});

describe('ticket', () => {
  const methods = () => [new TicketAuth({ joe: { ticket: 'j0e-t1cket', role: 'frontend' } })];

  test('the right ticket is welcome', () => {
    const { c, m } = hello(makeRouter(), methods(), { authmethods: ['ticket'], authid: 'joe' });
    expect(challengeOf(m)).toEqual({ method: 'ticket', extra: {} });
    expect(authenticate(c, 'j0e-t1cket')).toMatchObject({
      type: T.WELCOME,
      details: { authid: 'joe', authrole: 'frontend', authmethod: 'ticket' },
    });
  });

  test('a wrong ticket and an unknown authid are refused alike', () => {
    const a = hello(makeRouter(), methods(), { authmethods: ['ticket'], authid: 'joe' });
    const b = hello(makeRouter(), methods(), { authmethods: ['ticket'], authid: 'nobody' });
    expect(challengeOf(b.m)).toEqual(challengeOf(a.m));
    const wrong = expectRefused(a.c, authenticate(a.c, 'j0e-t1cket-not'));
    const unknown = expectRefused(b.c, authenticate(b.c, 'j0e-t1cket'));
    expect(unknown).toBe(wrong);
    expect(wrong).not.toMatch(/ticket|authid|principal|user|exist/i);
  });
});

describe('wampcra', () => {
  const users = {
    peter: { secret: 'secret1', role: 'frontend' },
    joe: { secret: deriveKey('secret2', 'salt123', 100, 16), role: 'backend', salt: 'salt123', iterations: 100, keylen: 16 },
  };
  const methods = () => [new WampCraAuth(users)];

  test('the challenge is what Crossbar.io sends', () => {
    const { m } = hello(makeRouter(), methods(), { authmethods: ['wampcra'], authid: 'peter' });
    const { method, extra } = challengeOf(m);
    expect(method).toBe('wampcra');
    expect(Object.keys(extra)).toEqual(['challenge']);
    const challenge = extra.challenge as string;
    const parsed = JSON.parse(challenge) as Dict;
    expect(Object.keys(parsed)).toEqual(['authid', 'authrole', 'authmethod', 'authprovider', 'session', 'nonce', 'timestamp']);
    expect(parsed).toMatchObject({ authid: 'peter', authrole: 'frontend', authmethod: 'wampcra', authprovider: 'static' });
    expect(typeof parsed.session).toBe('number');
    expect(parsed.nonce).toEqual(expect.stringMatching(/^.{64}$/));
    expect(parsed.timestamp).toEqual(expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/));
    expect(challenge).toContain('", "authrole": "'); // Python json.dumps spacing
  });

  test("unsalted: autobahn's signature is welcome", () => {
    const { c, m } = hello(makeRouter(), methods(), { authmethods: ['wampcra'], authid: 'peter' });
    const sig = cra.sign('secret1', challengeOf(m).extra.challenge as string);
    expect(authenticate(c, sig)).toMatchObject({
      type: T.WELCOME,
      details: { authid: 'peter', authrole: 'frontend', authmethod: 'wampcra', authprovider: 'static' },
    });
  });

  test('the challenge carries the session ID that WELCOME then gives (Crossbar.io allocates it at HELLO)', () => {
    for (const authid of ['peter', 'joe']) {
      const router = makeRouter();
      const { c, m } = hello(router, methods(), { authmethods: ['wampcra'], authid });
      const { extra } = challengeOf(m);
      const session = (JSON.parse(extra.challenge as string) as Dict).session as number;
      expect(Number.isInteger(session) && session >= 1 && session <= 2 ** 53).toBe(true);
      expect(router.sessions.size).toBe(0); // allocated, not yet joined
      const key = authid === 'peter' ? 'secret1' : cra.derive_key('secret2', 'salt123', 100, 16);
      const w = authenticate(c, cra.sign(key, extra.challenge as string));
      expect(w).toMatchObject({ type: T.WELCOME, session });
      expect(router.sessions.get(session)).toBeDefined();
    }
  });

  test('a session ID allocated at HELLO that another session took meanwhile is not reused at WELCOME', () => {
    const router = makeRouter();
    const taken = 4242;
    const spy = jest.spyOn(router, 'newSessionId').mockReturnValueOnce(taken).mockReturnValueOnce(taken);
    const { c, m } = hello(router, methods(), { authmethods: ['wampcra'], authid: 'peter' });
    expect((JSON.parse(challengeOf(m).extra.challenge as string) as Dict).session).toBe(taken);
    // A second handshake draws the same ID and joins first.
    const other = hello(router, [new AnonymousAuth({ role: 'anonymous' })], {});
    expect(other.m).toMatchObject({ type: T.WELCOME, session: taken });
    spy.mockRestore();
    const w = authenticate(c, cra.sign('secret1', challengeOf(m).extra.challenge as string));
    expect(w.type).toBe(T.WELCOME);
    const id = (w as Extract<Message, { type: typeof T.WELCOME }>).session;
    expect(id).not.toBe(taken);
    expect(router.sessions.size).toBe(2);
  });

  test('a refused wampcra handshake leaves no session behind', () => {
    const router = makeRouter();
    const { c } = hello(router, methods(), { authmethods: ['wampcra'], authid: 'peter' });
    expectRefused(c, authenticate(c, 'wrong'));
    expect(router.sessions.size).toBe(0);
  });

  test("salted: deriveKey equals autobahn derive_key, and autobahn's salted signature is welcome", () => {
    expect(deriveKey('secret2', 'salt123', 100, 16)).toBe(cra.derive_key('secret2', 'salt123', 100, 16));
    expect(deriveKey('pässword', 'sält')).toBe(cra.derive_key('pässword', 'sält'));
    const { c, m } = hello(makeRouter(), methods(), { authmethods: ['wampcra'], authid: 'joe' });
    const { extra } = challengeOf(m);
    expect(extra).toMatchObject({ salt: 'salt123', iterations: 100, keylen: 16 });
    const key = cra.derive_key('secret2', extra.salt as string, extra.iterations as number, extra.keylen as number);
    expect(authenticate(c, cra.sign(key, extra.challenge as string))).toMatchObject({
      type: T.WELCOME,
      details: { authid: 'joe', authrole: 'backend' },
    });
  });

  test('a wrong secret is refused without a hint', () => {
    const { c, m } = hello(makeRouter(), methods(), { authmethods: ['wampcra'], authid: 'peter' });
    const msg = expectRefused(c, authenticate(c, cra.sign('secret-wrong', challengeOf(m).extra.challenge as string)));
    expect(msg).not.toMatch(/secret|signature|authid|user|exist|password/i);
  });

  test('a garbage signature is refused, not a crash', () => {
    const { c } = hello(makeRouter(), methods(), { authmethods: ['wampcra'], authid: 'peter' });
    expectRefused(c, authenticate(c, ''));
  });

  test('an unknown authid gets a real-looking challenge, stable per authid, then the same refusal', () => {
    const known = hello(makeRouter(), methods(), { authmethods: ['wampcra'], authid: 'peter' });
    const knownMsg = expectRefused(known.c, authenticate(known.c, 'x'));
    const shapes = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const authid = `intruder${i}`;
      const first = challengeOf(hello(makeRouter(), methods(), { authmethods: ['wampcra'], authid }).m).extra;
      const { c, m } = hello(makeRouter(), methods(), { authmethods: ['wampcra'], authid });
      const { method, extra } = challengeOf(m);
      expect(method).toBe('wampcra');
      const parsed = JSON.parse(extra.challenge as string) as Dict;
      expect(parsed.authid).toBe(authid);
      expect(['frontend', 'backend']).toContain(parsed.authrole);
      // Same shape each time for one authid: salted or not, same salt.
      expect({ ...extra, challenge: undefined }).toEqual({ ...first, challenge: undefined });
      if ('salt' in extra) {
        expect(Object.keys(extra).sort()).toEqual(['challenge', 'iterations', 'keylen', 'salt']);
        expect((extra.salt as string).length).toBe('salt123'.length);
      } else {
        expect(Object.keys(extra)).toEqual(['challenge']);
      }
      shapes.add(String(parsed.authrole));
      expect(expectRefused(c, authenticate(c, cra.sign('secret1', extra.challenge as string)))).toBe(knownMsg);
    }
    expect(shapes.size).toBe(2); // fakes look like both kinds of real users
  });

  test('HELLO without authid is refused', () => {
    const { c, m } = hello(makeRouter(), methods(), { authmethods: ['wampcra'] });
    expectRefused(c, m);
  });

  test("methods are offered in the client's order among those enabled", () => {
    const all = createAuthMethods({ anonymous: { role: 'anonymous' }, wampcra: { users } });
    expect(hello(makeRouter(), all, { authmethods: ['wampcra', 'anonymous'], authid: 'peter' }).m.type).toBe(T.CHALLENGE);
    expect(hello(makeRouter(), all, { authmethods: ['anonymous', 'wampcra'], authid: 'peter' }).m).toMatchObject({
      type: T.WELCOME,
      details: { authrole: 'anonymous' },
    });
  });
});
