import { MessageType as T, ErrorUri, CloseUri, type Dict, type Message } from '../../wamp';
import { Router } from '../../router/router';
import type { Authorizer } from '../../router/authorizer';
import type { AuthMethod } from '../../router/auth/types';
import { FakeClient } from '../helpers/fake-peer';

/** Anonymous-like auth whose role is HELLO.Details.authid's part before '-' ('admin-1' → 'admin'). */
const roleByAuthid: AuthMethod = {
  name: 'anonymous',
  hello: (info) => {
    const authid = info.authid ?? 'anon';
    return {
      kind: 'welcome',
      identity: { authid, authrole: authid.split('-')[0] ?? authid, authmethod: 'anonymous', authprovider: 'static' },
    };
  },
  authenticate: () => ({ kind: 'refuse', reason: ErrorUri.AUTHENTICATION_FAILED, message: 'unexpected' }),
};

function join(router: Router, authid: string): FakeClient {
  return FakeClient.join(router, 'realm1', { authid }, [roleByAuthid]);
}

function subscribe(c: FakeClient, topic: string): number {
  const request = c.req();
  c.send({ type: T.SUBSCRIBE, request, options: {}, topic });
  const m = c.next();
  if (m.type !== T.SUBSCRIBED) throw new Error(`expected SUBSCRIBED, got ${JSON.stringify(m)}`);
  return m.subscription;
}

/** Calls `uri` and returns the answer (RESULT or ERROR). */
function rpc(c: FakeClient, uri: string, args?: unknown[], kwargs?: Dict): Message {
  const request = c.req();
  c.send({ type: T.CALL, request, options: {}, procedure: uri, args, kwargs });
  const m = c.drain().find((x) => (x.type === T.RESULT || x.type === T.ERROR) && x.request === request);
  if (!m) throw new Error(`no answer to ${uri}`);
  return m;
}

function result(c: FakeClient, uri: string, args?: unknown[], kwargs?: Dict): unknown {
  const m = rpc(c, uri, args, kwargs);
  if (m.type !== T.RESULT) throw new Error(`expected RESULT from ${uri}, got ${JSON.stringify(m)}`);
  return m.args?.[0];
}

describe('session meta API', () => {
  let router: Router;
  beforeEach(() => {
    router = new Router();
    router.addRealm('realm1');
  });

  test('wamp.session.on_join carries the session details as its one positional arg', () => {
    const watcher = join(router, 'admin-w');
    const sub = subscribe(watcher, 'wamp.session.on_join');
    const c = join(router, 'user-1');
    const [ev, ...rest] = watcher.drain();
    expect(rest).toHaveLength(0);
    expect(ev).toMatchObject({ type: T.EVENT, subscription: sub });
    const args = (ev as { args: unknown[] }).args;
    expect(args).toHaveLength(1);
    expect(args[0]).toMatchObject({
      session: c.sessionId,
      authid: 'user-1',
      authrole: 'user',
      authmethod: 'anonymous',
      authprovider: 'static',
      transport: expect.objectContaining({ type: 'websocket' }),
    });
  });

  test('wamp.session.on_leave carries exactly one positional arg: the session id', () => {
    const watcher = join(router, 'admin-w');
    subscribe(watcher, 'wamp.session.on_leave');
    const c = join(router, 'user-1');
    c.conn.drop();
    const evs = watcher.drain();
    expect(evs).toHaveLength(1);
    expect(evs[0]).toMatchObject({ type: T.EVENT, details: {} });
    expect((evs[0] as { args: unknown[] }).args).toEqual([c.sessionId]);
    expect((evs[0] as { kwargs?: unknown }).kwargs).toBeUndefined();
    // on the wire: [EVENT, sub, pub, {}, [id]]
    const frame = JSON.parse(watcher.conn.sent[watcher.conn.sent.length - 1]!.toString());
    expect(frame).toHaveLength(5);
    expect(frame[4]).toEqual([c.sessionId]);
  });

  test('on_leave also fires for GOODBYE', () => {
    const watcher = join(router, 'admin-w');
    subscribe(watcher, 'wamp.session.on_leave');
    const c = join(router, 'user-1');
    c.send({ type: T.GOODBYE, details: {}, reason: CloseUri.CLOSE_REALM });
    expect((watcher.next() as { args: unknown[] }).args).toEqual([c.sessionId]);
  });

  test('count and list, with and without filter_authroles', () => {
    const a = join(router, 'admin-1');
    const u1 = join(router, 'user-1');
    const u2 = join(router, 'user-2');
    expect(result(a, 'wamp.session.count')).toBe(3);
    expect(result(a, 'wamp.session.count', [['user']])).toBe(2);
    expect(result(a, 'wamp.session.count', [], { filter_authroles: ['admin', 'nobody'] })).toBe(1);
    expect((result(a, 'wamp.session.list') as number[]).sort()).toEqual([a.sessionId, u1.sessionId, u2.sessionId].sort());
    expect((result(a, 'wamp.session.list', [['user']]) as number[]).sort()).toEqual([u1.sessionId, u2.sessionId].sort());
    expect(result(a, 'wamp.session.list', [[]])).toEqual([]);
    expect(rpc(a, 'wamp.session.count', ['user'])).toMatchObject({ type: T.ERROR, error: ErrorUri.INVALID_ARGUMENT });
  });

  test('get returns the details or no_such_session', () => {
    const a = join(router, 'admin-1');
    const u = join(router, 'user-1');
    expect(result(a, 'wamp.session.get', [u.sessionId])).toMatchObject({ session: u.sessionId, authid: 'user-1', authrole: 'user' });
    expect(rpc(a, 'wamp.session.get', [1])).toMatchObject({ type: T.ERROR, error: ErrorUri.NO_SUCH_SESSION });
    expect(rpc(a, 'wamp.session.get', ['x'])).toMatchObject({ type: T.ERROR, error: ErrorUri.INVALID_ARGUMENT });
  });

  test('kill sends GOODBYE to the victim and removes it; killing oneself is an error', () => {
    const a = join(router, 'admin-1');
    const u = join(router, 'user-1');
    expect(rpc(a, 'wamp.session.kill', [u.sessionId])).toMatchObject({ type: T.RESULT });
    expect(u.next()).toMatchObject({ type: T.GOODBYE, reason: CloseUri.KILLED });
    expect(router.sessions.has(u.sessionId)).toBe(false);
    expect(result(a, 'wamp.session.count')).toBe(1);
    expect(rpc(a, 'wamp.session.kill', [u.sessionId])).toMatchObject({ type: T.ERROR, error: ErrorUri.NO_SUCH_SESSION });
    expect(rpc(a, 'wamp.session.kill', [a.sessionId])).toMatchObject({ type: T.ERROR, error: ErrorUri.INVALID_ARGUMENT });
    expect(router.sessions.has(a.sessionId)).toBe(true);
  });

  test('kill with reason and message as kwargs or positional args', () => {
    const a = join(router, 'admin-1');
    const u1 = join(router, 'user-1');
    const u2 = join(router, 'user-2');
    rpc(a, 'wamp.session.kill', [u1.sessionId], { reason: 'com.app.bye', message: 'go away' });
    expect(u1.next()).toEqual({ type: T.GOODBYE, details: { message: 'go away' }, reason: 'com.app.bye' });
    rpc(a, 'wamp.session.kill', [u2.sessionId, 'com.app.bye2', 'later']);
    expect(u2.next()).toEqual({ type: T.GOODBYE, details: { message: 'later' }, reason: 'com.app.bye2' });
    const u3 = join(router, 'user-3');
    expect(rpc(a, 'wamp.session.kill', [u3.sessionId], { reason: 'not a uri' })).toMatchObject({
      type: T.ERROR,
      error: ErrorUri.INVALID_URI,
    });
  });

  test('kill_by_authid and kill_by_authrole kill the matching sessions but never the caller', () => {
    const a = join(router, 'admin-1');
    const a2 = join(router, 'admin-1');
    const u1 = join(router, 'user-1');
    const u2 = join(router, 'user-2');
    const u3 = join(router, 'user-2');
    expect((result(a, 'wamp.session.kill_by_authid', ['user-2']) as number[]).sort()).toEqual([u2.sessionId, u3.sessionId].sort());
    expect(u2.next()).toMatchObject({ type: T.GOODBYE, reason: CloseUri.KILLED });
    expect(u3.next()).toMatchObject({ type: T.GOODBYE });
    expect(result(a, 'wamp.session.kill_by_authid', ['admin-1'])).toEqual([a2.sessionId]);
    expect(result(a, 'wamp.session.kill_by_authrole', ['user'], { reason: 'com.app.bye' })).toEqual([u1.sessionId]);
    expect(u1.next()).toMatchObject({ type: T.GOODBYE, reason: 'com.app.bye' });
    expect(result(a, 'wamp.session.list')).toEqual([a.sessionId]);
  });

  test('the role decides who may call the meta procedures', () => {
    const authz: Authorizer = {
      authorize: (s, uri, action) => action === 'call' && (s.authrole === 'admin' || uri !== 'wamp.session.kill'),
      disclose: () => false,
    };
    router.addRealm('r2', authz);
    const a = FakeClient.join(router, 'r2', { authid: 'admin-1' }, [roleByAuthid]);
    const u = FakeClient.join(router, 'r2', { authid: 'user-1' }, [roleByAuthid]);
    expect(rpc(u, 'wamp.session.kill', [a.sessionId])).toMatchObject({ type: T.ERROR, error: ErrorUri.NOT_AUTHORIZED });
    expect(result(u, 'wamp.session.count')).toBe(2);
    expect(rpc(a, 'wamp.session.kill', [u.sessionId])).toMatchObject({ type: T.RESULT });
  });
});
