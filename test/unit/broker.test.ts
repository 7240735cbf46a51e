import { MessageType as T, ErrorUri, type Message } from '../../wamp';
import { Router } from '../../router/router';
import type { Realm } from '../../router/realm';
import { FakeClient } from '../helpers/fake-peer';
import { countingSerializer, events, fakeAuthorizer, joinAs, publish, subscribe, testMsgpack } from '../helpers/pubsub';

function errorOf(c: FakeClient): Extract<Message, { type: typeof T.ERROR }> {
  const m = c.next();
  if (m.type !== T.ERROR) throw new Error(`expected ERROR, got type ${m.type}`);
  return m;
}

describe('broker', () => {
  let router: Router;
  let realm: Realm;
  beforeEach(() => {
    router = new Router();
    realm = router.addRealm('realm1');
  });

  describe('subscribe / publish / unsubscribe', () => {
    test('an event reaches a subscriber with args and kwargs', () => {
      const sub = FakeClient.join(router);
      const pub = FakeClient.join(router);
      const id = subscribe(sub, 'com.example.topic');
      expect(id).toBeGreaterThanOrEqual(1);
      expect(id).toBeLessThanOrEqual(2 ** 53);
      publish(pub, 'com.example.topic', [1, 'two'], { three: 3 });
      const [ev, ...rest] = events(sub);
      expect(rest).toHaveLength(0);
      expect(ev).toMatchObject({ type: T.EVENT, subscription: id, details: {}, args: [1, 'two'], kwargs: { three: 3 } });
      expect(ev!.publication).toBeGreaterThanOrEqual(1);
      expect(pub.pending).toBe(0); // no PUBLISHED without acknowledge
    });

    test('an event without payload has none on the wire', () => {
      const sub = FakeClient.join(router);
      const pub = FakeClient.join(router);
      const id = subscribe(sub, 'a.b');
      publish(pub, 'a.b');
      const frame = JSON.parse(sub.conn.sent[sub.conn.sent.length - 1]!.toString());
      expect(frame).toEqual([T.EVENT, id, expect.any(Number), {}]);
    });

    test('several sessions share one subscription ID; a duplicate subscribe returns it again', () => {
      const a = FakeClient.join(router);
      const b = FakeClient.join(router);
      const ida = subscribe(a, 'x.y');
      const idb = subscribe(b, 'x.y');
      expect(idb).toBe(ida);
      expect(subscribe(a, 'x.y')).toBe(ida);
      expect(realm.broker.get(ida)!.subscribers.size).toBe(2);
      // other match policies are other subscriptions
      expect(subscribe(a, 'x.y', { match: 'prefix' })).not.toBe(ida);
      // the duplicate does not make `a` receive twice
      const p = FakeClient.join(router);
      publish(p, 'x.z');
      publish(p, 'x.y');
      expect(
        events(a)
          .map((e) => e.subscription)
          .sort(),
      ).toEqual([ida, realm.broker.find('x.y', 'prefix')!.id].sort());
      expect(events(b)).toHaveLength(1);
    });

    test('unsubscribe stops delivery; the subscription is deleted with its last subscriber', () => {
      const a = FakeClient.join(router);
      const b = FakeClient.join(router);
      const p = FakeClient.join(router);
      const id = subscribe(a, 't');
      subscribe(b, 't');
      a.send({ type: T.UNSUBSCRIBE, request: 77, subscription: id });
      expect(a.next()).toEqual({ type: T.UNSUBSCRIBED, request: 77 });
      publish(p, 't');
      expect(events(a)).toHaveLength(0);
      expect(events(b)).toHaveLength(1);
      expect(realm.broker.get(id)).toBeDefined();
      b.send({ type: T.UNSUBSCRIBE, request: 5, subscription: id });
      expect(b.next()).toMatchObject({ type: T.UNSUBSCRIBED, request: 5 });
      expect(realm.broker.get(id)).toBeUndefined();
      expect(realm.broker.find('t', 'exact')).toBeUndefined();
    });

    test('unsubscribe from an unknown or foreign subscription is no_such_subscription', () => {
      const a = FakeClient.join(router);
      const b = FakeClient.join(router);
      const id = subscribe(a, 't');
      b.send({ type: T.UNSUBSCRIBE, request: 9, subscription: id });
      expect(errorOf(b)).toMatchObject({ requestType: T.UNSUBSCRIBE, request: 9, error: ErrorUri.NO_SUCH_SUBSCRIPTION });
      b.send({ type: T.UNSUBSCRIBE, request: 10, subscription: 12345 });
      expect(errorOf(b)).toMatchObject({ request: 10, error: ErrorUri.NO_SUCH_SUBSCRIPTION });
      a.send({ type: T.UNSUBSCRIBE, request: 11, subscription: id });
      a.send({ type: T.UNSUBSCRIBE, request: 12, subscription: id });
      expect(a.next()).toMatchObject({ type: T.UNSUBSCRIBED, request: 11 });
      expect(errorOf(a)).toMatchObject({ request: 12, error: ErrorUri.NO_SUCH_SUBSCRIPTION });
      expect(realm.broker.get(id)).toBeUndefined();
    });

    test('acknowledge → PUBLISHED with a publication ID in [1, 2^53], the same one the EVENT carries', () => {
      const sub = FakeClient.join(router);
      const pub = FakeClient.join(router);
      subscribe(sub, 't');
      const req = publish(pub, 't', [1], undefined, { acknowledge: true });
      const ack = pub.next();
      expect(ack).toMatchObject({ type: T.PUBLISHED, request: req });
      const id = (ack as { publication: number }).publication;
      expect(Number.isInteger(id)).toBe(true);
      expect(id).toBeGreaterThanOrEqual(1);
      expect(id).toBeLessThanOrEqual(2 ** 53);
      expect(events(sub)[0]!.publication).toBe(id);
      // also without subscribers
      publish(pub, 'nobody.listens', [], undefined, { acknowledge: true });
      expect(pub.next()).toMatchObject({ type: T.PUBLISHED });
    });

    test('a session that leaves loses its subscriptions', () => {
      const a = FakeClient.join(router);
      const b = FakeClient.join(router);
      const id = subscribe(a, 't');
      const pid = subscribe(a, 'p', { match: 'prefix' });
      const wid = subscribe(a, 'w..x', { match: 'wildcard' });
      subscribe(b, 't');
      a.conn.drop();
      expect(realm.broker.get(id)!.subscribers.has(a.sessionId)).toBe(false);
      expect(realm.broker.get(pid)).toBeUndefined();
      expect(realm.broker.get(wid)).toBeUndefined();
      expect(realm.broker.subscriptionsOf(a.sessionId).size).toBe(0);
      const p = FakeClient.join(router);
      publish(p, 't');
      expect(events(b)).toHaveLength(1);
    });
  });

  describe('publisher exclusion and black/white-listing', () => {
    test('exclude_me defaults to true; exclude_me=false delivers to the publisher too', () => {
      const a = FakeClient.join(router);
      const b = FakeClient.join(router);
      subscribe(a, 't');
      subscribe(b, 't');
      publish(a, 't', [1]);
      expect(events(a)).toHaveLength(0);
      expect(events(b)).toHaveLength(1);
      publish(a, 't', [2], undefined, { exclude_me: false });
      expect(events(a)).toMatchObject([{ args: [2] }]);
      expect(events(b)).toHaveLength(1);
    });

    function fourClients() {
      const alice = joinAs(router, { authid: 'alice', authrole: 'admin' });
      const bob = joinAs(router, { authid: 'bob', authrole: 'user' });
      const carol = joinAs(router, { authid: 'carol', authrole: 'user' });
      const pub = joinAs(router, { authid: 'pub', authrole: 'svc' });
      for (const c of [alice, bob, carol]) subscribe(c, 't');
      const got = (opts: Record<string, unknown>) => {
        publish(pub, 't', [], undefined, opts);
        return [alice, bob, carol].filter((c) => events(c).length > 0).map((c) => (c === alice ? 'alice' : c === bob ? 'bob' : 'carol'));
      };
      return { alice, bob, carol, pub, got };
    }

    test('exclude, exclude_authid, exclude_authrole', () => {
      const { alice, bob, got } = fourClients();
      expect(got({})).toEqual(['alice', 'bob', 'carol']);
      expect(got({ exclude: [alice.sessionId] })).toEqual(['bob', 'carol']);
      expect(got({ exclude: [alice.sessionId, bob.sessionId] })).toEqual(['carol']);
      expect(got({ exclude_authid: ['bob'] })).toEqual(['alice', 'carol']);
      expect(got({ exclude_authrole: ['user'] })).toEqual(['alice']);
    });

    test('eligible, eligible_authid, eligible_authrole; several whitelists intersect', () => {
      const { alice, bob, carol, got } = fourClients();
      expect(got({ eligible: [bob.sessionId] })).toEqual(['bob']);
      expect(got({ eligible_authid: ['alice', 'carol'] })).toEqual(['alice', 'carol']);
      expect(got({ eligible_authrole: ['user'] })).toEqual(['bob', 'carol']);
      expect(got({ eligible: [alice.sessionId, bob.sessionId], eligible_authrole: ['user'] })).toEqual(['bob']);
      expect(got({ eligible: [carol.sessionId], eligible_authid: ['alice'] })).toEqual([]);
      expect(got({ eligible: [] })).toEqual([]);
    });

    test('exclusion wins over eligibility', () => {
      const { alice, bob, carol, got } = fourClients();
      expect(got({ eligible: [alice.sessionId, bob.sessionId, carol.sessionId], exclude: [alice.sessionId] })).toEqual(['bob', 'carol']);
      expect(got({ eligible_authrole: ['user'], exclude_authid: ['carol'] })).toEqual(['bob']);
      expect(got({ eligible_authid: ['alice'], exclude_authrole: ['admin'] })).toEqual([]);
    });

    test('the publisher stays excluded even when eligible, unless exclude_me=false', () => {
      const pub = FakeClient.join(router);
      subscribe(pub, 't');
      publish(pub, 't', [], undefined, { eligible: [pub.sessionId] });
      expect(events(pub)).toHaveLength(0);
      publish(pub, 't', [], undefined, { eligible: [pub.sessionId], exclude_me: false });
      expect(events(pub)).toHaveLength(1);
    });

    test('malformed list options are invalid_argument (acknowledged) or dropped silently', () => {
      const sub = FakeClient.join(router);
      const pub = FakeClient.join(router);
      subscribe(sub, 't');
      publish(pub, 't', [], undefined, { acknowledge: true, exclude: ['x'] });
      expect(errorOf(pub)).toMatchObject({ requestType: T.PUBLISH, error: ErrorUri.INVALID_ARGUMENT });
      publish(pub, 't', [], undefined, { acknowledge: true, eligible_authrole: 'user' });
      expect(errorOf(pub)).toMatchObject({ error: ErrorUri.INVALID_ARGUMENT });
      publish(pub, 't', [], undefined, { exclude_me: 'no' });
      expect(pub.pending).toBe(0);
      expect(events(sub)).toHaveLength(0);
    });
  });

  describe('publisher identification', () => {
    test('disclose_me=true adds publisher, publisher_authid, publisher_authrole', () => {
      const sub = FakeClient.join(router);
      const pub = joinAs(router, { authid: 'pia', authrole: 'svc' });
      subscribe(sub, 't');
      publish(pub, 't', [], undefined, { disclose_me: true });
      expect(events(sub)[0]!.details).toEqual({ publisher: pub.sessionId, publisher_authid: 'pia', publisher_authrole: 'svc' });
      publish(pub, 't');
      expect(events(sub)[0]!.details).toEqual({});
    });

    test('a role that discloses publishers does so without disclose_me', () => {
      const r2 = router.addRealm(
        'realm2',
        fakeAuthorizer(undefined, (s, what) => what === 'publisher' && s.authrole === 'loud'),
      );
      expect(r2.name).toBe('realm2');
      const sub = joinAs(router, { realm: 'realm2' });
      const loud = joinAs(router, { realm: 'realm2', authid: 'l', authrole: 'loud' });
      const quiet = joinAs(router, { realm: 'realm2', authid: 'q', authrole: 'quiet' });
      subscribe(sub, 't');
      publish(loud, 't');
      publish(quiet, 't');
      const [e1, e2] = events(sub);
      expect(e1!.details).toEqual({ publisher: loud.sessionId, publisher_authid: 'l', publisher_authrole: 'loud' });
      expect(e2!.details).toEqual({});
    });
  });

  describe('pattern-based subscriptions', () => {
    test('prefix: matches by string prefix and carries details.topic', () => {
      const sub = FakeClient.join(router);
      const pub = FakeClient.join(router);
      const id = subscribe(sub, 'com.example', { match: 'prefix' });
      for (const t of ['com.example', 'com.example.a', 'com.example.a.b', 'com.other', 'com']) publish(pub, t, [t]);
      const evs = events(sub);
      expect(evs.map((e) => e.details.topic)).toEqual(['com.example', 'com.example.a', 'com.example.a.b']);
      expect(evs.every((e) => e.subscription === id)).toBe(true);
      expect(evs.map((e) => e.args)).toEqual([['com.example'], ['com.example.a'], ['com.example.a.b']]);
    });

    test('nested prefixes and an exact subscription each deliver once, exact without details.topic', () => {
      const sub = FakeClient.join(router);
      const pub = FakeClient.join(router);
      const p1 = subscribe(sub, 'a', { match: 'prefix' });
      const p2 = subscribe(sub, 'a.b.', { match: 'prefix' });
      const ex = subscribe(sub, 'a.b.c');
      publish(pub, 'a.b.c');
      const evs = events(sub);
      const bySub = new Map(evs.map((e) => [e.subscription, e]));
      expect(evs).toHaveLength(3);
      expect(bySub.get(ex)!.details).toEqual({});
      expect(bySub.get(p1)!.details).toEqual({ topic: 'a.b.c' });
      expect(bySub.get(p2)!.details).toEqual({ topic: 'a.b.c' });
      publish(pub, 'a.bc');
      expect(events(sub).map((e) => e.subscription)).toEqual([p1]);
    });

    test('wildcard: empty components match any one component, and the count must agree', () => {
      const sub = FakeClient.join(router);
      const pub = FakeClient.join(router);
      const id = subscribe(sub, 'com..update', { match: 'wildcard' });
      const id2 = subscribe(sub, '.b.', { match: 'wildcard' });
      for (const t of ['com.x.update', 'com.y.update', 'com.x.delete', 'com.x.y.update', 'org.x.update', 'a.b.c']) publish(pub, t);
      const evs = events(sub);
      expect(evs.map((e) => [e.subscription, e.details.topic])).toEqual([
        [id, 'com.x.update'],
        [id, 'com.y.update'],
        [id2, 'a.b.c'],
      ]);
    });

    test('pattern subscriptions stop delivering after unsubscribe', () => {
      const sub = FakeClient.join(router);
      const pub = FakeClient.join(router);
      const p = subscribe(sub, 'a.', { match: 'prefix' });
      const w = subscribe(sub, 'a.', { match: 'wildcard' });
      publish(pub, 'a.x');
      expect(events(sub)).toHaveLength(2);
      sub.send({ type: T.UNSUBSCRIBE, request: 100, subscription: p });
      sub.send({ type: T.UNSUBSCRIBE, request: 101, subscription: w });
      expect(sub.drain().map((m) => m.type)).toEqual([T.UNSUBSCRIBED, T.UNSUBSCRIBED]);
      publish(pub, 'a.x');
      expect(events(sub)).toHaveLength(0);
      expect(realm.broker.matching('a.x')).toEqual([]);
    });

    test('an unknown match policy is invalid_argument', () => {
      const c = FakeClient.join(router);
      c.send({ type: T.SUBSCRIBE, request: 3, options: { match: 'regex' }, topic: 'a' });
      expect(errorOf(c)).toMatchObject({ requestType: T.SUBSCRIBE, request: 3, error: ErrorUri.INVALID_ARGUMENT });
      c.send({ type: T.SUBSCRIBE, request: 4, options: { match: 1 }, topic: 'a' });
      expect(errorOf(c)).toMatchObject({ request: 4, error: ErrorUri.INVALID_ARGUMENT });
    });
  });

  describe('URIs and authorization', () => {
    test('publishing to a reserved wamp. topic is refused with invalid_uri', () => {
      const sub = FakeClient.join(router);
      const pub = FakeClient.join(router);
      subscribe(sub, 'wamp.session.on_join');
      publish(pub, 'wamp.session.on_join', [], undefined, { acknowledge: true });
      expect(errorOf(pub)).toMatchObject({ requestType: T.PUBLISH, error: ErrorUri.INVALID_URI });
      publish(pub, 'wamp.session.on_join');
      expect(pub.pending).toBe(0); // no ERROR for an unacknowledged publication
      expect(events(sub)).toHaveLength(0);
    });

    test('subscribing to wamp. meta topics is allowed and receives router publications', () => {
      const sub = FakeClient.join(router);
      const id = subscribe(sub, 'wamp.subscription.on_create');
      realm.broker.publishInternal('wamp.subscription.on_create', [1, { id: 2 }]);
      expect(events(sub)).toMatchObject([{ subscription: id, details: {}, args: [1, { id: 2 }] }]);
    });

    test('invalid subscribe URIs: loose rules by default', () => {
      const c = FakeClient.join(router);
      for (const [topic, options] of [
        ['a..b', {}],
        ['', {}],
        ['a b', {}],
        ['a.#', {}],
        ['', { match: 'prefix' }],
        ['a b', { match: 'wildcard' }],
      ] as const) {
        c.send({ type: T.SUBSCRIBE, request: 1, options, topic });
        expect(errorOf(c)).toMatchObject({ requestType: T.SUBSCRIBE, error: ErrorUri.INVALID_URI });
      }
      // loose rules accept upper case and dashes; wildcard accepts empty components
      expect(subscribe(c, 'Com.Example-1')).toBeGreaterThan(0);
      expect(subscribe(c, 'a..b', { match: 'wildcard' })).toBeGreaterThan(0);
    });

    test('strict rules on a strict realm', () => {
      router.addRealm('strict', undefined, { strictUris: true });
      const c = joinAs(router, { realm: 'strict' });
      c.send({ type: T.SUBSCRIBE, request: 1, options: {}, topic: 'Com.Example' });
      expect(errorOf(c)).toMatchObject({ error: ErrorUri.INVALID_URI });
      c.send({ type: T.SUBSCRIBE, request: 2, options: { match: 'wildcard' }, topic: 'a..B' });
      expect(errorOf(c)).toMatchObject({ error: ErrorUri.INVALID_URI });
      publish(c, 'com.Example', [], undefined, { acknowledge: true });
      expect(errorOf(c)).toMatchObject({ requestType: T.PUBLISH, error: ErrorUri.INVALID_URI });
      expect(subscribe(c, 'com.example_1')).toBeGreaterThan(0);
      // loose realm accepts what strict refuses
      const l = FakeClient.join(router);
      publish(l, 'com.Example', [], undefined, { acknowledge: true });
      expect(l.next()).toMatchObject({ type: T.PUBLISHED });
    });

    test('publishing to a pattern or malformed URI is invalid_uri', () => {
      const c = FakeClient.join(router);
      for (const topic of ['a..b', 'a.', '', 'a b']) {
        publish(c, topic, [], undefined, { acknowledge: true });
        expect(errorOf(c)).toMatchObject({ error: ErrorUri.INVALID_URI });
      }
    });

    test('a denying authorizer yields not_authorized for subscribe and publish', () => {
      router.addRealm(
        'guarded',
        fakeAuthorizer(
          (s, uri, action) => !(uri.startsWith('secret') && s.authrole !== 'admin') && !(action === 'publish' && uri === 'ro'),
        ),
      );
      const user = joinAs(router, { realm: 'guarded', authrole: 'user' });
      const admin = joinAs(router, { realm: 'guarded', authrole: 'admin' });
      user.send({ type: T.SUBSCRIBE, request: 1, options: {}, topic: 'secret.x' });
      expect(errorOf(user)).toMatchObject({ requestType: T.SUBSCRIBE, request: 1, error: ErrorUri.NOT_AUTHORIZED });
      user.send({ type: T.SUBSCRIBE, request: 2, options: { match: 'prefix' }, topic: 'secret' });
      expect(errorOf(user)).toMatchObject({ error: ErrorUri.NOT_AUTHORIZED });
      subscribe(admin, 'secret.x');
      publish(user, 'secret.x', [], undefined, { acknowledge: true });
      expect(errorOf(user)).toMatchObject({ requestType: T.PUBLISH, error: ErrorUri.NOT_AUTHORIZED });
      expect(events(admin)).toHaveLength(0);
      subscribe(user, 'ro');
      publish(admin, 'ro', [], undefined, { acknowledge: true });
      expect(errorOf(admin)).toMatchObject({ error: ErrorUri.NOT_AUTHORIZED });
      publish(admin, 'secret.x'); // admin is allowed; exclude_me keeps it from itself
      expect(events(admin)).toHaveLength(0);
      expect(admin.pending).toBe(0);
    });
  });

  describe('payload and encoding', () => {
    test('binary payload (passthru) and ppt_* options reach the subscriber untouched', () => {
      const sub = joinAs(router, { serializer: testMsgpack });
      const pub = joinAs(router, { serializer: testMsgpack });
      subscribe(sub, 't');
      const bytes = Uint8Array.from([0, 1, 2, 250, 255]);
      publish(pub, 't', bytes, undefined, {
        ppt_scheme: 'x_custom',
        ppt_serializer: 'cbor',
        ppt_cipher: 'xsalsa20poly1305',
        ppt_keyid: 'k1',
        enc_algo: 'old',
        other: 1,
      });
      const [ev] = events(sub);
      expect(Buffer.from(ev!.args as Uint8Array)).toEqual(Buffer.from(bytes));
      expect(ev!.details).toEqual({
        ppt_scheme: 'x_custom',
        ppt_serializer: 'cbor',
        ppt_cipher: 'xsalsa20poly1305',
        ppt_keyid: 'k1',
        enc_algo: 'old',
      });
    });

    test('an EVENT is encoded once per serializer and the same bytes go to every subscriber', () => {
      const s1 = countingSerializer();
      const s2 = countingSerializer();
      const a = [joinAs(router, { serializer: s1 }), joinAs(router, { serializer: s1 }), joinAs(router, { serializer: s1 })];
      const b = [joinAs(router, { serializer: s2 }), joinAs(router, { serializer: s2 })];
      for (const c of [...a, ...b]) subscribe(c, 't');
      const pub = FakeClient.join(router);
      publish(pub, 't', [1, 2, 3]);
      expect(s1.encoded.get(T.EVENT)).toBe(1);
      expect(s2.encoded.get(T.EVENT)).toBe(1);
      const last = (c: FakeClient) => c.conn.sent[c.conn.sent.length - 1];
      expect(last(a[1]!)).toBe(last(a[0]!));
      expect(last(a[2]!)).toBe(last(a[0]!));
      expect(last(b[1]!)).toBe(last(b[0]!));
      for (const c of [...a, ...b]) expect(events(c)).toMatchObject([{ args: [1, 2, 3] }]);
    });
  });
});
