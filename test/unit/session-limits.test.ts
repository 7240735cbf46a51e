/**
 * Per-session bounds on subscriptions and registrations (RouterOptions / RealmOptions
 * maxSubscriptionsPerSession, maxRegistrationsPerSession; config
 * controller.extra.sisock.max_*_per_session): beyond them SUBSCRIBE / REGISTER get ERROR
 * sisock.error.limit_exceeded naming the limit, nothing is created, other sessions are not
 * affected. And a session leaving with many wildcard subscriptions is cleaned up in linear time.
 */
import { MessageType as T, ErrorUri, type Dict, type Message } from '../../wamp';
import { Router } from '../../router/router';
import { DEFAULT_MAX_REGISTRATIONS_PER_SESSION, DEFAULT_MAX_SUBSCRIPTIONS_PER_SESSION } from '../../router/realm';
import { devConfig } from '../../router/config';
import { startRouter } from '../../router/server';
import { FakeClient } from '../helpers/fake-peer';
import { events, publish, subscribe } from '../helpers/pubsub';

function answer(c: FakeClient, m: Message): Message {
  c.send(m);
  return c.next();
}
const sub = (c: FakeClient, topic: string, options: Dict = {}): Message =>
  answer(c, { type: T.SUBSCRIBE, request: c.req(), options, topic });
const reg = (c: FakeClient, procedure: string, options: Dict = {}): Message =>
  answer(c, { type: T.REGISTER, request: c.req(), options, procedure });

test('defaults: 10,000 of each, on every realm', () => {
  const realm = new Router().addRealm('realm1');
  expect(DEFAULT_MAX_SUBSCRIPTIONS_PER_SESSION).toBe(10_000);
  expect(DEFAULT_MAX_REGISTRATIONS_PER_SESSION).toBe(10_000);
  expect(realm.maxSubscriptionsPerSession).toBe(10_000);
  expect(realm.maxRegistrationsPerSession).toBe(10_000);
  const custom = new Router({ maxSubscriptionsPerSession: 5, maxRegistrationsPerSession: 6 }).addRealm('realm1');
  expect([custom.maxSubscriptionsPerSession, custom.maxRegistrationsPerSession]).toEqual([5, 6]);
});

test('startRouter hands the configured limits to every realm', async () => {
  const cfg = devConfig({ port: 0, realm: 'realm1' });
  cfg.maxSubscriptionsPerSession = 7;
  cfg.maxRegistrationsPerSession = 8;
  const running = await startRouter(cfg);
  try {
    const realm = running.router.realms.get('realm1')!;
    expect([realm.maxSubscriptionsPerSession, realm.maxRegistrationsPerSession]).toEqual([7, 8]);
  } finally {
    await running.close();
  }
});

describe('subscriptions per session', () => {
  test('beyond the limit SUBSCRIBE gets limit_exceeded; a repeat, another session, or after UNSUBSCRIBE is fine', () => {
    const router = new Router({ maxSubscriptionsPerSession: 3 });
    const realm = router.addRealm('realm1');
    const a = FakeClient.join(router);
    const ids = [subscribe(a, 'com.t.one'), subscribe(a, 'com.t', { match: 'prefix' }), subscribe(a, 'com..x', { match: 'wildcard' })];
    const before = [...realm.broker.subscriptions()].length;

    const refused = sub(a, 'com.t.four');
    expect(refused).toMatchObject({ type: T.ERROR, requestType: T.SUBSCRIBE, error: ErrorUri.LIMIT_EXCEEDED });
    expect(ErrorUri.LIMIT_EXCEEDED).toBe('sisock.error.limit_exceeded');
    const text = String((refused as { args?: unknown[] }).args?.[0]);
    expect(text).toContain('max_subscriptions_per_session = 3');
    expect(sub(a, 'com..y', { match: 'wildcard' })).toMatchObject({ type: T.ERROR, error: ErrorUri.LIMIT_EXCEEDED });
    // Nothing was created for the refused ones.
    expect([...realm.broker.subscriptions()].length).toBe(before);
    expect(realm.broker.find('com.t.four', 'exact')).toBeUndefined();

    // A repeat of one it holds is still answered with the same ID (WAMP 5.4.2).
    expect(sub(a, 'com.t.one')).toMatchObject({ type: T.SUBSCRIBED, subscription: ids[0] });
    // Another session joining the same topic (and its own) is not affected.
    const b = FakeClient.join(router);
    expect(subscribe(b, 'com.t.four')).toBeGreaterThanOrEqual(1);
    // An existing subscription counts as a new one for a session not yet attached to it.
    expect(sub(a, 'com.t.four')).toMatchObject({ type: T.ERROR, error: ErrorUri.LIMIT_EXCEEDED });
    // After UNSUBSCRIBE there is room again.
    expect(answer(a, { type: T.UNSUBSCRIBE, request: a.req(), subscription: ids[1]! })).toMatchObject({ type: T.UNSUBSCRIBED });
    expect(sub(a, 'com.t.four')).toMatchObject({ type: T.SUBSCRIBED });
    // The session still works.
    publish(b, 'com.t.one', [1], undefined, { exclude_me: false });
    expect(events(a)).toMatchObject([{ subscription: ids[0], args: [1] }]);
  });
});

describe('registrations per session', () => {
  test('beyond the limit REGISTER gets limit_exceeded; another session or after UNREGISTER is fine', () => {
    const router = new Router({ maxRegistrationsPerSession: 2 });
    const realm = router.addRealm('realm1');
    const a = FakeClient.join(router);
    const r1 = reg(a, 'com.p.one');
    expect(r1.type).toBe(T.REGISTERED);
    expect(reg(a, 'com.p', { match: 'prefix', invoke: 'roundrobin' }).type).toBe(T.REGISTERED);

    const refused = reg(a, 'com.p.three');
    expect(refused).toMatchObject({ type: T.ERROR, requestType: T.REGISTER, error: ErrorUri.LIMIT_EXCEEDED });
    expect(String((refused as { args?: unknown[] }).args?.[0])).toContain('max_registrations_per_session = 2');
    expect(realm.dealer.listRegistrations().exact).toHaveLength(1);

    // Another session may still register, even join a shared registration of a's.
    const b = FakeClient.join(router);
    expect(reg(b, 'com.p.three').type).toBe(T.REGISTERED);
    expect(reg(b, 'com.p', { match: 'prefix', invoke: 'roundrobin' }).type).toBe(T.REGISTERED);
    expect(reg(b, 'com.p.four')).toMatchObject({ type: T.ERROR, error: ErrorUri.LIMIT_EXCEEDED });

    // After UNREGISTER there is room again.
    const id = (r1 as { registration: number }).registration;
    expect(answer(a, { type: T.UNREGISTER, request: a.req(), registration: id })).toMatchObject({ type: T.UNREGISTERED });
    expect(reg(a, 'com.p.five').type).toBe(T.REGISTERED);
  });
});

describe('wildcard subscriptions', () => {
  test('removing one keeps the others matching, in their order', () => {
    const router = new Router();
    router.addRealm('realm1');
    const s = FakeClient.join(router);
    const p = FakeClient.join(router);
    const ids = ['com..x', 'com.a.', '.a.x'].map((w) => subscribe(s, w, { match: 'wildcard' }));
    publish(p, 'com.a.x');
    expect(events(s).map((e) => e.subscription)).toEqual(ids);
    s.send({ type: T.UNSUBSCRIBE, request: s.req(), subscription: ids[1]! });
    expect(s.next().type).toBe(T.UNSUBSCRIBED);
    publish(p, 'com.a.x');
    expect(events(s).map((e) => e.subscription)).toEqual([ids[0], ids[2]]);
    expect(subscribe(s, 'com.a.', { match: 'wildcard' })).not.toBe(ids[1]);
    publish(p, 'com.a.x');
    expect(events(s)).toHaveLength(3);
  });

  test('a session with many patterns of one length leaves in linear time', () => {
    const N = 40_000;
    const router = new Router({ maxSubscriptionsPerSession: N });
    const realm = router.addRealm('realm1');
    const s = FakeClient.join(router);
    // 4 components: meta topics (3) do not scan them
    for (let i = 0; i < N; i++) s.send({ type: T.SUBSCRIBE, request: s.req(), options: { match: 'wildcard' }, topic: `com.x..p${i}` });
    expect(realm.broker.subscriptionsOf(s.sessionId).size).toBe(N);
    const t0 = process.hrtime.bigint();
    s.conn.drop();
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    expect([...realm.broker.subscriptions()]).toHaveLength(0);
    // Quadratic removal (a filtered copy of the list per pattern) takes seconds here.
    expect(ms).toBeLessThan(1000);
  });
});
