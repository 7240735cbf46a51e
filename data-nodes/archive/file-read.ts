/**
 * A decode worker's own read of a file (decode-pool.ts `runFile`): the worker opens, reads and
 * re-stats the file itself, so the content never crosses threads and the scanner's thread only walks
 * and writes the index. The read goes into one buffer the worker keeps (no fresh allocation and page
 * faults per file) and is synchronous: the worker has nothing else to do meanwhile.
 *
 * The scanner's rule holds here as on its thread: a file whose size or mtime differs after the read
 * from what the scanner stat'ed before it (or whose bytes are more or fewer than that size) is still
 * being written, and is answered `retry`.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { summariseFile, type SummaryJob, type SummaryResult } from './file-summary';

/** A file to read, then hash, decode and summarise as `SummaryJob`. */
export interface FileJob extends Omit<SummaryJob, 'content'> {
  /** Absolute path. */
  abs: string;
  /** Size and mtime (ms) stat'ed by the scanner before the read: the file must still have them after it. */
  size: number;
  mtimeMs: number;
}

export type FileResult =
  | SummaryResult
  /** Changed while read: `bytes` were read. */
  | { kind: 'retry'; bytes: number }
  /** Deleted since the scanner's stat. */
  | { kind: 'gone' }
  /** Could not be read (not a decode error: the file row says so without a format's verdict). */
  | { kind: 'unreadable'; error: string };

/** A kept buffer up to this size; a bigger file gets one of its own, let go after it. */
const KEEP_BYTES = 64 * 2 ** 20;
/** The biggest file read, as fs.readFile on the scanner's thread (its error message too). */
const MAX_BYTES = 2 ** 31 - 1;

export class FileReader {
  private buf = Buffer.alloc(0);

  /** The file's bytes when they are the `size` bytes stat'ed before, else why not. Valid until the next call. */
  read(job: FileJob): { content: Buffer } | Exclude<FileResult, SummaryResult> {
    // one byte more than expected is asked for, so a file that grew is seen without reading it all
    const want = job.size + 1;
    if (job.size > MAX_BYTES) return { kind: 'unreadable', error: `File size (${job.size}) is greater than 2 GiB` };
    let buf = this.buf;
    if (buf.length < want) {
      buf = Buffer.allocUnsafe(want);
      if (want <= KEEP_BYTES) this.buf = buf;
    }
    let n = 0;
    try {
      const fd = openSync(job.abs, 'r');
      try {
        for (let k = 1; k > 0 && n < want; n += k) k = readSync(fd, buf, n, want - n, n);
      } finally {
        closeSync(fd);
      }
      const after = statSync(job.abs);
      if (n !== job.size || after.size !== job.size || after.mtimeMs !== job.mtimeMs) return { kind: 'retry', bytes: n };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'gone' };
      return { kind: 'unreadable', error: (e as Error).message };
    }
    return { content: buf.subarray(0, n) };
  }

  /** Lets the kept buffer go (an idle worker holds no file's worth of memory). */
  release(): void {
    this.buf = Buffer.alloc(0);
  }

  /** Read, then `summariseFile`. The content is done with when this resolves (results are copies). */
  async run(job: FileJob): Promise<FileResult> {
    const r = this.read(job);
    if (!('content' in r)) return r;
    const { abs: _abs, size: _size, mtimeMs: _mtime, ...rest } = job;
    return summariseFile({ ...rest, content: r.content });
  }
}
