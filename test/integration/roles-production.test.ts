/**
 * router-config/production.json's roles, end to end: the file is loaded with test secrets from the
 * environment, its ports (and TLS: see tls.test.ts) overridden, and the real sisock programs run
 * under their roles: the hub (authid hub), an SDK data node (authid weather), consumers (authid
 * consumer), an admin and an anonymous OCS agent. Each can do what it needs, and nothing else.
 */
import * as path from 'node:path';
import pino from 'pino';
import { loadConfigFile } from '../../router/config';
import { startRouter, type RunningRouter } from '../../router/server';
import { registerRouterMetrics } from '../../router/metrics';
import { SisockClient, type ClientOptions } from '../../client';
import { getData, listNodes, subscribeLive } from '../../client/data';
import { runHub, type HubHandle } from '../../hub';
import { runDataNode, type DataNodeHandle } from '../../data-nodes/sdk';
import { runSimNode } from '../../data-nodes/sim/node';
import { MemorySource, waitFor } from './sisock-helpers';

const B = 'org.simonsobservatory';
const ENV = {
  SISOCK_SERVER_SECRET: 'test-server',
  SISOCK_HUB_SECRET: 'test-hub',
  SISOCK_CONSUMER_SECRET: 'test-consumer',
  SISOCK_NODE_WEATHER_SECRET: 'test-weather',
  SISOCK_NODE_SIM_SECRET: 'test-sim',
  SISOCK_NODE_ARCHIVE_SECRET: 'test-archive',
  SISOCK_NODE_TRACKER_SECRET: 'test-tracker',
  SISOCK_ADMIN_SECRET: 'test-admin',
  SISOCK_OPERATOR_SECRET: 'test-operator',
};

let running: RunningRouter;
let craUrl: string;
let anonUrl: string;
const closers: Array<() => Promise<unknown>> = [];

function as(authid: keyof typeof USERS | null, url = craUrl): ClientOptions {
  const base: ClientOptions = { url, realm: 'test_realm', uriBase: B, initialRetryDelay: 0.05, maxRetryDelay: 0.5, connectWaitMs: 3000 };
  return authid ? { ...base, authid, secret: USERS[authid] } : base;
}
const USERS = {
  hub: ENV.SISOCK_HUB_SECRET,
  consumer: ENV.SISOCK_CONSUMER_SECRET,
  weather: ENV.SISOCK_NODE_WEATHER_SECRET,
  admin: ENV.SISOCK_ADMIN_SECRET,
  sim: ENV.SISOCK_NODE_SIM_SECRET,
  operator: ENV.SISOCK_OPERATOR_SECRET,
};

async function client(o: ClientOptions): Promise<SisockClient> {
  const c = new SisockClient(o).start();
  closers.push(() => c.close());
  await c.whenReady(5000);
  return c;
}

/** Resolves with the error URI of a refused action. */
async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    const err = e as { uri?: string; error?: string; message?: string };
    return err.uri ?? err.error ?? String(err.message);
  }
  return 'allowed';
}

let hub: HubHandle;
let node: DataNodeHandle;
let consumer: SisockClient;

beforeAll(async () => {
  const { config } = loadConfigFile(path.join(__dirname, '../../router-config/production.json'), ENV);
  for (const t of config.transports) {
    t.port = 0;
    t.host = '127.0.0.1';
    delete t.tls;
  }
  running = await startRouter(config);
  [craUrl, anonUrl] = running.urls as [string, string];

  hub = await runHub({ client: as('hub') });
  closers.push(() => hub.close());
  await hub.ready(5000);
  node = await runDataNode({
    name: 'weather',
    description: 'weather under its own role',
    source: new MemorySource(10, 1000, 1),
    client: as('weather'),
  });
  closers.push(() => node.close());
  await node.ready(5000);
  consumer = await client(as('consumer'));
});

afterAll(async () => {
  for (const c of closers.reverse()) await c().catch(() => undefined);
  await running?.close();
});

describe('what each role needs', () => {
  test('hub + node: the node announced itself, the consumer lists it and reads its data', async () => {
    await waitFor(async () => (await listNodes(consumer)).some((n) => n.name === 'weather'), 5000, 'weather listed');
    const r = await getData(consumer, 'weather', ['a'], 1000, 1005);
    expect(r.data.a).toEqual([0, 1, 2, 3, 4]);
  });

  test('the hub gets node metadata (calls consumer.<name>.get_metadata)', async () => {
    const meta = await consumer.call<Array<{ name: string; description: string }>>(`${B}.consumer.get_data_node_metadata`);
    expect(meta.find((m) => m.name === 'weather')).toMatchObject({ description: 'weather under its own role' });
  });

  test('the node publishes its live topic; the consumer receives it', async () => {
    const got: unknown[] = [];
    const h = await subscribeLive(consumer, 'weather', (r) => got.push(r));
    await node.push({ data: { a: [42] }, timeline: { tl: { t: [2000], finalized_until: 2000 } } });
    await waitFor(() => got.length > 0, 3000, 'live event');
    await h.remove();
  });

  test('a node re-announces on hub.started (it may subscribe to it and call data_node.add again)', async () => {
    const lines: Array<{ msg?: string; why?: string }> = [];
    const logger = pino(
      { level: 'info' },
      {
        write: (s: string) => {
          lines.push(JSON.parse(s) as { msg?: string; why?: string });
        },
      },
    );
    const sim = await runDataNode({
      name: 'sim',
      description: 'announces again',
      source: new MemorySource(10, 1000, 1),
      client: as('sim'),
      logger,
    });
    // closed at the end of this test: the name `sim` is for the sim node of a later test
    let closed = false;
    closers.push(() => (closed ? Promise.resolve() : sim.close()));
    await sim.ready(5000);
    const reannounced = () => lines.some((l) => l.msg === 'announced to hub' && l.why === 'hub started');
    expect(reannounced()).toBe(false);
    // What a restarted hub publishes once its procedures are registered (authid hub may publish it).
    const restartedHub = await client(as('hub'));
    await restartedHub.publish(`${B}.hub.started`, [{ session_id: restartedHub.sessionId, started: Date.now() / 1000 }]);
    await waitFor(reannounced, 5000, 'sim announced again after hub.started');
    expect(sim.announced).toBe(true);
    expect((await listNodes(consumer)).map((n) => n.name)).toEqual(expect.arrayContaining(['weather', 'sim']));
    await consumer.subscribe(`${B}.hub.started`, () => undefined); // consumers (the bridge) may subscribe too
    closed = true;
    await sim.close();
  });

  test('admin: the WAMP meta API', async () => {
    const admin = await client(as('admin'));
    expect(await admin.call<number>('wamp.session.count')).toBeGreaterThanOrEqual(4);
    expect(await admin.call('wamp.registration.list')).toHaveProperty('exact');
  });

  test('anonymous OCS agent on the plain transport: observatory.* only', async () => {
    const agent = await client(as(null, anonUrl));
    await agent.publish('observatory.thermo1.feeds.temps', [[{}, {}]], {}, { acknowledge: true });
    expect(await refusal(agent.call(`${B}.consumer.get_data_node`))).toBe('wamp.error.not_authorized');
  });
});

describe('and nothing else', () => {
  test("a node registering another node's procedure", async () => {
    expect(await refusal(node.client.register(`${B}.consumer.sim.get_data`, () => null))).toBe('wamp.error.not_authorized');
  });

  test("a node publishing as the hub, or on another node's live topic", async () => {
    expect(
      await refusal(node.client.publish(`${B}.consumer.data_node_added`, [{ name: 'x', description: '' }], {}, { acknowledge: true })),
    ).toBe('wamp.error.not_authorized');
    expect(await refusal(node.client.publish(`${B}.consumer.sim.data`, [{}], {}, { acknowledge: true }))).toBe('wamp.error.not_authorized');
  });

  test('a node registering the hub procedures', async () => {
    expect(await refusal(node.client.register(`${B}.data_node.add`, () => true))).toBe('wamp.error.not_authorized');
  });

  test('a consumer publishing, registering, or calling data_node.add', async () => {
    expect(await refusal(consumer.publish(`${B}.consumer.weather.data`, [{}], {}, { acknowledge: true }))).toBe(
      'wamp.error.not_authorized',
    );
    expect(await refusal(consumer.publish(`${B}.consumer.data_node_added`, [{}], {}, { acknowledge: true }))).toBe(
      'wamp.error.not_authorized',
    );
    expect(await refusal(consumer.register(`${B}.consumer.fake.get_data`, () => null))).toBe('wamp.error.not_authorized');
    expect(await refusal(consumer.call(`${B}.data_node.add`, ['fake', '', 1]))).toBe('wamp.error.not_authorized');
    expect(await refusal(consumer.call('wamp.session.list'))).toBe('wamp.error.not_authorized');
  });

  test("read-only consumer (the bridge's role) cannot control hardware; the operator can", async () => {
    const sim = await runSimNode({ client: as('sim') });
    closers.push(() => sim.node.close());
    await sim.node.ready(5000);
    const setChannel = `${B}.consumer.sim.set_channel`;
    expect(await refusal(consumer.call(setChannel, ['hv', 1, { on: true }]))).toBe('wamp.error.not_authorized');
    // reads still work for the read-only role
    expect(await consumer.call(`${B}.consumer.sim.get_state`)).toBeDefined();
    const operator = await client(as('operator'));
    expect(await refusal(operator.call(setChannel, ['hv', 1, { on: true }]))).toBe('allowed');
    expect(await refusal(operator.register(`${B}.consumer.fake.get_data`, () => null))).toBe('wamp.error.not_authorized');
  });

  test("a node claiming another node's session id at the hub is refused (callers are disclosed)", async () => {
    const sim = await client(as('sim'));
    expect(await refusal(sim.call(`${B}.data_node.subtract`, ['weather', node.client.sessionId]))).toBe('wamp.error.not_authorized');
    expect(await refusal(sim.call(`${B}.data_node.add`, ['weather', 'hijacked', node.client.sessionId]))).toBe('wamp.error.not_authorized');
    expect((await listNodes(consumer)).find((n) => n.name === 'weather')).toEqual({
      name: 'weather',
      description: 'weather under its own role',
    });
  });

  test('the hub calling wamp.session.kill, or reading node data', async () => {
    const h = await client(as('hub'));
    expect(await refusal(h.call('wamp.session.kill', [consumer.sessionId]))).toBe('wamp.error.not_authorized');
    expect(await refusal(h.call(`${B}.consumer.weather.get_data`, [['a'], 1000, 1005]))).toBe('wamp.error.not_authorized');
  });

  test('the admin may not register or publish', async () => {
    const admin = await client(as('admin'));
    expect(await refusal(admin.register(`${B}.consumer.admin.get_data`, () => null))).toBe('wamp.error.not_authorized');
  });

  test('a wrong secret is refused at the door', async () => {
    const c = new SisockClient({ ...as('weather'), secret: 'not-the-secret' }).start();
    closers.push(() => c.close());
    await expect(c.whenReady(1500)).rejects.toThrow();
  });

  test('every refusal was counted by the router metrics', async () => {
    const text = await registerRouterMetrics(running.router).metrics();
    const m = /sisock_router_not_authorized_total\{realm="test_realm"\} (\d+)/.exec(text);
    expect(Number(m?.[1])).toBeGreaterThanOrEqual(13);
  });
});
