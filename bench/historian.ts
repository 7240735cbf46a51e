/**
 * `make bench` — history (issue 13), each figure beside a baseline measured in the same run:
 *
 *   1. historian ingest into the embedded store (raw rows + summary tiers, idempotent, one
 *      transaction per flush) vs a bare batched SQLite insert of the same rows (goal ≥ 100k samples/s);
 *   2. the exporter into InfluxDB 1.6 (line protocol, disk buffer, batched writer) vs a bare batched
 *      line-protocol POST loop of the same samples (goal ≥ 0.8×);
 *   3. `sisock node influx`: a month-long range thinned to 1,000 points through router and node vs
 *      the same InfluxQL posted to InfluxDB directly (goal ≤ 1.2×). Dataset: --days (default 30) at
 *      --rate Hz (default 1: the 10 Hz is --rate=10, 26 M points to write first).
 *
 * influxd (Debian's) runs in its own process on a free port with a temporary data directory; the
 * store, the exporter and the node run in this process.
 *
 *   node dist/bench/historian.js [--samples=N] [--days=D] [--rate=HZ]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { getData, SisockClient } from '../client';
import { runDataNode } from '../data-nodes/sdk';
import { InfluxSource } from '../data-nodes/influx';
import { startRouter } from '../router/server';
import { devConfig } from '../router/config';
import { openExporter, formatPoint } from '../historian/export';
import { HistoryStore } from '../historian/store';
import { available, influxQuery, startInfluxd } from '../test/helpers/tsdb';
import type { BenchRow } from './common';

export type { BenchRow };

function arg(name: string, def: number): number {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.split('=')[1]) : def;
}

/** 10 fields × `rows` rows per result, 10 Hz, `n` samples in all. */
function* results(
  n: number,
  t0: number,
): Generator<{ data: Record<string, number[]>; timeline: Record<string, { t: number[]; finalized_until: null }> }> {
  const rows = 1000;
  for (let done = 0, k = 0; done < n; k++) {
    const t = Array.from({ length: rows }, (_, i) => t0 + (k * rows + i) * 0.1);
    const data: Record<string, number[]> = {};
    for (let f = 0; f < 10; f++) data[`f${f}`] = t.map((_, i) => Math.sin(i + f) * 100);
    done += rows * 10;
    yield { data, timeline: { tl: { t, finalized_until: null } } };
  }
}

async function benchIngest(n: number, dir: string): Promise<BenchRow> {
  const t0 = Math.floor(Date.now() / 1000) - 86400;
  const store = new HistoryStore({ path: path.join(dir, 'h.sqlite'), flushRows: 20000 });
  const all = [...results(n, t0)];
  let s = process.hrtime.bigint();
  for (const r of all) store.write('bench', r);
  store.flush();
  const mine = n / (Number(process.hrtime.bigint() - s) / 1e9);
  store.close();
  // bare: the same rows into the same raw table shape, 20k rows per transaction
  const db = new Database(path.join(dir, 'bare.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE samples (field_id INTEGER NOT NULL, t REAL NOT NULL, v, PRIMARY KEY (field_id, t)) WITHOUT ROWID');
  const ins = db.prepare('INSERT OR IGNORE INTO samples (field_id, t, v) VALUES (?, ?, ?)');
  const tx = db.transaction((rows: Array<[number, number, number]>) => {
    for (const r of rows) ins.run(...r);
  });
  s = process.hrtime.bigint();
  let batch: Array<[number, number, number]> = [];
  for (const r of all) {
    for (let f = 0; f < 10; f++) {
      const v = r.data[`f${f}`] ?? [];
      const t = r.timeline.tl?.t ?? [];
      for (let i = 0; i < t.length; i++) batch.push([f + 1, t[i] ?? 0, v[i] ?? 0]);
    }
    if (batch.length >= 20000) {
      tx(batch);
      batch = [];
    }
  }
  tx(batch);
  const bare = n / (Number(process.hrtime.bigint() - s) / 1e9);
  db.close();
  return {
    scenario: 'historian ingest, samples/s (bare batched SQLite insert)',
    value: mine,
    baseline: bare,
    ratio: mine / bare,
    goal: '≥ 100k/s',
  };
}

async function benchExport(n: number, url: string, dir: string, rounds = 2): Promise<BenchRow[]> {
  const t0 = Math.floor(Date.now() / 1000) - 86400;
  const all = [...results(n, t0)];
  // bare: the same lines (formatted beforehand, not timed), POSTed 5000 at a time, one request after the other
  const lines: string[] = [];
  for (const r of all) {
    const t = r.timeline.tl?.t ?? [];
    for (const [f, v] of Object.entries(r.data))
      for (let i = 0; i < t.length; i++)
        lines.push(
          formatPoint({ measurement: 'bench', tags: {}, fields: { [f]: { kind: 'float', value: v[i] ?? 0 } }, t: t[i] ?? 0 }, 'u'),
        );
  }
  let mine = 0;
  let bare = 0;
  let bare2 = 0;
  // rounds in alternating order, each into a fresh database; the best of each is kept (shared, noisy box)
  for (let round = 0; round < rounds; round++) {
    for (const which of round % 2 ? ['bare', 'bare2', 'mine'] : ['mine', 'bare2', 'bare']) {
      const db = `bench_${which}_${round}`;
      await influxQuery(url, `CREATE DATABASE ${db}`);
      const s = process.hrtime.bigint();
      if (which === 'mine') {
        // the samples arrive as a stream: conversion and the disk buffer overlap the writes
        const ex = openExporter({
          target: { kind: 'influx1', url, db },
          dir: path.join(dir, `export${round}`),
          batchLines: 5000,
          batchMs: 50,
        });
        for (const r of all) {
          ex.write('bench', r);
          await new Promise((res) => setImmediate(res));
        }
        if (!(await ex.flush(600000))) throw new Error('exporter did not drain');
        mine = Math.max(mine, n / (Number(process.hrtime.bigint() - s) / 1e9));
        await ex.close();
      } else if (which === 'bare2') {
        // the same loop with two requests in flight, as the exporter's writer does
        const post = async (i: number) => {
          const res = await fetch(`${url}/write?db=${db}&precision=u`, { method: 'POST', body: lines.slice(i, i + 5000).join('\n') });
          if (res.status !== 204) throw new Error(`bare write: ${res.status}`);
        };
        for (let i = 0; i < lines.length; i += 10000) await Promise.all([post(i), i + 5000 < lines.length ? post(i + 5000) : null]);
        bare2 = Math.max(bare2, n / (Number(process.hrtime.bigint() - s) / 1e9));
      } else {
        for (let i = 0; i < lines.length; i += 5000) {
          const res = await fetch(`${url}/write?db=${db}&precision=u`, { method: 'POST', body: lines.slice(i, i + 5000).join('\n') });
          if (res.status !== 204) throw new Error(`bare write: ${res.status}`);
        }
        bare = Math.max(bare, n / (Number(process.hrtime.bigint() - s) / 1e9));
      }
    }
  }
  return [
    { scenario: 'exporter → influxd 1.6, samples/s (bare POST loop)', value: mine, baseline: bare, ratio: mine / bare, goal: '≥ 0.8×' },
    {
      scenario: 'exporter → influxd 1.6, samples/s (bare loop, 2 in flight)',
      value: mine,
      baseline: bare2,
      ratio: mine / bare2,
      goal: '(information)',
    },
  ];
}

async function benchNodeInflux(url: string, days: number, rate: number, log: (s: string) => void): Promise<BenchRow> {
  await influxQuery(url, 'CREATE DATABASE bench_node');
  const end = Math.floor(Date.now() / 1000 / 3600) * 3600;
  const start = end - days * 86400;
  const total = Math.round(days * 86400 * rate);
  log(`writing ${total} points (${days} d at ${rate} Hz)`);
  for (let i = 0; i < total; i += 20000) {
    const body: string[] = [];
    for (let k = i; k < Math.min(total, i + 20000); k++)
      body.push(`telemetry,host=a temp=${(Math.sin(k / 1000) * 50).toFixed(3)} ${Math.round((start + k / rate) * 1e9)}`);
    const res = await fetch(`${url}/write?db=bench_node`, { method: 'POST', body: body.join('\n') });
    if (res.status !== 204) throw new Error(`write: ${res.status}`);
  }
  const { router, urls } = await startRouter(devConfig({ port: 0, realm: 'bench' })).then((r) => ({ router: r, urls: r.urls }));
  const wsUrl = urls[0] ?? '';
  const source = new InfluxSource({ url, db: 'bench_node' });
  const node = await runDataNode({
    name: 'influx',
    description: 'bench',
    source,
    client: { url: wsUrl, realm: 'bench', uriBase: 'org.simonsobservatory' },
  });
  const client = new SisockClient({ url: wsUrl, realm: 'bench', uriBase: 'org.simonsobservatory' }).start();
  await client.whenReady(10000);
  const field = 'telemetry,host=a.temp';
  const stride = (end - start) / 1000;
  const [f] = await source.getFields();
  const ref = f[field]
    ? { measurement: 'telemetry', tags: [['host', 'a']] as Array<[string, string]>, field: 'temp', type: 'number' as const }
    : null;
  if (!ref) throw new Error('field not found');
  const q = source.statement(ref, start, end, stride);
  const time = async (fn: () => Promise<unknown>): Promise<number> => {
    const xs: number[] = [];
    for (let i = 0; i < 15; i++) {
      const s = process.hrtime.bigint();
      await fn();
      xs.push(Number(process.hrtime.bigint() - s) / 1e6);
    }
    return xs.sort((a, b) => a - b)[7] ?? 0;
  };
  let points = 0;
  const mine = await time(async () => {
    const r = await getData(client, 'influx', [field], start, end, stride);
    points = r.data[field]?.length ?? 0;
  });
  const own = await time(() =>
    fetch(`${url}/query`, { method: 'POST', body: new URLSearchParams({ q, db: 'bench_node', epoch: 'u' }) }).then((r) => r.json()),
  );
  log(`node answer: ${points} points`);
  await client.close();
  await node.close();
  await router.close();
  return {
    scenario: `node influx, ${days} d × ${rate} Hz → ${points} points, ms (InfluxDB's own query)`,
    value: mine,
    baseline: own,
    ratio: mine / own,
    goal: '≤ 1.2×',
  };
}

export async function benchHistorian(
  o: { samples?: number; days?: number; rate?: number; log?: (s: string) => void } = {},
): Promise<BenchRow[]> {
  const log = o.log ?? ((s: string) => console.error(`  [historian] ${s}`));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sisock-bench-hist-'));
  const rows: BenchRow[] = [];
  try {
    rows.push(await benchIngest(o.samples ?? 500_000, dir));
    if (!available('influxd')) {
      log('influxd missing (make test-deps): InfluxDB figures skipped');
      return rows;
    }
    const db = await startInfluxd();
    try {
      rows.push(...(await benchExport(o.samples ?? 500_000, db.url, dir)));
      rows.push(await benchNodeInflux(db.url, o.days ?? 30, o.rate ?? 1, log));
    } finally {
      await db.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

if (require.main === module) {
  void benchHistorian({ samples: arg('samples', 500_000), days: arg('days', 30), rate: arg('rate', 1) }).then(
    (rows) => {
      for (const r of rows)
        console.log(`${r.scenario}: ${r.value.toFixed(1)} vs ${r.baseline.toFixed(1)} (${r.ratio.toFixed(2)}×, goal ${r.goal})`);
    },
    (e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
