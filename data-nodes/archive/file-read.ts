/**
 * The scanner's read of a file, on a decode worker (decode-pool.ts `runFile`: the worker opens, reads
 * and re-stats the file itself, so the content never crosses threads and the scanner's thread only
 * walks and writes the index) or on the scanner's thread (small files, no workers): `readUnchanged`.
 * A worker reads into one buffer it keeps (`FileReader`: no fresh allocation and page faults per file).
 *
 * The scanner's rule, in one place for both: a file whose size or mtime differs after the read from what
 * the scanner stat'ed before it (or whose bytes are more or fewer than that size) is still being
 * written, and is answered `retry`.
 */
import { closeSync, constants, fstatSync, openSync, promises as fsp, readSync, statSync } from 'node:fs';
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
/** The biggest file read: fs.readFile's limit, with its error message (the scanner's thread used it). */
const MAX_BYTES = 2 ** 31 - 1;

/**
 * The file's bytes when they are the `size` bytes stat'ed before and it still has that size and mtime
 * after the read, else why not. The read goes into `buffer(n)` (n bytes or more) and is synchronous: a
 * worker has nothing else to do meanwhile, and on the scanner's thread the files are small (big ones only
 * without workers, when the decode holds that thread anyway). `afterRead` is called between the read and
 * the re-stat (the scanner's test hook); what it throws is an `unreadable`.
 */
export async function readUnchanged(
  file: Pick<FileJob, 'abs' | 'size' | 'mtimeMs'>,
  buffer: (bytes: number) => Buffer,
  afterRead?: () => void | Promise<void>,
): Promise<{ content: Buffer } | Exclude<FileResult, SummaryResult>> {
  if (file.size > MAX_BYTES) return { kind: 'unreadable', error: `File size (${file.size}) is greater than 2 GiB` };
  // one byte more than expected is asked for, so a file that grew is seen without reading it all
  const want = file.size + 1;
  const buf = buffer(want);
  let n = 0;
  try {
    // O_NONBLOCK: a FIFO put where the walk saw a file (or a link to one) opens at once instead of
    // blocking this thread until a writer comes (the scanner's thread: the node stopped serving; a
    // worker: a thread nothing can stop, which also holds the process at exit); no effect on a file
    const fd = openSync(file.abs, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      if (!fstatSync(fd).isFile()) return { kind: 'unreadable', error: 'not a regular file (it was replaced since the scan listed it)' };
      for (let k = 1; k > 0 && n < want; n += k) k = readSync(fd, buf, n, want - n, n);
    } finally {
      closeSync(fd);
    }
    if (afterRead) await afterRead();
    const after = statSync(file.abs);
    if (n !== file.size || after.size !== file.size || after.mtimeMs !== file.mtimeMs) return { kind: 'retry', bytes: n };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'gone' };
    return { kind: 'unreadable', error: (e as Error).message };
  }
  return { content: buf.subarray(0, n) };
}

/** A decode worker's reads, into one buffer it keeps. */
export class FileReader {
  private buf = Buffer.alloc(0);

  /** As `readUnchanged`; the content is valid until the next call. */
  read(job: FileJob): ReturnType<typeof readUnchanged> {
    return readUnchanged(job, (want) => {
      if (this.buf.length >= want) return this.buf;
      const buf = Buffer.allocUnsafe(want);
      if (want <= KEEP_BYTES) this.buf = buf;
      return buf;
    });
  }

  /** Lets the kept buffer go (an idle worker holds no file's worth of memory). */
  release(): void {
    this.buf = Buffer.alloc(0);
  }

  /** Read, then `summariseFile`. The content is done with when this resolves (results are copies). */
  async run(job: FileJob): Promise<FileResult> {
    const r = await this.read(job);
    if (!('content' in r)) return r;
    const { abs: _abs, size: _size, mtimeMs: _mtime, ...rest } = job;
    return summariseFile({ ...rest, content: r.content });
  }
}

/**
 * Bytes a file may have grown by since it was indexed for `readIndexed` to read them: what a file being
 * written gains between two scans is far less; a file replaced by a much bigger one is read up to this.
 */
export const SERVE_GROWTH_BYTES = 64 * 2 ** 20;

/**
 * An indexed file's bytes for the archive's reader (on its own thread, to decode and serve): at most
 * `indexedSize` + SERVE_GROWTH_BYTES of them (a file that grew a little since the scan is served
 * whole; one swapped for a huge one is not read whole into memory), from a regular file only (opened
 * without blocking: a FIFO put in its place is an error, not a read that holds one of libuv's four
 * threads until a writer comes).
 */
export async function readIndexed(abs: string, indexedSize: number): Promise<Buffer> {
  const fh = await fsp.open(abs, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new Error('not a regular file (it was replaced since it was indexed)');
    const want = Math.min(st.size, Math.max(0, indexedSize) + SERVE_GROWTH_BYTES, MAX_BYTES);
    const buf = Buffer.allocUnsafe(want);
    let n = 0;
    for (let k = 1; k > 0 && n < want; n += k) ({ bytesRead: k } = await fh.read(buf, n, want - n, n));
    return buf.subarray(0, n);
  } finally {
    await fh.close();
  }
}
