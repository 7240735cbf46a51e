import { createHash } from 'node:crypto';
import { execFileSync, spawn } from 'node:child_process';
import {
  appendFileSync,
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  mkdtempSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { gzipSync } from 'node:zlib';
import * as path from 'node:path';
import { openIndexDb, Scanner } from '../../data-nodes/archive';
import { decodeLimitFor, memoryAvailable, MIN_DECODE_LIMIT, onLocalDisk, type FileJob } from '../../data-nodes/archive/file-read';
import { DecodePool, sharedPoolUsers } from '../../data-nodes/archive/decode-pool';
import { withTimeout } from '../../common/timeout';
import { contentHash, summariseFile, type SummaryJob } from '../../data-nodes/archive/file-summary';

/** Worker threads load the TypeScript sources through this hook. */
const TS_WORKERS = ['--require', path.join(__dirname, '..', 'helpers', 'ts-require.js')];
/** Workers that cannot start (their require hook is missing). */
const NO_WORKERS = ['--require', path.join(__dirname, 'no-such-hook.js')];
/** Makes a worker never return from opening a `.hang.csv` file. */
const HANG = path.join(__dirname, '..', 'helpers', 'hang-require.js');
/** Makes every decode worker but the first wait before it starts (see the file). */
const HOLD_START = path.join(__dirname, '..', 'helpers', 'hold-start-require.js');

/** `readUnchanged` of `abs` on the thread of a child process (20 s at most): its answer's kind and error. */
function readApart(abs: string): { kind: string; error?: string } {
  const out = execFileSync(process.execPath, ['--import', 'tsx', path.join(__dirname, '..', 'fixtures', 'read-unchanged.ts'), abs], {
    cwd: path.resolve(__dirname, '../..'),
    encoding: 'utf8',
    timeout: 20_000,
  });
  return JSON.parse(out) as { kind: string; error?: string };
}

const csv = (k: number, rows = 40000): string =>
  `time,v,w\n${Array.from({ length: rows }, (_, i) => `${1000 + i},${(i * k) % 10},${i % 7}`).join('\n')}\n`;
const job = (content: Uint8Array, sameAs: string | null = null): SummaryJob => ({
  key: 'k',
  relPath: 'a.csv',
  format: 'csv',
  content,
  sameAs,
  summaries: true,
});

/** A CSV file written in `dir` for each name (the k-th: csv(k + 1)), as the jobs a scanner gives the pool. */
function csvJobs(dir: string, rels: string[]): FileJob[] {
  return rels.map((rel, k) => {
    const abs = path.join(dir, rel);
    writeFileSync(abs, csv(k + 1));
    const st = statSync(abs);
    return { key: `k${k}`, relPath: rel, format: 'csv', sameAs: null, summaries: true, abs, size: st.size, mtimeMs: st.mtimeMs };
  });
}

/** Maps and typed arrays made plain (a worker's answer is built in another realm than jest's). */
function plain(x: unknown): unknown {
  if (Object.prototype.toString.call(x) === '[object Map]') {
    const out: Array<[unknown, unknown]> = [];
    (x as Map<unknown, unknown>).forEach((v, k) => out.push([k, plain(v)]));
    return out;
  }
  if (ArrayBuffer.isView(x)) return Array.from(x as Float64Array);
  if (Array.isArray(x)) return x.map(plain);
  if (x !== null && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, plain(v)]));
  return x;
}

describe('DecodePool (hash, decode, field rows and tiers on worker threads)', () => {
  test('the pool holds the process while it has jobs, workers starting included, and not once they are answered', async () => {
    // what keeps this process's event loop alive of the pool's kind (its workers and their message ports)
    const held = () => process.getActiveResourcesInfo().filter((r) => r === 'MessagePort' || r === 'Worker').length;
    const dir = mkdtempSync(path.join(tmpdir(), 'sisock-poolref-'));
    const before = held();
    const pool = new DecodePool(2, { minBytes: 0, execArgv: TS_WORKERS });
    try {
      writeFileSync(path.join(dir, 'a.csv'), csv(3));
      const st = statSync(path.join(dir, 'a.csv'));
      const { content: _c, ...rest } = job(Buffer.alloc(0), null);
      const answers = Promise.all(
        [1, 2, 3, 4].map(() => pool.runFile({ ...rest, abs: path.join(dir, 'a.csv'), size: st.size, mtimeMs: st.mtimeMs })),
      );
      // waiting for workers that have not started yet: a process with nothing else to do waits for them
      expect(held()).toBeGreaterThan(before);
      expect((await answers).map((r) => r.kind)).toEqual(['decoded', 'decoded', 'decoded', 'decoded']);
      // idle (the workers kept for the next jobs): nothing holds the process any more. Unref'd before their
      // 'message' listener was added, a port stayed held (nodejs/node#53036), and `sisock node scan
      // --once` exited 60 s after its scan, when the shared pool was closed.
      expect(held()).toBe(before);
    } finally {
      await pool.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a worker still starting when the others have answered every job holds the process no more', async () => {
    const held = () => process.getActiveResourcesInfo().filter((r) => r === 'MessagePort' || r === 'Worker').length;
    const dir = mkdtempSync(path.join(tmpdir(), 'sisock-poolstart-'));
    const before = held();
    // the second worker to load waits for `go` (HOLD_START)
    const env = { ...process.env, SISOCK_TEST_HOLD_START: dir };
    const pool = new DecodePool(2, { minBytes: 0, execArgv: [...TS_WORKERS, '--require', HOLD_START], env });
    try {
      writeFileSync(path.join(dir, 'a.csv'), csv(3));
      const st = statSync(path.join(dir, 'a.csv'));
      const { content: _c, ...rest } = job(Buffer.alloc(0), null);
      const run = () => pool.runFile({ ...rest, abs: path.join(dir, 'a.csv'), size: st.size, mtimeMs: st.mtimeMs });
      expect((await Promise.all([run(), run(), run()])).map((r) => r.kind)).toEqual(['decoded', 'decoded', 'decoded']);
      // every job answered by the first worker while the second is held before its start: nothing holds
      // the process, or one starting late would have kept it waiting (CI saw it so)
      expect(existsSync(path.join(dir, 'first'))).toBe(true); // the workers got the variable
      expect((pool as unknown as { slots: Array<{ ready: boolean }> }).slots.map((s) => s.ready).sort()).toEqual([false, true]);
      expect(held()).toBe(before);
      writeFileSync(path.join(dir, 'go'), '');
      // later jobs are answered as before, and the idle pool again holds nothing
      expect((await Promise.all([run(), run(), run(), run()])).map((r) => r.kind)).toEqual(['decoded', 'decoded', 'decoded', 'decoded']);
      expect(held()).toBe(before);
    } finally {
      writeFileSync(path.join(dir, 'go'), '');
      await pool.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a worker reads a file itself: what the calling thread computes; a file changed since its stat is retried, a deleted one gone', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sisock-readjob-'));
    const pool = new DecodePool(2, { minBytes: 0, execArgv: TS_WORKERS });
    const fileJob = (rel: string, sameAs: string | null = null): FileJob => {
      const abs = path.join(dir, rel);
      const st = statSync(abs);
      const { content: _c, ...rest } = job(Buffer.alloc(0), sameAs);
      return { ...rest, abs, size: st.size, mtimeMs: st.mtimeMs };
    };
    try {
      writeFileSync(path.join(dir, 'a.csv'), csv(3));
      writeFileSync(path.join(dir, 'b.csv'), csv(7, 50000)); // bigger than a: the worker's buffer grows
      writeFileSync(path.join(dir, 'c.csv'), csv(5));
      writeFileSync(path.join(dir, 'bad.csv'), Buffer.alloc(100000, 0xff));
      const [ra, rb, same] = await Promise.all([
        pool.runFile(fileJob('a.csv')),
        pool.runFile(fileJob('b.csv')),
        pool.runFile(fileJob('a.csv', contentHash(Buffer.from(csv(3))))),
      ]);
      const expectA = await summariseFile(job(Buffer.from(csv(3))));
      expect(expectA.kind).toBe('decoded');
      expect(plain(ra)).toEqual(plain(expectA));
      expect(plain(rb)).toEqual(plain(await summariseFile(job(Buffer.from(csv(7, 50000))))));
      expect(JSON.stringify(plain(ra))).toContain('"tierMin":600');
      expect(same).toEqual({ kind: 'same', hash: contentHash(Buffer.from(csv(3))) });
      expect((await pool.runFile(fileJob('bad.csv'))).kind).toBe('error');
      // a smaller file after a bigger one in the same buffer: only its own bytes are hashed
      expect(plain(await pool.runFile(fileJob('c.csv')))).toEqual(plain(await summariseFile(job(Buffer.from(csv(5))))));

      const grown = fileJob('c.csv');
      appendFileSync(path.join(dir, 'c.csv'), '99999,1,1\n');
      expect(await pool.runFile(grown)).toEqual({ kind: 'retry', bytes: grown.size + 1 });
      const touched = fileJob('a.csv');
      utimesSync(touched.abs, new Date(), new Date(Date.now() + 5000)); // same size, new mtime
      expect((await pool.runFile(touched)).kind).toBe('retry');
      const shrunk = fileJob('b.csv');
      writeFileSync(shrunk.abs, csv(7, 10));
      utimesSync(shrunk.abs, new Date(), new Date(shrunk.mtimeMs)); // same mtime, fewer bytes
      expect(await pool.runFile(shrunk)).toMatchObject({ kind: 'retry' });

      const gone = fileJob('a.csv');
      rmSync(gone.abs);
      expect(await pool.runFile(gone)).toEqual({ kind: 'gone' });
      mkdirSync(path.join(dir, 'd'));
      const unreadable = await pool.runFile({ ...fileJob('d'), size: 100000 });
      expect(unreadable).toMatchObject({ kind: 'unreadable', error: expect.stringContaining('not a regular file') });
      // as fs.readFile: no file over 2 GiB is read (a sparse one here: no disk used)
      const huge = path.join(dir, 'huge.csv');
      writeFileSync(huge, '');
      truncateSync(huge, 2 ** 31);
      expect(await pool.runFile(fileJob('huge.csv'))).toEqual({
        kind: 'unreadable',
        error: 'File size (2147483648) is greater than 2 GiB',
      });
      expect(pool.threaded).toBe(true);
    } finally {
      await pool.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a worker that dies: the job it was at is lost, the files queued behind it are read by its replacement', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sisock-poolkill-'));
    const pool = new DecodePool(1, { minBytes: 0, execArgv: TS_WORKERS });
    try {
      const files = csvJobs(
        dir,
        Array.from({ length: 5 }, (_, k) => `f${k}.csv`),
      );
      expect((await pool.runFile(files[0]!)).kind).toBe('decoded'); // the worker is up
      const answers = files.slice(1).map((f) => pool.runFile(f));
      // all four are posted to the one worker at once; it dies at the first
      const slots = (pool as unknown as { slots: Array<{ worker: { terminate(): Promise<number> }; inflight: unknown[] }> }).slots;
      expect(slots[0]?.inflight).toHaveLength(4);
      await slots[0]?.worker.terminate();
      const got = await Promise.all(answers);
      expect(got[0]).toMatchObject({ kind: 'lost', running: true });
      expect(got.slice(1).map((r) => r.kind)).toEqual(['decoded', 'decoded', 'decoded']);
      expect(pool.threaded).toBe(true);
    } finally {
      await pool.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a worker past its deadline on a file: that file is lost with the limit named, the files behind it go to a replacement', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sisock-pooldeadline-'));
    const pool = new DecodePool(1, { minBytes: 0, execArgv: [...TS_WORKERS, '--require', HANG], deadline: { baseMs: 2000, msPerMiB: 0 } });
    try {
      const files = csvJobs(dir, ['a.csv', 'x.hang.csv', 'b.csv', 'c.csv']);
      expect((await pool.runFile(files[0]!)).kind).toBe('decoded'); // the worker is up
      const t0 = performance.now();
      // the three go to the one worker at once; it never comes back from the second file
      const got = await withTimeout(Promise.all(files.slice(1).map((f) => pool.runFile(f))), 30_000, 'the answers');
      expect(got[0]).toMatchObject({ kind: 'lost', running: true });
      expect((got[0] as { error: string }).error).toMatch(/more than 2\.0 s on this file/);
      expect(got.slice(1).map((r) => r.kind)).toEqual(['decoded', 'decoded']);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(1900);
      // a deadline is the file's doing: it does not bring the pool nearer to giving up on workers
      expect(pool.threaded).toBe(true);
      expect((pool as unknown as { respawns: number }).respawns).toBe(0);
    } finally {
      await pool.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('workers stuck past their deadline in a system call hold their places until they exit: then the files are answered to be tried again', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sisock-poolstuck-'));
    const pool = new DecodePool(1, { minBytes: 0, execArgv: [...TS_WORKERS, '--require', HANG], deadline: { baseMs: 1000, msPerMiB: 0 } });
    const fifo = path.join(dir, 'a.stuck.csv.fifo');
    execFileSync('mkfifo', [fifo]);
    const release = () => {
      try {
        closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
      } catch {
        // no reader waiting
      }
    };
    try {
      const jobs = csvJobs(dir, ['w.csv', 'a.stuck.csv', 'b.csv', 'c.csv']);
      expect((await pool.runFile(jobs[0]!)).kind).toBe('decoded'); // the worker is up
      const [stuck, behind] = await withTimeout(Promise.all([pool.runFile(jobs[1]!), pool.runFile(jobs[2]!)]), 30_000, 'the answers');
      expect(stuck).toMatchObject({ kind: 'lost', running: true, error: expect.stringMatching(/more than 1\.0 s/) });
      // its only place is held by the stuck thread: the file behind it is answered, to be read again later
      expect(behind).toMatchObject({ kind: 'lost', running: false, error: expect.stringMatching(/every decode worker is stuck/) });
      expect((pool as unknown as { stuck: Set<unknown> }).stuck.size).toBe(1);
      // the system call returns, the thread ends, a new worker takes its place
      release();
      expect((await withTimeout(pool.runFile(jobs[3]!), 30_000, 'a file after')).kind).toBe('decoded');
      expect((pool as unknown as { stuck: Set<unknown> }).stuck.size).toBe(0);
      expect(pool.threaded).toBe(true);
    } finally {
      release();
      await pool.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a FIFO where the scan saw a file is unreadable at once, on a worker and on the calling thread (no read that waits for a writer)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sisock-poolfifo-'));
    const fifo = path.join(dir, 'swapped.csv');
    execFileSync('mkfifo', [fifo]);
    const pool = new DecodePool(1, { minBytes: 0, execArgv: TS_WORKERS, deadline: { baseMs: 10_000, msPerMiB: 0 } });
    try {
      const f: FileJob = {
        key: 'k',
        relPath: 'swapped.csv',
        format: 'csv',
        sameAs: null,
        summaries: true,
        abs: fifo,
        size: 10,
        mtimeMs: 0,
      };
      expect(await withTimeout(pool.runFile(f), 20_000, 'the worker')).toEqual({
        kind: 'unreadable',
        error: expect.stringMatching(/not a regular file/),
      });
      expect(readApart(fifo)).toEqual({ kind: 'unreadable', error: expect.stringMatching(/not a regular file/) });
    } finally {
      // a reader blocked in open (the bug this guards against) is let go, so the process can exit
      try {
        closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
      } catch {
        // no reader waiting: nothing to let go
      }
      await pool.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a file another process holds a lease on is tried again later, not waited for (up to 45 s) nor recorded as unreadable', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sisock-poollease-'));
    const abs = path.join(dir, 'leased.csv');
    writeFileSync(abs, csv(2));
    // a write lease, as Samba's oplocks and an NFS server's delegations take them: held until stdin closes
    const holder = spawn('/usr/bin/python3', [
      '-c',
      // (a read's open breaks it: the kernel sends SIGIO, whose default would end the holder, and gives it 45 s)
      'import fcntl, os, signal, sys; signal.signal(signal.SIGIO, signal.SIG_IGN); fd = os.open(sys.argv[1], os.O_RDONLY); fcntl.fcntl(fd, 1024, fcntl.F_WRLCK); print("held", flush=True); sys.stdin.read()',
      abs,
    ]);
    const pool = new DecodePool(1, { minBytes: 0, execArgv: TS_WORKERS });
    try {
      await withTimeout(new Promise((r) => holder.stdout.once('data', r)), 20_000, 'the lease');
      const st = statSync(abs);
      const job: FileJob = {
        key: 'k',
        relPath: 'leased.csv',
        format: 'csv',
        sameAs: null,
        summaries: true,
        abs,
        size: st.size,
        mtimeMs: st.mtimeMs,
      };
      expect(await withTimeout(pool.runFile(job), 20_000, 'the worker')).toEqual({ kind: 'retry', bytes: 0 });
      expect(readApart(abs)).toEqual({ kind: 'retry' });
      holder.stdin.end();
      await withTimeout(new Promise((r) => holder.once('exit', r)), 20_000, 'the holder');
      expect((await pool.runFile(job)).kind).toBe('decoded');
    } finally {
      holder.kill();
      await pool.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('workers that cannot start leave every file to the caller, to read on its own thread', async () => {
    const pool = new DecodePool(2, { minBytes: 1024, execArgv: NO_WORKERS });
    const file = (abs: string): FileJob => ({
      key: 'k',
      relPath: 'a.csv',
      format: 'csv',
      sameAs: null,
      summaries: true,
      abs,
      size: 1,
      mtimeMs: 0,
    });
    try {
      expect(pool.threaded).toBe(true);
      // queued before the workers are found not to start: answered when they fail
      expect(await Promise.all([pool.runFile(file('/x')), pool.runFile(file('/y'))])).toEqual([
        { kind: 'unthreaded' },
        { kind: 'unthreaded' },
      ]);
      expect(pool.threaded).toBe(false);
      expect(await pool.runFile(file('/z'))).toEqual({ kind: 'unthreaded' });
    } finally {
      await pool.close();
    }
  });
});

describe('DecodePool.lease: one pool per process and options, kept between scanners', () => {
  afterEach(() => DecodePool.closeShared());

  test('a second scanner gets the workers of the first (compiled already), also after the first closed; a pool that gave up is replaced', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sisock-lease-'));
    writeFileSync(path.join(dir, 'a.csv'), csv(3));
    const db = openIndexDb('sqlite::memory:');
    try {
      const a = DecodePool.lease(2, { execArgv: TS_WORKERS });
      const b = DecodePool.lease(2, { execArgv: TS_WORKERS });
      expect(b.pool).toBe(a.pool);
      expect(DecodePool.lease(1, { execArgv: TS_WORKERS }).pool).not.toBe(a.pool); // other options, other pool
      a.release();
      a.release(); // once only: b still holds it
      b.release();
      // released by all, within SHARED_IDLE_MS: the next lease finds it, and so does a scanner
      const c = DecodePool.lease(2, { execArgv: TS_WORKERS });
      expect(c.pool).toBe(a.pool);
      const s = await Scanner.open({ db, dataDir: dir, settleSeconds: 0, workers: 2, workerExecArgv: TS_WORKERS });
      try {
        expect((s as unknown as { decoder: DecodePool }).decoder).toBe(a.pool);
        expect((await s.scan()).added).toBe(1);
      } finally {
        await s.close();
      }
      expect(a.pool.threaded).toBe(true); // a scanner's close leaves the pool to its other users
      c.release();

      const broken = DecodePool.lease(2, { minBytes: 1024, execArgv: NO_WORKERS });
      const job: FileJob = { key: 'k', relPath: 'a.csv', format: 'csv', sameAs: null, summaries: true, abs: '/x', size: 1, mtimeMs: 0 };
      expect(await broken.pool.runFile(job)).toEqual({ kind: 'unthreaded' });
      const again = DecodePool.lease(2, { minBytes: 1024, execArgv: NO_WORKERS });
      expect(again.pool).not.toBe(broken.pool); // tried again with new workers
      expect(again.pool.threaded).toBe(true);
      broken.release();
      again.release();
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a pool that gave up is closed only when its last user lets it go; a released lease drops its jobs not yet given to a worker', async () => {
    const job = (rel: string): FileJob => ({
      key: 'k',
      relPath: rel,
      format: 'csv',
      sameAs: null,
      summaries: true,
      abs: '/x',
      size: 1,
      mtimeMs: 0,
    });
    const a = DecodePool.lease(2, { minBytes: 1024, execArgv: NO_WORKERS });
    expect(await a.pool.runFile(job('a.csv'))).toEqual({ kind: 'unthreaded' }); // it gives up
    const close = jest.spyOn(a.pool, 'close');
    const b = DecodePool.lease(2, { minBytes: 1024, execArgv: NO_WORKERS });
    expect(b.pool).not.toBe(a.pool);
    expect(close).not.toHaveBeenCalled(); // a still uses it
    a.release();
    expect(close).toHaveBeenCalledTimes(1);
    b.release();

    const dir = mkdtempSync(path.join(tmpdir(), 'sisock-cancel-'));
    try {
      writeFileSync(path.join(dir, 'a.csv'), csv(3));
      const st = statSync(path.join(dir, 'a.csv'));
      const real: FileJob = { ...job('a.csv'), abs: path.join(dir, 'a.csv'), size: st.size, mtimeMs: st.mtimeMs };
      const mine = DecodePool.lease(1, { execArgv: TS_WORKERS });
      const other = DecodePool.lease(1, { execArgv: TS_WORKERS });
      // the worker is still loading: every job waits in the pool
      const dropped = [mine.pool.runFile(real, mine), mine.pool.runFile(real, mine)];
      const kept = other.pool.runFile(real, other);
      mine.release();
      expect(await Promise.all(dropped)).toEqual([
        { kind: 'lost', running: false, error: 'the scanner closed' },
        { kind: 'lost', running: false, error: 'the scanner closed' },
      ]);
      expect((await kept).kind).toBe('decoded');
      other.release();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a scanner that cannot open gives its lease back', async () => {
    const db = openIndexDb('sqlite::memory:');
    try {
      await expect(Scanner.open({ db, dataDir: '/no/such/dir', workers: 2, workerExecArgv: TS_WORKERS })).rejects.toThrow(
        /cannot read data directory/,
      );
      // its pool is only waiting out its idle time
      expect(sharedPoolUsers()).toEqual([0]);
    } finally {
      await db.close();
    }
  });
});

test('the scanner records a file its decode worker overran the deadline on as an error, indexes the rest, and leaves it until it changes', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sisock-scandeadline-'));
  const db = openIndexDb('sqlite::memory:');
  for (const [k, rel] of ['a.csv', 'x.hang.csv', 'b.csv'].entries()) writeFileSync(path.join(dir, rel), csv(k + 2));
  const s = await Scanner.open({
    db,
    dataDir: dir,
    settleSeconds: 0,
    workers: 1,
    workerExecArgv: [...TS_WORKERS, '--require', HANG],
    decodeDeadline: { baseMs: 2000, msPerMiB: 0 },
  });
  try {
    const r = await withTimeout(s.scan(), 60_000, 'the scan');
    expect(r).toMatchObject({ files: 3, added: 2, errors: 1 });
    const rows = await db.listFiles();
    expect(rows.find((f) => f.path === 'x.hang.csv')).toMatchObject({ status: 'error', error: expect.stringMatching(/more than 2\.0 s/) });
    expect(
      rows
        .filter((f) => f.status === 'ok')
        .map((f) => f.path)
        .sort(),
    ).toEqual(['a.csv', 'b.csv']);
    // not read again while it stays as it is
    expect(await withTimeout(s.scan(), 60_000, 'the rescan')).toMatchObject({ unchanged: 3, errors: 0 });
  } finally {
    await s.close();
    await db.close();
    await DecodePool.closeShared();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the scanner tells a touched big file (hashed on a worker) from one changed at the same size', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sisock-decodepool-'));
  const db = openIndexDb('sqlite::memory:');
  const a = path.join(dir, 'a.csv');
  const b = path.join(dir, 'b.csv');
  writeFileSync(a, csv(3));
  writeFileSync(b, csv(3));
  const s = await Scanner.open({ db, dataDir: dir, settleSeconds: 0, workers: 2, workerExecArgv: TS_WORKERS });
  try {
    expect((await s.scan()).added).toBe(2);
    utimesSync(a, new Date(), new Date(Date.now() + 5000)); // touched: same content
    writeFileSync(b, csv(7)); // changed, same size
    expect(csv(7).length).toBe(csv(3).length);
    utimesSync(b, new Date(), new Date(Date.now() + 5000));
    expect(await s.scan()).toMatchObject({ touched: 1, updated: 1, unchanged: 0 });
    const files = await db.listFiles();
    expect(files.map((f) => f.hash).sort()).toEqual([contentHash(Buffer.from(csv(3))), contentHash(Buffer.from(csv(7)))].sort());
  } finally {
    await s.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The jobs `s` gives its decode workers, as they are sent (the spy restored by the caller). */
function jobsSent(s: Scanner): { sent: FileJob[]; spy: jest.SpyInstance } {
  const pool = (s as unknown as { decoder: DecodePool }).decoder;
  const sent: FileJob[] = [];
  const run = pool.runFile.bind(pool);
  const spy = jest.spyOn(pool, 'runFile').mockImplementation((f: FileJob, owner?: object) => {
    sent.push(f);
    return run(f, owner);
  });
  return { sent, spy };
}

test("directIo: 'always' sends the workers' reads around the page cache, and the index is the one a read through it makes; 'auto' keeps a small scan in it", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sisock-directio-'));
  for (let k = 1; k <= 4; k++) writeFileSync(path.join(dir, `f${k}.csv`), csv(k, 30000 + 1000 * k));
  const scan = async (directIo: 'always' | 'never' | 'auto') => {
    const db = openIndexDb('sqlite::memory:');
    const s = await Scanner.open({ db, dataDir: dir, settleSeconds: 0, workers: 2, workerExecArgv: TS_WORKERS, directIo });
    const { sent, spy } = jobsSent(s);
    try {
      const r = await s.scan();
      expect(r).toMatchObject({ added: 4, errors: 0 });
      const files = (await db.listFiles()).map(({ scannedAt: _s, ...f }) => f).sort((a, b) => (a.path < b.path ? -1 : 1));
      const plans = await Promise.all(['v', 'w'].map((f) => db.tierPlan(f, 0, 1e6)));
      return { files, meta: await db.fieldMeta(), plans, direct: sent.map((f) => f.direct === true) };
    } finally {
      spy.mockRestore();
      await s.close();
      await db.close();
    }
  };
  try {
    const around = await scan('always');
    const through = await scan('never');
    expect(around.direct).toEqual([true, true, true, true]);
    expect(through.direct).toEqual([false, false, false, false]);
    expect(around.files).toEqual(through.files);
    expect(around.meta).toEqual(through.meta);
    expect(around.plans).toEqual(through.plans);
    expect(around.meta.map((m) => m.field).sort()).toEqual(['v', 'w']);
    expect(around.plans.map((p) => [p.files, p.tiered])).toEqual([
      [4, 4],
      [4, 4],
    ]);
    // 'auto': a few hundred KiB, far less than half the memory available
    expect((await scan('auto')).direct).toEqual([false, false, false, false]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("directIo 'auto': a scan of more bytes than half the memory available reads around the cache the files on the data directory's own local filesystem, not a link's target on another", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sisock-directio-auto-'));
  // another filesystem where there is one (tmpfs): a link to a file there is read through the cache
  const shm = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/sisock-directio-') : null;
  const os = jest.requireActual<typeof import('node:os')>('node:os');
  const spies = [jest.spyOn(os, 'freemem').mockReturnValue(1000)];
  const proc = process as { availableMemory?: () => number };
  if (proc.availableMemory) spies.push(jest.spyOn(proc as Required<typeof proc>, 'availableMemory').mockReturnValue(1000));
  const db = openIndexDb('sqlite::memory:');
  try {
    for (let k = 1; k <= 2; k++) writeFileSync(path.join(dir, `f${k}.csv`), csv(k));
    const elsewhere = shm !== null && statSync(shm).dev !== statSync(dir).dev;
    if (shm && elsewhere) {
      writeFileSync(path.join(shm, 'f3.csv'), csv(3));
      symlinkSync(path.join(shm, 'f3.csv'), path.join(dir, 'f3.csv'));
    }
    expect(memoryAvailable()).toBe(1000);
    const s = await Scanner.open({ db, dataDir: dir, settleSeconds: 0, workers: 2, workerExecArgv: TS_WORKERS });
    const pool = (s as unknown as { decoder: DecodePool }).decoder;
    const sent = new Map<string, boolean>();
    const run = pool.runFile.bind(pool);
    // restored after: the pool is the process's, shared with the scanners of the tests after this one
    const spy = jest.spyOn(pool, 'runFile').mockImplementation((f: FileJob, owner?: object) => {
      sent.set(f.relPath, f.direct === true);
      return run(f, owner);
    });
    try {
      expect(await s.scan()).toMatchObject({ added: elsewhere ? 3 : 2, errors: 0 });
    } finally {
      spy.mockRestore();
      await s.close();
    }
    const local = onLocalDisk(dir);
    expect(sent.get('f1.csv')).toBe(local);
    expect(sent.get('f2.csv')).toBe(local);
    if (elsewhere) expect(sent.get('f3.csv')).toBe(false);
  } finally {
    for (const x of spies) x.mockRestore();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
    if (shm) rmSync(shm, { recursive: true, force: true });
  }
});

test('content hash: sha1 of the bytes, as older indexes hold it: their files are recognised as touched, a change is not', async () => {
  const base = Buffer.from(csv(3, 50));
  const h = contentHash(base);
  expect(h).toBe(createHash('sha1').update(base).digest('hex'));
  expect(contentHash(Buffer.concat([Buffer.from('x'), base]).subarray(1))).toBe(h);

  const dir = mkdtempSync(path.join(tmpdir(), 'sisock-oldhash-'));
  const dbFile = path.join(dir, 'index.sqlite');
  const data = path.join(dir, 'data');
  const a = path.join(data, 'a.csv');
  const db = openIndexDb(`sqlite:${dbFile}`);
  try {
    mkdirSync(data);
    writeFileSync(a, base);
    const s = await Scanner.open({ db, dataDir: data, settleSeconds: 0, workers: 0 });
    try {
      expect((await s.scan()).added).toBe(1);
      expect((await db.listFiles())[0]?.hash).toBe(h);
      utimesSync(a, new Date(), new Date(Date.now() + 5000));
      expect(await s.scan()).toMatchObject({ touched: 1, updated: 0 });
      // same size, one byte changed, new mtime: decoded again
      const changed = Buffer.from(base);
      changed[changed.length - 2] = changed[changed.length - 2] === 0x31 ? 0x32 : 0x31;
      writeFileSync(a, changed);
      utimesSync(a, new Date(), new Date(Date.now() + 9000));
      expect(await s.scan()).toMatchObject({ touched: 0, updated: 1 });
      expect((await db.listFiles())[0]?.hash).toBe(contentHash(changed));
    } finally {
      await s.close();
    }
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('index transactions: up to `batchFiles` files, fewer when their summaries hold `batchValues` numbers', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sisock-batches-'));
  for (let k = 0; k < 6; k++) writeFileSync(path.join(dir, `f${k}.csv`), csv(k + 1, 5000));
  const sizes = async (o: { batchFiles?: number; batchValues?: number }): Promise<number[]> => {
    const db = openIndexDb('sqlite::memory:');
    const got: number[] = [];
    const write = db.writeBatch.bind(db);
    db.writeBatch = (b) => {
      if (b.files.length) got.push(b.files.length);
      return write(b);
    };
    const s = await Scanner.open({ db, dataDir: dir, settleSeconds: 0, workers: 0, ...o });
    try {
      expect((await s.scan()).added).toBe(6);
    } finally {
      await s.close();
      await db.close();
    }
    return got;
  };
  try {
    expect(await sizes({})).toEqual([6]);
    expect(await sizes({ batchFiles: 4 })).toEqual([4, 2]);
    // each file's tiers hold more than one number: a write after every file
    expect(await sizes({ batchValues: 1 })).toEqual([1, 1, 1, 1, 1, 1]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a slow index backend: no more than a batch or two of summaries wait to be written', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sisock-backpressure-'));
  for (let k = 0; k < 60; k++) writeFileSync(path.join(dir, `f${k}.csv`), csv(k, 10));
  const db = openIndexDb('sqlite::memory:');
  const write = db.writeBatch.bind(db);
  let written = 0;
  let done = 0;
  let most = 0;
  db.writeBatch = async (b) => {
    most = Math.max(most, done - written);
    await new Promise((r) => setTimeout(r, 20)); // a remote database
    await write(b);
    written += b.files.length;
  };
  const s = await Scanner.open({
    db,
    dataDir: dir,
    settleSeconds: 0,
    workers: 0,
    batchFiles: 5,
    onProgress: (p) => {
      if (p.phase === 'index') done = p.files;
    },
  });
  try {
    expect((await s.scan()).added).toBe(60);
    expect(written).toBe(60);
    // the batch being written, one queued behind it, the one filling, and one file answered to each of
    // the `concurrency` (12) reads at work meanwhile; without the limit, all 60 waited behind the first
    expect(most).toBeLessThanOrEqual(3 * 5 + 12);
  } finally {
    await s.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('files read on the scanner thread stay within `concurrency`, however many the workers can queue', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sisock-readlimit-'));
  const db = openIndexDb('sqlite::memory:');
  for (let k = 0; k < 30; k++) writeFileSync(path.join(dir, `f${k}.csv`), csv(k, 10));
  let at = 0;
  let most = 0;
  // Every read waits in the hook until `concurrency` reads are in it at once. The reads of the scanner's
  // thread reach the hook in one synchronous run (file-read.ts), so without the limit all 30 would be in
  // it before the first goes on (and fewer than 3 at a time would never open the gate).
  let open = () => {};
  const gate = new Promise<void>((r) => (open = r));
  const s = await Scanner.open({
    db,
    dataDir: dir,
    settleSeconds: 0,
    workers: 2,
    workerExecArgv: TS_WORKERS,
    concurrency: 3,
    // the hook keeps every read on the scanner's thread
    afterRead: async () => {
      most = Math.max(most, ++at);
      if (at === 3) open();
      await gate;
      at--;
    },
  });
  try {
    expect((await s.scan()).added).toBe(30);
    expect(most).toBe(3);
  } finally {
    await s.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a G3 archive of big files (read by the workers themselves) indexes as on the scanner thread (no workers, or none that start): files, fields, tiers', async () => {
  const { dataFrame, sessionFrame, statusFrame } = await import('../../bench/g3-writer');
  const dir = mkdtempSync(path.join(tmpdir(), 'sisock-g3workers-'));
  const T0 = 1767225600;
  const desc = 'observatory.test.feeds.hk';
  try {
    for (let h = 0; h < 3; h++) {
      const t0 = T0 + h * 3600;
      const sid = BigInt(T0) << 28n;
      const parts = [sessionFrame(sid, t0), statusFrame(sid, t0, [{ id: 0, description: desc }])];
      for (let a = 0; a < 3600; a += 300) {
        const ticks = BigInt64Array.from({ length: 300 }, (_, i) => BigInt(t0 + a + i) * 100000000n);
        const fields = Array.from({ length: 5 }, (_, f) => ({
          name: `f${f}`,
          kind: 'double' as const,
          values: Float64Array.from({ length: 300 }, (_, i) => (i === 7 && f === 1 ? NaN : Math.sin((t0 + a + i) / (30 + f)) * 100)),
        }));
        parts.push(dataFrame(sid, 0, t0 + a + 300, [{ name: 'main', ticks, fields }], desc));
      }
      writeFileSync(path.join(dir, `${t0}.g3`), Buffer.concat(parts));
    }
    expect(statSync(path.join(dir, `${T0}.g3`)).size).toBeGreaterThan(64 * 1024); // past the in-place limit
    const index = async (workers: number, workerExecArgv = TS_WORKERS) => {
      const db = openIndexDb('sqlite::memory:');
      const s = await Scanner.open({ db, dataDir: dir, settleSeconds: 0, workers, workerExecArgv });
      try {
        expect(await s.scan()).toMatchObject({ added: 3, errors: 0 });
        const files = (await db.listFiles()).map(({ scannedAt: _s, ...f }) => f).sort((a, b) => (a.path < b.path ? -1 : 1));
        const fields = await db.fieldMeta();
        const tiers: unknown[] = [];
        for (const f of fields)
          for (const w of [600, 3600])
            tiers.push([f.field, w, (await db.tierBuckets(f.field, w, -Infinity, Infinity)).map((p) => Array.from(p))]);
        return { files, fields, tiers };
      } finally {
        await s.close();
        await db.close();
      }
    };
    const onWorkers = await index(2);
    const inPlace = await index(0);
    // workers that cannot start leave every file to the scanner's thread
    const noWorkers = await index(2, NO_WORKERS);
    expect(onWorkers.fields.map((f) => f.field)).toEqual(expect.arrayContaining([`${desc}.f0`, `${desc}.f4`]));
    expect(onWorkers.files.every((f) => f.status === 'ok' && f.nSamples === 3600)).toBe(true);
    expect((onWorkers.tiers[2] as [string, number, number[][]])[2].length).toBeGreaterThan(0);
    expect(onWorkers).toEqual(inPlace);
    expect(noWorkers).toEqual(inPlace);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('decodeLimit: a compressed file decompressing past its share of the memory is an error naming the limit, on a worker or not; the rest is indexed', async () => {
  // the default: a third of the memory available shared by the decoding threads, within its bounds
  expect(decodeLimitFor(12 * 2 ** 30, 4)).toBe(2 ** 30);
  expect(decodeLimitFor(2 ** 30, 3)).toBe(MIN_DECODE_LIMIT); // a small machine: the floor
  expect(decodeLimitFor(2 ** 40, 3)).toBe(2 ** 31 - 1); // never past what any format decodes
  const dir = mkdtempSync(path.join(tmpdir(), 'sisock-decodelimit-'));
  try {
    // 4 MiB of zeros in a few KB (gzip, bzip2): refused at a 1 MiB limit; a small real file beside them is not
    writeFileSync(path.join(dir, 'bomb.g3.gz'), gzipSync(Buffer.alloc(4 << 20)));
    const raw = path.join(dir, 'bomb2.g3');
    writeFileSync(raw, Buffer.alloc(4 << 20));
    execFileSync('bzip2', [raw]);
    writeFileSync(path.join(dir, 'ok.csv'), csv(1, 1000));
    for (const workers of [2, 0]) {
      const db = openIndexDb('sqlite::memory:');
      const s = await Scanner.open({ db, dataDir: dir, settleSeconds: 0, workers, workerExecArgv: TS_WORKERS, decodeLimit: 1 << 20 });
      const { sent, spy } = jobsSent(s);
      try {
        expect(await s.scan()).toMatchObject({ added: 1, errors: 2 });
        const rows = new Map((await db.listFiles()).map((f) => [f.path, f]));
        for (const [name, kind] of [
          ['bomb.g3.gz', 'gzip'],
          ['bomb2.g3.bz2', 'bzip2'],
        ] as const)
          expect(rows.get(name)).toMatchObject({
            status: 'error',
            error: expect.stringContaining(`${kind} content exceeds 1048576 bytes, the most one decode may hold here`) as unknown,
          });
        expect(rows.get('ok.csv')).toMatchObject({ status: 'ok' });
        // with workers, the compressed files went to them (too small to start there: `elsewhere` first), with the limit
        if (workers) expect(sent.filter((f) => f.relPath.startsWith('bomb')).map((f) => f.decodeLimit)).toEqual([1 << 20, 1 << 20]);
      } finally {
        spy.mockRestore();
        await s.close();
        await db.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
