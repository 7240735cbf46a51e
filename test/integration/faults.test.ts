/**
 * Fault tests over real processes: `node dist/bin/sisock.js router|hub` and the test-only memory
 * node (test/fixtures/sisock-mem-node.js), built with `npx tsc -p tsconfig.build.json` first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { getData, listNodes, type SisockClient } from '../../client';
import { newClient, waitFor } from './sisock-helpers';
import { buildDist } from '../helpers/dist-fresh';

const ROOT = path.join(__dirname, '..', '..');
const SISOCK = path.join(ROOT, 'dist', 'bin', 'sisock.js');
const MEM_NODE = path.join(ROOT, 'test', 'fixtures', 'sisock-mem-node.js');

jest.setTimeout(90000);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

const children = new Set<ChildProcess>();
function run(script: string, args: string[]): ChildProcess & { exited: Promise<number | null>; out: string[] } {
  const p = spawn(process.execPath, [script, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SISOCK_LOG_LEVEL: 'warn' },
  }) as ChildProcess & { exited: Promise<number | null>; out: string[] };
  p.out = [];
  p.stdout!.on('data', (b: Buffer) => p.out.push(b.toString()));
  p.stderr!.on('data', () => {});
  p.exited = new Promise((resolve) =>
    p.on('exit', (code) => {
      children.delete(p);
      resolve(code);
    }),
  );
  children.add(p);
  return p;
}

describe('faults over real processes', () => {
  let port: number;
  let url: string;
  let router: ReturnType<typeof run>;
  let hub: ReturnType<typeof run>;
  const nodes: Record<string, ReturnType<typeof run>> = {};
  let consumer: SisockClient;
  const events: Array<[string, string, number]> = [];

  const startRouter = async () => {
    router = run(SISOCK, ['router', '--port', String(port), '--log-level', 'warn']);
    await waitFor(() => router.out.join('').includes('router: ws://'), 15000, 'router listening');
  };

  beforeAll(async () => {
    buildDist(); // fails when dist/ is missing or older than a source, instead of running a stale build
    port = await freePort();
    url = `ws://127.0.0.1:${port}/ws`;
  });

  afterAll(async () => {
    if (consumer) await consumer.close();
    for (const c of [...children]) {
      c.kill('SIGKILL');
    }
  });

  it('a node started before the router exists joins when it comes', async () => {
    nodes.a = run(MEM_NODE, ['--router', url, '--name', 'a']);
    nodes.b = run(MEM_NODE, ['--router', url, '--name', 'b']);
    await waitFor(() => nodes.a!.out.join('').includes('node: a') && nodes.b!.out.join('').includes('node: b'), 15000, 'nodes up');
    hub = run(SISOCK, ['hub', '--router', url]);
    await startRouter();
    consumer = newClient(url);
    await consumer.whenReady(10000);
    await consumer.subscribe(consumer.uri('consumer.data_node_subtracted'), (a) =>
      events.push(['subtracted', (a[0] as { name: string }).name, Date.now()]),
    );
    await waitFor(async () => (await listNodes(consumer)).length === 2, 10000, 'both nodes listed');
  });

  it('kill -9 a node: removed within 1 s and data_node_subtracted published', async () => {
    const t0 = Date.now();
    nodes.b!.kill('SIGKILL');
    await waitFor(async () => !(await listNodes(consumer)).some((n) => n.name === 'b'), 1000, 'b removed');
    await waitFor(() => events.some(([k, n]) => k === 'subtracted' && n === 'b'), 1000, 'subtracted published');
    const ms = events.find(([, n]) => n === 'b')![2] - t0;
    console.log(`kill -9 node → data_node_subtracted after ${ms} ms`);
    expect(ms).toBeLessThan(1000);
    nodes.b = run(MEM_NODE, ['--router', url, '--name', 'b']);
    await waitFor(async () => (await listNodes(consumer)).length === 2, 10000, 'b back');
  });

  it('restart the hub: every node listed again within 5 s', async () => {
    hub.kill('SIGTERM');
    expect(await hub.exited).toBe(0);
    const t0 = Date.now();
    hub = run(SISOCK, ['hub', '--router', url]);
    await waitFor(async () => (await listNodes(consumer)).length === 2, 5000, 'nodes back after hub restart');
    console.log(`hub restart → all nodes listed after ${Date.now() - t0} ms (incl. process start)`);
  });

  it('restart the router: every client back within 10 s and answering', async () => {
    router.kill('SIGTERM');
    expect(await router.exited).toBe(0);
    await waitFor(() => !consumer.isReady, 5000, 'consumer notices');
    await startRouter();
    const t0 = Date.now();
    await waitFor(
      async () => {
        const names = (await listNodes(consumer)).map((n) => n.name).sort();
        if (names.join() !== 'a,b') return false;
        for (const n of names) {
          const r = await getData(consumer, n, ['x'], 1000, 1003, null, { timeoutMs: 1000 });
          if (r.data.x!.join() !== '0,1,2') return false;
        }
        return true;
      },
      10000,
      'all back and answering',
    );
    console.log(`router restart → hub, nodes and consumer back and answering after ${Date.now() - t0} ms`);
  });

  /** Queries node `a` every 50 ms until stopped; counts answers and failures. */
  function queryLoad(client: SisockClient): { ok: number; failed: number; stop(): Promise<void> } {
    const st = { ok: 0, failed: 0, running: true };
    const loop = (async () => {
      while (st.running) {
        try {
          const r = await getData(client, 'a', ['x'], 1000, 1003, null, { timeoutMs: 1000 });
          if (r.data.x?.join() === '0,1,2') st.ok++;
          else st.failed++;
        } catch {
          st.failed++;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    return {
      get ok() {
        return st.ok;
      },
      get failed() {
        return st.failed;
      },
      async stop() {
        st.running = false;
        await loop;
      },
    };
  }

  it('kill -9 the hub under query load: nodes listed again soon, no query to a node fails', async () => {
    const load = queryLoad(consumer);
    await waitFor(() => load.ok > 3, 5000, 'load running');
    hub.kill('SIGKILL');
    await hub.exited;
    const t0 = Date.now();
    hub = run(SISOCK, ['hub', '--router', url]);
    await waitFor(async () => (await listNodes(consumer)).length === 2, 5000, 'nodes listed after hub kill -9');
    const ms = Date.now() - t0;
    await load.stop();
    console.log(
      `kill -9 hub → all nodes listed after ${ms} ms (incl. process start); queries to nodes meanwhile: ${load.ok} ok, ${load.failed} failed`,
    );
    expect(load.failed).toBe(0);
  });

  it('kill -9 the router under query load: everyone back and answering, failures only during the outage', async () => {
    const load = queryLoad(consumer);
    await waitFor(() => load.ok > 3, 5000, 'load running');
    router.kill('SIGKILL');
    await router.exited;
    const down = Date.now();
    await startRouter();
    const up = Date.now();
    const okBefore = load.ok;
    await waitFor(async () => load.ok > okBefore + 3 && (await listNodes(consumer)).length === 2, 10000, 'back and answering');
    const ms = Date.now() - up;
    await load.stop();
    console.log(
      `kill -9 router (down ${up - down} ms incl. restart) → consumer, hub and nodes back and answering after ${ms} ms; ` +
        `queries: ${load.ok} ok, ${load.failed} failed during the outage`,
    );
    expect(ms).toBeLessThan(10000);
  });

  it('kill -9 the Grafana bridge under load: a new one answers /query', async () => {
    const bport = await freePort();
    const start = () => run(SISOCK, ['grafana', '--port', String(bport), '--host', '127.0.0.1', '--router', url]);
    let bridge = start();
    const query = async () => {
      const r = await fetch(`http://127.0.0.1:${bport}/query`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        signal: AbortSignal.timeout(2000),
        body: JSON.stringify({
          range: { from: new Date(1000e3).toISOString(), to: new Date(1003e3).toISOString() },
          targets: [{ target: 'a::x', refId: 'A' }],
          maxDataPoints: 10,
        }),
      });
      return r.status === 200 ? ((await r.json()) as Array<{ datapoints: unknown[] }>)[0]?.datapoints.length === 3 : false;
    };
    await waitFor(() => query().catch(() => false), 15000, 'bridge answering');
    bridge.kill('SIGKILL');
    await bridge.exited;
    const t0 = Date.now();
    bridge = start();
    await waitFor(() => query().catch(() => false), 15000, 'new bridge answering');
    console.log(`kill -9 bridge → a restarted bridge answers /query after ${Date.now() - t0} ms (incl. process start)`);
    bridge.kill('SIGTERM');
    expect(await bridge.exited).toBe(0);
  });

  it('SIGTERM stops hub and nodes cleanly with exit code 0', async () => {
    nodes.a!.kill('SIGTERM');
    hub.kill('SIGTERM');
    expect(await nodes.a!.exited).toBe(0);
    expect(await hub.exited).toBe(0);
  });
});
