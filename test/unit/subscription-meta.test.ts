import { MessageType as T, ErrorUri, WampError } from '../../wamp';
import { Router } from '../../router/router';
import { Realm } from '../../router/realm';
import { allowAll } from '../../router/authorizer';
import { noMeta } from '../../router/meta-events';
import type { Session } from '../../router/session';
import type { InternalProcedure } from '../../router/dealer';
import {
  SubscriptionMeta as M,
  installSubscriptionMeta,
  subscriptionMetaProcedures,
  subscriptionMetaSink,
} from '../../router/meta/subscription-meta';
import { FakeClient } from '../helpers/fake-peer';
import { events, joinAs, subscribe } from '../helpers/pubsub';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

describe('subscription meta API', () => {
  let router: Router;
  let realm: Realm;
  beforeEach(() => {
    router = new Router();
    realm = router.addRealm('realm1');
    // What the meta API module does: compose the MetaSink with the subscription part.
    realm.meta = { ...noMeta, ...subscriptionMetaSink(realm) };
  });

  function session(c: FakeClient): Session {
    return realm.sessions.get(c.sessionId)!;
  }

  describe('meta events', () => {
    function observer(): FakeClient {
      const o = FakeClient.join(router);
      for (const t of [M.ON_CREATE, M.ON_SUBSCRIBE, M.ON_UNSUBSCRIBE, M.ON_DELETE]) subscribe(o, t);
      return o;
    }
    const topicOf = (o: FakeClient, subIds: Map<number, string>) =>
      events(o).map((e) => [subIds.get(e.subscription), ...(e.args as unknown[])]);

    test('on_create then on_subscribe, only on_subscribe for the next subscriber, nothing for a duplicate', () => {
      const o = observer();
      const names = new Map(
        [M.ON_CREATE, M.ON_SUBSCRIBE, M.ON_UNSUBSCRIBE, M.ON_DELETE].map((t) => [realm.broker.find(t, 'exact')!.id, t]),
      );
      expect(o.pending).toBe(0); // subscribing to wamp.* topics makes no meta events
      const a = FakeClient.join(router);
      const b = FakeClient.join(router);
      const id = subscribe(a, 'com.t', { match: 'prefix' });
      const got = topicOf(o, names);
      expect(got).toEqual([
        [M.ON_CREATE, a.sessionId, { id, created: expect.stringMatching(ISO), uri: 'com.t', match: 'prefix' }],
        [M.ON_SUBSCRIBE, a.sessionId, id],
      ]);
      subscribe(b, 'com.t', { match: 'prefix' });
      expect(topicOf(o, names)).toEqual([[M.ON_SUBSCRIBE, b.sessionId, id]]);
      subscribe(b, 'com.t', { match: 'prefix' });
      expect(o.pending).toBe(0);
    });

    test('on_unsubscribe, then on_delete when the last subscriber leaves (also by session leave)', () => {
      const o = observer();
      const names = new Map(
        [M.ON_CREATE, M.ON_SUBSCRIBE, M.ON_UNSUBSCRIBE, M.ON_DELETE].map((t) => [realm.broker.find(t, 'exact')!.id, t]),
      );
      const a = FakeClient.join(router);
      const b = FakeClient.join(router);
      const id = subscribe(a, 'x');
      const id2 = subscribe(a, 'y');
      subscribe(b, 'x');
      o.drain();
      a.send({ type: T.UNSUBSCRIBE, request: 50, subscription: id });
      expect(topicOf(o, names)).toEqual([[M.ON_UNSUBSCRIBE, a.sessionId, id]]);
      b.send({ type: T.UNSUBSCRIBE, request: 51, subscription: id });
      expect(topicOf(o, names)).toEqual([
        [M.ON_UNSUBSCRIBE, b.sessionId, id],
        [M.ON_DELETE, b.sessionId, id],
      ]);
      a.conn.drop();
      expect(topicOf(o, names)).toEqual([
        [M.ON_UNSUBSCRIBE, a.sessionId, id2],
        [M.ON_DELETE, a.sessionId, id2],
      ]);
    });

    test('a prefix subscription on wamp.subscription. receives the meta events with details.topic', () => {
      const o = FakeClient.join(router);
      subscribe(o, 'wamp.subscription.', { match: 'prefix' });
      const a = FakeClient.join(router);
      subscribe(a, 'k');
      expect(events(o).map((e) => e.details.topic)).toEqual([M.ON_CREATE, M.ON_SUBSCRIBE]);
    });

    test('the observer itself subscribing to a topic sees its own meta events after SUBSCRIBED', () => {
      const o = observer();
      o.send({ type: T.SUBSCRIBE, request: 99, options: {}, topic: 'own' });
      expect(o.drain().map((m) => m.type)).toEqual([T.SUBSCRIBED, T.EVENT, T.EVENT]);
    });
  });

  describe('meta procedures', () => {
    let procs: Record<string, InternalProcedure>;
    beforeEach(() => {
      procs = subscriptionMetaProcedures(realm);
    });
    const proc = (uri: string): InternalProcedure => {
      const p = procs[uri];
      if (!p) throw new Error(`no meta procedure ${uri}`);
      return p;
    };
    const call = (uri: string, caller: Session, ...args: unknown[]) => proc(uri)(caller, args, {}).args;
    const callError = (uri: string, caller: Session, ...args: unknown[]): string => {
      try {
        proc(uri)(caller, args, {});
      } catch (e) {
        if (e instanceof WampError) return e.uri;
        throw e;
      }
      throw new Error('expected a WampError');
    };

    test('list, lookup, match', () => {
      const a = FakeClient.join(router);
      const me = session(a);
      expect(call(M.LIST, me)).toEqual([{ exact: [], prefix: [], wildcard: [] }]);
      const e = subscribe(a, 'com.a.b');
      const p = subscribe(a, 'com.a', { match: 'prefix' });
      const w = subscribe(a, 'com..b', { match: 'wildcard' });
      subscribe(a, 'wamp.session.on_join'); // hidden from non-trusted callers
      expect(call(M.LIST, me)).toEqual([{ exact: [e], prefix: [p], wildcard: [w] }]);
      expect(call(M.LOOKUP, me, 'com.a.b')).toEqual([e]);
      expect(call(M.LOOKUP, me, 'com.a.b', { match: 'exact' })).toEqual([e]);
      expect(call(M.LOOKUP, me, 'com.a', { match: 'prefix' })).toEqual([p]);
      expect(call(M.LOOKUP, me, 'com..b', { match: 'wildcard' })).toEqual([w]);
      expect(call(M.LOOKUP, me, 'com.a')).toEqual([null]);
      expect(call(M.LOOKUP, me, 'wamp.session.on_join')).toEqual([null]);
      expect(callError(M.LOOKUP, me, 'com.a', { match: 'regex' })).toBe(ErrorUri.INVALID_ARGUMENT);
      expect(callError(M.LOOKUP, me)).toBe(ErrorUri.INVALID_ARGUMENT);
      expect((call(M.MATCH, me, 'com.a.b')![0] as number[]).sort()).toEqual([e, p, w].sort());
      expect(call(M.MATCH, me, 'com.a.x')).toEqual([[p]]);
      expect(call(M.MATCH, me, 'org.x')).toEqual([null]);
      expect(call(M.MATCH, me, 'wamp.session.on_join')).toEqual([null]);
    });

    test('get, list_subscribers, count_subscribers', () => {
      const a = FakeClient.join(router);
      const b = FakeClient.join(router);
      const id = subscribe(a, 't', { match: 'prefix' });
      subscribe(b, 't', { match: 'prefix' });
      const me = session(a);
      const [details] = call(M.GET, me, id)!;
      expect(details).toEqual({ id, created: expect.stringMatching(ISO), uri: 't', match: 'prefix' });
      expect((call(M.LIST_SUBSCRIBERS, me, id)![0] as number[]).sort()).toEqual([a.sessionId, b.sessionId].sort());
      expect(call(M.COUNT_SUBSCRIBERS, me, id)).toEqual([2]);
      b.conn.drop();
      expect(call(M.LIST_SUBSCRIBERS, me, id)).toEqual([[a.sessionId]]);
      expect(call(M.COUNT_SUBSCRIBERS, me, id)).toEqual([1]);
      for (const uri of [M.GET, M.LIST_SUBSCRIBERS, M.COUNT_SUBSCRIBERS]) {
        expect(callError(uri, me, 424242)).toBe(ErrorUri.NO_SUCH_SUBSCRIPTION);
        expect(callError(uri, me, 'x')).toBe(ErrorUri.INVALID_ARGUMENT);
      }
      a.conn.drop();
      expect(callError(M.GET, session(FakeClient.join(router)), id)).toBe(ErrorUri.NO_SUCH_SUBSCRIPTION);
    });

    test('subscriptions to wamp.* topics are visible to the trusted role only', () => {
      const a = FakeClient.join(router);
      const id = subscribe(a, 'wamp.registration.on_create');
      const t = joinAs(router, { authrole: 'trusted' });
      expect(callError(M.GET, session(a), id)).toBe(ErrorUri.NO_SUCH_SUBSCRIPTION);
      expect(call(M.GET, session(t), id)).toEqual([expect.objectContaining({ id, uri: 'wamp.registration.on_create' })]);
      expect(call(M.LIST, session(t))).toEqual([{ exact: [id], prefix: [], wildcard: [] }]);
      expect(call(M.LOOKUP, session(t), 'wamp.registration.on_create')).toEqual([id]);
    });
  });

  test('installSubscriptionMeta registers the six procedures on the dealer', () => {
    const r = new Realm('r', allowAll, { strictUris: false });
    const registered: string[] = [];
    r.dealer.registerInternal = (uri: string) => {
      registered.push(uri);
    };
    installSubscriptionMeta(r);
    expect(registered.sort()).toEqual([M.COUNT_SUBSCRIBERS, M.GET, M.LIST, M.LIST_SUBSCRIBERS, M.LOOKUP, M.MATCH].sort());
  });
});

describe('subscription meta API over the wire (wired by installMetaApi)', () => {
  test('CALL wamp.subscription.lookup / count_subscribers, and on_create without manual wiring', () => {
    const router = new Router();
    router.addRealm('realm1');
    const o = FakeClient.join(router);
    subscribe(o, M.ON_CREATE);
    const a = FakeClient.join(router);
    const id = subscribe(a, 'com.e');
    expect(events(o)).toMatchObject([{ args: [a.sessionId, { id, uri: 'com.e', match: 'exact' }] }]);
    a.send({ type: T.CALL, request: 7, options: {}, procedure: M.LOOKUP, args: ['com.e'] });
    expect(a.next()).toMatchObject({ type: T.RESULT, request: 7, args: [id] });
    a.send({ type: T.CALL, request: 8, options: {}, procedure: M.COUNT_SUBSCRIBERS, args: [id] });
    expect(a.next()).toMatchObject({ type: T.RESULT, request: 8, args: [1] });
    a.send({ type: T.CALL, request: 9, options: {}, procedure: M.GET, args: [1] });
    expect(a.next()).toMatchObject({ type: T.ERROR, requestType: T.CALL, request: 9, error: ErrorUri.NO_SUCH_SUBSCRIPTION });
  });
});
