/**
 * The router's behaviour over real sockets, once per serializer × transport from one suite:
 * WebSocket, RawSocket, and both sides of a universal port, each with JSON, MsgPack and CBOR.
 */
import { MessageType as T, ErrorUri, CloseUri } from '../../wamp';
import { devConfig, type RouterConfig } from '../../router/config';
import { startRouter, type RunningRouter } from '../../router/server';
import type { SerializerName } from '../../transport';
import { RawWampClient, type Kind } from '../helpers/raw-wamp-client';

const REALM = 'realm1';
let running: RunningRouter;
const endpoints: Array<{ name: string; kind: Kind; url: string }> = [];
const open: RawWampClient[] = [];

beforeAll(async () => {
  const cfg: RouterConfig = devConfig({ port: 0, rawsocketPort: 0, realm: REALM });
  const ws = cfg.transports[0];
  if (!ws) throw new Error('devConfig has no WebSocket transport');
  cfg.transports.push({
    ...ws,
    kind: 'universal',
    source: 'test.universal',
    rawsocket: { serializers: ws.serializers, options: ws.options, auth: ws.auth },
  });
  running = await startRouter(cfg);
  for (const l of running.listeners) {
    if (l.kind === 'websocket') endpoints.push({ name: 'websocket', kind: 'websocket', url: l.url });
    if (l.kind === 'rawsocket') endpoints.push({ name: 'rawsocket', kind: 'rawsocket', url: l.url });
    if (l.kind === 'universal') {
      endpoints.push({ name: 'universal/ws', kind: 'websocket', url: l.url });
      endpoints.push({ name: 'universal/rs', kind: 'rawsocket', url: l.rawsocketUrl! });
    }
  }
  expect(endpoints.map((e) => e.name).sort()).toEqual(['rawsocket', 'universal/rs', 'universal/ws', 'websocket']);
});

afterEach(() => {
  for (const c of open.splice(0)) c.close();
});
afterAll(async () => {
  await running.close();
});

async function client(kind: Kind, url: string, ser: SerializerName): Promise<RawWampClient> {
  const c = await RawWampClient.connect(kind, url, ser);
  open.push(c);
  await c.join(REALM);
  return c;
}

const serializers: SerializerName[] = ['json', 'msgpack', 'cbor'];
const matrix = (): Array<[string, SerializerName]> =>
  ['websocket', 'rawsocket', 'universal/ws', 'universal/rs'].flatMap((e) => serializers.map((s) => [e, s] as [string, SerializerName]));

describe.each(matrix())('%s × %s', (endpointName, ser) => {
  const ep = () => endpoints.find((e) => e.name === endpointName)!;

  test('WELCOME announces broker and dealer features; session id in [1, 2^53]', async () => {
    const c = await RawWampClient.connect(ep().kind, ep().url, ser);
    open.push(c);
    c.send({ type: T.HELLO, realm: REALM, details: { roles: { caller: {} } } });
    const w = await c.expect(T.WELCOME);
    expect(w.session).toBeGreaterThanOrEqual(1);
    expect(w.session).toBeLessThanOrEqual(2 ** 53);
    const roles = w.details.roles as Record<string, { features: Record<string, boolean> }>;
    expect(roles.broker!.features.publisher_exclusion).toBe(true);
    expect(roles.dealer!.features.progressive_call_results).toBe(true);
    expect(roles.dealer!.features.call_canceling).toBe(true);
  });

  test('register / call / yield, args, kwargs and binary survive the round trip', async () => {
    const callee = await client(ep().kind, ep().url, ser);
    const caller = await client(ep().kind, ep().url, ser);
    callee.send({ type: T.REGISTER, request: callee.req(), options: {}, procedure: 'com.test.echo' });
    const reg = await callee.expect(T.REGISTERED);
    const bin = new Uint8Array([0, 1, 2, 250, 255]);
    caller.send({ type: T.CALL, request: 7, options: {}, procedure: 'com.test.echo', args: [1, 'two', 2 ** 53, bin], kwargs: { f: 1.5 } });
    const inv = await callee.expect(T.INVOCATION);
    expect(inv.registration).toBe(reg.registration);
    expect(inv.request).toBe(1); // the router's own sequence for this callee
    callee.send({ type: T.YIELD, request: inv.request, options: {}, args: inv.args, kwargs: inv.kwargs });
    const res = await caller.expect(T.RESULT);
    expect(res.request).toBe(7);
    const args = res.args as unknown[];
    expect(args.slice(0, 3)).toEqual([1, 'two', 2 ** 53]);
    expect(Buffer.from(args[3] as Uint8Array)).toEqual(Buffer.from(bin));
    expect(res.kwargs).toEqual({ f: 1.5 });
  });

  test('publish / subscribe with acknowledge; the publisher is excluded by default', async () => {
    const sub = await client(ep().kind, ep().url, ser);
    const pub = await client(ep().kind, ep().url, ser);
    for (const c of [sub, pub]) {
      c.send({ type: T.SUBSCRIBE, request: c.req(), options: {}, topic: 'com.test.topic' });
      await c.expect(T.SUBSCRIBED);
    }
    pub.send({ type: T.PUBLISH, request: 5, options: { acknowledge: true }, topic: 'com.test.topic', args: ['hello'] });
    const ack = await pub.expect(T.PUBLISHED);
    const ev = await sub.expect(T.EVENT);
    expect(ev.publication).toBe(ack.publication);
    expect(ev.args).toEqual(['hello']);
    // The publisher gets nothing: prove it by a second publication it does receive.
    sub.send({ type: T.PUBLISH, request: sub.req(), options: { exclude_me: false }, topic: 'com.test.topic', args: ['second'] });
    const ev2 = await pub.expect(T.EVENT);
    expect(ev2.args).toEqual(['second']);
  });

  test('a call to an unknown procedure gets ERROR no_such_procedure', async () => {
    const c = await client(ep().kind, ep().url, ser);
    c.send({ type: T.CALL, request: 3, options: {}, procedure: 'com.test.nothing' });
    const e = await c.expect(T.ERROR);
    expect(e).toMatchObject({ requestType: T.CALL, request: 3, error: ErrorUri.NO_SUCH_PROCEDURE });
  });

  test('a callee that disconnects mid-call fails the pending call at once', async () => {
    const callee = await client(ep().kind, ep().url, ser);
    const caller = await client(ep().kind, ep().url, ser);
    callee.send({ type: T.REGISTER, request: callee.req(), options: {}, procedure: 'com.test.hang' });
    await callee.expect(T.REGISTERED);
    caller.send({ type: T.CALL, request: 11, options: {}, procedure: 'com.test.hang' });
    await callee.expect(T.INVOCATION);
    callee.close();
    const e = await caller.expect(T.ERROR);
    expect(e).toMatchObject({ request: 11, error: ErrorUri.CANCELED });
  });

  test('a router-to-client message from a client is ABORTed as a protocol violation and closed', async () => {
    const c = await client(ep().kind, ep().url, ser);
    c.sendArray([T.WELCOME, 1, {}]);
    const a = await c.expect(T.ABORT);
    expect(a.reason).toBe(ErrorUri.PROTOCOL_VIOLATION);
    await c.closed;
  });

  test('GOODBYE is answered with GOODBYE and the session is gone', async () => {
    const c = await client(ep().kind, ep().url, ser);
    const id = c.sessionId;
    c.send({ type: T.GOODBYE, details: {}, reason: CloseUri.CLOSE_REALM });
    const g = await c.expect(T.GOODBYE);
    expect(g.reason).toBe(CloseUri.GOODBYE_AND_OUT);
    expect(running.router.sessions.has(id)).toBe(false);
  });
});

test('a session leaving removes its registrations and subscriptions', async () => {
  const ep = endpoints.find((e) => e.name === 'websocket')!;
  const a = await client(ep.kind, ep.url, 'json');
  a.send({ type: T.REGISTER, request: a.req(), options: {}, procedure: 'com.test.gone' });
  await a.expect(T.REGISTERED);
  a.send({ type: T.SUBSCRIBE, request: a.req(), options: {}, topic: 'com.test.gone' });
  await a.expect(T.SUBSCRIBED);
  a.close();
  await a.closed;
  const b = await client(ep.kind, ep.url, 'json');
  // Wait for the router to see the close: poll the meta API through the wire.
  for (let i = 0; i < 100; i++) {
    b.send({ type: T.CALL, request: b.req(), options: {}, procedure: 'com.test.gone' });
    const m = await b.next();
    if (m?.type === T.ERROR && m.error === ErrorUri.NO_SUCH_PROCEDURE) break;
    if (i === 99) throw new Error('registration survived its session');
    await new Promise((r) => setImmediate(r));
  }
  const realm = running.router.realms.get(REALM)!;
  expect(realm.broker.subscriptionsOf(a.sessionId).size).toBe(0);
});
