/**
 * The archive node's scanner and reader against a real index, once per backend (SQLite and
 * MariaDB): schema and migrations, incremental rescans, corrupt/truncated/empty/non-UTF-8/unreadable
 * files, out-of-order and overlapping samples, files deleted before a read or growing during a scan,
 * two scanners on one index, downsampling, the cache bound, UTC times.
 */
import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  closeSync,
  constants,
  mkdirSync,
  openSync,
  symlinkSync,
  truncateSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import * as path from 'node:path';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import {
  ArchiveSource,
  openIndexDb,
  Scanner,
  ScannerLockedError,
  SCANNER_LOCK,
  SCHEMA_VERSION,
  type IndexDb,
  type ScannerOptions,
} from '../../data-nodes/archive';
import { readIndexed, SERVE_GROWTH_BYTES } from '../../data-nodes/archive/file-read';
import { withTimeout } from '../../common/timeout';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { downsampleMinMax } from '../../data-nodes/sdk/downsample';
import { suiteBackends, perTestHooks, suiteTmpDir } from './archive-backends';

let tmp: string;
suiteTmpDir('sisock-archive-', (d) => (tmp = d));

const backends = suiteBackends('archive tests', () => tmp);

function weather(field: string, samples: Array<[number, number]>, timeline = field, units = 'C'): string {
  return `# ${field} (test)\n# ${timeline}\n# ${units}\n${samples.map(([t, v]) => `${t} ${v}`).join('\n')}\n`;
}

const range = (a: number, b: number, step = 1) => Array.from({ length: Math.ceil((b - a) / step) }, (_, i) => a + i * step);

describe.each(backends)('archive over $name', (backend) => {
  let dir = '';
  const open = perTestHooks(
    backend,
    () => tmp,
    (d) => (dir = d),
  );

  function index(url = backend.fresh()): IndexDb {
    const db = openIndexDb(url);
    open.push(db);
    return db;
  }
  async function scanner(db: IndexDb, extra: Partial<ScannerOptions> = {}): Promise<Scanner> {
    const s = await Scanner.open({ db, dataDir: dir, settleSeconds: 0, ...extra });
    open.unshift(s); // closed before the db
    return s;
  }
  function reader(db: IndexDb, extra: { cacheBytes?: number } = {}): ArchiveSource {
    return new ArchiveSource({ db, closeDb: false, ...extra });
  }
  const write = (rel: string, content: string | Buffer) => {
    const p = path.join(dir, rel);
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, content);
    return p;
  };

  test('schema is created with a recorded version, migrating twice is a no-op, a newer schema is refused', async () => {
    const url = backend.fresh();
    const db = index(url);
    expect(await db.schemaVersion()).toBeNull();
    expect(await db.migrate()).toBe(SCHEMA_VERSION);
    expect(await db.migrate()).toBe(SCHEMA_VERSION);
    expect(await db.schemaVersion()).toBe(SCHEMA_VERSION);
    await db.setMeta('schema_version', String(SCHEMA_VERSION + 7));
    const other = index(url);
    await expect(other.migrate()).rejects.toThrow(/newer than this program/);
  });

  test('scan and read: three formats, get_fields from the index, [start, end) honoured, unknown fields', async () => {
    write(
      'wx/temperature.dat',
      weather(
        'temperature',
        range(1000, 1010).map((t) => [t, t - 1000]),
        'hourly',
      ),
    );
    write(
      'cryo/fridge_2024-01-01.csv',
      `time,T_mc [K],state\n${range(1000, 1005)
        .map((t) => `${t},0.0${t - 1000},ok`)
        .join('\n')}\n`,
    );
    write(
      'ipc/stage.arrow',
      Buffer.from(tableToIPC(tableFromArrays({ time: Float64Array.from(range(2000, 2003)), power: Float64Array.from([1, 2, 3]) }), 'file')),
    );
    write('notes.txt', 'nothing to see');
    const db = index();
    const s = await scanner(db);
    const r = await s.scan();
    expect(r).toMatchObject({ files: 4, added: 3, ignored: 1, errors: 0, deleted: 0 });

    const src = reader(db);
    const [fields, timelines] = await src.getFields(1, 1e10);
    expect(Object.keys(fields).sort()).toEqual(['T_mc', 'power', 'state', 'temperature']);
    expect(fields.T_mc).toEqual({ description: null, timeline: 'fridge', type: 'number', units: 'K' });
    expect(fields.state!.type).toBe('string');
    expect(fields.temperature).toMatchObject({ timeline: 'hourly', units: 'C', description: 'temperature (test)' });
    expect(timelines.hourly).toEqual({ interval: 1, field: ['temperature'] });
    expect(timelines.stage!.field).toEqual(['power']);
    // only fields with samples in the interval
    expect(Object.keys((await src.getFields(2000, 2100))[0])).toEqual(['power']);

    const d = await src.getData(['temperature', 'T_mc', 'state', 'nope'], 1002, 1004, null);
    expect(d.data).toEqual({ temperature: [2, 3], T_mc: [0.02, 0.03], state: ['ok', 'ok'], nope: [] });
    expect(d.timeline.hourly!.t).toEqual([1002, 1003]);
    expect(d.timeline.fridge).toEqual({ t: [1002, 1003], finalized_until: 1003 });
    expect(Object.keys(d.timeline).sort()).toEqual(['fridge', 'hourly']);
    const none = await src.getData(['temperature', 'power'], 5000, 6000, null);
    expect(none).toEqual({ data: { temperature: [], power: [] }, timeline: {} });
    expect(await src.newestSample()).toBe(2002);
  });

  test('rescans are incremental: unchanged, grown, changed, touched, deleted and new files', async () => {
    const a = write(
      'a.dat',
      weather('a', [
        [1, 1],
        [2, 2],
      ]),
    );
    const b = write('b.dat', weather('b', [[1, 10]]));
    const c = write('c.dat', weather('c', [[1, 100]]));
    write('d.dat', weather('d', [[1, 1000]]));
    const db = index();
    const s = await scanner(db);
    expect((await s.scan()).added).toBe(4);
    const again = await s.scan();
    expect(again).toMatchObject({ unchanged: 4, added: 0, updated: 0, bytesRead: 0 });

    appendFileSync(a, '3 3\n'); // grown
    writeFileSync(b, weather('b', [[1, 11]])); // changed, same size
    utimesSync(b, new Date(), new Date(Date.now() + 5000));
    utimesSync(c, new Date(), new Date(Date.now() + 5000)); // touched: same content, new mtime
    unlinkSync(path.join(dir, 'd.dat')); // deleted
    write('e.dat', weather('e', [[5, 5]])); // new
    const r = await s.scan();
    expect(r).toMatchObject({ files: 4, updated: 2, touched: 1, deleted: 1, added: 1, unchanged: 0 });

    const src = reader(db);
    const d = await src.getData(['a', 'b', 'c', 'd', 'e'], 0, 100, null);
    expect(d.data).toEqual({ a: [1, 2, 3], b: [11], c: [100], d: [], e: [5] });
    expect(Object.keys((await src.getFields(1, 0 + 1e10))[0]).sort()).toEqual(['a', 'b', 'c', 'e']);
    expect((await s.scan()).unchanged).toBe(4);
  });

  test('corrupt, truncated, empty, non-UTF-8 and unreadable files are recorded and skipped; the scan goes on', async () => {
    const ipc = Buffer.from(tableToIPC(tableFromArrays({ time: Float64Array.from([1, 2]), v: Float64Array.from([1, 2]) }), 'file'));
    write('good.arrow', ipc);
    write('truncated.arrow', ipc.subarray(0, Math.floor(ipc.length / 2)));
    write('garbage.arrow', Buffer.from('this is not arrow at all'));
    write('binary.csv', Buffer.from([0, 159, 146, 150, 10, 255, 0, 1, 10, 2, 3, 10]));
    write('empty.csv', '');
    write('empty.dat', '');
    write('latin1.dat', Buffer.concat([Buffer.from('# Temp\xe9rature\n# hourly\n# '), Buffer.from([0xb0]), Buffer.from('C\n1 4.5\n')]));
    symlinkSync('loop.csv', path.join(dir, 'loop.csv')); // stat fails: ELOOP
    const db = index();
    const s = await scanner(db);
    const r = await s.scan();
    expect(r.files).toBe(8);
    expect(r.errors).toBe(4);
    const rows = Object.fromEntries((await db.listFiles()).map((f) => [f.path, f]));
    expect(rows['truncated.arrow']).toMatchObject({ status: 'error', format: 'arrow' });
    expect(rows['truncated.arrow']!.error).toMatch(/Arrow/);
    expect(rows['garbage.arrow']!.status).toBe('error');
    expect(rows['binary.csv']).toMatchObject({ status: 'error', format: 'csv' });
    expect(rows['loop.csv']!.status).toBe('error');
    expect(rows['loop.csv']!.error).toMatch(/ELOOP|symbolic/);
    expect(rows['empty.csv']).toMatchObject({ status: 'ok', nSamples: 0 });
    expect(rows['good.arrow']).toMatchObject({ status: 'ok', tFirst: 1, tLast: 2, nSamples: 2 });
    const [fields] = await reader(db).getFields(1, 1e10);
    expect(Object.keys(fields).sort()).toEqual(['latin1', 'v']);
    expect(fields.latin1!.units).toBe('°C');
    expect((await reader(db).getData(['latin1'], 0, 10, null)).data.latin1).toEqual([4.5]);
    // errors are not retried while the file is unchanged
    expect(await s.scan()).toMatchObject({ errors: 1, unchanged: 7 }); // the symlink loop cannot be stat'ed: recorded again
  });

  test('out-of-order samples and overlapping files merge in time order without repeated timestamps', async () => {
    write('x/v_1.csv', 'time,v\n5,5\n1,1\n3,3\n'); // out of order within a file
    write('x/v_2.csv', 'time,v\n4,40\n3,30\n6,60\n'); // overlaps the first; 3 repeated
    write('x/v_3.csv', 'time,v\n6,61\n7,70\n'); // boundary repeat
    const db = index();
    await (await scanner(db)).scan();
    const d = await reader(db).getData(['v'], 0, 100, null);
    expect(d.timeline.v!.t).toEqual([1, 3, 4, 5, 6, 7]);
    expect(d.data.v).toEqual([1, 30, 40, 5, 61, 70]);
  });

  test('a file deleted between scan and read is skipped; the rest is served', async () => {
    write('p/a_1.csv', 'time,v\n1,1\n2,2\n');
    write('p/a_2.csv', 'time,v\n3,3\n4,4\n');
    const db = index();
    await (await scanner(db)).scan();
    unlinkSync(path.join(dir, 'p/a_1.csv'));
    const d = await reader(db).getData(['v'], 0, 10, null);
    expect(d.data.v).toEqual([3, 4]);
  });

  test('a file swapped for a FIFO after the scan is skipped at once; one swapped for a huge one is read only so far', async () => {
    write('p/a_1.csv', 'time,v\n1,1\n2,2\n');
    write('p/a_2.csv', 'time,v\n3,3\n4,4\n');
    const db = index();
    const first = await scanner(db);
    await first.scan();
    await first.close();
    const fifos = ['p/a_1.csv', 'q/sniffed', 'q/read.csv'].map((f) => path.join(dir, f));
    const toFifo = (f: string) => {
      unlinkSync(f);
      execFileSync('mkfifo', [f]);
    };
    toFifo(fifos[0]!);
    try {
      // a blocking open would hold one of libuv's threads until a writer came, and this answer with it
      const d = await withTimeout(reader(db).getData(['v'], 0, 10, null), 10_000, 'getData');
      expect(d.data.v).toEqual([3, 4]);
      // swapped between the walk and the read, for the scanner: a file it must sniff (no known extension)
      // and one it reads; each an error, the scan goes on
      write('q/sniffed', 'time,v\n1,1\n');
      // big enough for a decode worker (a small one is read on the scanner's thread, where a blocking
      // open would hang jest, not fail this test: that read is tested apart, archive-decode-pool.test.ts)
      write('q/read.csv', `time,v\n${Array.from({ length: 10_000 }, (_, i) => `${i},1`).join('\n')}\n`);
      let swapped = false;
      const r = await withTimeout(
        (
          await scanner(db, {
            onProgress: (p) => {
              if (p.phase !== 'index' || swapped) return;
              swapped = true;
              for (const f of fifos.slice(1)) toFifo(f);
            },
          })
        ).scan(),
        10_000,
        'the scan',
      );
      expect(swapped).toBe(true);
      expect(r.errors).toBe(2);
      const rows = await db.listFiles();
      for (const f of ['q/sniffed', 'q/read.csv'])
        expect(rows.find((x) => x.path === f)).toMatchObject({ status: 'error', error: expect.stringMatching(/not a regular file/) });
    } finally {
      // a reader blocked in open (what this guards against) is let go, so the process can exit
      for (const f of fifos)
        try {
          closeSync(openSync(f, constants.O_WRONLY | constants.O_NONBLOCK));
        } catch {
          // not a FIFO, or none waiting
        }
    }
    // the reader's read, directly: a file grown by more than SERVE_GROWTH_BYTES since indexed is not read
    // (a sparse file), one grown by less is read whole
    const huge = write('p/huge.bin', '');
    truncateSync(huge, 2 ** 30);
    await expect(readIndexed(huge, 100)).rejects.toThrow(/1073741824 bytes, 100 when indexed: changed since/);
    expect((await readIndexed(huge, 2 ** 30 - SERVE_GROWTH_BYTES)).length).toBe(2 ** 30);
    expect((await readIndexed(path.join(dir, 'p/a_2.csv'), 0)).toString()).toBe('time,v\n3,3\n4,4\n');
    await expect(readIndexed(path.join(dir, 'p'), 0)).rejects.toThrow(/not a regular file/);
  });

  test('a file growing during the scan is read again; one that keeps growing is left for the next scan', async () => {
    const f = write(
      'g.dat',
      weather('g', [
        [1, 1],
        [2, 2],
      ]),
    );
    const h = write('h.dat', weather('h', [[1, 1]]));
    const db = index();
    let grew = 0;
    let writing = true;
    const s = await scanner(db, {
      attempts: 3,
      afterRead: (rel, attempt) => {
        if (rel === 'g.dat' && attempt === 1) appendFileSync(f, '3 3\n');
        if (rel === 'h.dat' && writing) appendFileSync(h, `${10 + grew++} 1\n`);
      },
    });
    const r = await s.scan();
    expect(r).toMatchObject({ added: 1, deferred: 1 });
    expect(grew).toBe(3);
    const src = reader(db);
    expect((await src.getData(['g', 'h'], 0, 100, null)).data).toEqual({ g: [1, 2, 3], h: [] });
    writing = false;
    const s2r = await s.scan(); // the writer stopped: picked up now
    expect(s2r).toMatchObject({ added: 1, unchanged: 1, deferred: 0 });
    expect((await src.getData(['h'], 0, 100, null)).data.h).toEqual([1, 1, 1, 1]);
  });

  test('two scanners on one index: the second is refused until the first closes or its lease ends', async () => {
    write('a.dat', weather('a', [[1, 1]]));
    const url = backend.fresh();
    const db1 = index(url);
    const db2 = index(url);
    const first = await scanner(db1);
    const err = await Scanner.open({ db: db2, dataDir: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ScannerLockedError);
    expect((err as ScannerLockedError).holder).toBe(first.owner);
    await first.scan();
    await first.close();
    const second = await scanner(db2);
    expect((await second.scan()).unchanged).toBe(1);
    await second.close();
    // an expired lease (a scanner that died) is taken over
    expect((await db1.acquireLock(SCANNER_LOCK, 'dead-host:1', -5)).acquired).toBe(true);
    const third = await scanner(db2);
    expect(await db2.renewLock(SCANNER_LOCK, third.owner, 30)).toBe(true);
    expect(await db1.renewLock(SCANNER_LOCK, 'dead-host:1', 30)).toBe(false);
  });

  test('min_stride keeps extremes; the cache stays within its bound', async () => {
    // 10 Hz over 10 files of 60 s, one spike
    for (let k = 0; k < 10; k++) {
      const rows = range(0, 600).map((i) => {
        const t = k * 60 + i / 10;
        return `${t.toFixed(1)},${t === 123.4 ? 1000 : Math.sin(t)}`;
      });
      write(`hz/s_${String(k).padStart(2, '0')}.csv`, `time,s\n${rows.join('\n')}\n`);
    }
    const db = index();
    await (await scanner(db)).scan();
    const full = await reader(db).getData(['s'], 0, 600, null);
    expect(full.timeline.s!.t).toHaveLength(6000);
    const src = reader(db, { cacheBytes: 40 * 1024 });
    const d = await src.getData(['s'], 0, 600, 30);
    const t = d.timeline.s!.t;
    expect(t.length).toBeLessThanOrEqual(61);
    // at most min and max per 2 × min_stride, at real sample times inside [start, end)
    const perBucket = new Map<number, number>();
    for (const x of t) perBucket.set(Math.floor(x / 60), (perBucket.get(Math.floor(x / 60)) ?? 0) + 1);
    expect(Math.max(...perBucket.values())).toBeLessThanOrEqual(2);
    for (const x of t) {
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(600);
      expect(Math.round(x * 10)).toBeCloseTo(x * 10, 6);
    }
    expect(Math.max(...(d.data.s as number[]))).toBe(1000);
    // answered from summary tiers: no file decoded (the range's edges are whole buckets)
    expect(src.cache.stats().misses).toBe(0);
    await src.getData(['s'], 0, 600, 0.05); // finer than any tier: raw, through the cache
    expect(src.cache.stats().bytes).toBeLessThanOrEqual(40 * 1024);
    expect(src.cache.stats().bypassed).toBeGreaterThan(0); // larger than the cache: the rest is not kept
    const part = await src.getData(['s'], 100, 100.5, null);
    expect(part.timeline.s!.t).toEqual([100, 100.1, 100.2, 100.3, 100.4]);
  });

  test('times are UTC whatever the process time zone; mtimes stored as UTC seconds', async () => {
    const saved = process.env.TZ;
    process.env.TZ = 'Pacific/Auckland';
    try {
      const p = write('log/tz_2024-03-05.csv', 'Date,Time,v\n2024-03-05,12:00:00,1\n05.03.2024,12:00:01,2\n');
      const db = index();
      await (await scanner(db)).scan();
      const d = await reader(db).getData(['v'], 0, 1e10, null);
      const noon = Date.UTC(2024, 2, 5, 12) / 1000;
      expect(d.timeline.tz!.t).toEqual([noon, noon + 1]);
      const [row] = await db.listFiles();
      const { statSync } = await import('node:fs');
      expect(row!.mtime).toBe(statSync(p).mtimeMs / 1000);
      expect(Math.abs(row!.scannedAt - Date.now() / 1000)).toBeLessThan(60);
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });

  test('readers see a rescan (generation), share the index, and use a root given to them', async () => {
    write('a.dat', weather('a', [[1, 1]]));
    const url = backend.fresh();
    const db = index(url);
    const s = await scanner(db);
    await s.scan();
    const r1 = reader(index(url));
    const r2 = reader(index(url));
    expect(Object.keys((await r1.getFields(1, 1e10))[0])).toEqual(['a']);
    write('b.dat', weather('b', [[2, 2]]));
    await s.scan();
    expect(Object.keys((await r1.getFields(1, 1e10))[0]).sort()).toEqual(['a', 'b']);
    expect((await r2.getData(['b'], 0, 10, null)).data.b).toEqual([2]);
    // another machine mounts the files elsewhere
    const moved = `${dir}-moved`; // a sibling of this test's directory
    mkdirSync(moved);
    writeFileSync(path.join(moved, 'a.dat'), weather('a', [[1, 42]]));
    const r3 = new ArchiveSource({ db: index(url), dataDir: moved, closeDb: false });
    expect((await r3.getData(['a'], 0, 10, null)).data.a).toEqual([42]);
  });

  test('an indexed path that leaves the data root is skipped with an error, never read', async () => {
    write(
      'in/a.dat',
      weather('a', [
        [1, 1],
        [2, 2],
      ]),
    );
    const db = index();
    await (await scanner(db)).scan();
    writeFileSync(
      path.join(path.dirname(dir), 'secret.dat'),
      weather('a', [
        [1, 666],
        [2, 666],
      ]),
    );
    // a tampered (shared) index: the same file row, its path pointing out of the root
    const evil = new Proxy(db, {
      get(o, k) {
        if (k === 'filesFor')
          return async (...a: Parameters<IndexDb['filesFor']>) =>
            (await o.filesFor(...a)).map((h) => ({ ...h, key: 'x', path: '../secret.dat' }));
        const v = (o as unknown as Record<string | symbol, unknown>)[k];
        return typeof v === 'function' ? v.bind(o) : v;
      },
    });
    const errors: unknown[] = [];
    const logger = { child: () => logger, error: (o: unknown) => errors.push(o), warn() {}, info() {}, debug() {} } as never;
    const src = new ArchiveSource({ db: evil, closeDb: false, dataDir: dir, logger });
    expect((await src.getData(['a'], 0, 10, null)).data.a).toEqual([]);
    expect(errors).toEqual([expect.objectContaining({ file: '../secret.dat' })]);
    expect((await reader(db).getData(['a'], 0, 10, null)).data.a).toEqual([1, 2]);
  });

  test('min_stride over disjoint and overlapping files equals thinning the full answer', async () => {
    // three disjoint files, two overlapping ones (later file wins on equal times), a spike, gaps
    const rows = (a: number, b: number, f: (t: number) => number | string) =>
      range(a, b, 0.5)
        .map((t) => `${t},${f(t)}`)
        .join('\n');
    write('m/a.csv', `time,x,y\n${rows(0, 100, (t) => `${Math.sin(t)},${t % 3}`)}\n`);
    write('m/b.csv', `time,x\n${rows(100.5, 200, (t) => (t === 150 ? 99 : Math.cos(t)))}\n`);
    write('m/c.csv', `time,x,y\n${rows(300, 320, (t) => `${t},`)}\n`);
    write('m/d.csv', `time,x\n${rows(400, 450, (t) => -t)}\n`);
    write('m/e.csv', `time,x\n${rows(420, 480, (t) => t / 2)}\n`);
    const db = index();
    await (await scanner(db)).scan();
    for (const field of ['x', 'y']) {
      const full = await reader(db).getData([field], 10, 470, null);
      const [tl, timeline] = Object.entries(full.timeline)[0] ?? [];
      if (tl === undefined || timeline === undefined) throw new Error(`no timeline for ${field}`);
      expect(timeline.t.length).toBeGreaterThan(100);
      for (const stride of [0.7, 3, 17, 250]) {
        const d = await reader(db).getData([field], 10, 470, stride);
        const want = downsampleMinMax(timeline.t, [full.data[field] ?? []], stride);
        expect(d.timeline[tl]?.t).toEqual(want.t);
        expect(d.data[field]).toEqual(want.columns[0]);
      }
    }
  });

  test('a request does not hold every decoded file: each is cut to the asked slice as it is decoded', async () => {
    for (let k = 0; k < 6; k++)
      write(
        `big/f${k}.csv`,
        `time,v\n${range(k * 1000, k * 1000 + 1000)
          .map((t) => `${t},${t}`)
          .join('\n')}\n`,
      );
    const db = index();
    await (await scanner(db)).scan();
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const src = new ArchiveSource({ db, closeDb: false, cacheBytes: 1, concurrency: 1 }); // nothing cached
    const refs: Array<WeakRef<object>> = [];
    let calls = 0;
    let collected = -1;
    const get = src.cache.get.bind(src.cache);
    src.cache.get = async (key, load) => {
      if (++calls === 6) {
        // the last file: by now the five before it must be collectable
        await new Promise((r) => setImmediate(r));
        gc();
        collected = refs.filter((r) => r.deref() === undefined).length;
      }
      const v = await get(key, load);
      refs.push(new WeakRef(v));
      return v;
    };
    const d = await src.getData(['v'], 500, 5500, null);
    expect(Object.values(d.timeline)[0]!.t).toHaveLength(5000);
    // (the file just handed over may still sit in a stale register of the worker: at most one)
    expect(collected).toBeGreaterThanOrEqual(4);
  });
});
