/**
 * The real SisockClient over a scripted autobahn (test/helpers/fake-autobahn.ts): what is asked for
 * while a session is being set up (its persistent registrations/subscriptions being made again, the
 * gate not yet open) is made on that session; a REGISTER/SUBSCRIBE pending when the session is lost
 * does not hang and is made on the next one.
 */
import { SisockClient, type Handle } from '../../client';
import { withTimeout } from '../../common/timeout';
import { FakeSession, lastConnection } from '../helpers/fake-autobahn';

jest.mock('autobahn', () => jest.requireActual('../helpers/fake-autobahn').fakeAutobahn);

const opts = { url: 'ws://fake.invalid/ws', realm: 'r', uriBase: 'b' };

describe('SisockClient: session set-up', () => {
  let c: SisockClient;
  afterEach(async () => {
    await c.close();
  });

  it('a subscription and a registration asked for by an event handler during the set-up are made on that session', async () => {
    c = new SisockClient(opts);
    const live: unknown[] = [];
    const asked: Array<Promise<Handle>> = [];
    // like the historian's follower: a node announced → subscribe to its live topic (and here register too)
    await c.subscribe('b.added', () => {
      asked.push(c.subscribe('b.live', (args) => live.push(args[0])));
      asked.push(c.register('b.proc', () => 'ok'));
    });
    await c.subscribe('b.later', () => {});
    c.start();
    const s = new FakeSession(1);
    s.hold.add('b.later');
    lastConnection().join(s);
    const answerLater = await s.asked('b.later'); // the set-up is at its last subscription; b.added is made
    expect(c.isReady).toBe(false);
    s.event('b.added', [{ name: 'n1' }]);
    answerLater();
    await withTimeout(c.whenReady(), 2000, 'ready');
    await withTimeout(Promise.all(asked), 2000, 'the handles');
    expect(s.made).toEqual(expect.arrayContaining(['b.added', 'b.later', 'b.live', 'b.proc']));
    s.event('b.live', [{ v: 1 }]);
    expect(live).toEqual([{ v: 1 }]);
  });

  it('a SUBSCRIBE pending when the session is lost resolves, and the next session makes it', async () => {
    c = new SisockClient(opts);
    c.start();
    const s1 = new FakeSession(1);
    lastConnection().join(s1);
    await withTimeout(c.whenReady(), 2000, 'first session ready');
    s1.hold.add('b.t');
    const pending = c.subscribe('b.t', () => {});
    await s1.asked('b.t');
    lastConnection().lose(); // the router never answers: autobahn would leave the request pending for ever
    const handle = await withTimeout(pending, 2000, 'subscribe across a lost session');
    const s2 = new FakeSession(2);
    lastConnection().join(s2);
    await withTimeout(c.whenReady(), 2000, 'second session ready');
    expect(s2.made).toContain('b.t');
    await handle.remove();
    expect(s2.handlers.has('b.t')).toBe(false);
  });

  it("the repair pass after a retryable refusal does not send a second SUBSCRIBE/REGISTER for one still waiting for the router's answer", async () => {
    c = new SisockClient(opts);
    // a procedure still held by a session the router has not dropped yet: refused, retried in 1 s
    await c.register('b.stale', () => 'ok');
    c.start();
    const s = new FakeSession(1);
    s.failOnce.set('b.stale', 'wamp.error.procedure_already_exists');
    lastConnection().join(s);
    await withTimeout(c.whenReady(), 2000, 'ready');
    s.hold.add('b.stale'); // the repair's REGISTER waits: the test knows when the repair runs
    s.hold.add('b.t');
    s.hold.add('b.p');
    const sub = c.subscribe('b.t', () => {});
    const reg = c.register('b.p', () => 'p');
    const answerT = await s.asked('b.t');
    const answerP = await s.asked('b.p');
    const answerStale = await withTimeout(s.asked('b.stale'), 3000, 'the repair pass');
    answerStale();
    await new Promise((r) => setImmediate(r)); // the repair pass goes on to the other entries
    answerT();
    answerP();
    await withTimeout(Promise.all([sub, reg]), 2000, 'the handles');
    await new Promise((r) => setImmediate(r));
    expect(s.asks.filter((u) => u === 'b.t')).toHaveLength(1);
    expect(s.asks.filter((u) => u === 'b.p')).toHaveLength(1);
    expect(s.asks.filter((u) => u === 'b.stale')).toHaveLength(2);
    expect(s.made).toEqual(expect.arrayContaining(['b.t', 'b.p', 'b.stale']));
  });
});
