/**
 * The archive reader's decode threads (ArchiveSource `decodeWorkers`): files of 1 MiB or more are
 * decoded on a worker, so the node keeps serving while a big file decodes; what they serve is what the
 * serving thread decodes itself; a decode past its deadline costs that file for that request only.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { gzipSync } from 'node:zlib';
import * as path from 'node:path';
import pino from 'pino';
import { ArchiveSource, openIndexDb, Scanner, type IndexDb } from '../../data-nodes/archive';
import { dataFrame, sessionFrame, statusFrame } from '../../bench/g3-writer';
import { withTimeout } from '../../common/timeout';
import { DecodePool } from '../../data-nodes/archive/decode-pool';
import { csvFormat } from '../../data-nodes/archive/formats/csv';
import * as fileRead from '../../data-nodes/archive/file-read';

/** Worker threads load the TypeScript sources through this hook. */
const TS_WORKERS = ['--require', path.join(__dirname, '..', 'helpers', 'ts-require.js')];
/** ... and this one ends a worker that opens a `.die.csv` file. */
const DYING_WORKERS = [...TS_WORKERS, '--require', path.join(__dirname, '..', 'helpers', 'hang-require.js')];
const T0 = 1767225600;
/** Rows of the big CSV file: ~40 MB, which takes this machine's CSV reader most of a second or more. */
const BIG_ROWS = 700_000;
/** Seconds of the G3 file. */
const HK_S = 12 * 3600;
/** A CSV file of 1 MiB or more (for a decode thread) with one column. */
const mib = (column: string): string =>
  `time,${column}\n${Array.from({ length: 70_000 }, (_, i) => `${T0 + i},${i % 1000}.125`).join('\n')}\n`;

/** 12 hours of one 1 Hz provider of 3 fields as a G3 HK file (~1.4 MB: for a decode thread). */
function g3File(): Buffer {
  const sid = BigInt(T0) << 28n;
  const parts = [sessionFrame(sid, T0), statusFrame(sid, T0, [{ id: 0, description: 'obs.hk' }])];
  for (let a = 0; a < HK_S; a += 300) {
    const ticks = BigInt64Array.from({ length: 300 }, (_, i) => BigInt(T0 + a + i) * 100000000n);
    const fields = ['x', 'y', 'z'].map((name, f) => ({
      name,
      kind: 'double' as const,
      values: Float64Array.from({ length: 300 }, (_, i) => Math.sin((a + i) / (30 + f))),
    }));
    parts.push(dataFrame(sid, 0, T0 + a + 300, [{ name: 'main', ticks, fields }], 'obs.hk'));
  }
  return Buffer.concat(parts);
}

let dir = '';
let db: IndexDb;
const sources: ArchiveSource[] = [];

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'sisock-serve-workers-'));
  const data = path.join(dir, 'data');
  mkdirSync(data);
  writeFileSync(path.join(data, 'small.csv'), `time,v\n${Array.from({ length: 100 }, (_, i) => `${T0 + i},${i % 9}`).join('\n')}\n`);
  const big: string[] = ['time,a,b,c,d,e'];
  for (let i = 0; i < BIG_ROWS; i++) big.push(`${T0 + i},${i % 97},${(i * 7) % 13}.25,${i % 5},-${i % 11}.5,${i}`);
  writeFileSync(path.join(data, 'big.csv'), `${big.join('\n')}\n`);
  writeFileSync(path.join(data, 'hk.g3'), g3File());
  // for the tests' worker hook (test/helpers/hang-require.js): ends its worker, never returns
  writeFileSync(path.join(data, 'bad.die.csv'), mib('p'));
  writeFileSync(path.join(data, 'slow.hang.csv'), mib('q'));
  db = openIndexDb(`sqlite:${path.join(dir, 'index.sqlite')}`);
  const s = await Scanner.open({ db, dataDir: data, settleSeconds: 0, workers: 0 });
  try {
    const r = await s.scan();
    expect(r).toMatchObject({ added: 5, errors: 0 });
  } finally {
    await s.close();
  }
}, 60_000);

afterAll(async () => {
  for (const s of sources) await s.close();
  await db?.close();
  rmSync(dir, { recursive: true, force: true });
});

function source(decodeWorkers: number, extra: Partial<ConstructorParameters<typeof ArchiveSource>[0]> = {}): ArchiveSource {
  const s = new ArchiveSource({ db, closeDb: false, decodeWorkers, workerExecArgv: TS_WORKERS, cacheBytes: 0, ...extra });
  sources.push(s);
  return s;
}

/** Every field of the archive, by name. */
async function allFields(src: ArchiveSource): Promise<string[]> {
  const [fields] = await src.getFields(0, T0 * 2);
  return Object.keys(fields).sort();
}

/**
 * How long this thread went without running while a request for the big file went on (the event loop's
 * largest delay), and the order in which it and a small request, started once the big file's decode has
 * begun (here or on a thread: spied, no timer), answered.
 */
async function whileBigDecodes(src: ArchiveSource, big: string, small: string): Promise<{ maxDelayMs: number; order: string[] }> {
  const order: string[] = [];
  let begun!: () => void;
  const decoding = new Promise<void>((resolve) => (begun = resolve));
  const decode = csvFormat.decode.bind(csvFormat);
  const here = jest.spyOn(csvFormat, 'decode').mockImplementation((content, ctx) => {
    if (ctx.relPath === 'big.csv') begun();
    return decode(content, ctx);
  });
  const pool = (src as unknown as { pool: DecodePool | null }).pool;
  const serve = pool?.serveFile.bind(pool);
  const threaded =
    pool && serve
      ? jest.spyOn(pool, 'serveFile').mockImplementation((job) => {
          if (job.relPath === 'big.csv') begun();
          return serve(job);
        })
      : null;
  // The largest gap between the ticks of a 5-ms timer, from its first tick to the first after the
  // requests: a gap is seen by the tick that ends it. (perf_hooks' monitorEventLoopDelay drops its first
  // interval, and a block there, before its first tick, went unseen: CI measured 0 ms without threads.)
  let last = -1;
  let maxGap = 0;
  let onTick: (() => void) | null = null;
  const ticked = () => new Promise<void>((resolve) => (onTick = resolve));
  const timer = setInterval(() => {
    const now = performance.now();
    if (last >= 0) maxGap = Math.max(maxGap, now - last);
    last = now;
    onTick?.();
  }, 5);
  try {
    await withTimeout(ticked(), 10_000, 'the first tick');
    const bigDone = src.getData([big], T0, T0 + 10, null).then(() => order.push('big'));
    await withTimeout(decoding, 60_000, "the big file's decode to begin");
    const smallDone = src.getData([small], T0, T0 + 1000, null).then(() => order.push('small'));
    await withTimeout(Promise.all([bigDone, smallDone]), 60_000, 'the two requests');
    await withTimeout(ticked(), 10_000, 'a tick after the requests');
  } finally {
    clearInterval(timer);
    here.mockRestore();
    threaded?.mockRestore();
  }
  return { maxDelayMs: maxGap, order };
}

test('decode threads serve exactly what the serving thread decodes, whole and thinned', async () => {
  const here = source(0);
  const lines: string[] = [];
  const threads = source(2, { logger: pino({ level: 'warn' }, { write: (l: string) => void lines.push(l) }) });
  const fields = await allFields(here);
  expect(fields).toHaveLength(1 + 5 + 3 + 1 + 1);
  for (const [start, end, stride] of [
    [T0 - 10, T0 + BIG_ROWS + 10, null],
    [T0 + 1234.5, T0 + 5000, null],
    [T0, T0 + BIG_ROWS, 3600],
  ] as Array<[number, number, number | null]>) {
    const a = await here.getData(fields, start, end, stride);
    const b = await threads.getData(fields, start, end, stride);
    // compared value by value (a diff of 700,000-value arrays takes jest minutes to print)
    const diff: string[] = [];
    for (const f of fields) {
      const x = a.data[f] ?? [];
      const y = b.data[f] ?? [];
      const i = x.findIndex((v, j) => !Object.is(v, y[j]));
      if (i >= 0 || x.length !== y.length)
        diff.push(`${f}: ${x.length} vs ${y.length} values, first differing at ${i}: ${String(x[i])} vs ${String(y[i])}`);
    }
    for (const [tl, v] of Object.entries(a.timeline)) {
      const w = b.timeline[tl];
      const i = v.t.findIndex((t, j) => t !== w?.t[j]);
      if (i >= 0 || v.t.length !== w?.t.length || v.finalized_until !== w?.finalized_until)
        diff.push(`timeline ${tl}: ${v.t.length} vs ${w?.t.length} times, first differing at ${i}: ${v.t[i]} vs ${w?.t[i]}`);
    }
    expect({ request: [start, end, stride], diff, lines }).toEqual({ request: [start, end, stride], diff: [], lines: [] });
  }
}, 120_000);

test('the node keeps serving while a big file decodes on a thread (and did not without one)', async () => {
  // CSV fields are named by their columns: big.csv's a…e, small.csv's v
  const big = 'a';
  const small = 'v';
  // without decode threads (as before): the big file's decode holds this thread, the small request waits
  const held = await whileBigDecodes(source(0), big, small);
  expect(held.order).toEqual(['big', 'small']);
  // with them: the small request is answered while the big file decodes, and this thread stays free
  const free = await whileBigDecodes(source(2), big, small);
  expect(free.order).toEqual(['small', 'big']);
  expect(free.maxDelayMs).toBeLessThan(held.maxDelayMs / 2);
}, 120_000);

test('a decode past its deadline skips that file for that request; the next requests are served', async () => {
  const src = source(1, { workerExecArgv: DYING_WORKERS, decodeDeadline: { baseMs: 1000, msPerMiB: 0 } });
  const hk = (await allFields(src)).filter((f) => f.startsWith('obs.hk'));
  expect(hk).toHaveLength(3);
  const r = await withTimeout(src.getData(['q'], T0, T0 + 70_000, null), 60_000, 'the request for the file that never decodes');
  expect(r.data.q).toEqual([]);
  // a replacement thread decodes the G3 file (1.4 MB: well within 1 s), and small files are decoded here
  const g = await withTimeout(src.getData(hk, T0, T0 + HK_S, null), 60_000, 'the G3 request');
  for (const f of hk) expect(g.data[f]).toHaveLength(HK_S);
  const s = await src.getData(['v'], T0, T0 + 100, null);
  expect(s.data.v).toHaveLength(100);
}, 120_000);

test('a file that kills its decode thread, asked for again and again, costs only its own requests', async () => {
  const src = source(1, { workerExecArgv: DYING_WORKERS });
  // more deaths than a pool takes (MAX_RESPAWNS, 8) before it gives up: the reader starts another
  for (let i = 0; i < 10; i++) {
    const r = await withTimeout(src.getData(['p'], T0, T0 + 70_000, null), 60_000, `request ${i} for the bad file`);
    expect(r.data.p).toEqual([]);
  }
  // the big CSV, on a thread of the new pool
  const b = await withTimeout(src.getData(['a'], T0, T0 + 10, null), 60_000, 'the big request');
  expect(b.data.a).toHaveLength(10);
}, 120_000);

test('a compressed file decompressing past the reader decodeLimit is left out of requests for a while, logged once, on a decode thread or here; the rest is served', async () => {
  const own = mkdtempSync(path.join(tmpdir(), 'sisock-serve-limit-'));
  const data = path.join(own, 'data');
  mkdirSync(data);
  // 1.4 MB of G3 in far fewer bytes of gzip; indexed under the scanner's default limit
  writeFileSync(path.join(data, 'hk.g3.gz'), gzipSync(g3File()));
  writeFileSync(path.join(data, 'small.csv'), `time,v\n${Array.from({ length: 100 }, (_, i) => `${T0 + i},${i % 9}`).join('\n')}\n`);
  const idx = openIndexDb(`sqlite:${path.join(own, 'index.sqlite')}`);
  const mine: ArchiveSource[] = [];
  const spies: jest.SpyInstance[] = [];
  try {
    const s = await Scanner.open({ db: idx, dataDir: data, settleSeconds: 0, workers: 0 });
    try {
      expect(await s.scan()).toMatchObject({ added: 2, errors: 0 });
    } finally {
      await s.close();
    }
    const open = (decodeWorkers: number, decodeLimit?: number) => {
      const lines: string[] = [];
      const src = new ArchiveSource({
        db: idx,
        closeDb: false,
        decodeWorkers,
        workerExecArgv: TS_WORKERS,
        cacheBytes: 0,
        ...(decodeLimit !== undefined ? { decodeLimit } : {}),
        logger: pino({ level: 'warn' }, { write: (l: string) => void lines.push(l) }),
      });
      mine.push(src);
      // the files given to its decode threads
      const pool = (src as unknown as { pool: DecodePool | null }).pool;
      const served: Array<{ relPath: string; decodeLimit?: number }> = [];
      if (pool) {
        const serve = pool.serveFile.bind(pool);
        spies.push(
          jest.spyOn(pool, 'serveFile').mockImplementation((job) => {
            served.push({ relPath: job.relPath, ...(job.decodeLimit !== undefined ? { decodeLimit: job.decodeLimit } : {}) });
            return serve(job);
          }),
        );
      }
      return { src, lines, served };
    };
    const hk = ['obs.hk.x', 'obs.hk.y', 'obs.hk.z'];
    const refusals = (lines: string[]) => lines.filter((l) => l.includes('decompresses past what one decode may hold here'));
    for (const workers of [1, 0]) {
      const { src, lines, served } = open(workers, 1 << 20);
      expect(Object.keys((await src.getFields(0, T0 * 2))[0]).sort()).toEqual([...hk, 'v']);
      // asked for twice: decoded (and refused) once, logged once, with the limit named
      for (let i = 0; i < 2; i++) {
        const r = await withTimeout(src.getData(hk, T0, T0 + HK_S, null), 60_000, 'the G3 request');
        for (const f of hk) expect(r.data[f]).toEqual([]);
      }
      expect(refusals(lines)).toHaveLength(1);
      expect(refusals(lines)[0]).toContain('gzip content exceeds 1048576 bytes');
      // with a thread: decoded there (compressed G3 is never decoded on the serving thread's bounded path)
      expect(served).toEqual(workers ? [{ relPath: 'hk.g3.gz', decodeLimit: 1 << 20 }] : []);
      expect((await src.getData(['v'], T0, T0 + 100, null)).data.v).toHaveLength(100);
    }
    // the default: decodeLimitFor the memory available, shared by the decode thread and this one
    const limitFor = jest.spyOn(fileRead, 'decodeLimitFor').mockReturnValue(1 << 20);
    spies.push(limitFor);
    const dflt = open(1);
    await withTimeout(dflt.src.getData(hk, T0, T0 + HK_S, null), 60_000, 'the G3 request');
    expect(refusals(dflt.lines)).toHaveLength(1);
    expect(limitFor.mock.calls.map((c) => c[1])).toEqual([2]);
    limitFor.mockRestore();
    // and without the spy, a share of this machine's memory, which serves it
    const { src } = open(1);
    const r = await withTimeout(src.getData(hk, T0, T0 + HK_S, null), 60_000, 'the G3 request');
    for (const f of hk) expect(r.data[f]).toHaveLength(HK_S);
  } finally {
    for (const x of spies) x.mockRestore();
    for (const x of mine) await x.close();
    await idx.close();
    rmSync(own, { recursive: true, force: true });
  }
}, 120_000);
