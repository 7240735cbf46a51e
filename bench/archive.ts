/**
 * Archive benchmarks (scanner, index and reader of `sisock node archive`). `benchArchive()` generates its
 * files in a temporary directory, runs each scenario beside a baseline measured in the same run, removes
 * everything, and returns rows:
 *
 *   scan 10,000 files (s)           baseline: walk + read + decode every file, no index     goal <= 10 s
 *   rescan, unchanged (s)           baseline: a plain directory walk (readdir + stat)       goal <= 1 s
 *   get_data 1 day 10 Hz / 144 files, cold cache (ms)   baseline: read + decode + merge the
 *                                   144 files directly, without the index                    goal <= 100 ms
 *   … warm cache, and warm with min_stride 60 s (info)
 *
 * The index is SQLite; with env SISOCK_BENCH_MYSQL_URL (or SISOCK_TEST_MYSQL_URL) the scan rows are
 * repeated on MySQL/MariaDB under a unique table prefix that is dropped afterwards.
 * Standalone: `node dist/bench/archive.js` (or via bench/run.ts).
 */
import { promises as fsp, mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ArchiveSource, openIndexDb, Scanner, mergeSegments, type IndexDb } from '../data-nodes/archive';
import { detectFormat } from '../data-nodes/archive/formats';

export interface ArchiveBenchRow {
  scenario: string;
  value: number;
  baseline: number | null;
  ratio: number | null;
  goal: string;
}

export interface ArchiveBenchOptions {
  files?: number;
  log?: (line: string) => void;
}

const DAY0 = 1767225600; // 2026-01-01T00:00:00Z

async function writeMany(files: Array<[string, string]>, concurrency = 32): Promise<void> {
  const dirs = new Set(files.map(([p]) => path.dirname(p)));
  for (const d of dirs) await fsp.mkdir(d, { recursive: true });
  let i = 0;
  const old = new Date(Date.now() - 3600e3);
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let f = files[i++]; f !== undefined; f = files[i++]) {
        const [p, c] = f;
        await fsp.writeFile(p, c);
        await fsp.utimes(p, old, old); // an archive: written long ago
      }
    }),
  );
}

/** 10,000 small files: 2/3 CSV (50 rows, 2 columns), 1/3 weather .dat (50 lines), 100 directories. */
function manyFiles(root: string, n: number): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < n; i++) {
    const dir = path.join(root, `d${String(i % 100).padStart(3, '0')}`);
    const t0 = DAY0 + i * 60;
    if (i % 3 === 2) {
      const lines = Array.from({ length: 50 }, (_, k) => `${t0 + k} ${(Math.sin(i + k) * 10).toFixed(3)}`);
      out.push([path.join(dir, `w${i}.dat`), `# bench field ${i % 7}\n# w${i % 7}\n# K\n${lines.join('\n')}\n`]);
    } else {
      const rows = Array.from({ length: 50 }, (_, k) => `${t0 + k},${(Math.cos(i + k) * 10).toFixed(3)},${k % 2 === 0}`);
      out.push([path.join(dir, `log${i % 5}_${i}.csv`), `time,temp [K],valve\n${rows.join('\n')}\n`]);
    }
  }
  return out;
}

/** One day of 10 Hz data in 144 CSV files of 10 minutes (6000 rows, 2 columns). */
function dayFiles(root: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let f = 0; f < 144; f++) {
    const rows: string[] = new Array(6000);
    for (let k = 0; k < 6000; k++) {
      const t = DAY0 + f * 600 + k / 10;
      rows[k] = `${t.toFixed(1)},${(Math.sin(t / 100) * 5).toFixed(4)},${(Math.cos(t / 37) * 2).toFixed(4)}`;
    }
    out.push([path.join(root, `fast_${String(f).padStart(3, '0')}.csv`), `time,x [mm],y [mm]\n${rows.join('\n')}\n`]);
  }
  return out;
}

async function walk(root: string): Promise<string[]> {
  const out: string[] = [];
  const dirs = [root];
  while (dirs.length) {
    const d = dirs.pop()!;
    for (const e of await fsp.readdir(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) dirs.push(p);
      else out.push(p);
    }
  }
  let i = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      for (let f = out[i++]; f !== undefined; f = out[i++]) await fsp.stat(f);
    }),
  );
  return out;
}

/** The baseline reader: every file decoded, no index, no cache. */
async function decodeAll(root: string, files: string[], merge: boolean): Promise<number> {
  let i = 0;
  let samples = 0;
  const segs: Array<{ t: Float64Array; lo: number; hi: number; cols: Array<Float64Array>; order: [number, string] }> = [];
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let f = files[i++]; f !== undefined; f = files[i++]) {
        const rel = path.relative(root, f).split(path.sep).join('/');
        const fmt = detectFormat(rel);
        if (!fmt) continue;
        const d = fmt.decode(await fsp.readFile(f), { relPath: rel });
        for (const tl of d.timelines) {
          samples += tl.t.length;
          if (merge)
            segs.push({
              t: tl.t,
              lo: 0,
              hi: tl.t.length,
              cols: tl.columns.map((c) => c.values as Float64Array),
              order: [tl.t[0] ?? NaN, rel],
            });
        }
      }
    }),
  );
  if (merge && segs[0]) {
    const m = mergeSegments(segs, segs[0].cols.length);
    for (const c of m.cols) Array.from(c, (v) => (v === v ? v : null));
  }
  return samples;
}

const time = async <T>(f: () => Promise<T>): Promise<[number, T]> => {
  const t0 = performance.now();
  const r = await f();
  return [(performance.now() - t0) / 1000, r];
};

const row = (scenario: string, value: number, baseline: number | null, goal: string): ArchiveBenchRow => ({
  scenario,
  value: Math.round(value * 1000) / 1000,
  baseline: baseline === null ? null : Math.round(baseline * 1000) / 1000,
  ratio: baseline ? Math.round((value / baseline) * 100) / 100 : null,
  goal,
});

async function scanRows(label: string, db: IndexDb, root: string, files: string[]): Promise<ArchiveBenchRow[]> {
  const scanner = await Scanner.open({ db, dataDir: root, settleSeconds: 2 });
  try {
    const [baseRead] = await time(() => decodeAll(root, files, false));
    const [first, r1] = await time(() => scanner.scan());
    if (r1.added !== files.length) throw new Error(`scan indexed ${r1.added} of ${files.length} files`);
    const [baseWalk] = await time(() => walk(root));
    const [again, r2] = await time(() => scanner.scan());
    if (r2.unchanged !== files.length) throw new Error(`rescan found ${files.length - r2.unchanged} changed files`);
    return [
      row(`archive scan ${files.length} files, ${label} (s)`, first, baseRead, '<=10 s'),
      row(`archive rescan unchanged, ${label} (s)`, again, baseWalk, '<=1 s'),
    ];
  } finally {
    await scanner.close();
  }
}

export async function benchArchive(o: ArchiveBenchOptions = {}): Promise<ArchiveBenchRow[]> {
  const log = o.log ?? (() => {});
  const tmp = mkdtempSync(path.join(tmpdir(), 'sisock-bench-archive-'));
  const rows: ArchiveBenchRow[] = [];
  try {
    const many = path.join(tmp, 'many');
    const n = o.files ?? 10000;
    log(`archive: writing ${n} files`);
    const list = manyFiles(many, n);
    await writeMany(list);
    const paths = list.map(([p]) => p);

    const sqlite = openIndexDb(`sqlite:${path.join(tmp, 'index.sqlite')}`);
    try {
      log('archive: scanning (sqlite)');
      rows.push(...(await scanRows('sqlite', sqlite, many, paths)));
    } finally {
      await sqlite.close();
    }

    const mysqlUrl = process.env.SISOCK_BENCH_MYSQL_URL ?? process.env.SISOCK_TEST_MYSQL_URL;
    if (mysqlUrl) {
      const prefix = `bench_${randomBytes(3).toString('hex')}_`;
      const u = new URL(mysqlUrl);
      u.searchParams.set('prefix', prefix);
      const my = openIndexDb(u.toString());
      try {
        log('archive: scanning (mysql)');
        rows.push(...(await scanRows('mysql', my, many, paths)));
      } catch (e) {
        log(`archive: mysql rows skipped: ${(e as Error).message}`);
      } finally {
        await my.close();
        const mysql = await import('mysql2/promise');
        const c = await mysql.createConnection({ uri: mysqlUrl.replace(/\?.*$/, '') }).catch(() => null);
        if (c) {
          await c
            .query(`DROP TABLE IF EXISTS ${['meta', 'file', 'field', 'lock', 'tier'].map((t) => prefix + t).join(', ')}`)
            .catch(() => {});
          await c.end();
        }
      }
    }

    log('archive: get_data over one day of 10 Hz data in 144 files');
    const day = path.join(tmp, 'day');
    const dl = dayFiles(day);
    await writeMany(dl, 8);
    const dayDb = openIndexDb(`sqlite:${path.join(tmp, 'day.sqlite')}`);
    const sc = await Scanner.open({ db: dayDb, dataDir: day, settleSeconds: 0 });
    await sc.scan();
    await sc.close();
    const src = new ArchiveSource({ db: dayDb });
    try {
      const fields = ['x', 'y'];
      const [base] = await time(() =>
        decodeAll(
          day,
          dl.map(([p]) => p),
          true,
        ),
      );
      const [cold, r] = await time(() => src.getData(fields, DAY0, DAY0 + 86400, null));
      if (r.timeline.fast?.t.length !== 864000) throw new Error(`get_data returned ${r.timeline.fast?.t.length} samples, not 864000`);
      let warm = Infinity;
      for (let i = 0; i < 3; i++) warm = Math.min(warm, (await time(() => src.getData(fields, DAY0, DAY0 + 86400, null)))[0]);
      let strided = Infinity;
      for (let i = 0; i < 3; i++) strided = Math.min(strided, (await time(() => src.getData(fields, DAY0, DAY0 + 86400, 60)))[0]);
      let fieldsT = Infinity;
      for (let i = 0; i < 3; i++) fieldsT = Math.min(fieldsT, (await time(() => src.getFields(DAY0, DAY0 + 86400)))[0]);
      rows.push(
        row('archive get_data 1 day 10 Hz / 144 files, cold (ms)', cold * 1000, base * 1000, '<=100 ms'),
        row('archive get_data 1 day 10 Hz / 144 files, warm cache (ms)', warm * 1000, base * 1000, '<=100 ms'),
        row('archive get_data same, min_stride 60 s, warm (ms)', strided * 1000, base * 1000, '(info)'),
        row('archive get_fields from the index (ms)', fieldsT * 1000, null, '(info)'),
      );
    } finally {
      await src.close();
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return rows;
}

if (require.main === module) {
  benchArchive({ log: (l) => process.stderr.write(`${l}\n`) }).then(
    (rows) => {
      console.table(rows);
    },
    (e: unknown) => {
      process.stderr.write(`bench archive failed: ${(e as Error).stack ?? String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
