import { MessageType as T, ErrorUri, type Dict, type Message } from '../../wamp';
import { Router } from '../../router/router';
import { FakeClient } from '../helpers/fake-peer';

function register(c: FakeClient, uri: string, options: Dict = {}): number {
  const request = c.req();
  c.send({ type: T.REGISTER, request, options, procedure: uri });
  const m = c.next();
  if (m.type !== T.REGISTERED) throw new Error(`expected REGISTERED, got ${JSON.stringify(m)}`);
  return m.registration;
}

function subscribe(c: FakeClient, topic: string, options: Dict = {}): number {
  const request = c.req();
  c.send({ type: T.SUBSCRIBE, request, options, topic });
  const m = c.next();
  if (m.type !== T.SUBSCRIBED) throw new Error(`expected SUBSCRIBED, got ${JSON.stringify(m)}`);
  return m.subscription;
}

function rpc(c: FakeClient, uri: string, args?: unknown[], kwargs?: Dict): Message {
  const request = c.req();
  c.send({ type: T.CALL, request, options: {}, procedure: uri, args, kwargs });
  return c.next();
}

function result(c: FakeClient, uri: string, args?: unknown[], kwargs?: Dict): unknown {
  const m = rpc(c, uri, args, kwargs);
  if (m.type !== T.RESULT) throw new Error(`expected RESULT from ${uri}, got ${JSON.stringify(m)}`);
  return m.args?.[0];
}

/** The meta events a watcher received, as [topic-suffix, args]. */
function metaEvents(c: FakeClient, subs: Map<number, string>): [string, unknown[]][] {
  return c.drain().map((m) => {
    if (m.type !== T.EVENT) throw new Error(`expected EVENT, got ${JSON.stringify(m)}`);
    return [subs.get(m.subscription)!, m.args as unknown[]];
  });
}

describe('registration meta API', () => {
  let router: Router;
  beforeEach(() => {
    router = new Router();
    router.addRealm('realm1');
  });

  test('list, lookup, match, get, list_callees, count_callees', () => {
    const a = FakeClient.join(router);
    const b = FakeClient.join(router);
    const q = FakeClient.join(router);
    const rEx = register(a, 'com.app.p');
    const rRR = register(a, 'com.app.shared', { invoke: 'roundrobin' });
    expect(register(b, 'com.app.shared', { invoke: 'roundrobin' })).toBe(rRR);
    const rPre = register(b, 'com.app', { match: 'prefix' });
    const rWc = register(b, 'com..x', { match: 'wildcard' });

    const list = result(q, 'wamp.registration.list') as Record<string, number[]>;
    expect(list.exact!.sort()).toEqual([rEx, rRR].sort());
    expect(list.prefix).toEqual([rPre]);
    expect(list.wildcard).toEqual([rWc]);

    expect(result(q, 'wamp.registration.lookup', ['com.app.p'])).toBe(rEx);
    expect(result(q, 'wamp.registration.lookup', ['com.app'])).toBeNull();
    expect(result(q, 'wamp.registration.lookup', ['com.app', { match: 'prefix' }])).toBe(rPre);
    expect(result(q, 'wamp.registration.lookup', ['com..x'], { options: { match: 'wildcard' } })).toBe(rWc);
    expect(rpc(q, 'wamp.registration.lookup', ['com.app', { match: 'bogus' }])).toMatchObject({
      type: T.ERROR,
      error: ErrorUri.INVALID_ARGUMENT,
    });

    expect(result(q, 'wamp.registration.match', ['com.app.p'])).toBe(rEx);
    expect(result(q, 'wamp.registration.match', ['com.app.zzz'])).toBe(rPre);
    expect(result(q, 'wamp.registration.match', ['com.y.x'])).toBe(rWc);
    expect(result(q, 'wamp.registration.match', ['com.app.x'])).toBe(rPre); // prefix beats wildcard
    expect(result(q, 'wamp.registration.match', ['org.nothing'])).toBeNull();
    expect(result(q, 'wamp.registration.match', ['wamp.session.count'])).toBeNull();

    const got = result(q, 'wamp.registration.get', [rRR]) as Dict;
    expect(got).toEqual({ id: rRR, created: expect.any(String), uri: 'com.app.shared', match: 'exact', invoke: 'roundrobin' });
    expect(Number.isNaN(Date.parse(got.created as string))).toBe(false);
    expect(result(q, 'wamp.registration.get', [rPre])).toMatchObject({ uri: 'com.app', match: 'prefix', invoke: 'single' });
    expect(rpc(q, 'wamp.registration.get', [12345])).toMatchObject({ type: T.ERROR, error: ErrorUri.NO_SUCH_REGISTRATION });

    expect(result(q, 'wamp.registration.list_callees', [rRR])).toEqual([a.sessionId, b.sessionId]);
    expect(result(q, 'wamp.registration.count_callees', [rRR])).toBe(2);
    expect(result(q, 'wamp.registration.count_callees', [rEx])).toBe(1);
    expect(rpc(q, 'wamp.registration.list_callees', [1])).toMatchObject({ type: T.ERROR, error: ErrorUri.NO_SUCH_REGISTRATION });
    expect(rpc(q, 'wamp.registration.count_callees', ['x'])).toMatchObject({ type: T.ERROR, error: ErrorUri.INVALID_ARGUMENT });

    a.conn.drop();
    expect(result(q, 'wamp.registration.list_callees', [rRR])).toEqual([b.sessionId]);
    expect(rpc(q, 'wamp.registration.get', [rEx])).toMatchObject({ type: T.ERROR, error: ErrorUri.NO_SUCH_REGISTRATION });
  });

  test("the router's own procedures are not listed", () => {
    const q = FakeClient.join(router);
    expect(result(q, 'wamp.registration.list')).toEqual({ exact: [], prefix: [], wildcard: [] });
    expect(result(q, 'wamp.registration.lookup', ['wamp.session.count'])).toBeNull();
  });

  test('on_create, on_register, on_unregister, on_delete', () => {
    const w = FakeClient.join(router);
    const subs = new Map<number, string>();
    for (const e of ['on_create', 'on_register', 'on_unregister', 'on_delete']) subs.set(subscribe(w, `wamp.registration.${e}`), e);
    const a = FakeClient.join(router);
    const b = FakeClient.join(router);

    const r = register(a, 'com.app.s', { invoke: 'first' });
    let evs = metaEvents(w, subs);
    expect(evs).toEqual([
      ['on_create', [a.sessionId, { id: r, created: expect.any(String), uri: 'com.app.s', match: 'exact', invoke: 'first' }]],
      ['on_register', [a.sessionId, r]],
    ]);
    register(b, 'com.app.s', { invoke: 'first' });
    expect(metaEvents(w, subs)).toEqual([['on_register', [b.sessionId, r]]]);

    a.send({ type: T.UNREGISTER, request: a.req(), registration: r });
    a.next();
    expect(metaEvents(w, subs)).toEqual([['on_unregister', [a.sessionId, r]]]);

    // the last callee leaving: on_unregister then on_delete
    b.conn.drop();
    evs = metaEvents(w, subs);
    expect(evs).toEqual([
      ['on_unregister', [b.sessionId, r]],
      ['on_delete', [b.sessionId, r]],
    ]);
  });

  test('a failed REGISTER publishes nothing', () => {
    const w = FakeClient.join(router);
    subscribe(w, 'wamp.registration.', { match: 'prefix' });
    const a = FakeClient.join(router);
    a.send({ type: T.REGISTER, request: a.req(), options: {}, procedure: 'wamp.nope' });
    expect(a.next()).toMatchObject({ type: T.ERROR });
    expect(w.pending).toBe(0);
  });
});
