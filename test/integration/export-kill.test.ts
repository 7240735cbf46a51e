/**
 * kill -9 of the exporter in the middle of a stream, then a restart: every sample the node produced
 * reaches InfluxDB (real processes: `node dist/bin/sisock.js export`, built first; router, hub and a
 * node streaming 500 samples/s in this process; Debian's influxd on a free port).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runHub, type HubHandle } from '../../hub';
import { runDataNode, type DataNodeHandle } from '../../data-nodes/sdk';
import { available, influxQuery, startInfluxd, type TsdbProcess } from '../helpers/tsdb';
import { closeAll, MemorySource, opts, startTestRouter, waitFor } from './sisock-helpers';
import { buildDistLenient, ROOT, SISOCK, spawnSisock, type OutProcess } from '../helpers/sisock-process';

const have = available('influxd');

jest.setTimeout(120000);

(have ? describe : describe.skip)('exporter process killed with SIGKILL', () => {
  let db: TsdbProcess;
  let router: Awaited<ReturnType<typeof startTestRouter>>;
  let hub: HubHandle;
  let node: DataNodeHandle;
  let dir: string;
  const children = new Set<ChildProcess>();
  const dbName = `sisock_kill_${process.pid}`;

  beforeAll(async () => {
    buildDistLenient();
    if (!fs.existsSync(SISOCK)) throw new Error('build produced no dist/bin/sisock.js');
    db = await startInfluxd();
    await influxQuery(db.url, `CREATE DATABASE ${dbName}`);
    router = await startTestRouter();
    hub = await runHub({ client: opts(router.url) });
    await hub.ready(10000);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sisock-export-kill-'));
  });

  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await closeAll(node, hub);
    await router?.router.close();
    await db?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** The router to read from and the InfluxDB database to write to, as `sisock export` flags. */
  const influxTarget = () => ['--router', router.url, '--realm', 'test_realm', '--url', db.url, '--db', dbName];

  function exporter(): OutProcess {
    return spawnSisock(
      ['export', ...influxTarget(), '--dir', dir, '--batch-ms', '100', '--initial-backfill', '3600', '--log-level', 'warn'],
      children,
    );
  }

  const count = async (): Promise<number> => {
    const r = await influxQuery(db.url, 'SELECT count(a) FROM "kill"', dbName);
    const v = r[0]?.series?.[0]?.values?.[0]?.[1];
    return typeof v === 'number' ? v : 0;
  };

  it('loses no sample', async () => {
    const src = new MemorySource();
    node = await runDataNode({ name: 'kill', description: 'stream', source: src, client: opts(router.url) });
    await node.ready(10000);
    let i = 0;
    const t0 = Date.now() / 1000 - 60;
    const timer = setInterval(() => {
      const t: number[] = [];
      const a: number[] = [];
      for (let k = 0; k < 10; k++, i++) {
        src.append(t0 + i * 0.002, i, `v${i}`);
        t.push(t0 + i * 0.002);
        a.push(i);
      }
      void node.push({ data: { a }, timeline: { tl: { t, finalized_until: null } } });
    }, 20);
    try {
      const first = exporter();
      await waitFor(async () => (await count()) > 1000, 30000, 'first samples in InfluxDB');
      first.kill('SIGKILL');
      await new Promise((r) => first.once('exit', r));
      const atKill = await count();
      await new Promise((r) => setTimeout(r, 1500)); // the node goes on while no exporter runs
      exporter();
      await waitFor(async () => (await count()) > atKill + 2000, 30000, 'the restarted exporter writes');
    } finally {
      clearInterval(timer);
    }
    const produced = i;
    await waitFor(async () => (await count()) === produced, 30000, `${produced} samples in InfluxDB`);
    expect(await count()).toBe(produced);
  });
  it("sisock export backfill writes one node's range and exits", async () => {
    const src = new MemorySource(5000, 1_600_000_000, 0.5); // 2500 s of a (number) and s (string)
    const archive = await runDataNode({ name: 'archive1', description: 'old data', source: src, client: opts(router.url) });
    await archive.ready(10000);
    try {
      const out = await new Promise<string>((resolve) => {
        const p = spawn(
          process.execPath,
          [
            SISOCK,
            'export',
            'backfill',
            '--node',
            'archive1',
            '--from',
            '1600000000',
            '--to',
            '1600002000',
            '--chunk',
            '600',
            ...influxTarget(),
            '--log-level',
            'warn',
          ],
          { cwd: ROOT },
        );
        let text = '';
        p.stdout.on('data', (b: Buffer) => (text += b.toString()));
        p.stderr.on('data', (b: Buffer) => (text += b.toString()));
        p.on('close', () => resolve(text));
      });
      expect(out).toMatch(/backfill: archive1 8000 samples, 8000 lines written, 0 dead letters, 0 pending/);
      const r = await influxQuery(db.url, 'SELECT count(a), count(s) FROM archive1', dbName);
      expect(r[0]?.series?.[0]?.values?.[0]?.slice(1)).toEqual([4000, 4000]);
    } finally {
      await archive.close();
    }
  });
});
