/**
 * Grafana bridge benchmark: a `/query` over one day of 10 Hz data (864,000 points) with
 * maxDataPoints 1000, end to end over HTTP, beside the node's raw `get_data` for the same range.
 * Goal: ≤ 150 ms. The router runs in its own process (bench/router-proc), the data node in
 * another (this file with argument `node-proc`), hub + bridge + HTTP client in this one.
 *
 *   node dist/bench/grafana.js            runs it and prints the table
 *   import { runGrafanaBench, formatGrafanaRows } from './grafana'   (for bench/run.ts)
 *
 * Rows:
 *   raw get_data             the node's whole day, no min_stride (what a naive bridge would fetch)
 *   /query (node stride)     the bridge as shipped: min_stride = span/1000 to the node (which keeps
 *                            per-bucket extremes), then min/max to ≤ 1000 points
 *   /query (raw, bridge-side) `--node-stride off`: raw day fetched, reduced in the bridge
 *   /infinity/query (wide JSON, long CSV)   the same question in Infinity's shape (GET, ${__from},
 *                            ${__to}, maxDataPoints): goal within 1.2× of /query measured in the same run
 * Each figure is the median of `rounds` runs after one warm-up (best in brackets).
 */
import type { ChildProcess } from 'child_process';
import * as path from 'path';
import { getData, SisockClient } from '../client';
import { runHub } from '../hub';
import { runDataNode, type DataResult, type DataSource, type FieldsResult } from '../data-nodes/sdk';
import { downsampleMinMax, lowerBound } from '../data-nodes/sdk/downsample';
import { startBridge } from '../consumers/grafana';
import { announceReady, bridgeQuery, forkReady, spawnServer, installCleanup } from './common';

const NODE = 'bench10hz';
const RATE = 10;
const SPAN = 86400;
const MAX_POINTS = 1000;
export const GRAFANA_GOAL_MS = 150;
/** Infinity's shape may cost at most this much more than /query on the same data. */
export const INFINITY_GOAL_RATIO = 1.2;

export interface GrafanaBenchRow {
  scenario: string;
  points: number;
  returned: number;
  medianMs: number;
  bestMs: number;
  goalMs: number | null;
  pass: boolean | null;
}

// ---------------------------------------------------------------- the node process
/** One day at 10 Hz ending at `end`: slow sine + noise + rare spikes, in Float64Arrays. */
class DaySource implements DataSource {
  readonly t: Float64Array;
  readonly v: Float64Array;
  constructor(end: number) {
    const n = SPAN * RATE;
    this.t = new Float64Array(n);
    this.v = new Float64Array(n);
    let seed = 12345;
    const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296;
    for (let i = 0; i < n; i++) {
      this.t[i] = end - SPAN + i / RATE;
      this.v[i] = 20 + 5 * Math.sin((2 * Math.PI * i) / (n / 4)) + rnd() - 0.5 + (i % 77_777 === 0 ? 50 : 0);
    }
  }
  getFields(): FieldsResult {
    return [
      { v: { description: '10 Hz benchmark signal', timeline: 'fast', type: 'number', units: 'K' } },
      { fast: { interval: 1 / RATE, field: ['v'] } },
    ];
  }
  getData(fields: string[], start: number, end: number, minStride: number | null): DataResult {
    const i0 = lowerBound(this.t, start);
    const i1 = lowerBound(this.t, end);
    const want = fields.includes('v');
    const out: DataResult = { data: {}, timeline: {} };
    for (const f of fields) out.data[f] = [];
    if (!want || i1 <= i0) return out;
    const ds = downsampleMinMax(this.t.subarray(i0, i1), [this.v.subarray(i0, i1)], minStride);
    out.data.v = ds.columns[0]!;
    out.timeline.fast = { t: ds.t, finalized_until: ds.t[ds.t.length - 1] ?? null };
    return out;
  }
}

async function nodeProc(): Promise<void> {
  const url = process.env.BENCH_ROUTER!;
  const end = Number(process.env.BENCH_END);
  const node = await runDataNode({
    name: NODE,
    description: 'one day of 10 Hz data',
    source: new DaySource(end),
    client: { url, realm: process.env.BENCH_REALM ?? 'bench', uriBase: 'org.simonsobservatory' },
  });
  const exit = await announceReady(node);
  process.on('message', (m) => {
    if ((m as { cmd?: string })?.cmd === 'exit') exit();
  });
}

// ---------------------------------------------------------------- the measurement
async function timed<T>(rounds: number, f: () => Promise<T>): Promise<{ median: number; best: number; last: T }> {
  let last = await f(); // warm-up
  const ms: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    last = await f();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return { median: ms[Math.floor(ms.length / 2)]!, best: ms[0]!, last };
}

export async function runGrafanaBench(opts: { rounds?: number; log?: (s: string) => void } = {}): Promise<GrafanaBenchRow[]> {
  installCleanup();
  const rounds = opts.rounds ?? 5;
  const log = opts.log ?? (() => {});
  const router = await spawnServer('sisock');
  const realm = 'bench';
  const clientOpts = { url: router.url, realm, uriBase: 'org.simonsobservatory' };
  const hub = await runHub({ client: clientOpts });
  const end = Math.floor(Date.now() / 1000);
  let node: ChildProcess | null = null;
  const bridges: Array<{ close(): Promise<void> }> = [];
  const consumer = new SisockClient(clientOpts).start();
  try {
    log('building one day of 10 Hz data in the node process…');
    node = await forkReady(__filename, { BENCH_ROUTER: router.url, BENCH_REALM: 'bench', BENCH_END: String(end) });
    const withStride = await startBridge({ client: clientOpts, port: 0, host: '127.0.0.1', page: false, auth: {} });
    const rawBridge = await startBridge({ client: clientOpts, port: 0, host: '127.0.0.1', page: false, auth: {}, nodeStride: 'off' });
    bridges.push(withStride, rawBridge);
    const body = JSON.stringify({
      range: {
        from: new Date((end - SPAN) * 1000).toISOString(),
        to: new Date(end * 1000).toISOString(),
        raw: { from: 'now-24h', to: 'now' },
      },
      intervalMs: 86400,
      maxDataPoints: MAX_POINTS,
      targets: [{ target: `${NODE}::v`, refId: 'A', type: 'timeserie' }],
    });
    const query = (base: string) => bridgeQuery(base, body);
    // ready: both bridges see the node
    for (const b of [withStride, rawBridge]) {
      const deadline = Date.now() + 20000;
      for (;;) {
        try {
          await query(b.url);
          break;
        } catch (e) {
          if (Date.now() > deadline) throw e;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const rows: GrafanaBenchRow[] = [];
    log('raw get_data…');
    const raw = await timed(
      Math.min(rounds, 3),
      async () => (await getData(consumer, NODE, ['v'], end - SPAN, end, null, { timeoutMs: 60000 })).data.v!.length,
    );
    rows.push({
      scenario: 'raw get_data (node → consumer)',
      points: SPAN * RATE,
      returned: raw.last,
      medianMs: raw.median,
      bestMs: raw.best,
      goalMs: null,
      pass: null,
    });
    log('/query with node-side min_stride…');
    const q = await timed(rounds, () => query(withStride.url));
    rows.push({
      scenario: '/query maxDataPoints 1000 (bridge as shipped)',
      points: SPAN * RATE,
      returned: q.last,
      medianMs: q.median,
      bestMs: q.best,
      goalMs: GRAFANA_GOAL_MS,
      pass: q.median <= GRAFANA_GOAL_MS,
    });
    log('/query with --node-stride off…');
    const qr = await timed(Math.min(rounds, 3), () => query(rawBridge.url));
    rows.push({
      scenario: '/query maxDataPoints 1000 (--node-stride off)',
      points: SPAN * RATE,
      returned: qr.last,
      medianMs: qr.median,
      bestMs: qr.best,
      goalMs: null,
      pass: null,
    });
    const infinity = async (shape: string, format: string) => {
      const params = new URLSearchParams({
        target: `${NODE}::v`,
        from: String((end - SPAN) * 1000),
        to: String(end * 1000),
        maxDataPoints: String(MAX_POINTS),
        shape,
        format,
      });
      const res = await fetch(`${withStride.url}/infinity/query?${params}`);
      const text = await res.text();
      if (!res.ok) throw new Error(`/infinity/query failed: ${res.status} ${text.slice(0, 200)}`);
      return format === 'csv' ? text.trimEnd().split('\n').length - 1 : (JSON.parse(text) as unknown[]).length;
    };
    const goal = q.median * INFINITY_GOAL_RATIO;
    for (const [shape, format] of [
      ['wide', 'json'],
      ['long', 'csv'],
    ] as const) {
      log(`/infinity/query ${shape} ${format}…`);
      const r = await timed(rounds, () => infinity(shape, format));
      rows.push({
        scenario: `/infinity/query ${shape} ${format} (≤ ${INFINITY_GOAL_RATIO}× /query)`,
        points: SPAN * RATE,
        returned: r.last,
        medianMs: r.median,
        bestMs: r.best,
        goalMs: Math.round(goal * 10) / 10,
        pass: r.median <= goal,
      });
    }
    return rows;
  } finally {
    for (const b of bridges) await b.close().catch(() => undefined);
    await consumer.close().catch(() => undefined);
    await hub.close().catch(() => undefined);
    if (node && node.exitCode === null) {
      const exited = new Promise((r) => node!.once('exit', r));
      try {
        node.send({ cmd: 'exit' });
      } catch {
        node.kill('SIGTERM');
      }
      const t = setTimeout(() => node!.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    }
    await router.stop();
  }
}

export function formatGrafanaRows(rows: GrafanaBenchRow[]): string {
  const head = ['scenario', 'points', 'returned', 'median ms', '(best)', 'goal', ''];
  const body = rows.map((r) => [
    r.scenario,
    String(r.points),
    String(r.returned),
    r.medianMs.toFixed(1),
    `(${r.bestMs.toFixed(1)})`,
    r.goalMs === null ? '' : `≤ ${r.goalMs}`,
    r.pass === null ? '' : r.pass ? 'ok' : 'MISSED',
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  return [head, ...body].map((cols) => cols.map((c, i) => (i === 0 ? c.padEnd(w[i] ?? 0) : c.padStart(w[i] ?? 0))).join('  ')).join('\n');
}

if (require.main === module) {
  if (process.argv[2] === 'node-proc') {
    void nodeProc().catch((e) => {
      console.error(e);
      process.exit(1);
    });
  } else {
    runGrafanaBench({ log: (s) => process.stderr.write(`${s}\n`) }).then(
      (rows) => {
        process.stdout.write(`Grafana bridge: one day of 10 Hz data (${path.basename(__filename)})\n${formatGrafanaRows(rows)}\n`);
        process.exit(0);
      },
      (e) => {
        console.error(e);
        process.exit(1);
      },
    );
  }
}
