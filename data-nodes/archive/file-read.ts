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
import { execFile } from 'node:child_process';
import os from 'node:os';
import { closeSync, constants, fstatSync, openSync, promises as fsp, readSync, statfsSync, statSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { summariseFile, type SummaryJob, type SummaryResult } from './file-summary';
import { formatByName } from './formats';
import { MAX_DECODED_BYTES, type DecodedFile } from './formats/types';
import { WASM_PAGE, wasmApi } from '../../common/wasm-bytes';

/** A file to read, then hash, decode and summarise as `SummaryJob`. */
export interface FileJob extends Omit<SummaryJob, 'content'> {
  /** Absolute path. */
  abs: string;
  /** Size and mtime (ms) stat'ed by the scanner before the read: the file must still have them after it. */
  size: number;
  mtimeMs: number;
  /**
   * Read around the page cache where the filesystem allows (`readUnchanged`): the scanner's choice for a
   * scan bigger than the memory could cache (scanner.ts `directIo`).
   */
  direct?: boolean;
}

export type FileResult =
  | SummaryResult
  /** Changed while read: `bytes` were read. */
  | { kind: 'retry'; bytes: number }
  /** Deleted since the scanner's stat. */
  | { kind: 'gone' }
  /** Could not be read (not a decode error: the file row says so without a format's verdict). */
  | { kind: 'unreadable'; error: string };

/**
 * Why a file could not be opened for reading, as the scanner and the reader tell it apart: `busy`, held
 * by another process (a lease: Samba's oplocks, an NFS server's delegations) and worth trying again;
 * `not-regular`, no longer a regular file (a FIFO or a directory swapped in since it was listed);
 * `grown`, much bigger than indexed (the reader's).
 */
export class FileOpenError extends Error {
  constructor(
    readonly code: 'busy' | 'not-regular' | 'grown',
    message: string,
  ) {
    super(message);
    this.name = 'FileOpenError';
  }
}

/**
 * The flags every read of an archive file opens it with. O_NONBLOCK: a FIFO put where the walk saw a
 * file (or a link to one) opens at once instead of blocking the thread until a writer comes (the
 * scanner's or reader's thread: the node stopped serving; a decode worker: a thread nothing can stop,
 * which also holds the process at exit; one of libuv's four threads). No effect on a regular file, but
 * that one held under a lease by another process is EAGAIN at once instead of a wait of up to 45 s.
 */
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;

/** The FileOpenError an open's error means (EAGAIN: busy), or null. */
function openError(e: unknown): FileOpenError | null {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'EAGAIN' || code === 'EWOULDBLOCK'
    ? new FileOpenError('busy', 'held by another process (a lease); read again at the next scan')
    : null;
}
const notRegular = (): FileOpenError => new FileOpenError('not-regular', 'not a regular file (it was replaced since it was listed)');

/** A regular file's descriptor (the caller closes it), opened as OPEN_FLAGS says (and `more`); FileOpenError else. */
export function openRegularSync(abs: string, more = 0): number {
  let fd: number;
  try {
    fd = openSync(abs, OPEN_FLAGS | more);
  } catch (e) {
    throw openError(e) ?? e;
  }
  try {
    if (!fstatSync(fd).isFile()) throw notRegular();
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  return fd;
}

/** `openRegularSync`, asynchronously: a FileHandle and its stat. */
export async function openRegular(abs: string): Promise<{ fh: FileHandle; size: number }> {
  let fh: FileHandle;
  try {
    fh = await fsp.open(abs, OPEN_FLAGS);
  } catch (e) {
    throw openError(e) ?? e;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw notRegular();
    return { fh, size: st.size };
  } catch (e) {
    await fh.close();
    throw e;
  }
}

/** A kept buffer up to this size; a bigger file gets one of its own, let go after it. */
const KEEP_BYTES = 64 * 2 ** 20;

/**
 * At least `bytes` bytes starting at the start of a memory page, for a file to be read into: a
 * WebAssembly.Memory's buffer (V8 maps each Memory apart, page-aligned), or a plain Buffer without
 * WebAssembly.
 *
 * Why: the kernel's copy of a file from the page cache is several times slower into memory a few bytes
 * past a page boundary. Reading the same 630 KB G3 hour files again and again (warm, this VM's x86-64):
 * ~90 µs a file into memory at a page's start or at 32 bytes past it and beyond, ~300 µs at 8 or 16
 * bytes past it (the source and the destination almost the same distance into their pages: the copy's
 * loads and stores alias). A Buffer's bytes land wherever malloc puts them, and a block glibc maps on
 * its own starts 16 bytes into its page, the worst place: every Buffer past malloc's mmap threshold
 * (32 MiB at most, 128 KiB until a big block was freed), e.g. a worker's first buffer, or a big file's.
 * A reader of hour files in such a buffer spent ~0.31-0.34 ms a file in the kernel; in this one,
 * ~0.09 ms (of ~0.7-1.0 ms in all to read, check, decode and summarise it).
 */
export function pageAlignedBuffer(bytes: number): Buffer<ArrayBuffer> {
  const Memory = wasmApi()?.Memory;
  try {
    if (Memory) return Buffer.from(new Memory({ initial: Math.max(1, Math.ceil(bytes / WASM_PAGE)) }).buffer);
  } catch {
    // no memory that big for WebAssembly: a Buffer
  }
  return Buffer.allocUnsafe(bytes);
}

/** The least `decodeLimitFor` gives: far beyond an hour of HK data, whatever the memory says. */
export const MIN_DECODE_LIMIT = 256 * 2 ** 20;

/**
 * Bytes a compressed file may decompress to in one decode, with `available` bytes of memory
 * (`memoryAvailable`) and `threads` decoding at once (a scanner's workers and its own thread, a reader's decode threads and its serving one): a third of it
 * shared among them, as a decompression holds its output twice at its end (its chunks, then the whole)
 * and the decode's columns about once more; between MIN_DECODE_LIMIT and MAX_DECODED_BYTES. Past it a
 * file is an error naming the limit. (With the bound at 2 GiB whatever the memory, a small bzip2 file
 * of zeros in each of three workers at once could ask for 12 GiB: on a smaller machine the kernel's
 * OOM killer would end the whole node, not refuse the file; Buffers are outside V8's heap limits.)
 */
export function decodeLimitFor(available: number, threads: number): number {
  return Math.min(MAX_DECODED_BYTES, Math.max(MIN_DECODE_LIMIT, Math.floor(available / (3 * Math.max(1, threads)))));
}

/**
 * Bytes of memory the page cache could give a scan: the system's available memory (os.freemem(), Linux's
 * MemAvailable), or what is left under the process's cgroup limit when less (a container's; no limit
 * reads as 2^64).
 */
export function memoryAvailable(): number {
  // Node >= 20.13: what is left under the cgroup's limit (or the system's available memory)
  const left = (process as { availableMemory?: () => number }).availableMemory?.() ?? 0;
  const limit = process.constrainedMemory?.() ?? 0;
  return Math.min(os.freemem(), left > 0 ? left : Infinity, limit > 0 ? limit : Infinity);
}

/** O_DIRECT where the platform has it (Linux), else undefined. */
const O_DIRECT: number | undefined = (constants as { O_DIRECT?: number }).O_DIRECT;
/** Offsets, lengths and memory of a read around the page cache are whole blocks of this (4 KiB covers 512-byte ones). */
export const DIRECT_BLOCK = 4096;

/**
 * Filesystems on a local disk (statfs f_type, linux/magic.h): ext2/3/4, XFS, Btrfs, F2FS. What a read
 * around the page cache is for: on a network filesystem (NFS, CIFS, Ceph) it gives up the client's
 * cache and its read-ahead, each read a round trip; on tmpfs the cache is the file; FUSE ones may refuse
 * it or pass it on.
 */
const LOCAL_DISK_FS = new Set([0xef53, 0x58465342, 0x9123683e, 0xf2f52010]);

/** Whether `dir` is on a local disk filesystem (`LOCAL_DISK_FS`); false when that cannot be told. */
export function onLocalDisk(dir: string): boolean {
  try {
    return LOCAL_DISK_FS.has(Number(statfsSync(dir).type));
  } catch {
    return false;
  }
}

/** How a scan's decode workers read its files (scanner.ts `directIo`, `sisock node scan --direct-io`). */
export const DIRECT_IO_MODES = ['auto', 'always', 'never'] as const;
export type DirectIo = (typeof DIRECT_IO_MODES)[number];

/**
 * A scan of at least this many bytes, in files the page cache does not hold (`residentShare`), reads
 * them around it ('auto'). A year of hour G3 files (8760, 5.1 GiB) on 2 cores, from disk, JIT warm,
 * 2 rounds each: 9.0 and 9.6 s around the cache, 13.4 and 14.1 s through it, whose kernel spent ~7
 * core-seconds more putting the pages in the cache (1.3 s a GiB on this VM) and copying them out; the
 * same files already in the cache: 6.9 s through it, ~20% more around it (read from disk again). Under
 * this size, the difference is a few hundred milliseconds, and the files a node's scans find are
 * mostly new ones, in the cache since they were written.
 */
export const DIRECT_MIN_BYTES = 256 * 2 ** 20;

/** Files `residentShare` asks about at most (spread over the scan's files). */
export const RESIDENCY_SAMPLE = 64;

/**
 * Whether a scan's decode workers read its files around the page cache (`readUnchanged` direct), by
 * scanner.ts `directIo`: 'always' / 'never', or for 'auto' when its files are on a local disk
 * (`onLocalDisk`) and the scan has more `bytes` to read than half the memory `available` (which the
 * cache could not keep anyway, and would give up other data for: the index's pages first), or at least
 * DIRECT_MIN_BYTES of which the cache holds less than half (`resident`: `residentShare` of a sample;
 * null when that cannot be told, and then only the first rule applies).
 */
export function readsAroundCache(
  mode: DirectIo,
  bytes: number,
  available: number,
  localDisk: boolean,
  resident: number | null = null,
): boolean {
  if (mode !== 'auto') return mode === 'always';
  return localDisk && (bytes > available / 2 || (bytes >= DIRECT_MIN_BYTES && resident !== null && resident < 0.5));
}

/**
 * The share of the bytes of the files `paths` (at most RESIDENCY_SAMPLE of them are asked about, spread
 * over the list) that the page cache holds, from util-linux's `fincore` (mincore(2) of each file: Debian
 * has it in util-linux-extra), or null when that cannot be told: no fincore (not Linux, a minimal
 * image), an answer not in its JSON shape, no bytes. A file that is gone is left out of the share.
 * (`fincore`: the command, for tests.)
 */
export async function residentShare(paths: string[], fincore = 'fincore', timeoutMs = 5000): Promise<number | null> {
  const step = Math.max(1, paths.length / RESIDENCY_SAMPLE);
  const some: string[] = [];
  for (let i = 0; i < paths.length && some.length < RESIDENCY_SAMPLE; i += step) some.push(paths[Math.floor(i)] as string);
  if (some.length === 0) return null;
  // fincore exits 1 when a file could not be opened (gone since the walk), with the others' rows: those
  // count. One that does not answer in time (a file swapped for a FIFO, a hung mount) is killed, and not
  // waited for: a process stuck in the kernel outlives SIGKILL until its call returns.
  let timer: NodeJS.Timeout | undefined;
  const out = await new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(''), timeoutMs + 1000);
    execFile(
      fincore,
      ['--json', '--bytes', '--output', 'RES,SIZE', '--', ...some],
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 1 << 20, encoding: 'utf8' },
      (_e, stdout) => resolve(typeof stdout === 'string' ? stdout : ''),
    );
  }).finally(() => clearTimeout(timer));
  let rows: unknown;
  try {
    rows = (JSON.parse(out) as { fincore?: unknown }).fincore;
  } catch {
    return null;
  }
  if (!Array.isArray(rows)) return null;
  let res = 0;
  let size = 0;
  for (const r of rows as Array<{ res?: unknown; size?: unknown }>) {
    if (typeof r?.res !== 'number' || typeof r.size !== 'number') return null;
    res += Math.min(r.res, r.size); // whole pages: the last one counts past the end
    size += r.size;
  }
  return size > 0 ? res / size : null;
}

/**
 * Whether an error of the read around the page cache is the file's (gone, replaced, held under a lease:
 * as through the cache) rather than the way of reading's: EINVAL from the open or a read (a filesystem
 * without O_DIRECT, memory not at a block's start), EOPNOTSUPP / ENOSYS from some FUSE servers, or any
 * other, which the read through the cache then meets again if it is the file's.
 */
const fileError = (e: unknown): boolean => e instanceof FileOpenError || (e as NodeJS.ErrnoException).code === 'ENOENT';

/**
 * Reads the `size`-byte file into buf[0, cap) around the page cache (O_DIRECT), in whole blocks (cap is
 * one, past size): the bytes read, or -1 to read it through the cache instead: when the filesystem or
 * the memory does not allow it (`fileError` says which errors are the file's), or a read ends short of a
 * block's end before `size` (no later read could start at a block's start: a FUSE or network
 * filesystem's short read, or the file cut meanwhile). A read that ends short of a block's end at `size`
 * or past it is the file's end; no read starts anywhere but at a block's start.
 */
function readDirect(abs: string, buf: Buffer, cap: number, size: number): number {
  let fd: number;
  try {
    fd = openRegularSync(abs, O_DIRECT);
  } catch (e) {
    if (fileError(e)) throw e;
    return -1;
  }
  try {
    let n = 0;
    for (let k = 1; k > 0 && n < cap && n % DIRECT_BLOCK === 0; n += k) k = readSync(fd, buf, n, cap - n, n);
    return n % DIRECT_BLOCK !== 0 && n < size ? -1 : n;
  } catch (e) {
    if (fileError(e)) throw e;
    return -1;
  } finally {
    closeSync(fd);
  }
}

/**
 * The file's bytes when they are the `size` bytes stat'ed before and it still has that size and mtime
 * after the read, else why not. The read goes into `buffer(n)` (n bytes or more) and is synchronous: a
 * worker has nothing else to do meanwhile, and on the scanner's thread the files are small (big ones only
 * without workers, when the decode holds that thread anyway). `afterRead` is called between the read and
 * the re-stat (the scanner's test hook); what it throws is an `unreadable`.
 *
 * `direct`: around the page cache (O_DIRECT) where the filesystem allows, else through it. On most
 * local filesystems the file's pages then neither evict other data from the cache nor cost the kernel a
 * copy through it (compressed Btrfs, and ext4 with encryption or data=journal, read through the cache
 * anyway): a year of 630 KB G3 hour files (5.1 GiB, evicted first with `dd iflag=nocache`), read by 2
 * worker threads each into one WebAssembly.Memory buffer with readSync, took 2.95 s and 0.4 s of kernel
 * CPU this way, 3.8 s and 1.9 s through the cache (twice each, this VM); a file already in the cache is
 * read from the disk again.
 */
export async function readUnchanged(
  file: Pick<FileJob, 'abs' | 'size' | 'mtimeMs'>,
  buffer: (bytes: number) => Buffer,
  afterRead?: () => void | Promise<void>,
  direct = false,
): Promise<{ content: Buffer } | Exclude<FileResult, SummaryResult>> {
  if (file.size > MAX_DECODED_BYTES) return { kind: 'unreadable', error: `File size (${file.size}) is greater than 2 GiB` };
  // one byte more than expected is asked for, so a file that grew is seen without reading it all
  const want = file.size + 1;
  const around = direct && O_DIRECT !== undefined;
  // around the cache: whole blocks, so that many bytes of room
  const cap = around ? Math.ceil(want / DIRECT_BLOCK) * DIRECT_BLOCK : want;
  const buf = buffer(cap);
  let n = 0;
  try {
    n = around ? readDirect(file.abs, buf, cap, file.size) : -1;
    if (n < 0) {
      n = 0;
      const fd = openRegularSync(file.abs);
      try {
        for (let k = 1; k > 0 && n < want; n += k) k = readSync(fd, buf, n, want - n, n);
      } finally {
        closeSync(fd);
      }
    }
    if (afterRead) await afterRead();
    const after = statSync(file.abs);
    if (n !== file.size || after.size !== file.size || after.mtimeMs !== file.mtimeMs) return { kind: 'retry', bytes: n };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'gone' };
    if (e instanceof FileOpenError && e.code === 'busy') return { kind: 'retry', bytes: 0 };
    return { kind: 'unreadable', error: (e as Error).message };
  }
  return { content: buf.subarray(0, n) };
}

/** A decode worker's reads, into one page-aligned buffer it keeps (`pageAlignedBuffer`). */
export class FileReader {
  private buf: Buffer<ArrayBuffer> = Buffer.alloc(0);

  /** As `readUnchanged` (around the page cache when `job.direct`); the content is valid until the next call. */
  read(job: FileJob): ReturnType<typeof readUnchanged> {
    return readUnchanged(
      job,
      (want) => {
        if (this.buf.length >= want) return this.buf;
        // grown by half at least, so files growing a little each do not each make a new one
        const buf = pageAlignedBuffer(want <= KEEP_BYTES ? Math.min(KEEP_BYTES, Math.max(want, Math.ceil(this.buf.length * 1.5))) : want);
        if (want <= KEEP_BYTES) this.buf = buf;
        return buf;
      },
      undefined,
      job.direct === true,
    );
  }

  /** Lets the kept buffer go (an idle worker holds no file's worth of memory). */
  release(): void {
    this.buf = Buffer.alloc(0);
  }

  /** Read, then `summariseFile`. The content is done with when this resolves (results are copies). */
  async run(job: FileJob): Promise<FileResult> {
    const r = await this.read(job);
    if (!('content' in r)) return r;
    const { abs: _abs, size: _size, mtimeMs: _mtime, direct: _direct, ...rest } = job;
    return summariseFile({ ...rest, content: r.content });
  }
}

/**
 * Bytes a file may have grown by since it was indexed for `readIndexed` to read it: what a file being
 * written gains between two scans is far less; a file replaced by a much bigger one is skipped.
 */
export const SERVE_GROWTH_BYTES = 64 * 2 ** 20;

/**
 * An indexed file's bytes for the archive's reader (on the node's serving thread, which decodes them):
 * a regular file only (`openRegular`), and one that has grown by at most SERVE_GROWTH_BYTES since the
 * scan (a file being written is served whole; one swapped for a much bigger one is a FileOpenError
 * `grown`, not read into memory, nor read in part, which would serve a value cut in two).
 */
export async function readIndexed(abs: string, indexedSize: number): Promise<Buffer> {
  const { fh, size } = await openRegular(abs);
  try {
    if (size > Math.max(0, indexedSize) + SERVE_GROWTH_BYTES || size > MAX_DECODED_BYTES)
      throw new FileOpenError('grown', `${size} bytes, ${indexedSize} when indexed: changed since, skipped until the next scan`);
    const buf = Buffer.allocUnsafe(size);
    let n = 0;
    for (let k = 1; k > 0 && n < size; n += k) ({ bytesRead: k } = await fh.read(buf, n, size - n, n));
    return buf.subarray(0, n);
  } finally {
    await fh.close();
  }
}

/** An indexed file for the reader: read (`readIndexed`) and decoded whole, on a decode worker or here. */
export interface ServeJob {
  serve: true;
  /** Absolute path. */
  abs: string;
  /** As indexed: the path relative to the root (formats take names from it), the format, the size. */
  relPath: string;
  format: string;
  size: number;
  /** FileContext.decodeLimit: what a compressed file may decompress to (the reader's share of the memory). */
  decodeLimit?: number;
}

/** A decode worker's answer to a ServeJob: the decoded file, or why there is none (no throw crosses threads). */
export type ServeResult = { kind: 'served'; decoded: DecodedFile } | { kind: 'failed'; error: string };

/**
 * A ServeJob's file read and decoded; `maxDecodedBytes` as FileContext's (a DecodeElsewhereError past it).
 * Throws what the read or the format throws.
 */
export async function decodeIndexed(job: ServeJob, maxDecodedBytes?: number): Promise<DecodedFile> {
  const format = formatByName(job.format);
  if (!format) throw new Error(`unknown format ${job.format}`);
  const content = await readIndexed(job.abs, job.size);
  const ctx = {
    relPath: job.relPath,
    ...(maxDecodedBytes !== undefined ? { maxDecodedBytes } : {}),
    ...(job.decodeLimit !== undefined ? { decodeLimit: job.decodeLimit } : {}),
  };
  return format.decodeAsync ? format.decodeAsync(content, ctx) : format.decode(content, ctx);
}

/**
 * `decodeIndexed` on a decode worker: the result, and the memory to transfer with it rather than copy.
 * Every number column and time axis is made to own its memory whole (a view of more, e.g. of the file's
 * bytes, is copied first), so what is transferred is exactly the decoded file.
 */
export async function serveIndexed(job: ServeJob): Promise<{ result: ServeResult; transfer: ArrayBuffer[] }> {
  let d: DecodedFile;
  try {
    d = await decodeIndexed(job);
  } catch (e) {
    return { result: { kind: 'failed', error: (e as Error).message }, transfer: [] };
  }
  const transfer = new Set<ArrayBuffer>();
  const own = (a: Float64Array): Float64Array => {
    const whole = a.buffer instanceof ArrayBuffer && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength;
    const b = whole ? a : a.slice();
    transfer.add(b.buffer as ArrayBuffer);
    return b;
  };
  for (const tl of d.timelines) {
    tl.t = own(tl.t);
    for (const c of tl.columns) if (c.values instanceof Float64Array) c.values = own(c.values);
  }
  return { result: { kind: 'served', decoded: d }, transfer: [...transfer] };
}
