/**
 * Hub and data-path benchmarks, for `make bench` (suite `hub`):
 *
 * 1. Weather get_data throughput. The router (bench/router-proc), `sisock hub` and
 *    `sisock node weather --data-dir <tmp>` each run in their own process; the tmp directory holds a
 *    generated archive in the weather format (4 fields on one 1 s timeline, 250,000 rows: one call
 *    over the whole range moves 1,000,000 samples — the shipped example data is only ~42k samples, so
 *    a call would measure per-call overhead rather than the data path). A load process (this file,
 *    `load-weather`) calls `consumer.weather.get_data` for every field over the whole range with the
 *    client wrapper (`getData`, which asks for progressive results and merges the chunks) for a few
 *    seconds → samples/s (values only, times not counted). Baseline in the same process, right after:
 *    `WeatherSource.getData` on the same directory, in-process → samples/s. Ratio = wire / in-process
 *    (the share of the in-process rate that survives the wire).
 * 2. Hub `consumer.get_data_node` latency with 200 nodes registered. Router and `sisock hub` in their
 *    own processes; 200 SDK data nodes (runDataNode over a tiny in-memory source, one WAMP session
 *    each) in one `nodes-proc` process; a plain session registering a trivial echo procedure in an
 *    `echo-proc` process. The load process (`load-hub`) calls `get_data_node` (via `listNodes`) and
 *    the echo sequentially, after a warm-up, in alternating blocks → p50/p99 ms each. Goal ≤ 5 ms p99;
 *    the echo is the baseline, so the ratio is the hub's own cost (list building + a ~10 kB answer).
 *
 *   import { benchHub } from './hub';   rows [{scenario, value, baseline, ratio, goal}]
 *   node dist/bench/hub.js [--duration=SECONDS] [--calls=N] [--nodes=N] [--rows=N]
 *
 * Every child (router, hub, weather node, nodes, echo, load) is killed at the end, on error, and on
 * Ctrl-C (common.ts installCleanup → process exit → the kill hook here).
 */
import { fork, spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { installCleanup, spawnServer, percentile, type ServerHandle } from './common';
import type { DataResult, DataSource, FieldsResult } from '../data-nodes/sdk';

export interface HubBenchRow {
  scenario: string;
  value: number;
  baseline: number | null;
  ratio: number | null;
  goal: string;
}

export interface HubBenchOptions {
  /** Measured seconds of each weather throughput side (default 4). */
  durationMs?: number;
  /** Sequential get_data_node calls measured (default 2000; the echo gets the same number). */
  calls?: number;
  /** Data nodes registered with the hub (default 200). */
  nodes?: number;
  /** Rows of the generated weather archive (4 fields each; default 250,000 → 1M samples a call). */
  rows?: number;
  log?: (s: string) => void;
}

const REALM = 'bench';
const URI_BASE = 'org.simonsobservatory';
const T0 = 1_700_000_000;
const WEATHER_FIELDS = ['humidity', 'pressure', 'temperature', 'wind_speed'];
const HUB_GOAL_MS = 5;
const ECHO = 'bench.echo';
const SISOCK_BIN = path.join(__dirname, '..', 'bin', 'sisock.js');

// ---------------------------------------------------------------------------------- children
const children = new Set<ChildProcess>();
/** Generated data directories, removed at the end and also on Ctrl-C (process exit). */
const tmpDirs = new Set<string>();
/** Kills every child still running (SIGKILL) and removes the generated data. */
function killChildren(): void {
  for (const c of children) {
    try {
      c.kill('SIGKILL');
    } catch {
      /* gone */
    }
  }
  children.clear();
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
  tmpDirs.clear();
}

function track(c: ChildProcess, what: string): { proc: ChildProcess; stderr: () => string; what: string } {
  children.add(c);
  c.once('exit', () => children.delete(c));
  let err = '';
  c.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
    if (err.length > 20000) err = err.slice(-10000);
  });
  return { proc: c, stderr: () => err, what };
}

/** Resolves with the first match of `re` on the child's stdout; rejects on exit or timeout. */
function waitLine(t: ReturnType<typeof track>, re: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let out = '';
    const tail = () => t.stderr().trim().split('\n').slice(-3).join(' | ');
    const timer = setTimeout(() => reject(new Error(`${t.what}: no "${re.source}" within ${timeoutMs} ms. ${tail()}`)), timeoutMs);
    t.proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = re.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    });
    t.proc.once('exit', (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`${t.what}: exited (${code ?? sig}) before ready. ${tail()}`));
    });
  });
}

function spawnSisock(args: string[], what: string): ReturnType<typeof track> {
  const c = spawn(process.execPath, [SISOCK_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  return track(c, what);
}

/** This file forked in one of its child roles; `env` carries its parameters. */
function forkRole(role: string, env: Record<string, string>): ReturnType<typeof track> {
  const c = fork(__filename, [role], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  return track(c, role);
}

/** Runs a load role and resolves with its `{type:'result'}` IPC message. */
function runLoad<T>(role: string, env: Record<string, string>, timeoutMs: number): Promise<T> {
  const t = forkRole(role, env);
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      t.proc.kill('SIGKILL');
      reject(new Error(`${role}: timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    t.proc.stdout?.on('data', () => {}); // drain
    t.proc.on('message', (m: unknown) => {
      const mm = m as { type?: string; result?: T; error?: string };
      if (mm?.type === 'result') {
        clearTimeout(timer);
        resolve(mm.result as T);
      } else if (mm?.type === 'error') {
        clearTimeout(timer);
        reject(new Error(`${role}: ${mm.error}`));
      }
    });
    t.proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${role}: exited (${code}). ${t.stderr().trim().split('\n').slice(-3).join(' | ')}`));
    });
  });
}

async function stopAll(list: Array<ReturnType<typeof track> | ServerHandle | null>): Promise<void> {
  await Promise.all(
    list.map(async (x) => {
      if (!x) return;
      if ('stop' in x) return x.stop(2000);
      const p = x.proc;
      if (p.exitCode !== null || p.signalCode !== null) return;
      const exited = new Promise<void>((r) => p.once('exit', () => r()));
      p.kill('SIGTERM');
      const timer = setTimeout(() => p.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
    }),
  );
}

// ---------------------------------------------------------------------------------- weather data
/** Writes `rows` rows of 4 fields (1 s timeline `fast`) in the weather format; returns [start, end). */
function writeWeatherArchive(dir: string, rows: number): { start: number; end: number } {
  let seed = 20261101;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296;
  const spec: Record<string, [string, string, (i: number) => number]> = {
    humidity: ['Relative humidity (generated)', '%', (i) => 30 + 20 * Math.sin(i / 13751) + 5 * rnd()],
    pressure: ['Air pressure (generated)', 'hPa', (i) => 555 + 2 * Math.sin(i / 43200) + rnd()],
    temperature: ['Air temperature (generated)', 'C', (i) => -3 + 6 * Math.sin((2 * Math.PI * i) / 86400) + rnd() - 0.5],
    wind_speed: ['Wind speed (generated)', 'm/s', (i) => 6 + 4 * Math.sin(i / 7000) + 2 * rnd()],
  };
  for (const f of WEATHER_FIELDS) {
    const [desc, units, val] = spec[f]!;
    const parts: string[] = [`# ${desc}\n# fast\n# ${units}\n`];
    for (let i = 0; i < rows; i++) parts.push(`${T0 + i} ${val(i).toFixed(3)}\n`);
    fs.writeFileSync(path.join(dir, `${f}.dat`), parts.join(''));
  }
  return { start: T0, end: T0 + rows };
}

// ---------------------------------------------------------------------------------- child roles
function exitHooks(close: () => Promise<unknown>): void {
  const exit = () => {
    const t = setTimeout(() => process.exit(0), 1500);
    t.unref();
    void close()
      .catch(() => {})
      .finally(() => process.exit(0));
  };
  process.on('SIGTERM', exit);
  process.on('SIGINT', exit);
  process.on('disconnect', () => process.exit(0));
  process.on('message', (m) => {
    if ((m as { cmd?: string })?.cmd === 'exit') exit();
  });
}

/** `nodes-proc`: BENCH_NODES data nodes, one session each, tiny in-memory source. */
async function nodesProc(): Promise<void> {
  const { runDataNode } = await import('../data-nodes/sdk');
  const url = process.env.BENCH_ROUTER!;
  const n = Number(process.env.BENCH_NODES ?? 200);
  const source: DataSource = {
    getFields: (): FieldsResult => [
      { x: { description: 'x', timeline: 'tl', type: 'number', units: null } },
      { tl: { interval: 1, field: ['x'] } },
    ],
    getData: (fields: string[], start: number): DataResult => {
      const out: DataResult = { data: {}, timeline: {} };
      for (const f of fields) out.data[f] = f === 'x' ? [1] : [];
      if (fields.includes('x')) out.timeline.tl = { t: [start], finalized_until: start };
      return out;
    },
  };
  const nodes: Awaited<ReturnType<typeof runDataNode>>[] = [];
  exitHooks(() => Promise.all(nodes.map((x) => x.close())));
  // open the sessions in batches so the router and hub are not flooded with 200 handshakes at once
  for (let i = 0; i < n; i += 25) {
    const batch: Promise<Awaited<ReturnType<typeof runDataNode>>>[] = [];
    for (let j = i; j < Math.min(n, i + 25); j++) {
      batch.push(
        runDataNode({
          name: `bench_node_${String(j).padStart(3, '0')}`,
          description: `benchmark node ${j} (in-memory, one field)`,
          source,
          client: { url, realm: REALM, uriBase: URI_BASE, serializers: ['json'] },
        }),
      );
    }
    const started = await Promise.all(batch);
    nodes.push(...started);
    await Promise.all(started.map((x) => x.ready(60000)));
  }
  process.stdout.write(`READY ${nodes.length}\n`);
}

/** `echo-proc`: one plain session registering `<base>.bench.echo` (returns its arguments). */
async function echoProc(): Promise<void> {
  const { SisockClient } = await import('../client');
  const client = new SisockClient({ url: process.env.BENCH_ROUTER!, realm: REALM, uriBase: URI_BASE, serializers: ['json'] });
  exitHooks(() => client.close());
  await client.register(client.uri(ECHO), (args) => args[0] ?? null);
  client.start();
  await client.whenReady(20000);
  process.stdout.write('READY\n');
}

interface WeatherLoadResult {
  wireSamplesPerSec: number;
  wireCalls: number;
  wireMsPerCall: number;
  localSamplesPerSec: number;
  localCalls: number;
  localMsPerCall: number;
  samplesPerCall: number;
}

/** Calls `f` (one call = `per` samples) after one warm-up until `ms` have passed (at least 2 calls). */
async function rate(ms: number, per: number, f: () => Promise<number>): Promise<{ perSec: number; calls: number; msPerCall: number }> {
  const check = (got: number) => {
    if (got !== per) throw new Error(`a call returned ${got} samples, expected ${per}`);
  };
  check(await f());
  const t0 = performance.now();
  let calls = 0;
  while (calls < 2 || performance.now() - t0 < ms) {
    check(await f());
    calls++;
  }
  const el = performance.now() - t0;
  return { perSec: (calls * per) / (el / 1000), calls, msPerCall: el / calls };
}

/** `load-weather`: the wire rate through router + node, then the in-process rate of WeatherSource. */
async function loadWeather(): Promise<WeatherLoadResult> {
  const { SisockClient, getData } = await import('../client');
  const { WeatherSource } = await import('../data-nodes/weather');
  const dir = process.env.BENCH_DATA_DIR!;
  const start = Number(process.env.BENCH_START);
  const end = Number(process.env.BENCH_END);
  const ms = Number(process.env.BENCH_DURATION_MS ?? 4000);
  const per = Number(process.env.BENCH_ROWS) * WEATHER_FIELDS.length;
  const count = (r: { data: Record<string, unknown[]> }) => WEATHER_FIELDS.reduce((s, f) => s + (r.data[f]?.length ?? 0), 0);

  const client = new SisockClient({ url: process.env.BENCH_ROUTER!, realm: REALM, uriBase: URI_BASE, serializers: ['json'] }).start();
  await client.whenReady(20000);
  const wire = await rate(ms, per, async () =>
    count(await getData(client, 'weather', WEATHER_FIELDS, start, end, null, { timeoutMs: 120000 })),
  );
  await client.close();

  const source = new WeatherSource({ dataDir: dir, rescanMs: 3_600_000 });
  await source.refresh(true);
  const local = await rate(ms, per, async () => count(await source.getData(WEATHER_FIELDS, start, end, null)));
  return {
    wireSamplesPerSec: wire.perSec,
    wireCalls: wire.calls,
    wireMsPerCall: wire.msPerCall,
    localSamplesPerSec: local.perSec,
    localCalls: local.calls,
    localMsPerCall: local.msPerCall,
    samplesPerCall: per,
  };
}

interface LatencyStats {
  p50: number;
  p99: number;
  max: number;
  n: number;
}
interface HubLoadResult {
  hub: LatencyStats;
  echo: LatencyStats;
  nodesListed: number;
}

/** `load-hub`: sequential get_data_node and echo calls, in alternating blocks, after a warm-up. */
async function loadHub(): Promise<HubLoadResult> {
  const { SisockClient, listNodes } = await import('../client');
  const calls = Number(process.env.BENCH_CALLS ?? 2000);
  const want = Number(process.env.BENCH_NODES ?? 200);
  const client = new SisockClient({ url: process.env.BENCH_ROUTER!, realm: REALM, uriBase: URI_BASE, serializers: ['json'] }).start();
  await client.whenReady(20000);
  const echoUri = client.uri(ECHO);
  let listed = 0;
  const hubCall = async () => {
    const l = await listNodes(client);
    listed = l.length;
  };
  const echoCall = async () => {
    await client.call(echoUri, ['ping']);
  };
  for (let i = 0; i < 300; i++) {
    await hubCall();
    await echoCall();
  }
  if (listed < want) throw new Error(`get_data_node lists ${listed} nodes, expected ${want}`);
  const hubT = new Float64Array(calls);
  const echoT = new Float64Array(calls);
  const block = 250;
  for (let done = 0; done < calls; done += block) {
    const k = Math.min(block, calls - done);
    for (const [arr, f] of [
      [hubT, hubCall],
      [echoT, echoCall],
    ] as const) {
      for (let i = 0; i < k; i++) {
        const t = process.hrtime.bigint();
        await f();
        arr[done + i] = Number(process.hrtime.bigint() - t) / 1e6;
      }
    }
  }
  await client.close();
  const stats = (a: Float64Array): LatencyStats => {
    a.sort();
    return { p50: percentile(a, 0.5), p99: percentile(a, 0.99), max: a[a.length - 1]!, n: a.length };
  };
  return { hub: stats(hubT), echo: stats(echoT), nodesListed: listed };
}

function runRole(role: string, f: () => Promise<unknown>): void {
  f().then(
    (result) => {
      if (role.startsWith('load-')) {
        process.send?.({ type: 'result', result }, () => process.exit(0));
      }
    },
    (e: unknown) => {
      const msg = (e as Error)?.message ?? String(e);
      console.error(`${role}: ${(e as Error)?.stack ?? msg}`);
      if (process.send) process.send({ type: 'error', error: msg }, () => process.exit(1));
      else process.exit(1);
    },
  );
}

// ---------------------------------------------------------------------------------- orchestration
const ratio = (v: number, b: number | null): number | null => (b && b > 0 ? v / b : null);

async function benchWeather(o: Required<Omit<HubBenchOptions, 'log'>>, log: (s: string) => void): Promise<HubBenchRow[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sisock-bench-weather-'));
  tmpDirs.add(dir);
  let router: ServerHandle | null = null;
  let hub: ReturnType<typeof track> | null = null;
  let node: ReturnType<typeof track> | null = null;
  try {
    const g0 = performance.now();
    const { start, end } = writeWeatherArchive(dir, o.rows);
    log(
      `generated ${o.rows.toLocaleString('en-US')} rows x ${WEATHER_FIELDS.length} ` +
        `fields in ${dir} (${((performance.now() - g0) / 1000).toFixed(1)} s)`,
    );
    router = await spawnServer('sisock');
    const common = ['--router', router.url, '--realm', REALM, '--log-level', 'warn'];
    hub = spawnSisock(['hub', ...common], 'sisock hub');
    node = spawnSisock(['node', 'weather', '--data-dir', dir, ...common], 'sisock node weather');
    await waitLine(node, /node: weather/, 30000);
    log('router, hub and weather node up');
    const r = await runLoad<WeatherLoadResult>(
      'load-weather',
      {
        BENCH_ROUTER: router.url,
        BENCH_DATA_DIR: dir,
        BENCH_START: String(start),
        BENCH_END: String(end),
        BENCH_ROWS: String(o.rows),
        BENCH_DURATION_MS: String(o.durationMs),
      },
      2 * o.durationMs + 60000,
    );
    log(
      `wire ${r.wireCalls} calls, ${r.wireMsPerCall.toFixed(0)} ms/call; ` +
        `in-process ${r.localCalls} calls, ${r.localMsPerCall.toFixed(0)} ms/call`,
    );
    const mS = (r.samplesPerCall / 1e6).toFixed(1);
    return [
      {
        scenario: `weather get_data samples/s (${mS}M/call; base: in-process)`,
        value: r.wireSamplesPerSec,
        baseline: r.localSamplesPerSec,
        ratio: ratio(r.wireSamplesPerSec, r.localSamplesPerSec),
        goal: '(info: ratio = wire cost)',
      },
      {
        scenario: '  ms per call (base: in-process)',
        value: r.wireMsPerCall,
        baseline: r.localMsPerCall,
        ratio: ratio(r.wireMsPerCall, r.localMsPerCall),
        goal: '(info)',
      },
    ];
  } finally {
    await stopAll([node, hub, router]);
    fs.rmSync(dir, { recursive: true, force: true });
    tmpDirs.delete(dir);
  }
}

async function benchHubLatency(o: Required<Omit<HubBenchOptions, 'log'>>, log: (s: string) => void): Promise<HubBenchRow[]> {
  let router: ServerHandle | null = null;
  let hub: ReturnType<typeof track> | null = null;
  let nodes: ReturnType<typeof track> | null = null;
  let echo: ReturnType<typeof track> | null = null;
  try {
    router = await spawnServer('sisock');
    hub = spawnSisock(['hub', '--router', router.url, '--realm', REALM, '--log-level', 'warn'], 'sisock hub');
    echo = forkRole('echo-proc', { BENCH_ROUTER: router.url });
    nodes = forkRole('nodes-proc', { BENCH_ROUTER: router.url, BENCH_NODES: String(o.nodes) });
    const t0 = performance.now();
    await Promise.all([waitLine(echo, /READY/, 20000), waitLine(nodes, /READY/, 90000)]);
    log(`${o.nodes} nodes registered with the hub in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const r = await runLoad<HubLoadResult>(
      'load-hub',
      {
        BENCH_ROUTER: router.url,
        BENCH_CALLS: String(o.calls),
        BENCH_NODES: String(o.nodes),
      },
      120000,
    );
    log(
      `get_data_node lists ${r.nodesListed} nodes; hub max ${r.hub.max.toFixed(2)} ` +
        `ms, echo max ${r.echo.max.toFixed(2)} ms over ${r.hub.n} calls each`,
    );
    return [
      {
        scenario: `hub get_data_node p50 ms (${r.nodesListed} nodes; base: echo)`,
        value: r.hub.p50,
        baseline: r.echo.p50,
        ratio: ratio(r.hub.p50, r.echo.p50),
        goal: '(info)',
      },
      {
        scenario: `hub get_data_node p99 ms (${r.nodesListed} nodes; base: echo)`,
        value: r.hub.p99,
        baseline: r.echo.p99,
        ratio: ratio(r.hub.p99, r.echo.p99),
        goal: `<=${HUB_GOAL_MS} ms ${r.hub.p99 <= HUB_GOAL_MS ? 'OK' : 'MISS'}`,
      },
    ];
  } finally {
    await stopAll([nodes, echo, hub, router]);
  }
}

export async function benchHub(opts: HubBenchOptions = {}): Promise<HubBenchRow[]> {
  installCleanup();
  process.on('exit', killChildren);
  const log = opts.log ?? (() => {});
  const o = {
    durationMs: opts.durationMs ?? 4000,
    calls: opts.calls ?? 2000,
    nodes: opts.nodes ?? 200,
    rows: opts.rows ?? 250_000,
  };
  const rows: HubBenchRow[] = [];
  try {
    for (const [name, f] of [
      ['weather', benchWeather],
      ['hub latency', benchHubLatency],
    ] as const) {
      try {
        rows.push(...(await f(o, log)));
      } catch (e) {
        log(`${name} failed: ${(e as Error).message.split('\n')[0]}`);
        rows.push({
          scenario: `${name}: FAILED (${(e as Error).message.split('\n')[0]?.slice(0, 80)})`,
          value: NaN,
          baseline: null,
          ratio: null,
          goal: '',
        });
      }
    }
    return rows;
  } finally {
    killChildren();
    process.off('exit', killChildren);
  }
}

function fmt(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return '-';
  return Math.abs(v) >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(2);
}

/** The rows as a fixed-width table. */
export function formatHubRows(rows: HubBenchRow[]): string {
  const table = [
    ['scenario', 'sisock', 'baseline', 'ratio', 'goal'],
    ...rows.map((r) => [r.scenario, fmt(r.value), fmt(r.baseline), fmt(r.ratio), r.goal]),
  ];
  const w = (table[0] ?? []).map((_, i) => Math.max(...table.map((row) => (row[i] ?? '').length)));
  return table
    .map((row) =>
      row
        .map((c, i) => (i === 0 || i === 4 ? c.padEnd(w[i] ?? 0) : c.padStart(w[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

if (require.main === module) {
  const role = process.argv[2];
  if (role === 'nodes-proc') runRole(role, nodesProc);
  else if (role === 'echo-proc') runRole(role, echoProc);
  else if (role === 'load-weather') runRole(role, loadWeather);
  else if (role === 'load-hub') runRole(role, loadHub);
  else {
    const arg = (k: string) => process.argv.find((a) => a.startsWith(`--${k}=`))?.split('=')[1];
    const num = (k: string) => (arg(k) !== undefined ? Number(arg(k)) : undefined);
    const t0 = Date.now();
    benchHub({
      durationMs: num('duration') !== undefined ? num('duration')! * 1000 : undefined,
      calls: num('calls'),
      nodes: num('nodes'),
      rows: num('rows'),
      log: (s) => console.error(`  [hub] ${s}`),
    }).then(
      (rows) => {
        console.log(formatHubRows(rows));
        console.log(`(${((Date.now() - t0) / 1000).toFixed(0)} s; shared 2-core box: figures are noisy)`);
        process.exit(0);
      },
      (e: unknown) => {
        console.error(e);
        process.exit(1);
      },
    );
  }
}
