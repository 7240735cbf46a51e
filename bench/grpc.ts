/**
 * gRPC streaming vs WAMP get_data, for `make bench`.
 *
 *   import { runGrpcBench } from './grpc';
 *   const rows = await runGrpcBench({ points: 1_500_000, rounds: 2 });
 *   // [{ scenario, value, baseline, ratio, goal }, …]
 *
 * Three processes: (1) router + hub + a synthetic data node (this file forked with `--backend`;
 * 1 kHz timeline, two number fields), (2) `sisock grpc --port 0` (dist/bin/sisock.js), (3) this
 * process, the load: it fetches the same range once through WAMP `get_data` with the client
 * wrapper (`getData`, progressive results, JSON — faster than autobahn's msgpack for large answers)
 * and once as a gRPC `GetData` stream (dynamic client from sisock.proto), best of `rounds`.
 * Points = samples (times not counted). Also reports the time to the first gRPC chunk and the gRPC
 * server's peak RSS (VmHWM), which stays bounded because it streams window by window.
 *
 * Standalone: `node dist/bench/grpc.js [--points=N] [--rounds=N]` prints the rows as a table.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';

export interface BenchRow {
  scenario: string;
  value: number;
  baseline: number | null;
  /** value / baseline */
  ratio: number | null;
  goal: string;
}

export interface GrpcBenchOptions {
  /** Samples to fetch (two fields → points / 2 rows). Default 1.5 million. */
  points?: number;
  /** Repetitions, best kept (default 2). */
  rounds?: number;
  /** Log progress lines on stderr. */
  verbose?: boolean;
}

const T0 = 1_700_000_000;
const DT = 0.001;
const REALM = 'bench_grpc';
const URI_BASE = 'org.simonsobservatory';

// ------------------------------------------------------------------ backend process
async function backend(rows: number): Promise<void> {
  const { startRouter } = await import('../router/server');
  const { devConfig } = await import('../router/config');
  const { runHub } = await import('../hub');
  const { runDataNode } = await import('../data-nodes/sdk');
  const router = await startRouter(devConfig({ port: 0, realm: REALM }));
  const url = router.urls.find((u) => u.startsWith('ws://'))!;
  const client = { url, realm: REALM, uriBase: URI_BASE, serializers: ['json' as const] };
  await runHub({ client });
  const lower = (time: number) => {
    let i = Math.min(rows, Math.max(0, Math.ceil((time - T0) / DT)));
    while (i > 0 && T0 + (i - 1) * DT >= time) i--;
    while (i < rows && T0 + i * DT < time) i++;
    return i;
  };
  const node = await runDataNode({
    name: 'bench',
    description: 'synthetic 1 kHz',
    client,
    source: {
      getFields: () => [
        {
          x: { description: null, timeline: 'fast', type: 'number', units: null },
          y: { description: null, timeline: 'fast', type: 'number', units: null },
        },
        { fast: { interval: DT, field: ['x', 'y'] } },
      ],
      getData: (fields, start, end) => {
        const i0 = lower(start);
        const i1 = lower(end);
        const t: number[] = [];
        const x: number[] = [];
        const y: number[] = [];
        for (let i = i0; i < i1; i++) {
          t.push(T0 + i * DT);
          x.push(i);
          y.push(i / 2);
        }
        const data: Record<string, number[]> = {};
        for (const f of fields) data[f] = f === 'x' ? x : f === 'y' ? y : [];
        const timeline: Record<string, { t: number[]; finalized_until: number | null }> = {};
        if (t.length) timeline.fast = { t, finalized_until: null };
        return { data, timeline };
      },
    },
  });
  await node.ready(10000);
  const exit = () => process.exit(0);
  process.on('disconnect', exit);
  process.on('SIGTERM', exit);
  process.stdout.write(`READY ${url}\n`);
}

// ------------------------------------------------------------------ orchestration
function waitLine(proc: ChildProcess, re: RegExp, what: string, timeoutMs = 20000): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(
      () => reject(new Error(`${what}: no "${re.source}" after ${timeoutMs} ms; stderr: ${err.slice(-500)}`)),
      timeoutMs,
    );
    proc.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = re.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}); stderr: ${err.slice(-500)}`));
    });
  });
}

function peakRssMiB(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

const ratio = (v: number, b: number | null) => (b && b > 0 ? v / b : null);

export async function runGrpcBench(o: GrpcBenchOptions = {}): Promise<BenchRow[]> {
  const points = o.points ?? 1_500_000;
  const rows = Math.ceil(points / 2);
  const total = rows * 2;
  const rounds = Math.max(1, o.rounds ?? 2);
  const say = (m: string) => {
    if (o.verbose) process.stderr.write(`[grpc-bench] ${m}\n`);
  };
  const { SisockClient, getData } = await import('../client');
  const { loadSisockProto } = await import('../consumers/grpc');
  const children: ChildProcess[] = [];
  const killAll = () => {
    for (const c of children) {
      try {
        c.kill('SIGKILL');
      } catch {
        /* gone */
      }
    }
  };
  process.once('exit', killAll);
  let wampClient: InstanceType<typeof SisockClient> | null = null;
  let grpcClient: grpc.Client | null = null;
  try {
    const be = fork(__filename, ['--backend', `--rows=${rows}`], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    children.push(be);
    const url = (await waitLine(be, /READY (\S+)/, 'backend'))[1]!;
    say(`backend ${url}`);
    const sisock = path.join(__dirname, '..', 'bin', 'sisock.js');
    const gs = spawn(process.execPath, [sisock, 'grpc', '--port', '0', '--router', url, '--realm', REALM, '--log-level', 'warn'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(gs);
    const address = (await waitLine(gs, /grpc: (\S+)/, 'sisock grpc'))[1]!;
    say(`grpc ${address}`);

    wampClient = new SisockClient({ url, realm: REALM, uriBase: URI_BASE, serializers: ['json'] }).start();
    await wampClient.whenReady(10000);
    const { Client } = loadSisockProto();
    const gc = new Client(address, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
    }) as unknown as grpc.Client & { GetData: (...a: unknown[]) => grpc.ClientReadableStream<{ t: number[]; columns: unknown[] }> };
    grpcClient = gc;
    const end = T0 + rows * DT;

    let bestWamp = Infinity;
    let bestGrpc = Infinity;
    let bestFirst = Infinity;
    for (let r = 0; r < rounds; r++) {
      let t = process.hrtime.bigint();
      const res = await getData(wampClient, 'bench', ['x', 'y'], T0, end, null, { timeoutMs: 300000 });
      const wampMs = Number(process.hrtime.bigint() - t) / 1e6;
      const got = (res.data.x?.length ?? 0) + (res.data.y?.length ?? 0);
      if (got !== total) throw new Error(`WAMP get_data returned ${got} samples, expected ${total}`);
      bestWamp = Math.min(bestWamp, wampMs);
      say(`round ${r + 1}: wamp ${wampMs.toFixed(0)} ms`);

      t = process.hrtime.bigint();
      let firstMs = 0;
      let n = 0;
      await new Promise<void>((resolve, reject) => {
        const s = gc.GetData({ node: 'bench', fields: ['x', 'y'], start: T0, end }, { deadline: Date.now() + 300000 });
        s.on('data', (c: { t: number[]; columns: unknown[] }) => {
          if (n === 0) firstMs = Number(process.hrtime.bigint() - t) / 1e6;
          n += c.t.length * c.columns.length;
        });
        s.on('error', reject);
        s.on('end', resolve);
      });
      const grpcMs = Number(process.hrtime.bigint() - t) / 1e6;
      if (n !== total) throw new Error(`gRPC GetData streamed ${n} samples, expected ${total}`);
      bestGrpc = Math.min(bestGrpc, grpcMs);
      bestFirst = Math.min(bestFirst, firstMs);
      say(`round ${r + 1}: grpc ${grpcMs.toFixed(0)} ms (first chunk ${firstMs.toFixed(1)} ms)`);
    }
    const wampRate = total / (bestWamp / 1000);
    const grpcRate = total / (bestGrpc / 1000);
    const rss = peakRssMiB(gs.pid);
    const dataMiB = (rows * 3 * 8) / (1024 * 1024);
    const out: BenchRow[] = [
      {
        scenario: `grpc GetData stream, points/s (${(total / 1e6).toFixed(1)}M samples)`,
        value: grpcRate,
        baseline: wampRate,
        ratio: ratio(grpcRate, wampRate),
        goal: '>=0.8x wamp get_data',
      },
      {
        scenario: 'grpc GetData first chunk, ms (baseline: whole wamp answer)',
        value: bestFirst,
        baseline: bestWamp,
        ratio: ratio(bestFirst, bestWamp),
        goal: '<=0.1x wamp',
      },
    ];
    if (rss !== null)
      out.push({
        scenario: 'grpc server peak RSS, MiB (baseline: the range as float64)',
        value: rss,
        baseline: dataMiB,
        ratio: ratio(rss, dataMiB),
        goal: '(info)',
      });
    return out;
  } finally {
    grpcClient?.close();
    await wampClient?.close().catch(() => {});
    killAll();
    process.off('exit', killAll);
  }
}

function fmt(v: number | null, digits = 2): string {
  if (v === null) return '-';
  return Math.abs(v) >= 1000 ? Math.round(v).toLocaleString('en-US') : v.toFixed(digits);
}

/** The rows as a fixed-width table. */
export function formatRows(rows: BenchRow[]): string {
  const table = [
    ['scenario', 'value', 'baseline', 'ratio', 'goal'],
    ...rows.map((r) => [r.scenario, fmt(r.value, 1), fmt(r.baseline, 1), fmt(r.ratio), r.goal]),
  ];
  const w = (table[0] ?? []).map((_, i) => Math.max(...table.map((row) => (row[i] ?? '').length)));
  return table.map((row) => row.map((c, i) => (i === 0 ? c.padEnd(w[i] ?? 0) : c.padStart(w[i] ?? 0))).join('  ')).join('\n');
}

if (require.main === module) {
  const arg = (k: string) => process.argv.find((a) => a.startsWith(`--${k}=`))?.split('=')[1];
  if (process.argv.includes('--backend')) {
    backend(Number(arg('rows') ?? 750000)).catch((e: unknown) => {
      console.error(e);
      process.exit(1);
    });
  } else {
    runGrpcBench({
      points: arg('points') ? Number(arg('points')) : undefined,
      rounds: arg('rounds') ? Number(arg('rounds')) : undefined,
      verbose: true,
    })
      .then((rows) => {
        process.stdout.write(`${formatRows(rows)}\n`);
        process.exit(0);
      })
      .catch((e: unknown) => {
        console.error(e);
        process.exit(1);
      });
  }
}
