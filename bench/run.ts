/**
 * `make bench`: runs every scenario against the sisock router, the bare ws relay (baseline: one
 * write per frame), the same relay with corked writes (one writev per tick: what batching buys)
 * and fox-wamp (peer), each server in its own process and the load generator in another, and
 * prints the figures side by side with their goals. Throughput/latency runs are repeated
 * `--rounds` times in rotating order and the best figure is kept (the box is shared and noisy).
 *
 *   node dist/bench/run.js [all|rpc|latency|pubsub|memory|profile ...]
 *                          [--targets=sisock,relay,relay-cork,fox] [--duration=SECONDS]
 *                          [--rounds=N] [--sessions=N]
 *
 * `profile` (not part of `all`) runs the router under the pipelined JSON RPC load with
 * `--cpu-prof` (profile written to /tmp) and prints the top self-time functions
 * (`--profile-target=relay|fox` profiles a baseline instead).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  installCleanup,
  spawnServer,
  spawnLoad,
  sleep,
  fmtInt,
  fmtNum,
  Target,
  TARGET_LABEL,
  isRelay,
  LoadParams,
  LoadResult,
  ServerHandle,
} from './common';
import { summarise, formatSpots } from './profile-summary';

type Scenario = 'rpc' | 'rpc-msgpack' | 'latency' | 'pubsub' | 'memory';
const ALL_SCENARIOS: Scenario[] = ['rpc', 'rpc-msgpack', 'latency', 'pubsub', 'memory'];
const ALL_TARGETS: Target[] = ['sisock', 'relay', 'relay-cork', 'fox'];

/** Benchmarks of the other components, each with its own baseline, run after the router table. */
type Suite = 'grafana' | 'grpc' | 'archive' | 'mqtt' | 'hub' | 'python' | 'tiers' | 'g3' | 'historian';
const ALL_SUITES: Suite[] = ['grafana', 'grpc', 'archive', 'mqtt', 'hub', 'python', 'tiers', 'g3', 'historian'];

interface Opts {
  scenarios: Scenario[];
  suites: Suite[];
  profile: boolean;
  targets: Target[];
  durationMs: number;
  sessions: number;
  rounds: number;
  profileTarget: Target;
}

function parseArgs(argv: string[]): Opts {
  const o: Opts = {
    scenarios: [],
    suites: [],
    profile: false,
    targets: ALL_TARGETS,
    durationMs: 2500,
    sessions: 10000,
    rounds: 2,
    profileTarget: 'sisock',
  };
  for (const a of argv) {
    const [k, v = ''] = a.split('=');
    if (k === '--targets') o.targets = v.split(',').filter((t): t is Target => (ALL_TARGETS as string[]).includes(t));
    else if (k === '--duration') o.durationMs = Number(v) * 1000;
    else if (k === '--sessions') o.sessions = Number(v);
    else if (k === '--rounds') o.rounds = Math.max(1, Number(v) || 1);
    else if (k === '--profile-target' && (ALL_TARGETS as string[]).includes(v)) o.profileTarget = v as Target;
    else if (a === 'all') {
      o.scenarios.push(...ALL_SCENARIOS);
      o.suites.push(...ALL_SUITES);
    } else if (a === 'router') o.scenarios.push(...ALL_SCENARIOS);
    else if ((ALL_SUITES as string[]).includes(a)) o.suites.push(a as Suite);
    else if (a === 'profile') o.profile = true;
    else if (a === 'rpc') o.scenarios.push('rpc', 'rpc-msgpack');
    else if ((ALL_SCENARIOS as string[]).includes(a)) o.scenarios.push(a as Scenario);
    else {
      console.error(`unknown argument ${a}`);
      process.exit(2);
    }
  }
  if (o.scenarios.length === 0 && o.suites.length === 0 && !o.profile) {
    o.scenarios = [...ALL_SCENARIOS];
    o.suites = [...ALL_SUITES];
  }
  o.scenarios = [...new Set(o.scenarios)];
  o.suites = [...new Set(o.suites)];
  return o;
}

/** Figures per scenario and target; a string is the reason a figure is missing. */
type Cell = LoadResult | string;
const results = new Map<Scenario, Map<Target, Cell[]>>();

function baseParams(url: string, target: Target, o: Opts): LoadParams {
  return {
    scenario: 'rpc',
    url,
    realm: 'bench',
    serializer: 'json',
    wamp: !isRelay(target),
    durationMs: o.durationMs,
    warmupMs: 700,
    window: 200,
    calls: 20000,
    warmupCalls: 2000,
    subscribers: 100,
    sessions: o.sessions,
  };
}

async function withServer<T>(target: Target, fn: (s: ServerHandle) => Promise<T>, execArgv: string[] = []): Promise<T> {
  const s = await spawnServer(target, { execArgv });
  try {
    return await fn(s);
  } finally {
    await s.stop(execArgv.length ? 15000 : 2000);
  }
}

async function runOne(sc: Scenario, target: Target, o: Opts): Promise<Cell> {
  if (target === 'fox' && sc === 'rpc-msgpack') return 'n/a (json only)';
  if (target === 'relay-cork' && sc === 'memory') return 'n/a (same as relay)';
  return withServer(target, async (s) => {
    const p = baseParams(s.url, target, o);
    switch (sc) {
      case 'rpc':
        return spawnLoad({ ...p, scenario: 'rpc' }, o.durationMs + 20000, s.pid).result;
      case 'rpc-msgpack':
        return spawnLoad({ ...p, scenario: 'rpc', serializer: 'msgpack' }, o.durationMs + 20000, s.pid).result;
      case 'latency':
        return spawnLoad({ ...p, scenario: 'latency', durationMs: o.durationMs + 2000 }, o.durationMs + 25000, s.pid).result;
      case 'pubsub':
        return spawnLoad({ ...p, scenario: 'pubsub' }, o.durationMs + 30000, s.pid).result;
      case 'memory': {
        await sleep(300);
        const m0 = await s.mem();
        const rss0 = s.rss();
        const load = spawnLoad({ ...p, scenario: 'memory', durationMs: 60000 }, 120000);
        const opened = await load.waitMessage('opened', 90000);
        await sleep(1000);
        const m1 = await s.mem();
        const rss1 = s.rss();
        load.send({ cmd: 'close' });
        const r = await load.result;
        const n = Number(opened.n);
        if (!n) return `no session opened: ${String(opened.firstError)}`;
        return {
          sessions: n,
          failed: Number(opened.failed),
          openSecs: Number(opened.openSecs),
          rssKiBPerSession: (rss1 - rss0) / 1024 / n,
          heapKiBPerSession: (m1.heapUsed + m1.external - m0.heapUsed - m0.external) / 1024 / n,
          rssMiBBefore: rss0 / 1048576,
          rssMiBAfter: rss1 / 1048576,
          firstError: String(r.firstError ?? ''),
        };
      }
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Table

interface Row {
  label: string;
  sc: Scenario;
  key: string;
  fmt: (n: number | undefined) => string;
  /** Ratio sisock/relay is "higher is better" (throughput) or lower (latency, memory). */
  goal: string;
  ok: (v: number, relay: number | undefined) => boolean;
  better: 'higher' | 'lower';
}

const ROWS: Row[] = [
  {
    label: 'rpc calls/s (pipelined, json)',
    sc: 'rpc',
    key: 'callsPerSec',
    fmt: fmtInt,
    goal: '>=0.6x relay & >=50k',
    ok: (v, r) => v >= 50000 && (r === undefined || v >= 0.6 * r),
    better: 'higher',
  },
  {
    label: '  per server CPU-second (json)',
    sc: 'rpc',
    key: 'perServerCpuSec',
    fmt: fmtInt,
    goal: '(info)',
    ok: () => true,
    better: 'higher',
  },
  {
    label: 'rpc calls/s (pipelined, msgpack)',
    sc: 'rpc-msgpack',
    key: 'callsPerSec',
    fmt: fmtInt,
    goal: '>=0.6x relay & >=50k',
    ok: (v, r) => v >= 50000 && (r === undefined || v >= 0.6 * r),
    better: 'higher',
  },
  {
    label: 'rpc latency p50 (us, sequential)',
    sc: 'latency',
    key: 'p50us',
    fmt: (n) => fmtNum(n, 0),
    goal: '<=150 us',
    ok: (v) => v <= 150,
    better: 'lower',
  },
  {
    label: 'rpc latency p99 (us, sequential)',
    sc: 'latency',
    key: 'p99us',
    fmt: (n) => fmtNum(n, 0),
    goal: '<=1000 us',
    ok: (v) => v <= 1000,
    better: 'lower',
  },
  {
    label: 'events delivered/s (1 pub->100 sub)',
    sc: 'pubsub',
    key: 'deliveriesPerSec',
    fmt: fmtInt,
    goal: '>=200k/s',
    ok: (v) => v >= 200000,
    better: 'higher',
  },
  {
    label: '  per server CPU-second',
    sc: 'pubsub',
    key: 'perServerCpuSec',
    fmt: fmtInt,
    goal: '(info)',
    ok: () => true,
    better: 'higher',
  },
  {
    label: 'memory/idle session, RSS (KiB)',
    sc: 'memory',
    key: 'rssKiBPerSession',
    fmt: (n) => fmtNum(n, 1),
    goal: '<=20 KiB',
    ok: (v) => v <= 20,
    better: 'lower',
  },
  {
    label: 'memory/idle session, heap+ext (KiB)',
    sc: 'memory',
    key: 'heapKiBPerSession',
    fmt: (n) => fmtNum(n, 1),
    goal: '(info)',
    ok: () => true,
    better: 'lower',
  },
];

/** Best figure over the rounds. */
function cellValue(row: Row, t: Target): number | undefined {
  let best: number | undefined;
  for (const c of results.get(row.sc)?.get(t) ?? []) {
    if (typeof c === 'string') continue;
    const v = c[row.key];
    if (typeof v !== 'number' || !Number.isFinite(v)) continue;
    if (best === undefined || (row.better === 'higher' ? v > best : v < best)) best = v;
  }
  return best;
}

function cellText(row: Row, t: Target): string {
  const cs = results.get(row.sc)?.get(t);
  if (!cs || cs.length === 0) return '-';
  const v = cellValue(row, t);
  if (v !== undefined) return row.fmt(v);
  const c = cs[0];
  return typeof c === 'string' && c.startsWith('n/a') ? 'n/a' : 'FAILED';
}

function printTable(o: Opts): void {
  const head = ['scenario', 'sisock', 'baseline(relay)', 'ratio', 'relay+cork', 'ratio', 'fox-wamp', 'ratio', 'goal', 'verdict'];
  const lines: string[][] = [head];
  const ratio = (a: number | undefined, b: number | undefined) =>
    a !== undefined && b !== undefined && b !== 0 ? (a / b).toFixed(2) : '-';
  for (const row of ROWS) {
    if (!results.has(row.sc)) continue;
    const v = cellValue(row, 'sisock');
    const r = cellValue(row, 'relay');
    const verdict = v === undefined ? (o.targets.includes('sisock') ? 'FAIL (no figure)' : '-') : row.ok(v, r) ? 'OK' : 'MISS';
    lines.push([
      row.label,
      cellText(row, 'sisock'),
      cellText(row, 'relay'),
      ratio(v, r),
      cellText(row, 'relay-cork'),
      ratio(v, cellValue(row, 'relay-cork')),
      cellText(row, 'fox'),
      ratio(v, cellValue(row, 'fox')),
      row.goal,
      row.goal === '(info)' ? '' : verdict,
    ]);
  }
  const widths = head.map((_, i) => Math.max(...lines.map((l) => l[i]?.length ?? 0)));
  console.log('');
  for (const [i, l] of lines.entries()) {
    console.log(
      l
        .map((c, j) => (j === 0 || j >= 8 ? c.padEnd(widths[j] ?? 0) : c.padStart(widths[j] ?? 0)))
        .join('  ')
        .trimEnd(),
    );
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
  console.log(
    `best of ${o.rounds} round(s) for rates and latency. ratio = sisock / the column to its left ` +
      '(higher is better for rates, lower for latency and memory).\n' +
      'relay = bare ws relay, one socket write per frame (the baseline the goals refer to); ' +
      'relay+cork = the same relay with writes corked until the next tick (one writev per burst).\n' +
      '"per server CPU-second" = rate / CPU share the server process got while measured (steadier on a busy box).',
  );
  const notes: string[] = [];
  for (const [sc, m] of results) {
    for (const [t, cs] of m) {
      for (const c of cs) if (typeof c === 'string' && !c.startsWith('n/a')) notes.push(`  ${sc} on ${TARGET_LABEL[t]}: ${c}`);
    }
  }
  if (notes.length) console.log(`\nmissing figures:\n${notes.join('\n')}`);
}

function describeCell(c: Cell): string {
  if (typeof c === 'string') return c;
  return Object.entries(c)
    .filter(([, v]) => v !== '')
    .map(([k, v]) => `${k}=${typeof v === 'number' ? (Number.isInteger(v) ? v : v.toFixed(2)) : v}`)
    .join(' ');
}

async function profileRouter(o: Opts): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sisock-bench-prof-'));
  const t = o.profileTarget;
  console.log(`\nprofiling ${TARGET_LABEL[t]} under pipelined json rpc (${o.durationMs / 1000}s) -> ${dir}`);
  try {
    const r = await withServer(
      t,
      async (s) => spawnLoad({ ...baseParams(s.url, t, o), scenario: 'rpc' }, o.durationMs + 20000, s.pid).result,
      ['--cpu-prof', `--cpu-prof-dir=${dir}`],
    );
    console.log(`  during profiling: ${describeCell(r)}`);
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
    if (files.length === 0) {
      console.log('  no .cpuprofile written');
      return;
    }
    const f = path.join(dir, files[0] ?? '');
    console.log(`  profile: ${f}`);
    console.log(formatSpots(summarise(f, 15)).replace(/^/gm, '  '));
  } catch (e) {
    console.log(`  profiling failed: ${(e as Error).message}`);
  }
}

async function main(): Promise<void> {
  installCleanup();
  const o = parseArgs(process.argv.slice(2));
  const cpu = os.cpus();
  console.log(
    `sisock bench — node ${process.version}, ${cpu[0]?.model ?? 'unknown cpu'} x${cpu.length}, ` +
      `loadavg ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}, ulimit -n from node: ${fdLimit()}`,
  );
  console.log(
    `each server in its own process, load generator in another; ${o.durationMs / 1000}s per throughput run. ` +
      `Figures on a shared 2-core box are noisy.`,
  );
  const t0 = Date.now();
  const plan: Array<[Scenario, Target]> = [];
  for (let round = 0; round < o.rounds; round++) {
    for (const sc of o.scenarios) {
      if (sc === 'memory' && round > 0) continue; // slow, and not noise-sensitive
      // rotate the order of the targets each round so none always runs first
      const ts = o.targets.map((_, i, all) => all[(i + round) % all.length] as Target); // index < length
      for (const t of ts) plan.push([sc, t]);
    }
  }
  for (const sc of o.scenarios) results.set(sc, new Map());
  for (const [sc, t] of plan) {
    const m = results.get(sc) as Map<Target, Cell[]>;
    if ((m.get(t) ?? []).some((c) => typeof c === 'string' && c.startsWith('n/a'))) continue;
    const started = Date.now();
    let c: Cell;
    try {
      c = await runOne(sc, t, o);
    } catch (e) {
      // one retry: a noisy shared box occasionally drops a connection during set-up
      console.log(`  ${sc.padEnd(11)} ${TARGET_LABEL[t].padEnd(10)} failed (${(e as Error).message.split('\n')[0]}); retrying once`);
      try {
        c = await runOne(sc, t, o);
      } catch (e2) {
        c = (e2 as Error).message.split('\n')[0] ?? 'failed';
      }
    }
    m.set(t, [...(m.get(t) ?? []), c]);
    console.log(
      `  ${sc.padEnd(11)} ${TARGET_LABEL[t].padEnd(10)} ` +
        `${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s  ${describeCell(c)}`,
    );
  }
  if (o.scenarios.length) printTable(o);
  if (o.profile) await profileRouter(o);
  for (const suite of o.suites) {
    console.log(`\n== ${suite} ==`);
    try {
      await runSuite(suite, o);
    } catch (e) {
      console.log(`  ${suite} bench failed: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  console.log(`\ntotal ${((Date.now() - t0) / 1000).toFixed(0)}s`);
}

interface SuiteRow {
  scenario: string;
  value: number;
  baseline: number | null;
  ratio: number | null;
  goal: string;
}

function printRows(rows: SuiteRow[]): void {
  const fmt = (v: number | null): string => (v === null ? '-' : Math.abs(v) >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(2));
  const w = Math.max(...rows.map((r) => r.scenario.length), 8);
  console.log(`  ${'scenario'.padEnd(w)}  ${'sisock'.padStart(12)}  ${'baseline'.padStart(12)}  ${'ratio'.padStart(6)}  goal`);
  for (const r of rows)
    console.log(
      `  ${r.scenario.padEnd(w)}  ${fmt(r.value).padStart(12)}  ` +
        `${fmt(r.baseline).padStart(12)}  ${fmt(r.ratio).padStart(6)}  ${r.goal}`,
    );
}

async function runSuite(suite: Suite, o: Opts): Promise<void> {
  const log = (s: string): void => console.error(`  [${suite}] ${s}`);
  switch (suite) {
    case 'grafana': {
      const { runGrafanaBench, formatGrafanaRows } = await import('./grafana');
      console.log(formatGrafanaRows(await runGrafanaBench({ rounds: Math.max(3, o.rounds), log })));
      return;
    }
    case 'grpc': {
      const { runGrpcBench } = await import('./grpc');
      return printRows((await runGrpcBench({ rounds: o.rounds })) as SuiteRow[]);
    }
    case 'archive': {
      const { benchArchive } = await import('./archive');
      return printRows(await benchArchive({ log }));
    }
    case 'mqtt': {
      const { benchMqtt } = await import('./mqtt');
      return printRows((await benchMqtt()) as SuiteRow[]);
    }
    case 'hub': {
      const { benchHub } = await import('./hub');
      return printRows(await benchHub({ log }));
    }
    case 'python': {
      const { benchPythonNode } = await import('./python-node');
      return printRows(await benchPythonNode({ rounds: Math.max(3, o.rounds), log }));
    }
    case 'tiers': {
      const { benchTiers } = await import('./tiers');
      return printRows(await benchTiers({ log }));
    }
    case 'g3': {
      const { benchG3 } = await import('./g3');
      const num = (v: string | undefined): number | undefined => (v ? Number(v) : undefined);
      return printRows(await benchG3({ log, days: num(process.env.SISOCK_BENCH_G3_DAYS), hours: num(process.env.SISOCK_BENCH_G3_HOURS) }));
    }
    case 'historian': {
      const { benchHistorian } = await import('./historian');
      return printRows(await benchHistorian({ log }));
    }
  }
}

function fdLimit(): string {
  try {
    const s = fs.readFileSync('/proc/self/limits', 'utf8');
    const m = /Max open files\s+(\d+)\s+(\d+)/.exec(s);
    return m ? `${m[1]}/${m[2]}` : '?';
  } catch {
    return '?';
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
