/**
 * The scanner's decode workers: each file's hash, decode, field rows and summary tiers (file-summary.ts)
 * on a pool of worker threads, so the scanner's thread only walks, stats and writes the index. With
 * `runFile` the worker reads the file itself (file-read.ts: no content crosses threads); with `run` a
 * content read by the caller moves to its worker (transferred, not copied). Only the small summary
 * comes back.
 *
 * Each worker holds at most `PER_WORKER` jobs (one at work, the others waiting, so it has work while the
 * scanner's thread writes the index); the others wait here, so memory stays bounded by what the caller
 * has read (a `runFile` job holds none until its worker reads it). Contents under `minBytes` are summarised in place
 * (a round trip costs more). A worker that cannot start leaves every job to the calling thread; one
 * that dies answers the job it was at `lost` (`running`), and its other content jobs `lost`; its other
 * file jobs go to another worker. It is replaced. Workers hold the
 * event loop only while a job is pending; `close` ends them.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { FileJob, FileResult } from './file-read';
import { summariseFile, type SummaryJob, type SummaryResult } from './file-summary';

type Lost = { kind: 'lost'; running: boolean; error: string };
export type PoolResult = SummaryResult | Lost;
/** `unthreaded`: no worker can take it (they cannot start, or the pool closed): the caller reads the file. */
export type PoolFileResult = FileResult | Lost | { kind: 'unthreaded' };

/**
 * Jobs posted to one worker. Enough to keep it working while the scanner's thread is in a synchronous
 * index write (~75 ms for 100 G3 hour files with their tiers, more when the cores are shared: 20-40
 * files of decode): with 5, both workers sat idle through every write; 32 still ran dry at times.
 */
const PER_WORKER = 64;
/** Replacements of dead workers before the pool gives up on workers. */
const MAX_RESPAWNS = 8;

type Job = { id: number } & (
  { job: SummaryJob; resolve: (r: PoolResult) => void } | { file: FileJob; resolve: (r: PoolFileResult) => void }
);

interface Slot {
  worker: Worker;
  ready: boolean;
  /** Posted jobs, oldest (the one at work) first. */
  inflight: Job[];
}

export interface DecodePoolOptions {
  /** Contents shorter than this are summarised on the calling thread (default 64 KiB). */
  minBytes?: number;
  /** Node flags of the workers (default: the process's). */
  execArgv?: string[];
}

export class DecodePool {
  private readonly slots: Slot[] = [];
  private readonly waiting: Job[] = [];
  private next = 1;
  private respawns = 0;
  private failed: boolean;
  private readonly file: string;

  constructor(
    readonly size: number,
    private readonly o: DecodePoolOptions = {},
  ) {
    this.file = path.join(__dirname, `decode-worker${path.extname(__filename)}`);
    this.failed = size < 1 || !existsSync(this.file);
  }

  /** True while jobs go to workers (false: every job runs on the calling thread). */
  get threaded(): boolean {
    return !this.failed;
  }

  /** Jobs the workers hold at once (0 without workers): more wait in the pool. */
  get capacity(): number {
    return this.failed ? 0 : this.size * PER_WORKER;
  }

  /** Contents shorter than this are summarised on the calling thread: `runFile` is for bigger files. */
  get minBytes(): number {
    return this.o.minBytes ?? 64 * 1024;
  }

  run(job: SummaryJob): Promise<PoolResult> {
    if (this.failed || job.content.byteLength < this.minBytes) return summariseFile(job);
    return new Promise((resolve) => {
      this.waiting.push({ id: this.next++, job, resolve });
      this.pump();
    });
  }

  /** Starts the workers now (they are otherwise started by the first job): ~50 ms each to load. */
  start(): void {
    if (!this.failed && this.slots.length < this.size) this.pump();
  }

  /** The worker reads the file, then as `run`; `unthreaded` when no worker can. */
  runFile(file: FileJob): Promise<PoolFileResult> {
    if (this.failed) return Promise.resolve({ kind: 'unthreaded' });
    return new Promise((resolve) => {
      this.waiting.push({ id: this.next++, file, resolve });
      this.pump();
    });
  }

  private pump(): void {
    if (this.failed) {
      for (const j of this.waiting.splice(0)) {
        if ('job' in j) void summariseFile(j.job).then(j.resolve);
        else j.resolve({ kind: 'unthreaded' });
      }
      return;
    }
    while (this.slots.length < this.size) if (!this.spawn()) return this.pump();
    for (;;) {
      const slot = this.slots
        .filter((s) => s.ready && s.inflight.length < PER_WORKER)
        .sort((a, b) => a.inflight.length - b.inflight.length)[0];
      const j = slot && this.waiting.shift();
      if (!slot || !j) return;
      slot.inflight.push(j);
      slot.worker.ref();
      if ('file' in j) {
        slot.worker.postMessage({ id: j.id, file: j.file });
        continue;
      }
      const c = j.job.content;
      // the content moves (no copy) when it owns its buffer; a view of a bigger one is copied
      // (Uint8Array's slice: Buffer's is a view)
      const content = c.byteOffset === 0 && c.byteLength === c.buffer.byteLength ? c : Uint8Array.prototype.slice.call(c);
      slot.worker.postMessage({ id: j.id, job: { ...j.job, content } }, [content.buffer as ArrayBuffer]);
    }
  }

  private spawn(): boolean {
    let worker: Worker;
    try {
      worker = new Worker(this.file, this.o.execArgv ? { execArgv: this.o.execArgv } : {});
    } catch {
      this.failed = true;
      return false;
    }
    const slot: Slot = { worker, ready: false, inflight: [] };
    worker.unref();
    worker.on('message', (m: { ready?: boolean; id?: number; result?: PoolResult & PoolFileResult }) => {
      if (m.ready) {
        slot.ready = true;
        return this.pump();
      }
      const i = slot.inflight.findIndex((j) => j.id === m.id);
      const [j] = i >= 0 ? slot.inflight.splice(i, 1) : [];
      if (slot.inflight.length === 0) worker.unref();
      if (j && m.result) j.resolve(m.result);
      this.pump();
    });
    const died = (why: string) => {
      const at = this.slots.indexOf(slot);
      if (at < 0) return; // already handled
      this.slots.splice(at, 1);
      const lost = slot.inflight.splice(0);
      // The job it was at is answered `lost` (the file may be what killed it). The files queued behind it
      // go back to the front of the queue, for another worker to read: answering them `lost` too would
      // spend one of the scanner's attempts on each of up to PER_WORKER - 1 unrelated files. A content
      // job cannot: its bytes moved to the dead worker.
      const again: Job[] = [];
      lost.forEach((j, k) => {
        if (k > 0 && 'file' in j) again.push(j);
        else j.resolve({ kind: 'lost', running: k === 0, error: `the decode worker stopped (${why})` });
      });
      this.waiting.unshift(...again);
      // one that never started means workers cannot start here: every job on the calling thread
      if (!slot.ready || ++this.respawns > MAX_RESPAWNS) this.failed = true;
      this.pump();
    };
    worker.on('error', (e: Error) => died(e.message));
    worker.on('exit', (code) => died(`exit code ${code}`));
    this.slots.push(slot);
    return true;
  }

  async close(): Promise<void> {
    this.failed = true;
    const slots = this.slots.splice(0);
    await Promise.all(slots.map((s) => s.worker.terminate()));
    for (const s of slots) for (const j of s.inflight) j.resolve({ kind: 'lost', running: false, error: 'the scanner closed' });
    this.pump();
  }
}
