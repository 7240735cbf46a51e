/**
 * G3 housekeeping benchmarks (issue 12). `benchG3()` writes its files in a temporary directory and
 * returns rows, each beside a baseline measured in the same run:
 *
 *   decode G3 HK (samples/s)          baseline: the CSV reader on the same samples        goal >= 10x
 *     one 1 Hz provider, 20 float fields, `hours` of data written both as one G3 file (5-min data
 *     frames, as the OCS aggregator writes) and as one CSV file (time + 20 columns); each decoded
 *     from memory by its archive format, the readers in turn for `rounds` rounds, each 3 times in a
 *     row a round; its best decode.
 *   scan a G3 archive (s)             baseline: reading the same files' bytes             goal <= 1.5x
 *     the same provider over `days`, one file per hour (OCS rotates hourly), scanned into a fresh
 *     SQLite index, until the index is closed (its write-ahead log checkpointed), and again without
 *     summary tiers, for information; the baseline reads every file
 *     (fs.readFile, 8 at a time; warm, its time on this VM has two modes minutes apart, 1.1-1.6 s or
 *     3.2-3.6 s for a year's 5.1 GiB, cause not found, and the warm ratio moves with it: the floor rows
 *     below are the steadier comparison). Page cache warm for both, and cold: the files evicted from
 *     the page cache (`dd iflag=nocache count=0`, posix_fadvise DONTNEED, no root needed) before the
 *     timed read and before the timed scan. Each scan is timed right after its own read (a pair), and
 *     `scanRounds` pairs of each kind with tiers give the row: the median scan, the median read, the
 *     median of the pairs' ratios (not the ratio of the medians; the pairs are listed); one pair each
 *     without tiers. The cold scans run as by default (scanner.ts `directIo` 'auto'), which reads files
 *     the page cache mostly does not hold around it (O_DIRECT); `scanRounds` more pairs of cold scans
 *     read them through the cache ('never'), for information. Up to 30 days of the
 *     files (symbolic links to them) are scanned first, untimed, so that no timed scan pays the JIT
 *     warm-up: the scanners of one process share their decode workers (DecodePool.lease), which need a
 *     few hundred files to be compiled (one day's files were not enough: the first timed scan then ran
 *     ~1.5x slower than the next ones).
 *     For information, the scan's index writes alone (the batches of one more scan written again into a
 *     fresh index, nothing decoded: what the scanner's own thread cannot do faster), the size of the
 *     index that scan made (closed, its log checkpointed), and
 *     the floor of any scan that checks every frame: each file read and CRC-32C'd, one
 *     at a time, then on one thread per core (warm and cold). (The scanner's content hash of a G3 file
 *     comes from its frames' CRCs, so no sha1 of its bytes: formats/g3 frameFingerprint.) Then the
 *     floor of a scan that also builds the tiers: each file read, CRC-32C'd and a decoded file of the
 *     same values summarised by the scanner's own code, on one thread per core, warm; and that plus
 *     the index writes alone shared out over the cores (`floor + writes / cores`: the core-seconds of
 *     the work no scan can skip, on every core at once), the least a warm scan of this index can take.
 *
 * Standalone: `node dist/bench/g3.js [--hours=24] [--days=30] [--rounds=3] [--scan-rounds=3]` (--days=0: decode
 * rows only; 30 days by default: with 7, a warm read of the 101 MiB took 0.03 s and the scan's fixed costs,
 * the index's close first, made the ratio). A year: --days=365, 8760 files, 5.3 GB of disk in $TMPDIR,
 * about 6 min on 2 cores with 3 scan rounds (~1.5 min writing the files, the rest the scans, the reads and
 * the evictions). Via bench/run.ts: `node dist/bench/run.js g3` (env SISOCK_BENCH_G3_DAYS /
 * SISOCK_BENCH_G3_HOURS set the sizes).
 */
import { execFile } from 'node:child_process';
import { promises as fsp, mkdtempSync, rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { deserialize, serialize } from 'node:v8';
import os, { tmpdir } from 'node:os';
import { Worker } from 'node:worker_threads';
import * as path from 'node:path';
import { openIndexDb, Scanner, type DirectIo } from '../data-nodes/archive';
import type { WriteBatch } from '../data-nodes/archive/index-db/types';
import { csvFormat } from '../data-nodes/archive/formats/csv';
import { g3Format, HkReader, readFrames, timelinesOf } from '../data-nodes/archive/formats/g3';
import { crc32c } from '../data-nodes/archive/formats/g3/crc32c';
import { dataFrame, sessionFrame, statusFrame, type HkField } from './g3-writer';

export interface G3BenchRow {
  scenario: string;
  value: number;
  baseline: number | null;
  ratio: number | null;
  goal: string;
}
export interface G3BenchOptions {
  hours?: number;
  days?: number;
  rounds?: number;
  /** Timed scans of each kind (warm, cold), each paired with a read just before it (default 3). */
  scanRounds?: number;
  log?: (line: string) => void;
}

const execFileP = promisify(execFile);
const T0 = 1767225600;
const FIELDS = 20;
const FRAME_S = 300;
const DESC = 'observatory.bench.feeds.hk';

function values(t0: number, n: number, f: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => Math.round(Math.sin((t0 + i) / (60 + f)) * 1e6) / 1e4 + f);
}

/** `seconds` of 1 Hz data from `t0` as a G3 HK file (session, status, 5-minute data frames). */
function g3File(t0: number, seconds: number): Buffer {
  const sid = BigInt(t0) << 28n;
  const parts = [sessionFrame(sid, t0), statusFrame(sid, t0, [{ id: 0, description: DESC }])];
  for (let a = 0; a < seconds; a += FRAME_S) {
    const n = Math.min(FRAME_S, seconds - a);
    const ticks = BigInt64Array.from({ length: n }, (_, i) => BigInt(t0 + a + i) * 100000000n);
    const fields: HkField[] = Array.from({ length: FIELDS }, (_, f) => ({
      name: `field_${String(f).padStart(2, '0')}`,
      kind: 'double',
      values: values(t0 + a, n, f),
    }));
    parts.push(dataFrame(sid, 0, t0 + a + n, [{ name: 'main', ticks, fields }], DESC));
  }
  return Buffer.concat(parts);
}

function csvFile(t0: number, seconds: number): Buffer {
  const cols = Array.from({ length: FIELDS }, (_, f) => values(t0, seconds, f));
  const lines = [`time,${Array.from({ length: FIELDS }, (_, f) => `field_${String(f).padStart(2, '0')}`).join(',')}`];
  for (let i = 0; i < seconds; i++) lines.push(`${t0 + i},${cols.map((c) => c[i]).join(',')}`);
  return Buffer.from(`${lines.join('\n')}\n`);
}

/** Seconds `f` takes (after `before`, untimed). */
const time = async <T>(f: () => T | Promise<T>, before?: () => Promise<void>): Promise<[number, T]> => {
  await before?.();
  const t0 = performance.now();
  const r = await f();
  return [(performance.now() - t0) / 1000, r];
};

const row = (scenario: string, value: number, baseline: number | null, goal: string): G3BenchRow => ({
  scenario,
  value: Math.round(value * 1000) / 1000,
  baseline: baseline === null ? null : Math.round(baseline * 1000) / 1000,
  ratio: baseline ? Math.round((value / baseline) * 100) / 100 : null,
  goal,
});

async function decodeRows(hours: number, rounds: number, log: (s: string) => void): Promise<G3BenchRow[]> {
  const seconds = hours * 3600;
  log(`g3: writing ${hours} h of 1 Hz x ${FIELDS} fields as G3 and CSV`);
  const g3 = g3File(T0, seconds);
  const csv = csvFile(T0, seconds);
  const samples = seconds * FIELDS;
  const check = (d: { timelines: Array<{ t: Float64Array; columns: unknown[] }> }, what: string): void => {
    const n = d.timelines.reduce((k, t) => k + t.t.length * t.columns.length, 0);
    if (n !== samples) throw new Error(`${what} decoded ${n} samples, expected ${samples}`);
  };
  const g3Decode = () => g3Format.decode(g3, { relPath: 'hk.g3' });
  // For information: the same decode without the frame CRC check (what the CRC costs in JS).
  const g3NoCrc = () => {
    const fo = { file: 'hk.g3', checkCrc: false, allowPartialTail: true };
    const hk = new HkReader();
    for (const f of readFrames(g3, fo).frames) hk.add(f, fo);
    return { timelines: timelinesOf(hk.providers) };
  };
  const csvDecode = () => csvFormat.decode(csv, { relPath: 'hk.csv' });
  // Warm-up, the same rule for each reader: at least 20 decodes and 1 s of them. A fresh process takes
  // ~10-20 decodes of the 24 h G3 file to reach its steady speed (JIT tiers and V8's heap sizing: 80-140 ms
  // for the first, ~24 ms from about the 13th on, seen under load); a node serving an archive lives in
  // that steady state. Three rounds, as before, measured mostly the warm-up.
  for (const decode of [g3Decode, csvDecode, g3NoCrc]) {
    const until = performance.now() + 1000;
    for (let r = 0; r < 20 || performance.now() < until; r++) decode();
  }
  // The readers take turns, round by round, and each keeps its best round: this 2-core VM has stretches
  // of a second or more where everything runs ~1.7x slower (the same CRC loop: 6.5 ms, then 11.5 ms), so
  // runs of rounds one reader after the other compared one reader's good stretch with another's bad one.
  let bestG3 = Infinity;
  let bestCsv = Infinity;
  let bestNoCrc = Infinity;
  // Within a round each reader decodes 3 times in a row and keeps its best: the first one after another
  // reader's turn paid for that reader's garbage (a full collection inside the timed decode: in one
  // process of two or three, the G3 decode with its CRC took ~11 ms, not ~7, in every round: 8.3-9.8x,
  // not 14-15x; with 3 in a row, 13.5-14.9x in 5 processes of 5).
  const bestOf3 = async (decode: () => Parameters<typeof check>[0], what: string): Promise<number> => {
    let best = Infinity;
    for (let k = 0; k < 3; k++) {
      const [t, d] = await time(decode);
      check(d, what);
      best = Math.min(best, t);
    }
    return best;
  };
  for (let r = 0; r < rounds; r++) {
    bestG3 = Math.min(bestG3, await bestOf3(g3Decode, 'G3'));
    bestCsv = Math.min(bestCsv, await bestOf3(csvDecode, 'CSV'));
    bestNoCrc = Math.min(bestNoCrc, await bestOf3(g3NoCrc, 'G3 without CRC'));
  }
  const g3Rate = samples / bestG3;
  const csvRate = samples / bestCsv;
  const mib = (b: Buffer): string => `${(b.length / 2 ** 20).toFixed(0)} MiB`;
  return [
    {
      scenario: `decode G3 HK, ${samples.toLocaleString('en-US')} samples (${mib(g3)}; CSV ${mib(csv)}) (samples/s)`,
      value: Math.round(g3Rate),
      baseline: Math.round(csvRate),
      ratio: Math.round((g3Rate / csvRate) * 100) / 100,
      goal: '>=10x the CSV reader',
    },
    row('  the same G3 decode without the frame CRC check (samples/s)', Math.round(samples / bestNoCrc), Math.round(csvRate), 'info'),
  ];
}

/**
 * Drops the files' pages from the page cache: `dd iflag=nocache count=0` (posix_fadvise DONTNEED; no
 * root needed, dirty pages are not dropped, so the files were synced after writing).
 */
async function evict(files: string[]): Promise<void> {
  for (let i = 0; i < files.length; i += 500) {
    const part = files.slice(i, i + 500);
    await execFileP('sh', ['-c', 'for f; do dd if="$f" iflag=nocache count=0 status=none || exit 1; done', 'sh', ...part]);
  }
}

async function scanRows(days: number, scanRounds: number, root: string, log: (s: string) => void): Promise<G3BenchRow[]> {
  const dir = path.join(root, 'hk');
  const files: string[] = [];
  log(`g3: writing ${days} days of hourly G3 files`);
  for (let h = 0; h < days * 24; h++) {
    const t0 = T0 + h * 3600;
    const d = path.join(dir, String(Math.floor(t0 / 1e5)));
    await fsp.mkdir(d, { recursive: true });
    const p = path.join(d, `${t0}.g3`);
    await fsp.writeFile(p, g3File(t0, 3600));
    files.push(p);
  }
  const old = new Date(Date.now() - 3600e3);
  for (const f of files) await fsp.utimes(f, old, old);
  await execFileP('sync', []); // dirty pages cannot be evicted
  const readAll = async (): Promise<number> => {
    let i = 0;
    let bytes = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (i < files.length) {
          const b = await fsp.readFile(files[i++] ?? '');
          bytes += b.length;
        }
      }),
    );
    return bytes;
  };
  const bytes = await readAll(); // warms the page cache
  const scanOnce = async (name: string, summaries: boolean, cold: boolean, dataDir = dir, directIo?: DirectIo): Promise<number> => {
    const db = openIndexDb(`sqlite:${path.join(root, name)}`);
    try {
      const scanner = await Scanner.open({ db, dataDir, settleSeconds: 0, summaries, ...(directIo ? { directIo } : {}) });
      try {
        log(
          `g3: scanning ${files.length} files, ${(bytes / 2 ** 20).toFixed(0)} MiB${summaries ? '' : ' (no summary tiers)'}, ${cold ? 'cold' : 'warm'}`,
        );
        // timed to the index closed: SQLite checkpoints its WAL then (index-db/sqlite.ts: every 64 MiB
        // during a scan), so the copy of the log into the database is part of the time
        const [t, r] = await time(
          async () => {
            const res = await scanner.scan();
            await scanner.close();
            await db.close();
            return res;
          },
          cold ? () => evict(files) : undefined,
        );
        if (dataDir === dir && (r.added !== files.length || r.errors))
          throw new Error(`scan indexed ${r.added} of ${files.length} files (${r.errors} errors)`);
        return t;
      } finally {
        await scanner.close();
      }
    } finally {
      await db.close();
      for (const x of ['', '-wal', '-shm']) rmSync(path.join(root, name + x), { force: true });
    }
  };
  const label = `${days} days, ${files.length} files, ${(bytes / 2 ** 30).toFixed(2)} GiB`;
  // Untimed: up to 30 days of the files scanned first (links to them), so no timed scan pays the JIT warm-up.
  const warmDir = path.join(root, 'warm-up');
  await fsp.mkdir(warmDir);
  for (const f of files.slice(0, 30 * 24)) await fsp.symlink(f, path.join(warmDir, path.basename(f)));
  await scanOnce('warm-up.sqlite', true, false, warmDir);
  // Each timed scan right after a timed read of the same files in the same state (warm, or evicted
  // first): this VM's read from disk took anywhere from 4.2 to 9.1 s within an hour, so a scan compared
  // with a read taken minutes apart was a comparison of two moments. Each row is the median over
  // `scanRounds` of those pairs: its value the median scan, its ratio the median of the pairs' ratios.
  const pairs = new Map<string, Array<{ scan: number; read: number }>>();
  const pair = async (name: string, summaries: boolean, cold: boolean, directIo?: DirectIo): Promise<void> => {
    const prepare = cold ? () => evict(files) : async () => void (await readAll());
    const [read] = await time(readAll, prepare);
    const scan = await scanOnce(`index-${name}.sqlite`, summaries, cold, dir, directIo);
    pairs.set(name, [...(pairs.get(name) ?? []), { scan, read }]);
  };
  for (let r = 0; r < scanRounds; r++) {
    await pair('warm', true, false);
    // the two cold kinds in turn first (the VM's disk drifts within minutes): as a scan runs by default
    // (directIo 'auto': files mostly not in the page cache, so read around it), and through the cache
    for (const through of r % 2 ? [true, false] : [false, true])
      await (through ? pair('cold-through', true, true, 'never') : pair('cold', true, true));
  }
  // for information, once: without summary tiers, and the floor of any scan that checks every frame
  await pair('warm-nosum', false, false);
  await pair('cold-nosum', false, true);
  // For information: the scan's index writes alone, the floor of the scanner's own thread. One more scan
  // (warm, tiers) hands its batches over as it writes them (serialized, as a decode worker's results
  // arrive); they are then written again into a fresh index, with nothing decoded, timed to its close.
  const batches: Buffer[] = [];
  let indexBytes = 0;
  {
    const name = path.join(root, 'capture.sqlite');
    const db = openIndexDb(`sqlite:${name}`);
    const write = db.writeBatch.bind(db);
    db.writeBatch = (b) => {
      batches.push(serialize(b));
      return write(b);
    };
    try {
      const scanner = await Scanner.open({ db, dataDir: dir, settleSeconds: 0 });
      try {
        const r = await scanner.scan();
        if (r.added !== files.length || r.errors)
          throw new Error(`the capture scan indexed ${r.added} of ${files.length} files (${r.errors} errors)`);
      } finally {
        await scanner.close();
      }
    } finally {
      await db.close();
      // closed: its write-ahead log checkpointed into it
      indexBytes = (await fsp.stat(name)).size;
      for (const x of ['', '-wal', '-shm']) rmSync(name + x, { force: true });
    }
  }
  const replay = async (): Promise<number> => {
    const name = path.join(root, 'replay.sqlite');
    const db = openIndexDb(`sqlite:${name}`);
    try {
      await db.migrate();
      const bs = batches.map((b) => deserialize(b) as WriteBatch);
      const [t] = await time(async () => {
        for (const b of bs) await db.writeBatch(b);
        await db.close();
      });
      return t;
    } finally {
      await db.close();
      for (const x of ['', '-wal', '-shm']) rmSync(name + x, { force: true });
    }
  };
  await replay(); // warm-up
  const tWrites = Math.min(await replay(), await replay());
  await readAll();
  const [tFloor] = await time(async () => {
    for (const f of files) crc32c(0, await fsp.readFile(f));
  });
  // The same floor on every core: what no scan that checks every frame's CRC can beat on this machine,
  // before it decodes a value, builds a tier or writes a row.
  await readAll();
  const tFloorPar = await floorOnAllCores(files);
  await evict(files);
  const tFloorParCold = await floorOnAllCores(files);
  await readAll();
  const tFloorTiers = await floorOnAllCores(files, true);
  const median = (xs: number[]): number => {
    const a = [...xs].sort((x, y) => x - y);
    return a.length % 2 ? (a[(a.length - 1) / 2] ?? NaN) : ((a[a.length / 2 - 1] ?? NaN) + (a[a.length / 2] ?? NaN)) / 2;
  };
  const paired = (name: string, scenario: string, goal: string): G3BenchRow => {
    const ps = pairs.get(name) ?? [];
    const r = row(scenario, median(ps.map((p) => p.scan)), median(ps.map((p) => p.read)), goal);
    if (ps.length > 1) {
      r.ratio = Math.round(median(ps.map((p) => p.scan / p.read)) * 100) / 100;
      r.scenario += ` [${ps.length} pairs scan/read: ${ps.map((p) => `${p.scan.toFixed(2)}/${p.read.toFixed(2)}`).join(', ')}; ratio: their median]`;
    }
    return r;
  };
  const tRead = median((pairs.get('warm') ?? []).map((p) => p.read));
  const tReadCold = median((pairs.get('cold') ?? []).map((p) => p.read));
  return [
    paired('warm', `scan G3 archive, 1 Hz x ${FIELDS} fields, ${label}, page cache warm (s)`, '<=1.5x reading its bytes'),
    paired('warm-nosum', `  the same without summary tiers, warm (s)`, 'info'),
    paired('cold', `  the same scan, files evicted from the page cache first (s)`, '<=1.5x reading its bytes'),
    paired('cold-nosum', `  the same without summary tiers, cold (s)`, 'info'),
    paired(
      'cold-through',
      `  the same scan, evicted first, its files read through the page cache (--direct-io never; by default, files mostly not in the cache are read around it) (s)`,
      'info',
    ),
    row(`  the same scan's index writes alone (its batches written again into a fresh index, best of 2) (s)`, tWrites, tRead, 'info'),
    row(
      `  the index it makes, SQLite (MB; baseline: the files' MB)`,
      Math.round(indexBytes / 1e5) / 10,
      Math.round(bytes / 1e5) / 10,
      'info',
    ),
    row(`  reading + CRC-32C of every file, one at a time, warm (s)`, tFloor, tRead, 'info'),
    row(`  the same on ${os.availableParallelism()} threads (a reused buffer each), warm (s)`, tFloorPar, tRead, 'info'),
    row(`  the same on ${os.availableParallelism()} threads, files evicted first (s)`, tFloorParCold, tReadCold, 'info'),
    row(
      `  reading + CRC-32C + the scan's summary tiers of every value, on ${os.availableParallelism()} threads, warm (no parse, no index) (s)`,
      tFloorTiers,
      tRead,
      'info',
    ),
    row(
      `  that, with the index writes alone on one of the ${os.availableParallelism()} cores: the floor of a warm scan (s)`,
      tFloorTiers + tWrites / os.availableParallelism(),
      tRead,
      'info',
    ),
  ];
}

/**
 * Seconds for os.availableParallelism() threads, each taking every n-th file, to read it into a buffer
 * it reuses (fs.readSync) and CRC-32C it (the WebAssembly CRC of the scanner). The threads are
 * started and loaded before the clock starts. With `tiers`, each file's CRC is followed by the
 * scanner's own summary of a decoded file (file-summary.ts `summarise`: field rows and every tier of
 * every value) over the first file's decode, made once before the clock starts: the work a scan cannot
 * do without (every byte read and checked, every value summarised), with no parse of its own, no copy,
 * nothing sent between threads and no index written.
 */
export async function floorOnAllCores(files: string[], tiers = false): Promise<number> {
  const n = os.availableParallelism();
  const archive = path.join(__dirname, '..', 'data-nodes', 'archive');
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const fs = require('node:fs');
    const path = require('node:path');
    const { crc32c } = require(path.join(workerData.archive, 'formats', 'g3', 'crc32c.js'));
    const { summarise } = require(path.join(workerData.archive, 'file-summary.js'));
    const { g3Format } = require(path.join(workerData.archive, 'formats', 'g3', 'index.js'));
    const decoded = workerData.tiers ? g3Format.decode(fs.readFileSync(workerData.files[0]), { relPath: 'floor.g3' }) : null;
    if (decoded && summarise('floor', decoded, true).fields.length === 0) throw new Error('the floor file has no fields');
    let buf = Buffer.allocUnsafe(1 << 20);
    parentPort.on('message', () => {
      let x = 0;
      for (let i = workerData.k; i < workerData.files.length; i += workerData.n) {
        const fd = fs.openSync(workerData.files[i], 'r');
        try {
          const size = fs.fstatSync(fd).size;
          if (size > buf.length) buf = Buffer.allocUnsafe(size);
          let got = 0;
          while (got < size) { const r = fs.readSync(fd, buf, got, size - got, got); if (r === 0) break; got += r; }
          const b = buf.subarray(0, got);
          x ^= crc32c(0, b);
          if (decoded) x ^= summarise('floor', decoded, true).fields.length;
        } finally { fs.closeSync(fd); }
      }
      parentPort.postMessage(x);
    });
    parentPort.postMessage('ready');`;
  const workers = Array.from({ length: n }, (_, k) => new Worker(code, { eval: true, workerData: { files, k, n, archive, tiers } }));
  try {
    await Promise.all(workers.map((w) => new Promise((r) => w.once('message', r))));
    const t0 = performance.now();
    await Promise.all(
      workers.map(
        (w) =>
          new Promise((resolve, reject) => {
            w.once('message', resolve);
            w.once('error', reject);
            w.postMessage('go');
          }),
      ),
    );
    return (performance.now() - t0) / 1000;
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

export async function benchG3(o: G3BenchOptions = {}): Promise<G3BenchRow[]> {
  const log = o.log ?? (() => {});
  const tmp = mkdtempSync(path.join(tmpdir(), 'sisock-bench-g3-'));
  try {
    const days = o.days ?? 30;
    return [
      ...(await decodeRows(o.hours ?? 24, o.rounds ?? 3, log)),
      ...(days > 0 ? await scanRows(days, Math.max(1, Math.floor(o.scanRounds ?? 3) || 3), tmp, log) : []),
    ];
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const arg = (k: string): number | undefined => {
    const a = process.argv.find((x) => x.startsWith(`--${k}=`));
    return a ? Number(a.split('=')[1]) : undefined;
  };
  benchG3({
    hours: arg('hours'),
    days: arg('days'),
    rounds: arg('rounds'),
    scanRounds: arg('scan-rounds'),
    log: (s) => console.error(s),
  }).then(
    (rows) => {
      for (const r of rows) console.log(`${r.scenario}: ${r.value} (baseline ${r.baseline}, ratio ${r.ratio}; goal ${r.goal})`);
    },
    (e: Error) => {
      console.error(e);
      process.exit(1);
    },
  );
}
