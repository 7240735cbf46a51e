/**
 * Interop with autobahn-js (npm `autobahn` v26), a WAMP client nobody here wrote, through its own
 * Connection/Session API, against our router started in-process on port 0. Every scenario runs
 * once per WebSocket serializer.
 */
import {
  autobahn,
  closeAll,
  collector,
  connect,
  deferred,
  JoinRefused,
  rejection,
  type AbDetails,
  type JsAuth,
} from '../helpers/autobahn-js';
import { makeCredentials, REALM, startInteropRouter, type InteropRouter } from '../helpers/interop';

type Ser = 'json' | 'msgpack' | 'cbor';

jest.setTimeout(10000);

const creds = makeCredentials();
let router: InteropRouter;
let url: string;
let seq = 0;
/** A fresh URI prefix per test, so that tests never see each other's registrations. */
const ns = (): string => `com.interop.js${++seq}`;

beforeAll(async () => {
  router = await startInteropRouter(creds);
  url = router.ws;
});

afterEach(async () => {
  await closeAll();
});

afterAll(async () => {
  await closeAll();
  await router?.running.close();
});

const SERIALIZERS: Ser[] = ['json', 'msgpack', 'cbor'];

test('the Crossbar.io config of the interop router parses without warnings', () => {
  expect(router.warnings).toEqual([]);
});

describe.each(SERIALIZERS)('autobahn-js over WebSocket/%s', (ser) => {
  const join = (auth?: JsAuth) => connect(url, REALM, ser, auth);

  test('join', async () => {
    const c = await join();
    expect(c.session.id).toBeGreaterThan(0);
    expect(c.session.id).toBeLessThanOrEqual(2 ** 53);
    expect(c.details).toMatchObject({ realm: REALM, authrole: 'anonymous' });
    expect((c.details.transport as Record<string, unknown>).protocol).toBe(`wamp.2.${ser}`);
    await c.close();
  });

  test('register/call', async () => {
    const p = ns();
    const callee = await join();
    const caller = await join();
    await callee.session.register(
      `${p}.add`,
      (args, kwargs) => new autobahn.Result([(args[0] as number) + (args[1] as number)], { echo: kwargs }),
    );
    const r = await caller.session.call<{ args: unknown[]; kwargs: Record<string, unknown> }>(`${p}.add`, [2, 3], { x: 'y' });
    expect(r.args).toEqual([5]);
    expect(r.kwargs).toEqual({ echo: { x: 'y' } });
    await callee.session.register(`${p}.plain`, (args) => (args[0] as number) * 2);
    expect(await caller.session.call(`${p}.plain`, [21])).toBe(42);
    const e = await rejection(caller.session.call(`${p}.nope`));
    expect(e.error).toBe('wamp.error.no_such_procedure');
  });

  test('call error with args and kwargs', async () => {
    const p = ns();
    const callee = await join();
    const caller = await join();
    await callee.session.register(`${p}.fail`, () => {
      throw new autobahn.Error('com.interop.error.custom', [1, 'two', [3]], { foo: 'bar', nested: { n: [1, 2] } });
    });
    const e = await rejection(caller.session.call(`${p}.fail`));
    expect(e.error).toBe('com.interop.error.custom');
    expect(e.args).toEqual([1, 'two', [3]]);
    expect(e.kwargs).toEqual({ foo: 'bar', nested: { n: [1, 2] } });
  });

  test('pub/sub with and without publisher exclusion', async () => {
    const topic = `${ns()}.topic`;
    const sub = await join();
    const pub = await join();
    const subGot = collector<[unknown[], Record<string, unknown>]>(2);
    const pubGot = collector<unknown[]>(1);
    await sub.session.subscribe(topic, (args, kwargs) => subGot.fn([args, kwargs]));
    await pub.session.subscribe(topic, (args) => pubGot.fn(args));
    await pub.session.publish(topic, [1, 'excluded'], { k: 'v' }, { acknowledge: true });
    await pub.session.publish(topic, [2, 'included'], {}, { acknowledge: true, exclude_me: false });
    const events = await subGot.done;
    expect(events.map(([a]) => a[0])).toEqual([1, 2]);
    expect(events[0]![1]).toEqual({ k: 'v' });
    // The publisher's first event must be the exclude_me=false one: the first was excluded.
    expect(await pubGot.done).toEqual([[2, 'included']]);
  });

  test('pattern subscriptions (prefix, wildcard) with details.topic', async () => {
    const p = ns();
    const sub = await join();
    const pub = await join();
    const got = collector<{ kind: string; args: unknown[]; topic?: string }>(2);
    await sub.session.subscribe(`${p}.pfx`, (args, _kw, d) => got.fn({ kind: 'prefix', args, topic: d.topic }), { match: 'prefix' });
    await sub.session.subscribe(`${p}.wc..end`, (args, _kw, d) => got.fn({ kind: 'wildcard', args, topic: d.topic }), {
      match: 'wildcard',
    });
    await pub.session.publish(`${p}.pfx.a.b`, ['p'], {}, { acknowledge: true });
    await pub.session.publish(`${p}.wc.middle.end`, ['w'], {}, { acknowledge: true });
    await pub.session.publish(`${p}.wc.middle.other`, ['nobody'], {}, { acknowledge: true });
    const events = (await got.done).sort((a, b) => a.kind.localeCompare(b.kind));
    expect(events).toEqual([
      { kind: 'prefix', args: ['p'], topic: `${p}.pfx.a.b` },
      { kind: 'wildcard', args: ['w'], topic: `${p}.wc.middle.end` },
    ]);
  });

  test('progressive call results', async () => {
    const p = ns();
    const callee = await join();
    const caller = await join();
    await callee.session.register(`${p}.count`, (args, _kw, details: AbDetails) => {
      expect(typeof details.progress).toBe('function');
      for (let i = 0; i < (args[0] as number); i++) details.progress!([i], { tag: 'p' });
      return 'done';
    });
    const progress: unknown[] = [];
    const result = await caller.session.call(`${p}.count`, [3], {}, { receive_progress: true }).then(
      (r) => r,
      (e) => {
        throw e;
      },
      (pr) => progress.push(pr),
    );
    expect(result).toBe('done');
    expect(progress.map((x) => (x as { args: unknown[] }).args ?? x)).toEqual([[0], [1], [2]]);
  });

  test('cancel (kill): caller gets wamp.error.canceled; an autobahn-js callee (no call_canceling) is not sent INTERRUPT', async () => {
    const p = ns();
    const callee = await join();
    const caller = await join();
    const started = deferred();
    await callee.session.register(`${p}.slow`, () => {
      started.resolve();
      return new Promise(() => {});
    });
    await callee.session.register(`${p}.alive`, () => 'still here');
    const call = caller.session.call(`${p}.slow`);
    await started.promise;
    call.cancel({ mode: 'kill' });
    const e = await rejection(call);
    expect(e.error).toBe('wamp.error.canceled');
    // autobahn-js treats INTERRUPT as a protocol violation and drops the connection; a router that
    // honours the callee's feature announcement never sends it one.
    expect(await caller.session.call(`${p}.alive`)).toBe('still here');
    expect(callee.session.isOpen).toBe(true);
  });

  test('call timeout: caller gets wamp.error.canceled', async () => {
    const p = ns();
    const callee = await join();
    const caller = await join();
    await callee.session.register(`${p}.slow`, () => new Promise(() => {}));
    const t0 = Date.now();
    const e = await rejection(caller.session.call(`${p}.slow`, [], {}, { timeout: 200 }));
    expect(e.error).toBe('wamp.error.canceled');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
  });

  test('shared registration: round robin over two callees', async () => {
    const p = ns();
    const a = await join();
    const b = await join();
    const caller = await join();
    await a.session.register(`${p}.shared`, () => 'a', { invoke: 'roundrobin' });
    await b.session.register(`${p}.shared`, () => 'b', { invoke: 'roundrobin' });
    const seen: unknown[] = [];
    for (let i = 0; i < 4; i++) seen.push(await caller.session.call(`${p}.shared`));
    expect([...seen].sort()).toEqual(['a', 'a', 'b', 'b']);
    for (let i = 1; i < 4; i++) expect(seen[i]).not.toBe(seen[i - 1]);
  });

  test('WAMP-CRA unsalted', async () => {
    const c = await join({ authmethod: 'wampcra', authid: creds.cra.authid, secret: creds.cra.secret });
    expect(c.details).toMatchObject({ authid: creds.cra.authid, authrole: 'full', authmethod: 'wampcra' });
    const bad = await join({ authmethod: 'wampcra', authid: creds.cra.authid, secret: `${creds.cra.secret}x` }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(JoinRefused);
    expect(['wamp.error.not_authorized', 'wamp.error.authentication_failed']).toContain((bad as JoinRefused).reason);
  });

  test('WAMP-CRA salted', async () => {
    const c = await join({ authmethod: 'wampcra', authid: creds.craSalted.authid, secret: creds.craSalted.secret });
    expect(c.details).toMatchObject({ authid: creds.craSalted.authid, authrole: 'full', authmethod: 'wampcra' });
    const bad = await join({ authmethod: 'wampcra', authid: creds.craSalted.authid, secret: `not-${creds.craSalted.secret}` }).catch(
      (e: unknown) => e,
    );
    expect(bad).toBeInstanceOf(JoinRefused);
    expect(['wamp.error.not_authorized', 'wamp.error.authentication_failed']).toContain((bad as JoinRefused).reason);
  });

  test('ticket', async () => {
    const c = await join({ authmethod: 'ticket', authid: creds.ticket.authid, secret: creds.ticket.secret });
    expect(c.details).toMatchObject({ authid: creds.ticket.authid, authrole: 'full', authmethod: 'ticket' });
    const bad = await join({ authmethod: 'ticket', authid: creds.ticket.authid, secret: 'wrong' }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(JoinRefused);
    expect(['wamp.error.not_authorized', 'wamp.error.authentication_failed']).toContain((bad as JoinRefused).reason);
  });

  test('refused permission: wamp.error.not_authorized', async () => {
    const p = ns();
    const owner = await join();
    const limited = await join({ authmethod: 'ticket', authid: creds.limited.authid, secret: creds.limited.secret });
    expect(limited.details.authrole).toBe('limited');
    const forbidden = `forbidden.${p}.proc`;
    await owner.session.register(forbidden, () => 'secret stuff');
    await owner.session.register(`${p}.allowed`, () => 'fine');
    expect(await limited.session.call(`${p}.allowed`)).toBe('fine');
    const e = await rejection(limited.session.call(forbidden));
    expect(e.error).toBe('wamp.error.not_authorized');
    const reg = await rejection(limited.session.register(`${p}.mine`, () => 1));
    expect(reg.error).toBe('wamp.error.not_authorized');
  });

  test('binary payload round trip', async () => {
    const p = ns();
    const callee = await join();
    const caller = await join();
    const bytes = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), Buffer.from('\0end')]);
    if (ser === 'json') {
      // autobahn-js has no JSON binary codec: the WAMP convention is the string "\0" + base64.
      const wire = `\u0000${bytes.toString('base64')}`;
      await callee.session.register(`${p}.echo`, (args) => [typeof args[0], args[0]]);
      const [kind, back] = await caller.session.call<[string, string]>(`${p}.echo`, [wire]);
      expect(kind).toBe('string');
      expect(back).toBe(wire);
    } else {
      await callee.session.register(`${p}.echo`, (args) => [Buffer.isBuffer(args[0]) || args[0] instanceof Uint8Array, args[0]]);
      const [isBin, back] = await caller.session.call<[boolean, Uint8Array]>(`${p}.echo`, [bytes]);
      expect(isBin).toBe(true);
      expect(Buffer.from(back as Uint8Array).equals(bytes)).toBe(true);
    }
  });
});

test('binary across serializers: msgpack bytes reach a JSON peer as "\\0"+base64 and come back as bytes', async () => {
  const p = ns();
  const callee = await connect(url, REALM, 'json');
  const caller = await connect(url, REALM, 'msgpack');
  const bytes = Buffer.from([0, 1, 2, 250, 251, 255, 0]);
  await callee.session.register(`${p}.echo`, (args) => {
    const a = args[0];
    const decoded = typeof a === 'string' && a.charCodeAt(0) === 0 ? Buffer.from(a.slice(1), 'base64').toString('hex') : null;
    return [typeof a, decoded, a];
  });
  const [kind, decodedHex, back] = await caller.session.call<[string, string | null, unknown]>(`${p}.echo`, [bytes]);
  expect(kind).toBe('string');
  expect(decodedHex).toBe(bytes.toString('hex'));
  // The JSON callee's echo of "\0"+base64 is translated back into bytes for the MsgPack caller.
  expect(Buffer.isBuffer(back) || back instanceof Uint8Array).toBe(true);
  expect(Buffer.from(back as Uint8Array).equals(bytes)).toBe(true);
});
