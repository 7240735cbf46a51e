/**
 * sisock contract interop with AutobahnPython (Debian python3-autobahn), over unsalted WAMP-CRA
 * with the original sisock roles: `server` (everything) and `consumer` (the `<base>.consumer.`
 * prefix only).
 *  - a Python data node (test/interop/python/sisock_node.py) is listed by our hub and served to
 *    our client, and removed when it dies;
 *  - a Python consumer (sisock_consumer.py) reads one of our SDK nodes.
 * Without python3-autobahn the suite is skipped with a message, except on CI (env CI or
 * SISOCK_REQUIRE_SERVICES), where it fails.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { getData, listNodes, SisockClient, type ClientOptions } from '../../client';
import { runHub, type HubHandle } from '../../hub';
import { runDataNode, type DataNodeHandle } from '../../data-nodes/sdk';
import { parseConfig } from '../../router/config';
import { startRouter, type RunningRouter } from '../../router/server';
import { JsonLinesProcess, PYTHON, pythonAutobahnMissing, servicesRequired } from '../helpers/interop';
import { MemorySource, waitFor } from '../integration/sisock-helpers';
import { ALLOW_ALL, oneRouterConfig } from '../helpers/router-setup';

const PY_DIR = path.join(__dirname, 'python');
const missing = pythonAutobahnMissing();
if (missing && !servicesRequired()) console.warn(`sisock-python interop skipped: ${missing}`);
const maybe = missing && !servicesRequired() ? describe.skip : describe;

jest.setTimeout(60000);

maybe('sisock contract with AutobahnPython', () => {
  const serverSecret = randomBytes(18).toString('base64url');
  const consumerSecret = randomBytes(18).toString('base64url');
  let router: RunningRouter;
  let url: string;
  let hub: HubHandle;
  let tsNode: DataNodeHandle;
  let consumer: SisockClient;
  const procs: JsonLinesProcess[] = [];
  const as = (authid: string, secret: string): ClientOptions => ({
    url,
    realm: 'test_realm',
    uriBase: 'org.simonsobservatory',
    authid,
    secret,
    initialRetryDelay: 0.05,
    maxRetryDelay: 0.5,
  });

  /** The secret goes to the child through its environment (SISOCK_SECRET), never the command line. */
  const spawnWithSecret = (secret: string, args: string[]): JsonLinesProcess => {
    const saved = process.env.SISOCK_SECRET;
    process.env.SISOCK_SECRET = secret;
    try {
      const p = new JsonLinesProcess(PYTHON, args);
      procs.push(p);
      return p;
    } finally {
      if (saved === undefined) delete process.env.SISOCK_SECRET;
      else process.env.SISOCK_SECRET = saved;
    }
  };

  beforeAll(async () => {
    if (missing) throw new Error(`python3-autobahn required here (CI/SISOCK_REQUIRE_SERVICES): ${missing}`);
    const { config } = parseConfig(
      oneRouterConfig(
        [
          { name: 'server', permissions: [{ uri: '', match: 'prefix', allow: ALLOW_ALL, disclose: { caller: true, publisher: true } }] },
          {
            name: 'consumer',
            permissions: [
              {
                uri: 'org.simonsobservatory.consumer.',
                match: 'prefix',
                allow: { call: true, register: false, publish: false, subscribe: true },
              },
            ],
          },
        ],
        [
          {
            type: 'websocket',
            endpoint: { type: 'tcp', port: 0, interface: '127.0.0.1' },
            auth: {
              wampcra: {
                type: 'static',
                users: { server: { secret: serverSecret, role: 'server' }, consumer: { secret: consumerSecret, role: 'consumer' } },
              },
            },
          },
        ],
      ),
    );
    router = await startRouter(config);
    url = router.urls[0]!;
    hub = await runHub({ client: as('server', serverSecret) });
    tsNode = await runDataNode({
      name: 'tsnode',
      description: 'TypeScript node',
      source: new MemorySource(20, 1000, 1),
      client: as('server', serverSecret),
    });
    consumer = new SisockClient(as('consumer', consumerSecret)).start();
    await tsNode.ready(10000);
  });

  afterAll(async () => {
    for (const p of procs) if (p.exitCode === null) p.child.kill('SIGKILL');
    await consumer?.close();
    await tsNode?.close();
    await hub?.close();
    await router?.close();
  });

  it('lists a Python data node and serves its data to our client; drops it when it dies', async () => {
    const py = spawnWithSecret(serverSecret, [path.join(PY_DIR, 'sisock_node.py'), '--router', url, '--name', 'pynode']);
    const ready = await py.waitFor((l) => l.ready === true, 20000);
    expect(ready.added).toBe(true);
    await waitFor(async () => (await listNodes(consumer)).some((n) => n.name === 'pynode'), 5000, 'pynode listed');
    expect((await listNodes(consumer)).find((n) => n.name === 'pynode')).toEqual({ name: 'pynode', description: 'Python sisock node' });
    const r = await getData(consumer, 'pynode', ['temp', 'x'], 1000, 1003);
    expect(r).toEqual({ data: { temp: [20, 20.1, 20.2], x: [] }, timeline: { py: { t: [1000, 1001, 1002], finalized_until: 1002 } } });
    const strided = await getData(consumer, 'pynode', ['temp'], 1000, 1010, 4);
    expect(strided.timeline.py!.t).toEqual([1000, 1004, 1008]);
    py.child.kill('SIGKILL');
    await waitFor(async () => !(await listNodes(consumer)).some((n) => n.name === 'pynode'), 1000, 'pynode removed');
  });

  it('a Python consumer reads our SDK node', async () => {
    const c = spawnWithSecret(consumerSecret, [
      path.join(PY_DIR, 'sisock_consumer.py'),
      '--router',
      url,
      '--node',
      'tsnode',
      '--field',
      'a',
    ]);
    const line = await c.waitFor((l) => 'ok' in l, 20000);
    expect(line.error).toBeUndefined();
    expect(line.ok).toBe(true);
    expect(line.nodes).toEqual(expect.arrayContaining([{ name: 'tsnode', description: 'TypeScript node' }]));
    expect((line.fields as unknown[])[0]).toHaveProperty('a', { description: 'a number', timeline: 'tl', type: 'number', units: 'K' });
    expect(line.data).toEqual({
      data: { a: Array.from({ length: 10 }, (_, i) => i), no_such_field: [] },
      timeline: { tl: { t: Array.from({ length: 10 }, (_, i) => 1000 + i), finalized_until: 1009 } },
    });
    expect((line.data_stride as { data: { a: number[] } }).data.a).toEqual([0, 3, 6, 9]);
    expect(await c.exited).toBe(0);
  });
});
