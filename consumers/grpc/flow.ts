/**
 * GetData's flow control: the queue of pieces fetched from a node and not yet written (the
 * producer waits until it is short enough), and a writer that respects the stream's backpressure.
 */
import type * as grpc from '@grpc/grpc-js';
import type { DataResult } from '../../client';
import type { CallContext } from './call-context';

/**
 * Writes with backpressure: at most `maxInFlight` messages handed to the call and not yet passed on
 * to HTTP/2 (the call's own buffer takes 16, whatever their size), and a wait for 'drain' whenever
 * `write()` says the stream is full. `write` resolves when the caller may write again.
 *
 * A wait during which the peer's connection takes less than `STALL_BYTES` (its HTTP/2 window stays
 * shut) for `ms` gets `onStall`: what is written and not sent (~5 MB a call, measured) would otherwise
 * be held as long as the peer stays connected, and neither a deadline nor an error status can end such
 * a stream (both queue behind the data that cannot leave). Progress is the connection's bytes, not this
 * call's messages: a slow reader of 1 MiB chunks on a busy connection is still reading.
 */
/** Bytes a peer's connection must take in a stall period to count as reading. */
const STALL_BYTES = 1024;

export class BoundedWriter {
  private inFlight = 0;
  private wake: (() => void) | null = null;
  constructor(
    private readonly call: grpc.ServerWritableStream<unknown, unknown>,
    private readonly ctx: CallContext,
    private readonly stall: { ms: number; progress: () => number; onStall: () => void } | null = null,
    private readonly maxInFlight = 4,
  ) {}

  async write(msg: unknown): Promise<void> {
    this.inFlight++;
    const ok = this.call.write(msg, () => {
      this.inFlight--;
      if (this.wake && this.inFlight < this.maxInFlight) {
        const w = this.wake;
        this.wake = null;
        w();
      }
    });
    if (!ok) await this.until('drain');
    while (this.inFlight >= this.maxInFlight && !this.ctx.cancelled) await this.until(null);
  }

  private until(event: 'drain' | null): Promise<void> {
    return new Promise((resolve) => {
      if (this.ctx.cancelled) return resolve();
      let timer: NodeJS.Timeout | null = null;
      let undo = () => {};
      const done = () => {
        if (event) this.call.off(event, done);
        if (this.wake === done) this.wake = null;
        if (timer) clearTimeout(timer);
        undo();
        resolve();
      };
      const stall = this.stall;
      if (stall) {
        let mark = stall.progress();
        const check = () => {
          const now = stall.progress();
          if (now - mark >= STALL_BYTES) {
            mark = now;
            timer = setTimeout(check, stall.ms);
            return;
          }
          done();
          stall.onStall();
        };
        timer = setTimeout(check, stall.ms);
      }
      undo = this.ctx.onCancel(done);
      if (event) this.call.on(event, done);
      else this.wake = done;
    });
  }
}

/**
 * Pieces fetched but not yet written, with their sample counts; the producer waits on
 * `whenBelow(n)`, the writer on `next()`.
 */
export class PieceQueue {
  private items: Array<{ piece: DataResult; points: number }> = [];
  private ended = false;
  points = 0;
  private waiter: (() => void) | null = null;
  private belowWaiters: Array<{ n: number; resolve: () => void }> = [];

  push(piece: DataResult, points: number): void {
    this.items.push({ piece, points });
    this.points += points;
    this.wake();
  }

  end(): void {
    this.ended = true;
    this.wake();
    for (const w of this.belowWaiters.splice(0)) w.resolve();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    if (w) w();
  }

  async next(): Promise<DataResult | undefined> {
    for (;;) {
      const it = this.items.shift();
      if (it) {
        this.points -= it.points;
        this.belowWaiters = this.belowWaiters.filter((w) => {
          if (this.points <= w.n) {
            w.resolve();
            return false;
          }
          return true;
        });
        return it.piece;
      }
      if (this.ended) return undefined;
      await new Promise<void>((r) => {
        this.waiter = r;
      });
    }
  }

  whenBelow(n: number): Promise<void> {
    if (this.points <= n || this.ended) return Promise.resolve();
    return new Promise((resolve) => this.belowWaiters.push({ n, resolve }));
  }
}
