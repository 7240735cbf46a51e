/**
 * Moves lines from the disk buffer to the database, in batches.
 *
 * Up to `concurrency` (2) batches are in flight at once, acknowledged together.
 * A batch leaves when `batchLines` lines are waiting or `batchMs` after the first line of a batch
 * arrived (whichever is first); it holds at most `batchLines` lines and about `batchBytes` bytes.
 * Lines are deleted from the buffer only after the database answered 2xx.
 *
 * The database refuses lines (400/422): the batch is split in halves, recursively, until the refused
 * lines are alone; each of those goes to the dead-letter file with the database's reason and the
 * rest is written. The dead letters are written, and the batch acknowledged, once the whole batch is
 * resolved: a restart in the middle re-sends the batch (InfluxDB stores a point once per series and
 * time, so nothing doubles) and records each dead letter once. The database is down, slow or refuses the
 * credentials (network error, 5xx, 401, 404): nothing is dropped; the writer waits (250 ms doubling
 * up to 30 s, logged once per state change) and tries the same batch again while new lines keep
 * going to the disk buffer.
 */
import { silentLogger, type Logger } from '../../common/log';
import type { LineBuffer } from './buffer';
import type { DeadLetters } from './dead-letter';
import type { PostOutcome, Target } from './target';

export interface WriterOptions {
  batchLines?: number;
  batchBytes?: number;
  batchMs?: number;
  maxBackoffMs?: number;
  /** batches in flight at once (default 2) */
  concurrency?: number;
  logger?: Logger;
}

class RetryLater extends Error {
  constructor(readonly outcome: Extract<PostOutcome, { kind: 'retry' }>) {
    super(outcome.message);
  }
}

export class Writer {
  readonly batchLines: number;
  readonly batchBytes: number;
  readonly batchMs: number;
  readonly maxBackoffMs: number;
  readonly concurrency: number;
  private readonly log: Logger;
  private timer: NodeJS.Timeout | null = null;
  private wake: (() => void) | null = null;
  private running = false;
  private loop: Promise<void> | null = null;
  private backoffMs = 0;
  /** true while the database does not answer (for /healthz and the log) */
  down = false;
  stats = { batches: 0, posts: 0, retries: 0 };

  constructor(
    private readonly buffer: LineBuffer,
    private readonly target: Target,
    private readonly dead: DeadLetters,
    o: WriterOptions = {},
  ) {
    this.batchLines = o.batchLines ?? 5000;
    this.batchBytes = o.batchBytes ?? 4 * 1024 * 1024;
    this.batchMs = o.batchMs ?? 1000;
    this.maxBackoffMs = o.maxBackoffMs ?? 30000;
    this.concurrency = Math.max(1, Math.floor(o.concurrency ?? 2));
    this.log = o.logger ?? silentLogger;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Call after appending to the buffer. */
  notify(): void {
    if (this.buffer.pending >= this.batchLines) this.kick();
    else if (!this.timer && this.buffer.pending > 0) this.timer = setTimeout(() => this.kick(), this.batchMs);
  }

  private kick(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /** Resolves when the buffer is empty (or `timeoutMs` passed: returns false). */
  async drain(timeoutMs = 30000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    this.kick();
    while (this.buffer.pending > 0) {
      if (Date.now() > deadline || !this.running) return false;
      await new Promise((r) => setTimeout(r, 20));
      if (this.backoffMs === 0) this.kick();
    }
    return true;
  }

  async stop(): Promise<void> {
    this.running = false;
    this.kick();
    await this.loop;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  private async run(): Promise<void> {
    while (this.running) {
      if (this.buffer.pending === 0) {
        await this.sleep(3600_000);
        continue;
      }
      const batch = this.buffer.peek(this.batchLines * this.concurrency, this.batchBytes * this.concurrency);
      try {
        const dead: Array<Record<string, unknown>> = [];
        const sent = await this.sendParallel(batch.lines, dead);
        if (dead.length > 0) {
          this.dead.write(dead);
          this.buffer.bump('dead_letters', dead.length);
          this.log.warn(
            { n: dead.length, status: dead[0]?.status, reason: dead[0]?.reason },
            'the database refused lines: parked in the dead-letter file',
          );
        }
        this.buffer.ack(batch.ids[batch.ids.length - 1] ?? 0, sent);
        this.stats.batches++;
        if (this.down) this.log.info({ target: this.target.label, pending: this.buffer.pending }, 'database writes again');
        this.down = false;
        this.backoffMs = 0;
      } catch (e) {
        if (!(e instanceof RetryLater)) throw e;
        this.stats.retries++;
        if (!this.down) {
          this.log.warn(
            { target: this.target.label, status: e.outcome.status, err: e.outcome.message, pending: this.buffer.pending },
            'database unavailable; buffering on disk and retrying',
          );
        }
        this.down = true;
        this.backoffMs = Math.min(this.maxBackoffMs, this.backoffMs ? this.backoffMs * 2 : 250);
        await this.sleep(this.backoffMs);
        this.backoffMs = this.running ? this.backoffMs : 0;
      }
      // between full batches go on at once; a partial batch waits for batchMs unless stopping
      if (this.running && this.buffer.pending > 0 && this.buffer.pending < this.batchLines && this.backoffMs === 0 && !this.timer) {
        await this.sleep(this.batchMs);
      }
    }
  }

  /**
   * Up to `concurrency` batches in flight at once (the database writes on its own cores meanwhile);
   * the whole group is acknowledged when every part succeeded, so the order of the buffer holds.
   */
  private async sendParallel(lines: string[], dead: Array<Record<string, unknown>>): Promise<number> {
    const parts: string[][] = [];
    for (let i = 0; i < lines.length; i += this.batchLines) parts.push(lines.slice(i, i + this.batchLines));
    const results = await Promise.allSettled(parts.map((p) => this.send(p, dead)));
    let sent = 0;
    for (const r of results) {
      if (r.status === 'rejected') throw r.reason;
      sent += r.value;
    }
    return sent;
  }

  /** Sends `lines`; returns how many the database took, pushes the refused ones to `dead`; throws RetryLater when it is unavailable. */
  private async send(lines: string[], dead: Array<Record<string, unknown>>): Promise<number> {
    if (lines.length === 0) return 0;
    this.stats.posts++;
    const outcome = await this.target.post(lines.join('\n'));
    if (outcome.kind === 'ok') return lines.length;
    if (outcome.kind === 'retry') throw new RetryLater(outcome);
    if (lines.length === 1) {
      dead.push({ reason: outcome.message, status: outcome.status, line: lines[0] });
      return 0;
    }
    const mid = lines.length >> 1;
    return (await this.send(lines.slice(0, mid), dead)) + (await this.send(lines.slice(mid), dead));
  }
}
