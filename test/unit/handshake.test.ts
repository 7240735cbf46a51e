import { MessageType as T, ErrorUri, CloseUri } from '../../wamp';
import { Router } from '../../router/router';
import { FakeClient, anonymousAuth } from '../helpers/fake-peer';

describe('opening handshake', () => {
  let router: Router;
  beforeEach(() => {
    router = new Router();
    router.addRealm('realm1');
  });

  test('HELLO gets WELCOME with a random session id and the router roles', () => {
    const c = FakeClient.join(router);
    expect(c.sessionId).toBeGreaterThanOrEqual(1);
    expect(c.sessionId).toBeLessThanOrEqual(2 ** 53);
    expect(router.sessions.has(c.sessionId)).toBe(true);
  });

  test('HELLO to an unknown realm is ABORTed with no_such_realm', () => {
    const c = new FakeClient(router, [anonymousAuth]);
    c.send({ type: T.HELLO, realm: 'nope', details: { roles: { caller: {} } } });
    const m = c.next();
    expect(m).toMatchObject({ type: T.ABORT, reason: ErrorUri.NO_SUCH_REALM });
    expect(c.conn.closed).not.toBeNull();
  });

  test('a message before HELLO is a protocol violation', () => {
    const c = new FakeClient(router, [anonymousAuth]);
    c.sendRaw([48, 1, {}, 'com.x']);
    expect(c.next()).toMatchObject({ type: T.ABORT, reason: ErrorUri.PROTOCOL_VIOLATION });
    expect(c.conn.closed).not.toBeNull();
  });

  test('garbage bytes are a protocol violation, not a crash', () => {
    const c = new FakeClient(router, [anonymousAuth]);
    c.conn.deliver(Buffer.from('{not json'));
    expect(c.next()).toMatchObject({ type: T.ABORT, reason: ErrorUri.PROTOCOL_VIOLATION });
  });

  test('a second HELLO after join is a protocol violation and the session leaves', () => {
    const c = FakeClient.join(router);
    c.send({ type: T.HELLO, realm: 'realm1', details: { roles: { caller: {} } } });
    expect(c.next()).toMatchObject({ type: T.ABORT, reason: ErrorUri.PROTOCOL_VIOLATION });
    expect(router.sessions.has(c.sessionId)).toBe(false);
  });

  test('GOODBYE is answered with GOODBYE goodbye_and_out', () => {
    const c = FakeClient.join(router);
    c.send({ type: T.GOODBYE, details: {}, reason: CloseUri.CLOSE_REALM });
    expect(c.next()).toMatchObject({ type: T.GOODBYE, reason: CloseUri.GOODBYE_AND_OUT });
    expect(router.sessions.size).toBe(0);
  });

  test('a dropped connection removes the session', () => {
    const c = FakeClient.join(router);
    c.conn.drop();
    expect(router.sessions.size).toBe(0);
  });
});

describe('handshake bounds', () => {
  test('a connection that never says HELLO is aborted after the handshake timeout', () => {
    jest.useFakeTimers();
    try {
      const router = new Router({ handshakeTimeoutMs: 500 });
      router.addRealm('realm1');
      const c = new FakeClient(router, [anonymousAuth]);
      jest.advanceTimersByTime(499);
      expect(c.conn.closed).toBeNull();
      jest.advanceTimersByTime(2);
      expect(c.next()).toMatchObject({ type: T.ABORT, reason: ErrorUri.PROTOCOL_VIOLATION });
      expect(c.conn.closed).not.toBeNull();
    } finally {
      jest.useRealTimers();
    }
  });

  test('a joined session is not touched by the handshake timer', () => {
    jest.useFakeTimers();
    try {
      const router = new Router({ handshakeTimeoutMs: 500 });
      router.addRealm('realm1');
      const c = FakeClient.join(router);
      jest.advanceTimersByTime(10_000);
      expect(c.conn.closed).toBeNull();
      expect(router.sessions.has(c.sessionId)).toBe(true);
    } finally {
      jest.useRealTimers();
    }
  });

  test('a killed session that never answers GOODBYE is closed after the timeout', () => {
    jest.useFakeTimers();
    try {
      const router = new Router({ handshakeTimeoutMs: 500 });
      router.addRealm('realm1');
      const c = FakeClient.join(router);
      router.sessions.get(c.sessionId)!.kill(CloseUri.KILLED);
      expect(c.next()).toMatchObject({ type: T.GOODBYE, reason: CloseUri.KILLED });
      expect(c.conn.closed).toBeNull();
      jest.advanceTimersByTime(501);
      expect(c.conn.closed).not.toBeNull();
    } finally {
      jest.useRealTimers();
    }
  });

  test('ABORT during the handshake just closes, without an ABORT back', () => {
    const router = new Router();
    router.addRealm('realm1');
    const c = new FakeClient(router, [anonymousAuth]);
    c.send({ type: T.ABORT, details: {}, reason: 'wamp.close.normal' });
    expect(c.pending).toBe(0);
    expect(c.conn.closed).not.toBeNull();
  });
});
