/**
 * The archive's summary tiers over a real index (SQLite and MariaDB): thinned answers from tiers equal a
 * brute-force min/max/mean over the raw samples for random ranges and strides, after files grow, are
 * replaced, are removed, arrive out of order or are corrupt; an index without summaries answers from raw
 * until `rebuildSummaries`; every timestamp stays inside [start, end).
 */
import { appendFileSync, mkdirSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { ArchiveSource, openIndexDb, Scanner, type IndexDb, type ScannerOptions } from '../../data-nodes/archive';
import { chooseWidth, ladderFor, outputWidth, reduceSamples, type Reduce } from '../../data-nodes/sdk/tiers';
import { suiteBackends, perTestHooks, suiteTmpDir } from './archive-backends';

let tmp: string;
suiteTmpDir('sisock-tiers-', (d) => (tmp = d));

const backends = suiteBackends('archive tier tests', () => tmp);

/** Deterministic pseudo-random values. */
const val = (t: number, seed: number) => Math.round(((Math.sin(t * 12.9898 + seed) * 43758.5453) % 1) * 8000) / 8;

describe.each(backends)('archive tiers over $name', (backend) => {
  let dir = '';
  const open = perTestHooks(
    backend,
    () => tmp,
    (d) => (dir = d),
  );

  const index = (): IndexDb => {
    const db = openIndexDb(backend.fresh());
    open.push(db);
    return db;
  };
  const scan = async (db: IndexDb, extra: Partial<ScannerOptions> = {}) => {
    const s = await Scanner.open({ db, dataDir: dir, settleSeconds: 0, ...extra });
    try {
      return await s.scan();
    } finally {
      await s.close();
    }
  };
  let mtime = 1_600_000_000;
  const write = (rel: string, content: string) => {
    const p = path.join(dir, rel);
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, content);
    utimesSync(p, ++mtime, mtime);
  };
  /** 10 Hz rows of field x over [a, b) seconds. */
  const rows = (a: number, b: number, seed: number) => {
    const out: string[] = [];
    for (let i = Math.round(a * 10); i < Math.round(b * 10); i++) out.push(`${(i / 10).toFixed(1)},${val(i / 10, seed)}`);
    return out;
  };

  /** The tier answer against brute force over the raw answer, for random ranges and strides. */
  async function checkAgainstRaw(db: IndexDb, runs: number): Promise<void> {
    const src = new ArchiveSource({ db, closeDb: false });
    const raw = await src.getData(['x'], 0, 1e6, null);
    const t = raw.timeline.tl?.t ?? [];
    const v = (raw.data.x ?? []) as number[];
    await fc.assert(
      fc.asyncProperty(
        fc.double({ min: -50, max: 1300, noNaN: true }),
        fc.double({ min: 1, max: 1400, noNaN: true }),
        fc.double({ min: 5, max: 700, noNaN: true }),
        fc.constantFrom<Reduce>('minmax', 'mean'),
        async (start, span, stride, reduce) => {
          const got = await src.getData(['x'], start, start + span, stride, { reduce });
          const w = chooseWidth(ladderFor(0.1), stride, reduce);
          // no tier fine enough: raw, buckets of 2 × stride (stride for the mean)
          const W = w === null ? (reduce === 'mean' ? stride : 2 * stride) : outputWidth(w, stride, reduce);
          const want = reduceSamples(t, v, start, start + span, reduce === 'mean' ? W : W / 2, reduce);
          expect(got.timeline.tl?.t ?? []).toEqual(want.t);
          expect(got.data.x).toEqual(want.v);
          for (const x of want.t) {
            expect(x).toBeGreaterThanOrEqual(start);
            expect(x).toBeLessThan(start + span);
          }
        },
      ),
      { numRuns: runs },
    );
  }

  test('equal brute force after growth, replacement, removal, out-of-order rows and a corrupt file', async () => {
    for (let k = 0; k < 10; k++) write(`d/tl_${k}.csv`, `time,x\n${rows(k * 120, k * 120 + 120, k).join('\n')}\n`);
    const db = index();
    await scan(db);
    await checkAgainstRaw(db, 40);

    // tiers used: a long thinned range decodes only the edge files, not the ten
    const src = new ArchiveSource({ db, closeDb: false });
    await src.getData(['x'], 33.3, 1177.7, 60);
    expect(src.cache.stats().misses).toBeLessThanOrEqual(2);

    appendFileSync(path.join(dir, 'd/tl_9.csv'), `${rows(1200, 1260, 9).join('\n')}\n`); // grows
    utimesSync(path.join(dir, 'd/tl_9.csv'), ++mtime, mtime);
    write('d/tl_3.csv', `time,x\n${rows(360, 480, 77).join('\n')}\n`); // replaced
    unlinkSync(path.join(dir, 'd/tl_5.csv')); // removed
    const shuffled = rows(600, 720, 5).sort((a, b) => (val(Number(a.split(',')[0]), 1) < val(Number(b.split(',')[0]), 1) ? -1 : 1));
    write('d/tl_5b.csv', `time,x\n${shuffled.join('\n')}\n`); // out of order: the decoder sorts
    write('d/tl_bad.arrow', 'ARROW1 this is not arrow'); // corrupt: skipped with a warning, no summaries
    const r = await scan(db);
    expect(r.errors).toBe(1);
    await checkAgainstRaw(db, 40);

    // a file that was fine turns corrupt: skipped, and its summaries (and their rollups) go with it
    write('d/tl_1.csv', 'this,is\nnot,a time series\n');
    const r2 = await scan(db);
    expect(r2.errors).toBeGreaterThanOrEqual(1);
    const thin = await new ArchiveSource({ db, closeDb: false }).getData(['x'], 0, 1300, 300);
    expect((thin.timeline.tl?.t ?? []).some((x) => x >= 120 && x < 240)).toBe(false);
    await checkAgainstRaw(db, 30);
  });

  test('an index without summaries answers from raw until they are rebuilt', async () => {
    for (let k = 0; k < 6; k++) write(`d/tl_${k}.csv`, `time,x\n${rows(k * 120, k * 120 + 120, k).join('\n')}\n`);
    const db = index();
    await scan(db, { summaries: false });
    const before = new ArchiveSource({ db, closeDb: false });
    const a = await before.getData(['x'], 10, 700, 60);
    expect(before.cache.stats().misses).toBe(6);
    const r = await scan(db, { rebuildSummaries: true });
    expect(r.updated).toBe(6);
    const after = new ArchiveSource({ db, closeDb: false });
    const b = await after.getData(['x'], 10, 700, 60);
    expect(after.cache.stats().misses).toBeLessThanOrEqual(2);
    // raw and tier answers agree when the grids agree (2 × 60 s is a multiple of the 60 s tier)
    expect(b).toEqual(a);
    await checkAgainstRaw(db, 20);
  });
});
