/**
 * The exporter: sisock samples → line protocol → disk buffer → batched writes to a TSDB.
 *
 *   const ex = openExporter({ target: { kind: 'influx1', url, db: 'site' }, dir: '/var/lib/sisock/export' });
 *   ex.write('sim', result);        // appended to the disk buffer (durable) and sent in batches
 *   await ex.close();
 *
 * Files in `dir`: `buffer.sqlite` (+ WAL: the queue, cursors, field types, counters) and
 * `dead-letters.jsonl`. It is a Sink (../sink.ts): the follower feeds it live samples and backfills.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DataResult } from '../../contract';
import { silentLogger, type Logger } from '../../common/log';
import type { Sink, WriteOptions } from '../sink';
import { LineBuffer } from './buffer';
import { DeadLetters, DEFAULT_DEAD_LETTER_BYTES } from './dead-letter';
import { DEFAULT_NAMING, Namer, type NamingConfig } from './naming';
import { Target, type TargetConfig } from './target';
import { Writer, type WriterOptions } from './writer';

export interface ExporterOptions extends WriterOptions {
  target: TargetConfig;
  /** directory of the buffer and the dead-letter file */
  dir: string;
  naming?: Partial<NamingConfig>;
  /** bound of the disk buffer (default 1 GiB) */
  bufferBytes?: number;
  deadLetterBytes?: number;
  durable?: 'normal' | 'full';
  logger?: Logger;
}

export interface ExporterStats {
  pending: number;
  pendingBytes: number;
  sent: number;
  dropped: number;
  deadLetters: number;
  down: boolean;
}

export class Exporter implements Sink {
  readonly buffer: LineBuffer;
  readonly writer: Writer;
  readonly dead: DeadLetters;
  readonly target: Target;
  private readonly namer: Namer;
  private readonly log: Logger;

  constructor(o: ExporterOptions) {
    this.log = o.logger ?? silentLogger;
    fs.mkdirSync(o.dir, { recursive: true });
    this.target = new Target(o.target);
    this.buffer = new LineBuffer({
      path: path.join(o.dir, 'buffer.sqlite'),
      maxBytes: o.bufferBytes,
      durable: o.durable,
      logger: this.log,
    });
    this.dead = new DeadLetters(path.join(o.dir, 'dead-letters.jsonl'), o.deadLetterBytes ?? DEFAULT_DEAD_LETTER_BYTES);
    this.namer = new Namer({ ...DEFAULT_NAMING, ...o.naming }, this.target.precision, this.buffer.types());
    this.writer = new Writer(this.buffer, this.target, this.dead, o);
    this.writer.start();
    if (this.buffer.pending > 0) {
      this.log.info({ pending: this.buffer.pending, target: this.target.label }, 'export buffer holds lines from before; sending them');
      this.writer.notify();
    }
  }

  cursor(node: string): number | null {
    return this.buffer.cursor(node);
  }

  /** Converts, appends to the disk buffer (durable once this returns) and schedules the batch. */
  write(node: string, result: DataResult, o: WriteOptions = {}): void {
    const c = this.namer.convert(node, result, o.fields, o.meta);
    if (c.rejected.length > 0) {
      this.dead.write(c.rejected.map((r) => ({ reason: r.reason, node: r.node, field: r.field, t: r.t, value: r.value })));
      this.buffer.bump('dead_letters', c.rejected.length);
      this.log.warn(
        { node, n: c.rejected.length, first: c.rejected[0]?.reason },
        'samples refused before writing: parked in the dead-letter file',
      );
    }
    const cursor = o.cursorTo ?? null;
    if (c.lines.length === 0 && cursor === null && c.newTypes.size === 0) return;
    this.buffer.append(c.lines, cursor === null ? null : node, cursor, c.newTypes);
    this.writer.notify();
  }

  stats(): ExporterStats {
    return {
      pending: this.buffer.pending,
      pendingBytes: this.buffer.pendingBytes,
      sent: this.buffer.counters.sent,
      dropped: this.buffer.counters.dropped,
      deadLetters: this.buffer.counters.dead_letters,
      down: this.writer.down,
    };
  }

  /** Waits until every buffered line is written (or `timeoutMs`); false when lines are left. */
  flush(timeoutMs?: number): Promise<boolean> {
    return this.writer.drain(timeoutMs);
  }

  async close(drainMs = 2000): Promise<void> {
    if (drainMs > 0 && !this.writer.down) await this.writer.drain(drainMs);
    await this.writer.stop();
    this.buffer.close();
  }
}

export function openExporter(o: ExporterOptions): Exporter {
  return new Exporter(o);
}
