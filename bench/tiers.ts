/**
 * Summary tiers benchmark (issue 11). Generates, in a temporary directory:
 *   fast/  DAYS days of one 10 Hz field `v` in 10-minute CSV files (30 days: 4,320 files, 25.9M samples)
 *   slow/  YEAR_DAYS days of one 1 Hz field `slow` in daily CSV files (365: 31.5M samples)
 * and measures, each beside its baseline from the same run:
 *   scan with summaries vs without (s); summary bytes vs raw bytes;
 *   a 1,000-point Grafana /query over all of fast/ through the bridge: cold (the archive node freshly
 *   started, its own process) and warm, vs InfluxDB 1.6 (Debian's influxd, started here on free ports with
 *   its own data directory, loaded with the same samples, queried with Grafana's InfluxQL
 *   `SELECT min(v), max(v) … GROUP BY time(span/1000)`, stopped after);
 *   a 1,000-point /query over all of slow/ (warm) vs over its last hour;
 *   the archive node's peak RSS;
 *   the MQTT store's ingest rate (add + flush in batches of 1,000, 4 numeric fields a message) with
 *   summaries vs without (store level: the broker path is bench/mqtt.ts).
 *
 *   node dist/bench/tiers.js                      full size (30 days + 1 year: ~1 GB of CSV, several minutes)
 *   BENCH_TIERS_DAYS=3 BENCH_TIERS_YEAR_DAYS=20 node dist/bench/tiers.js     a quick check
 *   BENCH_TIERS_INFLUX=0 …                        without the InfluxDB peer
 */
import type { ChildProcess } from 'node:child_process';
import { promises as fsp, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { SisockClient } from '../client';
import { runHub } from '../hub';
import { startBridge } from '../consumers/grafana';
import { openIndexDb, runArchiveNode, Scanner } from '../data-nodes/archive';
import { MqttStore } from '../data-nodes/mqtt/store';
import type { StoreConfig } from '../data-nodes/mqtt/config';
import { announceReady, bridgeQuery, forkReady, spawnServer, installCleanup } from './common';
import { startInfluxd, type TsdbProcess } from '../test/helpers/tsdb';

export interface TiersBenchRow {
  scenario: string;
  value: number;
  baseline: number | null;
  ratio: number | null;
  goal: string;
}

const DAY0 = 1767225600; // 2026-01-01T00:00:00Z
const NODE = 'benchtiers';

const row = (scenario: string, value: number, baseline: number | null, goal: string): TiersBenchRow => ({
  scenario,
  value: Math.round(value * 1000) / 1000,
  baseline: baseline === null ? null : Math.round(baseline * 1000) / 1000,
  ratio: baseline ? Math.round((value / baseline) * 1000) / 1000 : null,
  goal,
});

/** Deterministic signal: slow sine, noise, rare spikes. */
function signal(i: number, period: number): number {
  const noise = (Math.imul(i, 2654435761) >>> 0) / 4294967296 - 0.5;
  return 20 + 5 * Math.sin((2 * Math.PI * i) / period) + noise + (i % 77777 === 0 ? 50 : 0);
}

async function writeData(
  root: string,
  days: number,
  yearDays: number,
  log: (s: string) => void,
): Promise<{ bytes: number; files: number }> {
  let bytes = 0;
  let files = 0;
  await fsp.mkdir(path.join(root, 'fast'), { recursive: true });
  await fsp.mkdir(path.join(root, 'slow'), { recursive: true });
  const old = new Date(Date.now() - 3600e3);
  for (let f = 0; f < days * 144; f++) {
    const lines: string[] = new Array(6001);
    lines[0] = 'time,v';
    for (let k = 0; k < 6000; k++) {
      const i = f * 6000 + k;
      lines[k + 1] = `${(DAY0 + i / 10).toFixed(1)},${signal(i, 864000 * 3).toFixed(3)}`;
    }
    const d = new Date((DAY0 + f * 600) * 1000).toISOString();
    const p = path.join(root, 'fast', `v_${d.slice(0, 10).replace(/-/g, '')}_${d.slice(11, 16).replace(':', '')}.csv`);
    const text = `${lines.join('\n')}\n`;
    await fsp.writeFile(p, text);
    await fsp.utimes(p, old, old);
    bytes += text.length;
    files++;
    if (f % 720 === 0) log(`tiers: writing 10 Hz files ${f}/${days * 144}`);
  }
  for (let d = 0; d < yearDays; d++) {
    const lines: string[] = new Array(86401);
    lines[0] = 'time,slow';
    for (let k = 0; k < 86400; k++) {
      const i = d * 86400 + k;
      lines[k + 1] = `${DAY0 + i},${signal(i, 86400 * 30).toFixed(3)}`;
    }
    const p = path.join(root, 'slow', `slow_${new Date((DAY0 + d * 86400) * 1000).toISOString().slice(0, 10).replace(/-/g, '')}.csv`);
    const text = `${lines.join('\n')}\n`;
    await fsp.writeFile(p, text);
    await fsp.utimes(p, old, old);
    bytes += text.length;
    files++;
    if (d % 60 === 0) log(`tiers: writing 1 Hz daily files ${d}/${yearDays}`);
  }
  return { bytes, files };
}

async function scanTimed(dbPath: string, root: string, summaries: boolean): Promise<number> {
  const db = openIndexDb(`sqlite:${dbPath}`);
  const s = await Scanner.open({ db, dataDir: root, settleSeconds: 0, summaries });
  const t0 = performance.now();
  try {
    await s.scan();
  } finally {
    await s.close();
    await db.close();
  }
  return (performance.now() - t0) / 1000;
}

function rssOf(pid: number): { rss: number; hwm: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0) / 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

// ------------------------------------------------------------------ the archive node in its own process
async function nodeProc(): Promise<void> {
  const { node } = await runArchiveNode({
    db: process.env.BENCH_DB ?? '',
    name: NODE,
    client: { url: process.env.BENCH_ROUTER ?? '', realm: 'bench', uriBase: 'org.simonsobservatory' },
  });
  await announceReady(node);
}

async function stopProc(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  const t = setTimeout(() => p.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(t);
}

async function grafanaQuery(base: string, target: string, from: number, to: number): Promise<number> {
  const body = JSON.stringify({
    range: { from: new Date(from * 1000).toISOString(), to: new Date(to * 1000).toISOString(), raw: { from: 'now-30d', to: 'now' } },
    intervalMs: Math.round(((to - from) * 1000) / 1000),
    maxDataPoints: 1000,
    targets: [{ target, refId: 'A', type: 'timeserie' }],
  });
  return bridgeQuery(base, body);
}

async function ms<T>(f: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const r = await f();
  return [performance.now() - t0, r];
}

async function median(n: number, f: () => Promise<unknown>): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < n; i++) xs.push((await ms(f))[0]);
  xs.sort((a, b) => a - b);
  return xs[Math.floor(xs.length / 2)] ?? NaN;
}

// ------------------------------------------------------------------ InfluxDB 1.6 peer
async function influxPeer(days: number, log: (s: string) => void): Promise<{ cold: number; warm: number } | null> {
  let db: TsdbProcess;
  try {
    db = await startInfluxd();
  } catch (e) {
    log(`tiers: influxd not started: ${(e as Error).message}`);
    return null;
  }
  const base = db.url;
  try {
    await fetch(`${base}/query?q=${encodeURIComponent('CREATE DATABASE bench')}`, { method: 'POST' });
    log(`tiers: loading ${days * 864000} samples into InfluxDB`);
    const n = days * 864000;
    const batch = 100000;
    for (let i0 = 0; i0 < n; i0 += batch) {
      const lines: string[] = [];
      for (let i = i0; i < Math.min(n, i0 + batch); i++) lines.push(`m v=${signal(i, 864000 * 3).toFixed(3)} ${DAY0 * 1000 + i * 100}`);
      const r = await fetch(`${base}/write?db=bench&precision=ms`, { method: 'POST', body: lines.join('\n') });
      if (r.status !== 204) throw new Error(`influx write: ${r.status} ${await r.text()}`);
    }
    const span = days * 86400;
    const q =
      `SELECT min(v), max(v) FROM m WHERE time >= ${DAY0 * 1000}ms AND time < ${(DAY0 + span) * 1000}ms ` +
      `GROUP BY time(${Math.round(span / 1000)}s)`;
    const query = async () => {
      const r = await fetch(`${base}/query?db=bench&epoch=ms&q=${encodeURIComponent(q)}`);
      const j = (await r.json()) as { results?: Array<{ series?: Array<{ values: unknown[] }> }> };
      const v = j.results?.[0]?.series?.[0]?.values.length ?? 0;
      if (v === 0) throw new Error(`influx query returned nothing: ${JSON.stringify(j).slice(0, 200)}`);
      return v;
    };
    const [cold] = await ms(query);
    const warm = await median(3, query);
    return { cold, warm };
  } catch (e) {
    log(`tiers: InfluxDB peer skipped: ${(e as Error).message}`);
    return null;
  } finally {
    await db.close();
  }
}

// ------------------------------------------------------------------ MQTT store ingest with vs without summaries
/** msg/s of the MQTT store (add + flush per batch, as the ingest calls it), 4 numeric fields a message at 10 Hz. */
function mqttStoreRate(dir: string, summaries: boolean, n: number, batch: number): number {
  const store = new MqttStore({
    path: path.join(dir, `mqtt-${summaries ? 'tiers' : 'plain'}.sqlite`),
    retention: null,
    batchMs: 50,
    batchSize: batch,
    maxPayloadBytes: 65536,
    deadLetters: 10,
    maxFieldsPerMessage: 100,
    maxFieldsPerNode: 100,
    maxRows: 1e7,
    maxQueue: 1e7,
    summaries,
  } as StoreConfig);
  const names = ['a', 'b', 'c', 'd'];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    store.add({
      ok: true,
      rule: 0,
      node: 'bench',
      timeline: 'tl',
      t: DAY0 + i / 10,
      values: names.map((name, k) => ({ name, type: 'number' as const, units: null, description: null, value: signal(i + k, 5000) })),
    });
    if ((i + 1) % batch === 0) store.flush();
  }
  store.flush();
  const s = (performance.now() - t0) / 1000;
  store.close();
  return n / s;
}

// ------------------------------------------------------------------ the run
export interface TiersBenchOptions {
  days?: number;
  yearDays?: number;
  influx?: boolean;
  log?: (s: string) => void;
}

export async function benchTiers(o: TiersBenchOptions = {}): Promise<TiersBenchRow[]> {
  installCleanup();
  const log = o.log ?? (() => {});
  const days = o.days ?? Number(process.env.BENCH_TIERS_DAYS ?? 30);
  const yearDays = o.yearDays ?? Number(process.env.BENCH_TIERS_YEAR_DAYS ?? 365);
  const influx = o.influx ?? process.env.BENCH_TIERS_INFLUX !== '0';
  const tmp = mkdtempSync(path.join(tmpdir(), 'sisock-bench-tiers-'));
  const rows: TiersBenchRow[] = [];
  try {
    const root = path.join(tmp, 'data');
    const { bytes, files } = await writeData(root, days, yearDays, log);
    log(`tiers: ${files} files, ${(bytes / 1e6).toFixed(0)} MB; scanning without summaries`);
    const plainDb = path.join(tmp, 'plain.sqlite');
    const tierDb = path.join(tmp, 'tiers.sqlite');
    const plain = await scanTimed(plainDb, root, false);
    log('tiers: scanning with summaries');
    const withTiers = await scanTimed(tierDb, root, true);
    const sdb = new Database(tierDb, { readonly: true });
    const tierBytes = Number((sdb.prepare('SELECT SUM(LENGTH(data)) + 48 * COUNT(*) AS b FROM archive_tier').get() as { b: number }).b);
    sdb.close();
    rows.push(
      row(`scan ${files} files with summaries (s)`, withTiers, plain, '<= 1.3x without'),
      row('summary bytes (MB) vs raw CSV (MB)', tierBytes / 1e6, bytes / 1e6, '<= 0.05x raw'),
      row('index file with summaries (MB) vs without', statSync(tierDb).size / 1e6, statSync(plainDb).size / 1e6, '(info)'),
    );

    log('tiers: MQTT store ingest with and without summaries');
    const mq = Number(process.env.BENCH_TIERS_MQTT_MESSAGES ?? 200000);
    const plainRate = mqttStoreRate(tmp, false, mq, 1000);
    const tierRate = mqttStoreRate(tmp, true, mq, 1000);
    rows.push(row(`MQTT store ingest ${mq} msgs x 4 fields, with summaries (msg/s)`, tierRate, plainRate, '>= 0.8x without'));

    const router = await spawnServer('sisock');
    const clientOpts = { url: router.url, realm: 'bench', uriBase: 'org.simonsobservatory' };
    const hub = await runHub({ client: clientOpts });
    const consumer = new SisockClient(clientOpts).start();
    const bridge = await startBridge({ client: clientOpts, port: 0, host: '127.0.0.1', page: false, auth: {} });
    let node: ChildProcess | null = null;
    try {
      log('tiers: starting the archive node (cold)');
      node = await forkReady(__filename, { BENCH_ROUTER: router.url, BENCH_DB: `sqlite:${tierDb}` });
      const pid = node.pid ?? 0;
      const fastEnd = DAY0 + days * 86400;
      const [cold, pts] = await ms(async () => {
        const deadline = Date.now() + 30000;
        for (;;) {
          try {
            return await grafanaQuery(bridge.url, `${NODE}::v`, DAY0, fastEnd);
          } catch (e) {
            if (Date.now() > deadline) throw e;
          }
          await new Promise((r) => setTimeout(r, 20));
        }
      });
      const warm = await median(7, () => grafanaQuery(bridge.url, `${NODE}::v`, DAY0, fastEnd));
      const slowEnd = DAY0 + yearDays * 86400;
      const yearWarm = yearDays > 0 ? await median(7, () => grafanaQuery(bridge.url, `${NODE}::slow`, DAY0, slowEnd)) : NaN;
      const hourWarm = yearDays > 0 ? await median(7, () => grafanaQuery(bridge.url, `${NODE}::slow`, slowEnd - 3600, slowEnd)) : NaN;
      const mem = rssOf(pid);
      let peer: { cold: number; warm: number } | null = null;
      if (influx) peer = await influxPeer(days, log);
      rows.push(
        row(`${days} d @ 10 Hz /query 1000 pts, cold node (ms) [${pts} pts]`, cold, peer?.cold ?? null, '<= 300 ms; peer: InfluxDB cold'),
        row(`${days} d @ 10 Hz /query 1000 pts, warm (ms)`, warm, peer?.warm ?? null, '<= 50 ms; >= 50x faster than InfluxDB'),
        row(`${yearDays} d @ 1 Hz /query 1000 pts, warm (ms) vs last hour`, yearWarm, hourWarm, '<= 50 ms; <= 3x the hour'),
        row('archive node RSS peak (MB) vs now', mem.hwm, mem.rss, '<= 150 MB'),
      );
    } finally {
      if (node) await stopProc(node);
      await bridge.close().catch(() => undefined);
      await consumer.close().catch(() => undefined);
      await hub.close().catch(() => undefined);
      await router.stop();
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return rows;
}

if (require.main === module) {
  if (process.argv[2] === 'node-proc') {
    void nodeProc().catch((e: unknown) => {
      console.error(e);
      process.exit(1);
    });
  } else {
    benchTiers({ log: (l) => process.stderr.write(`${l}\n`) }).then(
      (rows) => {
        console.table(rows);
        process.exit(0);
      },
      (e: unknown) => {
        process.stderr.write(`bench tiers failed: ${(e as Error).stack ?? String(e)}\n`);
        process.exit(1);
      },
    );
  }
}
