/**
 * `sisock historian` over real processes (`node dist/bin/sisock.js`, built first): a sim node and the
 * historian as processes; router, hub and the Grafana bridge (with --history) in this process.
 *   - kill -9 of the historian, restart: its copy of the node's data has no gap;
 *   - the node stops: its field still answers through the bridge, from the history, with a notice.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { getData, getFields, listNodes, type SisockClient } from '../../client';
import { startBridge, type RunningBridge } from '../../consumers/grafana';
import { runHub, type HubHandle } from '../../hub';
import { closeAll, newClient, opts, startTestRouter, waitFor } from './sisock-helpers';
import { buildDistLenient, ROOT, SISOCK, spawnSisock, type OutProcess } from '../helpers/sisock-process';

jest.setTimeout(120000);
// No retry: the stall seen in 2 of 7 full-suite CI runs (no history after 20 s, nothing at warn) was a subscription
// to the node's live topic asked for while the historian's session was being set up, never made (client/client.ts);
// test/unit/historian-follow.test.ts and test/unit/client-setup.test.ts force that race.

describe('sisock historian (real processes)', () => {
  let router: Awaited<ReturnType<typeof startTestRouter>>;
  let hub: HubHandle;
  let consumer: SisockClient;
  let bridge: RunningBridge;
  let dir: string;
  const children = new Set<ChildProcess>();

  const run = (args: string[]): OutProcess =>
    spawnSisock([...args, '--router', router.url, '--realm', 'test_realm', '--log-level', 'info'], children);
  const historian = () => run(['historian', '--store', path.join(dir, 'h.sqlite'), '--initial-backfill', '3600']);
  const exited = (p: ChildProcess) => new Promise((r) => (p.exitCode !== null ? r(null) : p.once('exit', r)));

  beforeAll(async () => {
    buildDistLenient();
    if (!fs.existsSync(SISOCK)) throw new Error('build produced no dist/bin/sisock.js');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sisock-historian-'));
    router = await startTestRouter();
    hub = await runHub({ client: opts(router.url) });
    await hub.ready(10000);
    consumer = newClient(router.url);
    await consumer.whenReady(10000);
    bridge = await startBridge({
      client: opts(router.url),
      port: 0,
      host: '127.0.0.1',
      page: false,
      history: 'historian',
      fieldsTtlMs: 100,
    });
  });

  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await closeAll(bridge, consumer, hub);
    await router?.router.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a kill -9 and restart of the historian leaves no gap; a stopped node still answers in Grafana from the history', async () => {
    const sim = run(['node', 'sim', '--rate', '20', '--seed', '7', '--name', 'simh']);
    let h = historian();
    await waitFor(
      async () =>
        (await listNodes(consumer))
          .map((n) => n.name)
          .sort()
          .join() === 'historian,simh',
      20000,
      'sim and historian online',
    );
    const [simFields] = await getFields(consumer, 'simh', 1, 0);
    const field = Object.keys(simFields).find((f) => simFields[f]?.type === 'number');
    if (!field) throw new Error('sim has no numeric field');
    const q = `simh.${field}`;
    await waitFor(
      async () => ((await getData(consumer, 'historian', [q], 1, 0)).data[q]?.length ?? 0) > 20,
      20000,
      'history of the sim field',
    ).catch((e: Error) => {
      // what the two processes said (warnings and errors) tells why, where the timeout alone does not
      throw new Error(`${e.message}\nhistorian: ${h.out.join('').slice(-3000)}\nsim: ${sim.out.join('').slice(-1500)}`);
    });

    h.kill('SIGKILL');
    await exited(h);
    await new Promise((r) => setTimeout(r, 1500)); // the node goes on while no historian runs
    h = historian();
    await waitFor(async () => (await listNodes(consumer)).some((n) => n.name === 'historian'), 20000, 'historian back');

    // stop the node; compare what it served last with what the historian holds
    const before = await getData(consumer, 'simh', [field], 1, 0);
    const tl = simFields[field]?.timeline ?? '';
    const simT = before.timeline[tl]?.t ?? [];
    await waitFor(
      async () => {
        const r = await getData(consumer, 'historian', [q], 1, 0);
        const have = new Set(r.timeline[q]?.t ?? []);
        return simT.every((t) => have.has(t));
      },
      20000,
      'every sample of the node in the history (no gap across the historian restart)',
    );

    sim.kill('SIGTERM');
    await exited(sim);
    await waitFor(async () => !(await listNodes(consumer)).some((n) => n.name === 'simh'), 10000, 'sim gone');

    const from = simT[0] ?? 0;
    const to = (simT[simT.length - 1] ?? 0) + 0.01; // sim samples are 50 ms apart
    const res = await fetch(`${bridge.url}/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        range: { from: new Date(from * 1000).toISOString(), to: new Date(to * 1000).toISOString() },
        targets: [{ target: `simh::${field}`, refId: 'A', type: 'timeserie' }],
        maxDataPoints: 100000,
      }),
    });
    const body = (await res.json()) as Array<{
      target: string;
      datapoints: Array<[number, number]>;
      meta?: { notices: Array<{ text: string }> };
    }>;
    expect(res.status).toBe(200);
    expect(body[0]?.target).toBe(`simh::${field}`);
    expect(body[0]?.datapoints.length).toBe(simT.length);
    expect(body[0]?.datapoints.map((d) => d[1])).toEqual(simT.map((t) => Math.round(t * 1e6) / 1e3));
    expect(body[0]?.meta?.notices[0]?.text).toMatch(/historian.*offline/);

    // the CLI too: `sisock get` of the stopped node answers from the history and says so on stderr
    // (asynchronously: the router runs in this process)
    const cli = await new Promise<{ stdout: string; stderr: string }>((resolve) => {
      const p = spawn(
        process.execPath,
        [
          SISOCK,
          'get',
          `simh::${field}`,
          '--from',
          String(from),
          '--to',
          String(to),
          '--tsv',
          '--router',
          router.url,
          '--realm',
          'test_realm',
        ],
        { cwd: ROOT },
      );
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
      p.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      p.on('close', () => resolve({ stdout, stderr }));
    });
    expect(cli.stderr).toMatch(/simh.*historian/);
    expect(cli.stdout.trim().split('\n')).toHaveLength(simT.length + 1);
  });
});
