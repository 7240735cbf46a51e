/**
 * Issue 16 benchmark (suite `python`): a Python SDK node's `get_data` of 1M samples through the
 * router vs the same through a TypeScript SDK node, same run. The router (bench/router-proc), the
 * TypeScript node (this file, role `ts-node`) and the Python node (bench/python/bench_node.py on
 * /usr/bin/python3, asyncio and Twisted flavours) each run in their own process; this process is the
 * consumer: `getData` (asks for progressive results, merges the pieces) of one field over the whole
 * range, 1,000,000 samples (plus their times), repeated in alternating order, best of `rounds`.
 * Goal: Python ≥ 0.5 × TypeScript (samples/s).
 *
 *   import { benchPythonNode } from './python-node';   rows [{scenario, value, baseline, ratio, goal}]
 *   node dist/bench/python-node.js [--rounds=N] [--samples=N]
 */
import { spawn, fork, type ChildProcess } from 'child_process';
import * as path from 'path';
import { installCleanup, spawnServer, type ServerHandle } from './common';
import { getData, SisockClient, type DataResult, type FieldsResult } from '../client';
import { runDataNode, type DataSource } from '../data-nodes/sdk';

export interface PythonBenchRow {
  scenario: string;
  value: number;
  baseline: number | null;
  ratio: number | null;
  goal: string;
}

const REALM = 'bench';
const T0 = 1_700_000_000;
const DT = 0.001;
const PYTHON = process.env.SISOCK_PYTHON || '/usr/bin/python3';
const ROOT = path.join(__dirname, '..', '..');
const children = new Set<ChildProcess>();

function track(c: ChildProcess): ChildProcess {
  children.add(c);
  c.once('exit', () => children.delete(c));
  return c;
}

function waitReady(c: ChildProcess, what: string, timeoutMs = 120000): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`${what}: not ready after ${timeoutMs} ms: ${err.slice(-500)}`)), timeoutMs);
    c.stderr?.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-4000);
    });
    c.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('READY')) {
        clearTimeout(timer);
        resolve();
      }
    });
    c.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what}: exited (${code}) before ready: ${err.slice(-500)}`));
    });
  });
}

/** Role `ts-node`: the TypeScript SDK node over the same samples. */
async function tsNodeRole(): Promise<void> {
  const n = Number(process.env.N);
  const t = Array.from({ length: n }, (_, i) => T0 + i * DT);
  const x = Array.from({ length: n }, (_, i) => (i % 1000) * 0.5);
  const source: DataSource = {
    getFields: (): FieldsResult => [
      { x: { description: null, timeline: 'tl', type: 'number', units: null } },
      { tl: { interval: DT, field: ['x'] } },
    ],
    getData: (fields, start, end): DataResult => {
      let a = 0;
      while (a < n && t[a]! < start) a++;
      let b = n;
      while (b > a && t[b - 1]! >= end) b--;
      return fields.includes('x')
        ? { data: { x: x.slice(a, b) }, timeline: { tl: { t: t.slice(a, b), finalized_until: t[n - 1] ?? null } } }
        : { data: {}, timeline: {} };
    },
  };
  const node = await runDataNode({
    name: 'tsbench',
    description: 'TS bench node',
    source,
    client: { url: process.env.URL!, realm: REALM, uriBase: 'org.simonsobservatory' },
  });
  await node.client.whenReady(60000);
  process.stdout.write('READY\n');
  process.on('SIGTERM', () => {
    void node.close().finally(() => process.exit(0));
  });
}

async function timeCall(client: SisockClient, node: string, n: number): Promise<number> {
  const t0 = process.hrtime.bigint();
  const r = await getData(client, node, ['x'], T0, T0 + n * DT + 1, null, { timeoutMs: 300000 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.data.x?.length !== n) throw new Error(`${node}: got ${r.data.x?.length} samples, expected ${n}`);
  return ms;
}

export async function benchPythonNode(o: { rounds?: number; samples?: number; log?: (s: string) => void } = {}): Promise<PythonBenchRow[]> {
  const rounds = o.rounds ?? 3;
  const n = o.samples ?? 1_000_000;
  const log = o.log ?? ((s: string) => console.error(`  [python] ${s}`));
  installCleanup();
  const kill = () => {
    for (const c of children) c.kill('SIGKILL');
  };
  process.once('exit', kill);
  let router: ServerHandle | null = null;
  let client: SisockClient | null = null;
  try {
    router = await spawnServer('sisock');
    const env = {
      ...process.env,
      URL: router.url,
      N: String(n),
      SISOCK_ROUTER: router.url,
      SISOCK_REALM: REALM,
      PYTHONPATH: path.join(ROOT, 'sdk', 'python'),
      T0: String(T0),
      DT: String(DT),
    };
    const ts = track(fork(__filename, ['ts-node'], { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] }));
    const pyA = track(
      spawn(PYTHON, [path.join(ROOT, 'bench', 'python', 'bench_node.py')], {
        env: { ...env, FLAVOUR: 'asyncio', NODE_NAME: 'pyasyncio' },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    const pyT = track(
      spawn(PYTHON, [path.join(ROOT, 'bench', 'python', 'bench_node.py')], {
        env: { ...env, FLAVOUR: 'twisted', NODE_NAME: 'pytwisted' },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    await Promise.all([waitReady(ts, 'ts node'), waitReady(pyA, 'python asyncio node'), waitReady(pyT, 'python twisted node')]);
    client = new SisockClient({ url: router.url, realm: REALM, uriBase: 'org.simonsobservatory' }).start();
    const best: Record<string, number> = { tsbench: Infinity, pyasyncio: Infinity, pytwisted: Infinity };
    const order = Object.keys(best);
    for (const node of order) {
      // warm-up (and the registration having reached the router): a small read, retried
      for (let i = 0; ; i++) {
        try {
          await getData(client, node, ['x'], T0, T0 + 1);
          break;
        } catch (e) {
          if (i > 50) throw e;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    }
    for (let r = 0; r < rounds; r++) {
      for (let k = 0; k < order.length; k++) {
        const node = order[(k + r) % order.length]!;
        const ms = await timeCall(client, node, n);
        log(`round ${r + 1}: ${node} ${ms.toFixed(0)} ms`);
        best[node] = Math.min(best[node]!, ms);
      }
    }
    const rate = (node: string) => n / (best[node]! / 1000);
    const goal = '≥ 0.5× TS node';
    return [
      {
        scenario: `TS SDK node get_data ${n.toLocaleString('en-US')} samples (samples/s)`,
        value: rate('tsbench'),
        baseline: null,
        ratio: null,
        goal: 'baseline',
      },
      {
        scenario: 'Python SDK node, asyncio (samples/s)',
        value: rate('pyasyncio'),
        baseline: rate('tsbench'),
        ratio: rate('pyasyncio') / rate('tsbench'),
        goal,
      },
      {
        scenario: 'Python SDK node, Twisted (samples/s)',
        value: rate('pytwisted'),
        baseline: rate('tsbench'),
        ratio: rate('pytwisted') / rate('tsbench'),
        goal,
      },
    ];
  } finally {
    await client?.close();
    kill();
    await router?.stop(2000);
  }
}

if (require.main === module) {
  if (process.argv[2] === 'ts-node') {
    tsNodeRole().catch((e: unknown) => {
      console.error(e);
      process.exit(1);
    });
  } else {
    const arg = (k: string) => process.argv.find((a) => a.startsWith(`--${k}=`))?.split('=')[1];
    benchPythonNode({ rounds: Number(arg('rounds') ?? 3), samples: Number(arg('samples') ?? 1_000_000) }).then(
      (rows) => {
        for (const r of rows)
          console.log(
            `${r.scenario}: ${Math.round(r.value).toLocaleString('en-US')}` +
              (r.ratio !== null ? `  ratio ${r.ratio.toFixed(2)} (${r.goal})` : ''),
          );
        process.exit(0);
      },
      (e: unknown) => {
        console.error(e);
        process.exit(1);
      },
    );
  }
}
