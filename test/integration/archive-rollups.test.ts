/**
 * The archive's rollups over a real index (SQLite and MariaDB): a file keeps its own tier rows below
 * ROLLUP_MIN_WIDTH and at its finest rollup rung only; after files are added (overlapping, out of
 * order, two ladders), removed and rewritten, every rollup chunk at every rung equals the brute-force
 * merge of every live file's buckets at that width. Also on an index written by an older version
 * (every width of every file stored as its own rows, one per field), while its files are removed and
 * rewritten.
 */
import { mkdirSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { openIndexDb, Scanner, type IndexDb } from '../../data-nodes/archive';
import { buildBuckets, chunkRows, ladderFor, ROLLUP_MIN_WIDTH, ROLLUP_SOURCE, ROLLUP_WIDTHS, unpackRow } from '../../data-nodes/sdk/tiers';
import { expectRollup, rawIndex, type RawIndex, suiteBackends, perTestHooks, suiteTmpDir } from './archive-backends';

let tmp: string;
suiteTmpDir('sisock-rollups-', (d) => (tmp = d));

const backends = suiteBackends('archive rollup tests', () => tmp);

const DAY = 86400;
/** Deterministic values, multiples of 1/8: sums are exact whatever the merge order. */
const val = (t: number, seed: number) => Math.round(((Math.sin(t * 12.9898 + seed) * 43758.5453) % 1) * 8000) / 8;

/** A CSV file: bursts of `n` samples `spacing` s apart from each start; fields x (and y when `y`). */
interface Spec {
  starts: number[];
  spacing: number;
  n: number;
  seed: number;
  y?: boolean;
  shuffle?: boolean;
}

function samples(s: Spec): number[] {
  const t: number[] = [];
  for (const a of s.starts) for (let i = 0; i < s.n; i++) t.push(a + i * s.spacing);
  if (s.shuffle) t.sort((a, b) => val(a, 99) - val(b, 99));
  return t;
}

function csv(s: Spec): string {
  const head = s.y ? 'time,x,y' : 'time,x';
  return `${head}\n${samples(s)
    .map((t) => (s.y ? `${t},${val(t, s.seed)},${val(t, s.seed + 1)}` : `${t},${val(t, s.seed)}`))
    .join('\n')}\n`;
}

describe.each(backends)('archive rollups over $name', (backend) => {
  let dir = '';
  const open = perTestHooks(
    backend,
    () => tmp,
    (d) => (dir = d),
  );
  let mtime = 1_600_000_000;
  const live = new Map<string, Spec>();
  const put = (rel: string, s: Spec) => {
    const p = path.join(dir, rel);
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, csv(s));
    utimesSync(p, ++mtime, mtime);
    live.set(rel, s);
  };
  const remove = (rel: string) => {
    unlinkSync(path.join(dir, rel));
    live.delete(rel);
  };
  const scan = async (db: IndexDb) => {
    const s = await Scanner.open({ db, dataDir: dir, settleSeconds: 0 });
    try {
      const r = await s.scan();
      expect(r.errors).toBe(0);
    } finally {
      await s.close();
    }
  };

  /** A file's buckets of `field` at `width`, built straight from its samples (null: not on its ladder). */
  const fileBuckets = (s: Spec, field: 'x' | 'y', width: number): Float64Array | null => {
    if (field === 'y' && !s.y) return null;
    if (!ladderFor(s.spacing).includes(width)) return null;
    const t = samples(s);
    return buildBuckets(
      t,
      t.map((x) => val(x, field === 'x' ? s.seed : s.seed + 1)),
      width,
    );
  };

  /** Every rollup chunk of every rung equals the brute-force merge of the live files' buckets. */
  async function checkRollups(db: IndexDb): Promise<number> {
    let chunksSeen = 0;
    for (const field of ['x', 'y'] as const)
      for (const width of ROLLUP_WIDTHS)
        chunksSeen += await expectRollup(
          db,
          field,
          width,
          [...live.values()].flatMap((s) => fileBuckets(s, field, width) ?? []),
        );
    return chunksSeen;
  }

  /**
   * Own rows (not rollups) at rollup widths, per file path: the widths they hold, negative for packed
   * rows (table.ts `packedRow`).
   */
  async function ownCoarse(r: RawIndex): Promise<Map<string, number[]>> {
    const rows = await r.all(
      `SELECT DISTINCT f.path AS path, t.width AS width FROM ${r.table} t JOIN ${r.table.replace(/tier$/, 'file')} f ON f.file_key = t.source
       WHERE t.source <> ? AND (t.width >= ? OR t.width <= ?) ORDER BY ABS(t.width)`,
      [ROLLUP_SOURCE, ROLLUP_MIN_WIDTH, -ROLLUP_MIN_WIDTH],
    );
    const out = new Map<string, number[]>();
    for (const x of rows) out.set(String(x.path), [...(out.get(String(x.path)) ?? []), Number(x.width)]);
    return out;
  }

  /** The fields of the packed rows of the file at `rel` (its own rows at its finest rollup rung). */
  async function packedFields(r: RawIndex, rel: string): Promise<string[]> {
    const rows = await r.all(
      `SELECT t.data AS data FROM ${r.table} t JOIN ${r.table.replace(/tier$/, 'file')} f ON f.file_key = t.source WHERE f.path = ? AND t.width < 0`,
      [rel],
    );
    return [...new Set(rows.flatMap((x) => unpackRow(x.data).map((p) => p.field)))].sort();
  }

  test('every rollup chunk equals the brute-force merge, through adds, removals, rewrites and an older index', async () => {
    live.clear();
    const b512 = 512 * DAY; // a chunk boundary of every rung (and of the 3600-s rung at multiples of 21.33 days)
    put('d/f0.csv', { starts: [500 * DAY, b512 - 100, 530 * DAY + 5000], spacing: 1, n: 400, seed: 1, y: true });
    put('d/f1.csv', { starts: [505 * DAY + 77, b512 - 50, 545 * DAY], spacing: 1, n: 300, seed: 2, shuffle: true }); // overlaps f0
    put('d/f2.csv', { starts: [502 * DAY, b512 - 3000, 555 * DAY + 123], spacing: 3, n: 300, seed: 3, y: true }); // ladder from 3600 s
    put('d/f3.csv', { starts: [25 * 512 * 3600 - 150, 560 * DAY], spacing: 1, n: 400, seed: 4 });
    put('d/f4.csv', { starts: [510 * DAY, 520 * DAY], spacing: 1, n: 500, seed: 5, y: true });
    put('d/f5.csv', { starts: [508 * DAY, 540 * DAY + 999], spacing: 1, n: 200, seed: 6 });
    const url = backend.fresh();
    const db = openIndexDb(url);
    open.push(db);
    await scan(db);
    const r = await rawIndex(backend, url);
    open.push(r);
    expect(await checkRollups(db)).toBeGreaterThan(20);
    // own rows at rollup widths: only each file's finest rung, packed (one row per chunk for x and y)
    const own = await ownCoarse(r);
    expect(own.get('d/f0.csv')).toEqual([-600]);
    expect(own.get('d/f2.csv')).toEqual([-3600]);
    expect(own.size).toBe(6);
    expect(await packedFields(r, 'd/f0.csv')).toEqual(['x', 'y']);
    expect(await packedFields(r, 'd/f1.csv')).toEqual(['x']);
    const [count] = await r.all(`SELECT COUNT(*) AS n FROM ${r.table} WHERE source <> ? AND width <= ?`, [
      ROLLUP_SOURCE,
      -ROLLUP_MIN_WIDTH,
    ]);
    const [chunks] = await r.all(
      `SELECT COUNT(*) AS n FROM (SELECT DISTINCT source, width, idx_lo FROM ${r.table} WHERE source <> ? AND width <= ?) x`,
      [ROLLUP_SOURCE, -ROLLUP_MIN_WIDTH],
    );
    expect(Number(count?.n)).toBe(Number(chunks?.n)); // one row per file, width and chunk

    // removed, rewritten (other times, and now with y), added (overlapping, ladder from 3600 s)
    remove('d/f4.csv');
    put('d/f5.csv', { starts: [515 * DAY + 11, b512 - 200, 550 * DAY], spacing: 1, n: 250, seed: 7, y: true });
    put('d/f6.csv', { starts: [b512 - 900, 536 * DAY], spacing: 3, n: 400, seed: 8, y: true });
    await scan(db);
    await checkRollups(db);

    // an index written by an older version: every width of every file stored as its own rows, one per field
    await r.run(`DELETE FROM ${r.table} WHERE width < 0`);
    const keys = await r.all(`SELECT file_key, path FROM ${r.table.replace(/tier$/, 'file')}`);
    const rows: unknown[][] = [];
    for (const k of keys) {
      const s = live.get(String(k.path));
      if (!s) continue;
      const ladder = ROLLUP_WIDTHS.filter((w) => ladderFor(s.spacing).includes(w));
      for (const field of ['x', 'y'] as const)
        for (const w of ladder) {
          const p = fileBuckets(s, field, w);
          if (p) rows.push(...chunkRows(String(k.file_key), field, w, p));
        }
    }
    expect(rows.length).toBeGreaterThan(0);
    await r.insert(rows);
    expect((await ownCoarse(r)).get('d/f0.csv')).toEqual([600, 3600, 21600, 86400]);
    await checkRollups(db);
    // its files removed and rewritten: the rollups stay exact (the older rows are not counted twice)
    remove('d/f0.csv');
    put('d/f1.csv', { starts: [506 * DAY, b512 - 10, 546 * DAY], spacing: 1, n: 300, seed: 9, y: true });
    put('d/f2.csv', { starts: [503 * DAY, b512 + 500], spacing: 3, n: 200, seed: 10 });
    await scan(db);
    await checkRollups(db);
    const after = await ownCoarse(r);
    expect(after.has('d/f0.csv')).toBe(false);
    expect(after.get('d/f1.csv')).toEqual([-600]);
    expect(after.get('d/f2.csv')).toEqual([-3600]);
    expect(after.get('d/f3.csv')).toEqual([600, 3600, 21600, 86400]); // untouched: kept as the older version wrote it
    // then every file removed: no rollup left
    for (const rel of [...live.keys()]) remove(rel);
    await scan(db);
    expect(await checkRollups(db)).toBe(0);
  });

  test('a write merges its buckets into the stored rollups many fields at a time (more than one SELECT holds)', async () => {
    const F = 520; // over sql.ts CHUNK (500): a chunk's fields take two SELECTs
    const names = Array.from({ length: F }, (_, f) => `f${f}`);
    const times = (t0: number) => Array.from({ length: 1500 }, (_, i) => t0 + i);
    const write = (rel: string, t0: number) => {
      const rows = times(t0).map((t) => `${t},${names.map((_, f) => val(t, f)).join(',')}`);
      writeFileSync(path.join(dir, rel), `time,${names.join(',')}\n${rows.join('\n')}\n`);
      utimesSync(path.join(dir, rel), ++mtime, mtime);
    };
    const db = openIndexDb(backend.fresh());
    open.push(db);
    write('a.csv', 1000 * DAY);
    await scan(db);
    // the second file lands in the chunks the first one made at every rung: its buckets are merged into them
    write('b.csv', 1000 * DAY + 7200);
    // SQLite's statements go through one Querier (MySQL's through one per transaction): counted there
    const q = backend.name === 'sqlite' ? (db as unknown as { q: Record<string, (...a: unknown[]) => unknown> }).q : null;
    let statements = 0;
    if (q)
      for (const k of ['all', 'run', 'insertMany', 'updateMany']) {
        const f = q[k]!;
        q[k] = (...a: unknown[]) => (statements++, f(...a));
      }
    await scan(db);
    // one statement per chunk and field would be 2 × 520 × 4 rungs
    if (q) expect([statements > 0, statements < F / 4]).toEqual([true, true]);
    for (const f of [0, 1, F - 1])
      for (const width of ROLLUP_WIDTHS) {
        const parts = [1000 * DAY, 1000 * DAY + 7200].map((t0) => {
          const t = times(t0);
          return buildBuckets(
            t,
            t.map((x) => val(x, f)),
            width,
          );
        });
        expect(await expectRollup(db, `f${f}`, width, parts)).toBe(1);
        // a query of the second file's buckets only finds the chunk: its idx_hi was rewritten too
        const first = Math.floor((1000 * DAY + 7200) / width);
        expect((await db.tierBuckets(`f${f}`, width, first, first + 1)).map((c) => c[0])).toEqual([Math.floor((1000 * DAY) / width)]);
      }
  });
});
