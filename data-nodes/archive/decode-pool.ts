/**
 * The scanner's decode workers: each file's read, hash, decode, field rows and summary tiers
 * (file-read.ts, file-summary.ts) on a pool of worker threads, so the scanner's thread only walks, stats
 * and writes the index. The worker reads the file itself: no content crosses threads, only the small
 * summary comes back.
 *
 * Each worker holds at most `PER_WORKER` jobs (one at work, the others waiting, so it has work while the
 * scanner's thread writes the index); the others wait here (a job holds no memory until its worker reads
 * its file). Files under `minBytes` are for the caller to read and summarise itself (a round trip costs
 * more). A worker that cannot start leaves every job to the caller (`unthreaded`); one that dies answers
 * the job it was at `lost`, and its other jobs go to another worker. It is replaced. Workers hold the
 * event loop only while a job is pending; `close` ends them.
 *
 * Scanners take their pool with `DecodePool.lease`: the pools of a process are kept between scanners (and
 * for `SHARED_IDLE_MS` after the last one closes), so a scanner opened after another one finds workers
 * whose code V8 has already compiled. A fresh worker spends its first second or so mostly in the
 * optimising compiler (a third of its time over the first 360 G3 files, measured with perf): a second
 * scanner of the same process paid that again for nothing, e.g. the archive node's index rebuilt, or the
 * scans of the G3 bench, one scanner per index.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { FileJob, FileResult, ServeJob, ServeResult } from './file-read';
import { fromWire, type WireDecoded } from './result-wire';

/**
 * `lost`: the worker stopped at it (`running`: it was at work on it, and the file may be what killed it)
 * or the pool closed. `unthreaded`: no worker can take it (they cannot start, or the pool closed): the
 * caller reads the file.
 */
type NotRun = { kind: 'lost'; running: boolean; error: string } | { kind: 'unthreaded' };
export type PoolResult = FileResult | NotRun;
/** A ServeJob's answer (`serveFile`). */
export type ServePoolResult = ServeResult | NotRun;

/**
 * Jobs posted to one worker. Enough to keep it working while the scanner's thread is in a synchronous
 * index write: ~75 ms for 100 G3 hour files with their tiers, more when the cores are shared, and the
 * scanner writes up to 1000 files at once (scanner.ts batchFiles); a worker summarises a G3 hour file
 * in about a millisecond. With 5 both workers sat idle through every write of 100 files; 32 still ran
 * dry at times. A job holds no memory until its worker reads the file.
 */
const PER_WORKER = 512;
/** How long files wait for a place when every worker is stuck past a deadline (decode-pool `pump`). */
const STUCK_GRACE_MS = 5000;
/** Replacements of dead workers before the pool gives up on workers. */
const MAX_RESPAWNS = 8;
/** How long a leased pool outlives its last lease (its idle workers do not hold the event loop). */
export const SHARED_IDLE_MS = 60_000;

/** A scanner's use of a shared pool: `release` once, when the scanner closes. */
export interface PoolLease {
  pool: DecodePool;
  release(): void;
}

/** `retired`: replaced by a new pool (it gave up on workers), closed when its last lease is released. */
const shared = new Map<string, { pool: DecodePool; users: number; idle: NodeJS.Timeout | null; retired: boolean }>();

/** The leases held on each shared pool (for tests and diagnostics). */
export function sharedPoolUsers(): number[] {
  return [...shared.values()].map((s) => s.users);
}

/** `owner`: what `cancel` drops the job for (a scanner's lease). */
type Job = { id: number; file: FileJob | ServeJob; owner: object | undefined; resolve: (r: PoolResult | ServePoolResult) => void };

interface Slot {
  worker: Worker;
  ready: boolean;
  /** Posted jobs, oldest (the one at work) first. */
  inflight: Job[];
  /** The deadline of the job at work (inflight[0]), armed when it became the oldest. */
  timer: NodeJS.Timeout | null;
}

/**
 * How long a worker may spend on one file: `baseMs` and `msPerMiB` of the file's size (default 60 s + 1 s
 * a MiB: G3 decodes at ~1 GB/s, CSV at ~100 MB/s, a .xz at what its decompression gives, so a good file
 * takes a small part of it). Beyond it the file is answered `lost` (an error row naming the time), the
 * worker is abandoned and replaced, and the files queued behind it go to the others: a file the decoder
 * never finishes (a bug a hostile file finds, a read that hangs on a dead network mount) costs one worker,
 * not the scan. A worker stuck in a system call cannot be stopped until the call returns (and holds the
 * process at exit); one in JavaScript ends at once.
 */
export interface JobDeadline {
  baseMs: number;
  msPerMiB: number;
}

export const DEFAULT_DEADLINE: JobDeadline = { baseMs: 60_000, msPerMiB: 1_000 };

export interface DecodePoolOptions {
  /** Files smaller than this are for the caller to read and summarise itself (default 64 KiB). */
  minBytes?: number;
  /** Node flags of the workers (default: the process's). */
  execArgv?: string[];
  /**
   * Environment of the workers (default: the process's). For tests: under jest, `process.env` is a copy
   * that a worker does not see unless given it.
   */
  env?: NodeJS.ProcessEnv;
  /** Time a worker may spend on one file (default DEFAULT_DEADLINE). */
  deadline?: JobDeadline;
  /**
   * Jobs posted to one worker at once (default PER_WORKER, for the scanner's stream of files). The
   * reader's pool posts one: a request's file waits for a free worker, not behind a slow file.
   */
  perWorker?: number;
}

export class DecodePool {
  private readonly slots: Slot[] = [];
  private readonly waiting: Job[] = [];
  private next = 1;
  private respawns = 0;
  /**
   * Workers abandoned at a deadline that have not exited: each takes a place of the pool's `size` until
   * it does (one stuck in a system call, on a dead network mount, may never), so they cannot pile up.
   */
  private readonly stuck = new Set<Slot>();
  private stuckTimer: NodeJS.Timeout | null = null;
  private failed: boolean;
  /** A worker of this pool has loaded: `threaded` false since means it gave up (deaths), not that workers cannot run. */
  private started = false;
  private readonly file: string;

  constructor(
    readonly size: number,
    private readonly o: DecodePoolOptions = {},
  ) {
    this.file = path.join(__dirname, `decode-worker${path.extname(__filename)}`);
    this.failed = size < 1 || !existsSync(this.file);
  }

  /**
   * The process's pool of `size` workers with these options, made if there is none (or the one there gave
   * up on workers). It is closed `SHARED_IDLE_MS` after its last lease is released, unless leased again.
   */
  static lease(size: number, o: DecodePoolOptions = {}): PoolLease {
    const key = JSON.stringify([size, o.minBytes ?? null, o.execArgv ?? null, o.deadline ?? null]);
    let s = shared.get(key);
    if (s && !s.pool.threaded && size > 0) {
      // It gave up (workers that cannot start, or died too often): a new scanner tries again with a new
      // pool. The old one is closed once its last user lets it go (closing it now would answer `lost`
      // to the jobs of a scanner still at work with it).
      shared.delete(key);
      s.retired = true;
      if (s.users === 0) {
        if (s.idle) clearTimeout(s.idle);
        void s.pool.close();
      }
      s = undefined;
    }
    if (!s) shared.set(key, (s = { pool: new DecodePool(size, o), users: 0, idle: null, retired: false }));
    const entry = s;
    entry.users++;
    if (entry.idle) clearTimeout(entry.idle);
    entry.idle = null;
    let released = false;
    const lease: PoolLease = {
      pool: entry.pool,
      release: () => {
        if (released) return;
        released = true;
        // its jobs not yet given to a worker are dropped (a closed scanner's files are not read for nothing)
        entry.pool.cancel(lease);
        if (--entry.users > 0) return;
        if (entry.retired) {
          void entry.pool.close();
          return;
        }
        entry.idle = setTimeout(() => {
          if (shared.get(key) === entry) shared.delete(key);
          void entry.pool.close();
        }, SHARED_IDLE_MS);
        entry.idle.unref();
      },
    };
    return lease;
  }

  /** Closes every shared pool now (tests, and a process about to exit that wants its threads gone). */
  static async closeShared(): Promise<void> {
    const all = [...shared.values()];
    shared.clear();
    for (const s of all) if (s.idle) clearTimeout(s.idle);
    await Promise.all(all.map((s) => s.pool.close()));
  }

  /** True once a worker has loaded (whatever happened since). */
  get everStarted(): boolean {
    return this.started;
  }

  /** True while jobs go to workers (false: every job runs on the calling thread). */
  get threaded(): boolean {
    return !this.failed;
  }

  /** Jobs the workers hold at once (0 without workers): more wait in the pool. */
  get capacity(): number {
    return this.failed ? 0 : this.size * this.perWorker;
  }

  /** Files smaller than this are for the caller to read and summarise itself: `runFile` is for bigger ones. */
  get minBytes(): number {
    return this.o.minBytes ?? 64 * 1024;
  }

  private get perWorker(): number {
    return Math.max(1, this.o.perWorker ?? PER_WORKER);
  }

  /** Starts the workers now (they are otherwise started by the first job): ~50 ms each to load. */
  start(): void {
    if (!this.failed && this.slots.length < this.size) this.pump();
  }

  /** A worker reads the file, hashes, decodes and summarises it (file-read.ts); `unthreaded` when no worker can. */
  runFile(file: FileJob, owner?: object): Promise<PoolResult> {
    return this.enqueue(file, owner) as Promise<PoolResult>;
  }

  /** A worker reads and decodes an indexed file whole, for the reader (file-read.ts `serveIndexed`). */
  serveFile(file: ServeJob): Promise<ServePoolResult> {
    // a worker answers a ServeJob with a ServeResult (decode-worker.ts)
    return this.enqueue(file, undefined) as Promise<ServePoolResult>;
  }

  private enqueue(file: FileJob | ServeJob, owner: object | undefined): Promise<PoolResult | ServePoolResult> {
    if (this.failed) return Promise.resolve({ kind: 'unthreaded' });
    return new Promise((resolve) => {
      this.waiting.push({ id: this.next++, file, owner, resolve });
      this.pump();
    });
  }

  /**
   * Drops the jobs of `owner` not yet given to a worker: answered `lost` (not running). Those a worker
   * holds (PER_WORKER at most each) are done and answered as usual.
   */
  cancel(owner: object): void {
    const keep: Job[] = [];
    for (const j of this.waiting.splice(0)) {
      if (j.owner === owner) j.resolve({ kind: 'lost', running: false, error: 'the scanner closed' });
      else keep.push(j);
    }
    this.waiting.push(...keep);
    this.idleStarting();
  }

  /**
   * With no job waiting, the workers still starting hold the process no more (`pump` refs them while
   * jobs wait for them): on a loaded machine the first worker up may answer every job before another
   * has started, and the pool, idle, then held the process until that one's start.
   */
  private idleStarting(): void {
    if (this.waiting.length === 0) for (const s of this.slots) if (!s.ready) s.worker.unref();
  }

  private pump(): void {
    if (this.failed) {
      for (const j of this.waiting.splice(0)) j.resolve({ kind: 'unthreaded' });
      return;
    }
    while (this.slots.length + this.stuck.size < this.size) if (!this.spawn()) return this.pump();
    if (this.slots.length === 0) {
      // every place taken by a worker abandoned at a deadline: one in JavaScript exits at once, and its
      // replacement takes the files; if none has within STUCK_GRACE_MS, they are answered, to be tried
      // again (not on the caller's thread: what holds the workers would hold it too)
      this.stuckTimer ??= setTimeout(() => {
        this.stuckTimer = null;
        if (this.slots.length > 0) return;
        for (const j of this.waiting.splice(0))
          j.resolve({ kind: 'lost', running: false, error: 'every decode worker is stuck on a file (a read that does not return?)' });
      }, STUCK_GRACE_MS).unref();
      return;
    }
    // jobs waiting for workers still starting hold the process as jobs in flight do (the workers are
    // unref'd otherwise: an idle pool holds no process)
    if (this.waiting.length > 0) for (const s of this.slots) if (!s.ready) s.worker.ref();
    for (;;) {
      const slot = this.slots
        .filter((s) => s.ready && s.inflight.length < this.perWorker)
        .sort((a, b) => a.inflight.length - b.inflight.length)[0];
      const j = slot && this.waiting.shift();
      if (!slot || !j) break;
      slot.inflight.push(j);
      slot.worker.ref();
      slot.worker.postMessage({ id: j.id, file: j.file });
      if (slot.inflight.length === 1) this.arm(slot);
    }
    this.idleStarting();
  }

  /** Starts the deadline of the slot's oldest job (the one its worker is at), if any. */
  private arm(slot: Slot): void {
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    const j = slot.inflight[0];
    if (!j) return;
    const d = this.o.deadline ?? DEFAULT_DEADLINE;
    const ms = Math.round(d.baseMs + (d.msPerMiB * j.file.size) / 2 ** 20);
    const overdue = () => {
      if (slot.inflight[0] !== j || !this.slots.includes(slot)) return;
      this.stuck.add(slot);
      this.abandon(slot, `it spent more than ${(ms / 1000).toFixed(1)} s on this file (the limit for its size)`, false);
      void slot.worker.terminate().catch(() => {});
    };
    // past the deadline, the answer may be waiting already (this thread busy meanwhile, e.g. in an index
    // write): messages are taken in before setImmediate's turn, so that answer counts
    slot.timer = setTimeout(() => setImmediate(overdue), ms);
    slot.timer.unref();
  }

  private spawn(): boolean {
    let worker: Worker;
    try {
      worker = new Worker(this.file, {
        ...(this.o.execArgv ? { execArgv: this.o.execArgv } : {}),
        ...(this.o.env ? { env: this.o.env } : {}),
      });
    } catch {
      this.failed = true;
      return false;
    }
    const slot: Slot = { worker, ready: false, inflight: [], timer: null };
    worker.on('message', (m: { ready?: boolean; id?: number; result?: PoolResult | ServePoolResult }) => {
      if (m.ready) {
        slot.ready = true;
        this.started = true;
        this.pump();
        if (slot.inflight.length === 0) worker.unref(); // held while starting for jobs (`pump`)
        return;
      }
      if (!this.slots.includes(slot)) return; // abandoned: its jobs were answered then
      const i = slot.inflight.findIndex((j) => j.id === m.id);
      const [j] = i >= 0 ? slot.inflight.splice(i, 1) : [];
      if (slot.inflight.length === 0) worker.unref();
      if (i === 0) this.arm(slot);
      if (j && m.result) j.resolve(fromWire(m.result as PoolResult | ServePoolResult | WireDecoded));
      this.pump();
    });
    worker.on('error', (e: Error) => this.abandon(slot, e.message, true));
    worker.on('exit', (code) => {
      // abandoned at a deadline: its place is free again
      if (this.stuck.delete(slot) && !this.failed) this.pump();
      this.abandon(slot, `exit code ${code}`, true);
    });
    // Unref'd after its 'message' listener is added, not before: the listener refs the worker's port
    // again (nodejs/node#53036), and an idle pool then held the process for SHARED_IDLE_MS: `sisock node
    // scan --once` exited 60 s after its scan.
    worker.unref();
    this.slots.push(slot);
    return true;
  }

  /**
   * A worker that died (`died`) or overran its job's deadline: out of the pool, the job it was at
   * answered `lost` (the file may be the cause), the ones queued behind it given to the others, and a
   * replacement started. Only deaths count towards MAX_RESPAWNS: a deadline is a file's doing.
   */
  private abandon(slot: Slot, why: string, died: boolean): void {
    const at = this.slots.indexOf(slot);
    if (at < 0) return; // already handled
    this.slots.splice(at, 1);
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    slot.worker.unref();
    const lost = slot.inflight.splice(0);
    // The job it was at is answered `lost` (the file may be what killed it). The files queued behind it
    // go back to the front of the queue, for another worker to read: answering them `lost` too would
    // spend one of the scanner's attempts on each of up to PER_WORKER - 1 unrelated files.
    lost[0]?.resolve({ kind: 'lost', running: true, error: `the decode worker stopped (${why})` });
    this.waiting.unshift(...lost.slice(1));
    // one that never started means workers cannot start here: every file left to the caller
    if (!slot.ready || (died && ++this.respawns > MAX_RESPAWNS)) this.failed = true;
    this.pump();
  }

  async close(): Promise<void> {
    this.failed = true;
    const slots = this.slots.splice(0);
    for (const s of slots) if (s.timer) clearTimeout(s.timer);
    if (this.stuckTimer) clearTimeout(this.stuckTimer);
    this.stuckTimer = null;
    await Promise.all(slots.map((s) => s.worker.terminate()));
    for (const s of slots) for (const j of s.inflight) j.resolve({ kind: 'lost', running: false, error: 'the scanner closed' });
    this.pump();
  }
}
