/**
 * The scanner: walks the archive directory and keeps the index in step with it.
 *
 * Per file (under a key: `fileKey`) it records path (relative to the root), size, mtime, a hash of the content (file-summary.ts
 * `summariseFile`: the sha1 of the bytes, or the format's fingerprint, G3's from its frame CRCs), its format, and per field the timeline, type, units, description,
 * nominal interval, first and last time with a value and the number of values, and per numeric field
 * its summary tiers (sdk/tiers: buckets from ≥ 300 × its interval up to 1 day), written in the same
 * transaction as the file's rows and replaced or removed with them (a grown, rewritten, corrupt or
 * deleted file never leaves stale summaries). `rebuildSummaries` removes every tier, then re-reads every file, on the first scan.
 *
 * Rescans are incremental: a file whose size and mtime match the index is not opened; a new, grown or
 * changed file is decoded again (same content under a new mtime only updates the row); a file that
 * has gone is removed. A file whose size or mtime changes while it is read is still being written: it
 * is retried at the end of the scan, and left for the next scan if it keeps changing. A file modified
 * less than `settleSeconds` before the scan started is indexed but marked to be read again next time
 * (its last line may have been half written). An unreadable or undecodable file is recorded with its
 * error and skipped; the scan goes on. Hidden files and directories (leading '.') are skipped, and so
 * are the index's own files when they lie inside the root. Files no format claims are recorded as
 * `ignored` so they are not sniffed again.
 *
 * One scanner per index: `Scanner.open` takes a lease (a row of `<p>lock` with an expiry on the
 * database's clock, renewed every lease/3); a second scanner is refused with ScannerLockedError
 * until the lease of the first ends (close releases it at once). A scanner that fails to renew (it
 * lost the lease, e.g. paused for longer than the lease) stops before its next write.
 *
 * The scanner's thread walks, stats and writes the index; reading (files of 64 KiB and more), hashing,
 * decoding, field rows and tiers run on a pool of worker threads (decode-pool.ts, file-read.ts), and
 * results are written every `batchFiles` files (or BATCH_VALUES summary numbers) while the next ones are decoded.
 *
 * All times are UNIX seconds (UTC).
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp, type Dirent, type Stats } from 'node:fs';
import os from 'node:os';
import * as path from 'node:path';
import { silentLogger, type Logger } from '../../common/log';
import { detectFormat, SNIFF_BYTES } from './formats';
import { DecodePool, type JobDeadline, type PoolLease, type PoolResult } from './decode-pool';
import {
  decodeLimitFor,
  DIRECT_MIN_BYTES,
  FileOpenError,
  memoryAvailable,
  onLocalDisk,
  openRegular,
  readsAroundCache,
  readUnchanged,
  residentShare,
  type DirectIo,
} from './file-read';
import { sha1Hex, summariseFile } from './file-summary';
import { MAX_DECODED_BYTES, THREAD_DECODED_BYTES, type FormatReader } from './formats/types';
import type { FieldRow, FileRow, IndexDb, WriteBatch } from './index-db/types';
import type { FieldTiers } from '../sdk/tiers';

export const SCANNER_LOCK = 'scanner';

/**
 * Files in flight to the decode workers at most (their queues hold more on a machine of many cores: 512
 * each). Each is a pending promise here and, once answered, its summary until its batch is written.
 */
export const MAX_IN_FLIGHT = 4096;

/**
 * Decode workers by default: one per core and one more. A worker reads its file synchronously, and from
 * disk that is a third of its time: with one per core, the cores sat idle meanwhile. A year of hour G3
 * files (8760 files, 5.1 GiB) on 2 cores, 3 rounds, medians: 13.1 s from disk with 2 workers, 10.3 s with
 * 3; from the page cache 8.0 s and 7.7 s. (Reading the next file ahead on libuv's threads instead was
 * slower: each step of that read waited for the worker's event loop, i.e. the end of a decode.)
 */
export function defaultWorkers(): number {
  return os.availableParallelism() + 1;
}

/** Summary numbers (tier buckets' packed values) held for one index transaction at most: ~32 MiB. */
export const BATCH_VALUES = 4_000_000;

export class ScannerLockedError extends Error {
  constructor(
    readonly holder: string | null,
    readonly expires: number | null,
    location: string,
  ) {
    super(
      `another scanner (${holder ?? 'unknown'}) holds the index ${location}` +
        (expires !== null ? ` until ${new Date(expires * 1000).toISOString()} unless it renews its lease` : '') +
        ': only one scanner may write an index',
    );
    this.name = 'ScannerLockedError';
  }
}

export interface ScanProgress {
  phase: 'walk' | 'index';
  /** Files seen (walk) or processed (index). */
  files: number;
  filesTotal: number;
  bytes: number;
  bytesTotal: number;
  elapsed: number;
}

export interface ScanResult {
  files: number;
  added: number;
  updated: number;
  touched: number;
  unchanged: number;
  deleted: number;
  errors: number;
  ignored: number;
  /** Files still being written after every retry: left for the next scan. */
  deferred: number;
  bytesRead: number;
  seconds: number;
}

export interface ScannerOptions {
  db: IndexDb;
  dataDir: string;
  logger?: Logger;
  /** Lock owner id (default host:pid:random). */
  owner?: string;
  leaseSeconds?: number;
  /** Files modified this recently before the scan are re-read next scan (default 2 s). */
  settleSeconds?: number;
  /**
   * Files read and summarised on the scanner's thread at once (default 12): files under 64 KiB, and every
   * file when no worker takes it. It does not bound the bigger files the decode workers read themselves
   * (they hold no memory here): as many more of those are in flight as the workers can queue.
   */
  concurrency?: number;
  /**
   * Threads that hash, decode and summarise the files (default `defaultWorkers()`: one per core and one
   * more; 0: the scanner's own thread). Files under 64 KiB are always done on the scanner's thread.
   */
  workers?: number;
  /** Node flags of those threads (default the process's; tests pass a TypeScript require hook). */
  workerExecArgv?: string[];
  /** Time a decode worker may spend on one file (default decode-pool.ts DEFAULT_DEADLINE: 60 s + 1 s a MiB). */
  decodeDeadline?: JobDeadline;
  /**
   * Files per index transaction at most (default 1000; a scan of fewer than 8000 files writes an eighth
   * of them at a time, at least 100), fewer when their summaries hold more than `batchValues`
   * numbers. Each write rewrites the rollup chunks it touches, the coarse ones whole (36 KiB a field and
   * width): a year of hour files in batches of 100 rewrote them 88 times, most of what a scan wrote. The
   * decode workers keep ahead of a long write (decode-pool.ts PER_WORKER).
   */
  batchFiles?: number;
  /** Summary numbers per index transaction at most (default BATCH_VALUES): bounds the memory a batch holds. */
  batchValues?: number;
  /** Attempts for a file that changes while read (default 3). */
  attempts?: number;
  /** Build summary tiers for new and changed files (default true; false only to measure their cost). */
  summaries?: boolean;
  /** First scan: read every file again and rebuild its summaries, even when unchanged. */
  rebuildSummaries?: boolean;
  /**
   * How the decode workers read the files: 'auto' (default) around the page cache (O_DIRECT, where the
   * filesystem allows: file-read.ts `readUnchanged`) when a scan has more bytes to read than half the
   * memory available (file-read.ts `memoryAvailable`), which the cache could not keep anyway and would give up other
   * data for (the index's pages first), or at least DIRECT_MIN_BYTES that are mostly not in the cache
   * (file-read.ts `residentShare`), from a local disk (file-read.ts `readsAroundCache`): the files
   * on the data directory's own filesystem (a mount below it, or a link to a file elsewhere, is read
   * through the cache); through the cache otherwise (the scans of a node at work, a few new files
   * each, which the reader may serve next; a network filesystem). 'always' / 'never': every file so.
   */
  directIo?: DirectIo;
  /**
   * Bytes a compressed file may decompress to in one decode (FileContext.decodeLimit; default
   * file-read.ts `decodeLimitFor` the memory available and the decoding threads, at each scan).
   */
  decodeLimit?: number;
  /** Absolute paths never indexed (the index's own files). */
  exclude?: string[];
  onProgress?(p: ScanProgress): void;
  /** Test hook: called after a file's content was read, before it is checked for changes. */
  afterRead?(relPath: string, attempt: number): void | Promise<void>;
}

interface Seen {
  rel: string;
  abs: string;
  stat: Stats | null;
  statError: string | null;
}

type Outcome =
  | { kind: 'write'; file: FileRow; fields: FieldRow[]; tiers?: FieldTiers; isNew: boolean; bytes: number }
  | { kind: 'touch'; file: FileRow; bytes: number }
  | { kind: 'retry'; bytes: number }
  | { kind: 'gone'; bytes: number };

const sha1 = sha1Hex;

/**
 * The index key of a file indexed for the first time: 's', its sequence number in 11 hex digits, then 28
 * hex digits of the sha1 of its path (40 characters, the column's width). New files are numbered in path
 * order, after every key before them, so the rows of a batch go to the end of the field and tier tables'
 * keys and indexes together: with the sha1 of the path as the key (older indexes keep theirs), every
 * batch wrote rows all over them, and most of their pages were written again each time. A file is
 * found by its path, and keeps its key while it stays there.
 */
export function fileKey(seq: number, rel: string): string {
  return `s${seq.toString(16).padStart(11, '0')}${sha1(rel).slice(0, 28)}`;
}

/** The next sequence number after the keys of `rows` (0 when none is a sequence key). */
function nextSeq(rows: FileRow[]): number {
  let next = 0;
  for (const r of rows) if (/^s[0-9a-f]{11}/.test(r.key)) next = Math.max(next, parseInt(r.key.slice(1, 12), 16) + 1);
  return next;
}

/** At most `n` calls of `run` at work at once; the others wait their turn. */
class Limit {
  private active = 0;
  private readonly queue: Array<() => void> = [];
  constructor(private readonly n: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.n) await new Promise<void>((r) => this.queue.push(r));
    else this.active++;
    try {
      return await fn();
    } finally {
      const next = this.queue.shift();
      if (next) next();
      else this.active--;
    }
  }
}

async function pool<T>(items: T[], n: number, fn: (t: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (i < items.length) await fn(items[i++] as T); // i < length
    }),
  );
}

export class Scanner {
  private readonly log: Logger;
  private heartbeat: NodeJS.Timeout | null = null;
  private lost: string | null = null;
  private closed = false;
  /** Hash, decode, field rows and tiers of each file, on worker threads (the process's pool: DecodePool.lease). */
  private readonly decoder: DecodePool;
  private readonly lease: PoolLease;
  /** Files read and summarised on this thread (their content held here), at most `concurrency`. */
  private readonly readingHere: Limit;
  private rebuilt = false;
  private rebuilding = false;
  /**
   * Which files this scan's decode workers read around the page cache (`directIo`): all, those on the
   * root's device (not a mount or a link's target elsewhere: another filesystem), or none.
   */
  private direct: 'all' | { dev: number } | null = null;
  /** This scan's FileContext.decodeLimit (`decodeLimitFor`, or the option). */
  private decodeLimit = MAX_DECODED_BYTES;
  readonly owner: string;
  readonly root: string;

  private constructor(private readonly o: ScannerOptions) {
    this.log = (o.logger ?? silentLogger).child({ component: 'archive-scanner' });
    this.owner = o.owner ?? `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    this.root = path.resolve(o.dataDir);
    this.readingHere = new Limit(o.concurrency ?? 12);
    this.lease = DecodePool.lease(o.workers ?? defaultWorkers(), {
      ...(o.workerExecArgv ? { execArgv: o.workerExecArgv } : {}),
      ...(o.decodeDeadline ? { deadline: o.decodeDeadline } : {}),
    });
    this.decoder = this.lease.pool;
  }

  /** Migrates the index, takes the scanner lease (ScannerLockedError when held) and records the root. */
  static async open(o: ScannerOptions): Promise<Scanner> {
    const s = new Scanner(o);
    try {
      await s.start();
    } catch (e) {
      await s.close(); // the decode pool's lease, and the scanner lease if it was taken
      throw e;
    }
    return s;
  }

  private async start(): Promise<void> {
    const o = this.o;
    const st = await fsp.stat(this.root).catch((e: Error) => {
      throw new Error(`cannot read data directory ${this.root}: ${e.message}`);
    });
    if (!st.isDirectory()) throw new Error(`data directory ${this.root} is not a directory`);
    await o.db.migrate();
    const lease = o.leaseSeconds ?? 30;
    const lock = await o.db.acquireLock(SCANNER_LOCK, this.owner, lease);
    if (!lock.acquired) throw new ScannerLockedError(lock.owner, lock.expires, o.db.location);
    this.heartbeat = setInterval(
      () => {
        o.db.renewLock(SCANNER_LOCK, this.owner, lease).then(
          (ok) => {
            if (!ok && !this.lost) {
              this.lost = 'lost the scanner lease to another scanner';
              this.log.error(this.lost);
            }
          },
          (e: Error) => this.log.warn({ err: e.message }, 'could not renew the scanner lease'),
        );
      },
      Math.max(100, (lease * 1000) / 3),
    );
    this.heartbeat.unref();
    const prevRoot = await o.db.getMeta('data_dir');
    if (prevRoot !== this.root) {
      if (prevRoot !== null)
        this.log.warn(
          { before: prevRoot, now: this.root },
          'the index was built from another data directory; paths are relative, files not found here will be removed',
        );
      await o.db.setMeta('data_dir', this.root);
    }
  }

  private check(): void {
    if (this.lost) throw new Error(`scanner stopped: ${this.lost}`);
    if (this.closed) throw new Error('scanner closed');
  }

  /** The files under the root, stat'ed; `onEntry` after each stat (`s`: a regular file's). */
  private async walk(onEntry: (n: number, s: Seen | null) => void): Promise<Seen[]> {
    const exclude = new Set((this.o.exclude ?? []).flatMap((p) => [p, `${p}-wal`, `${p}-shm`, `${p}-journal`].map((x) => path.resolve(x))));
    const out: Seen[] = [];
    const dirs: string[] = [''];
    const files: Array<{ rel: string; abs: string }> = [];
    while (dirs.length) {
      const rel = dirs.pop()!;
      const abs = path.join(this.root, rel);
      let entries: Dirent[];
      try {
        entries = await fsp.readdir(abs, { withFileTypes: true });
      } catch (e) {
        this.log.warn({ dir: abs, err: (e as Error).message }, 'cannot read directory; skipped');
        continue;
      }
      for (const e of entries) {
        if (e.name.startsWith('.')) continue;
        const r = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) dirs.push(r);
        else if (e.isFile() || e.isSymbolicLink()) {
          const a = path.join(abs, e.name);
          if (!exclude.has(a)) files.push({ rel: r, abs: a });
        }
      }
    }
    await pool(files, 32, async (f) => {
      let got: Seen | null = null;
      try {
        const stat = await fsp.stat(f.abs);
        if (stat.isFile()) out.push((got = { ...f, stat, statError: null }));
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (
          code !== 'ENOENT' ||
          (await fsp.lstat(f.abs).then(
            () => true,
            () => false,
          ))
        )
          out.push({ ...f, stat: null, statError: (e as Error).message });
      }
      onEntry(out.length, got);
    });
    return out;
  }

  /** One pass over the directory. Resolves with what changed. */
  async scan(): Promise<ScanResult> {
    this.check();
    const t0 = performance.now();
    const scanStart = Date.now() / 1000;
    const settle = this.o.settleSeconds ?? 2;
    const elapsed = () => (performance.now() - t0) / 1000;
    const progress = this.o.onProgress ?? (() => {});
    const res: ScanResult = {
      files: 0,
      added: 0,
      updated: 0,
      touched: 0,
      unchanged: 0,
      deleted: 0,
      errors: 0,
      ignored: 0,
      deferred: 0,
      bytesRead: 0,
      seconds: 0,
    };

    const rows = await this.o.db.listFiles();
    const indexed = new Map(rows.map((f) => [f.key, f]));
    const byPath = new Map(rows.map((f) => [f.path, f]));
    let seq = nextSeq(rows);
    const rebuild = this.o.rebuildSummaries === true && !this.rebuilt;
    this.rebuilt = true;
    this.rebuilding = rebuild;
    // every file is written again: the tiers start from none (no rollup to subtract from, no old row read)
    if (rebuild) await this.o.db.clearTiers();
    const unchanged = (prev: FileRow | undefined, stat: Stats | null): boolean =>
      !!prev && !!stat && !prev.recheck && !rebuild && prev.size === stat.size && prev.mtime === stat.mtimeMs / 1000;
    let starting = false;
    const seen = await this.walk((n, s) => {
      // the decode workers load while the walk goes on, from the first file they will read
      if (!starting && s?.stat && s.stat.size >= this.decoder.minBytes && !this.o.afterRead && !unchanged(byPath.get(s.rel), s.stat)) {
        starting = true;
        this.decoder.start();
      }
      progress({ phase: 'walk', files: n, filesTotal: 0, bytes: 0, bytesTotal: 0, elapsed: elapsed() });
    });
    res.files = seen.length;

    const todo: Array<Seen & { key: string; prev: FileRow | undefined }> = [];
    const present = new Set<string>();
    for (const s of seen) {
      // a file keeps the key it was indexed under (found by its path); a new one gets one below
      const prev = byPath.get(s.rel);
      if (prev) present.add(prev.key);
      if (unchanged(prev, s.stat)) res.unchanged++;
      else todo.push({ ...s, key: prev?.key ?? '', prev });
    }
    const deleteKeys = [...indexed.keys()].filter((k) => !present.has(k));
    res.deleted = deleteKeys.length;
    todo.sort((a, b) => (a.rel < b.rel ? -1 : 1));
    for (const t of todo) if (!t.prev) t.key = fileKey(seq++, t.rel);

    const bytesTotal = todo.reduce((n, s) => n + (s.stat?.size ?? 0), 0);
    const directIo = this.o.directIo ?? 'auto';
    const available = memoryAvailable();
    this.decodeLimit = this.o.decodeLimit ?? decodeLimitFor(available, (this.decoder.threaded ? this.decoder.size : 0) + 1);
    // 'auto': the files on the data directory's own device, when it is a local disk, are what counts and
    // what is read around the cache (a link to a file elsewhere is read through it); whether the page
    // cache holds them is asked (a child process) only of a scan big enough for it to matter that the
    // memory could keep
    const rootDev =
      directIo === 'auto' && onLocalDisk(this.root)
        ? await fsp.stat(this.root).then(
            (st) => st.dev,
            () => null,
          )
        : null;
    const own = rootDev === null ? [] : todo.filter((s) => s.stat !== null && s.stat.dev === rootDev && s.stat.size > 0);
    const ownBytes = own.reduce((n, s) => n + (s.stat?.size ?? 0), 0);
    const resident = ownBytes >= DIRECT_MIN_BYTES && ownBytes <= available / 2 ? await residentShare(own.map((s) => s.abs)) : null;
    this.direct =
      directIo === 'always'
        ? 'all'
        : rootDev !== null && readsAroundCache(directIo, ownBytes, available, true, resident)
          ? { dev: rootDev }
          : null;
    if (this.direct && directIo === 'auto')
      this.log.info(
        { bytes: ownBytes, available, ...(resident !== null ? { resident: Math.round(resident * 1000) / 1000 } : {}) },
        resident !== null
          ? 'most of the bytes to read are not in the page cache: the files are read around it (O_DIRECT)'
          : 'more bytes to read than half the memory available: the files are read around the page cache (O_DIRECT)',
      );
    let filesDone = 0;
    let bytesDone = 0;
    const report = () =>
      progress({ phase: 'index', files: filesDone, filesTotal: todo.length, bytes: bytesDone, bytesTotal, elapsed: elapsed() });
    report();

    // An eighth of the files per transaction, from 100 up to `batchFiles`: the last write runs after the
    // last decode, with nothing left to overlap it (30 days of hour files in one batch of 720: 0.75 s,
    // in batches of 100: 0.62 s), and every write rewrites the rollup chunks it touches.
    const batchSize = Math.min(this.o.batchFiles ?? 1000, Math.max(100, Math.ceil(todo.length / 8)));
    const batchValues = this.o.batchValues ?? BATCH_VALUES;
    const attempts = this.o.attempts ?? 3;
    let retry: typeof todo = [];
    let pendingDeletes = deleteKeys;
    // Results are written every `batchSize` files while the next files are read and decoded (the
    // decode workers keep going while this thread writes); writes go one at a time.
    const empty = (): WriteBatch => ({ files: [], touched: [], deleteKeys: [] });
    let acc = empty();
    let accCount = 0;
    let accValues = 0;
    let writing: Promise<void> = Promise.resolve();
    let queuedWrites = 0;
    const flush = (last: boolean): Promise<void> => {
      const b = acc;
      acc = empty();
      accCount = 0;
      accValues = 0;
      queuedWrites++;
      writing = writing
        .then(async () => {
          this.check();
          await this.o.db.writeBatch(last ? { ...b, deleteKeys: [...pendingDeletes, ...b.deleteKeys] } : b);
          if (last) pendingDeletes = [];
        })
        .finally(() => queuedWrites--);
      return writing;
    };
    const runBatch = async (items: typeof todo, attempt: number, last: boolean) => {
      // as many files in flight as the workers hold (at most MAX_IN_FLIGHT), and `concurrency` more here
      await pool(items, (this.o.concurrency ?? 12) + Math.min(this.decoder.capacity, MAX_IN_FLIGHT), async (s) => {
        const r = await this.processFile(s, s.key, s.prev, attempt, scanStart, settle);
        res.bytesRead += r.bytes;
        if (r.kind === 'retry') {
          if (attempt < attempts) retry.push(s);
          else {
            res.deferred++;
            this.log.warn({ file: s.rel }, 'file still being written; left for the next scan');
          }
          if (attempt < attempts) return;
        } else if (r.kind === 'gone') {
          if (s.prev) {
            acc.deleteKeys.push(s.key);
            res.deleted++;
          }
        } else if (r.kind === 'touch') {
          res.touched++;
          acc.touched.push(r.file);
        } else {
          acc.files.push({ file: r.file, fields: r.fields, ...(r.tiers ? { tiers: r.tiers } : {}), fresh: r.isNew });
          for (const byWidth of r.tiers?.values() ?? []) for (const p of byWidth.values()) accValues += p.length;
          if (r.file.status === 'error') res.errors++;
          else if (r.file.status === 'ignored') res.ignored++;
          else if (r.isNew) res.added++;
          else res.updated++;
        }
        filesDone++;
        bytesDone += s.stat?.size ?? 0;
        report();
        if (++accCount >= batchSize || accValues >= batchValues) await flush(false);
        // a backend slower than the decode (a remote MySQL): no more than one batch waits behind the one
        // being written, so the memory held stays a batch or two
        else if (queuedWrites > 1) await writing;
      });
      await flush(last);
    };

    await runBatch(todo, 1, false);
    for (let attempt = 2; attempt <= attempts && retry.length; attempt++) {
      const again = retry;
      retry = [];
      // A writer is at work: give it a moment before the next attempt.
      await new Promise((r) => setTimeout(r, 50 * attempt));
      await runBatch(again, attempt, false);
    }
    await runBatch([], attempts, true);
    res.seconds = elapsed();
    this.rebuilding = false;
    this.log.info({ ...res }, 'scan done');
    return res;
  }

  private async processFile(
    s: Seen,
    key: string,
    prev: FileRow | undefined,
    attempt: number,
    scanStart: number,
    settle: number,
  ): Promise<Outcome> {
    const base = (stat: Stats | null, format: FormatReader | undefined): FileRow => ({
      key,
      path: s.rel,
      size: stat?.size ?? 0,
      mtime: stat ? stat.mtimeMs / 1000 : 0,
      hash: null,
      format: format?.name ?? null,
      status: 'ok',
      error: null,
      tFirst: null,
      tLast: null,
      nSamples: 0,
      badRows: 0,
      recheck: stat !== null && settle > 0 && scanStart - stat.mtimeMs / 1000 < settle,
      scannedAt: Date.now() / 1000,
    });
    const errorRow = (stat: Stats | null, format: FormatReader | undefined, err: string): Outcome => {
      this.log.warn({ file: s.rel, err }, 'cannot index file; skipped');
      return {
        kind: 'write',
        file: { ...base(stat, format), status: 'error', error: err.slice(0, 2000) },
        fields: [],
        isNew: !prev,
        bytes: 0,
      };
    };
    if (!s.stat) return errorRow(null, undefined, s.statError ?? 'cannot stat');
    let stat = s.stat;
    let format = detectFormat(s.rel);
    try {
      if (!format) {
        // within the limit of this thread's reads: thousands of files may be in flight, not as many open
        const head = await this.readingHere.run(async () => {
          const { fh } = await openRegular(s.abs);
          try {
            const buf = Buffer.alloc(SNIFF_BYTES);
            const { bytesRead } = await fh.read(buf, 0, SNIFF_BYTES, 0);
            return buf.subarray(0, bytesRead);
          } finally {
            await fh.close();
          }
        });
        format = detectFormat(s.rel, head);
        if (!format)
          return { kind: 'write', file: { ...base(stat, undefined), status: 'ignored' }, fields: [], isNew: !prev, bytes: head.length };
      }
      if (attempt > 1) stat = await fsp.stat(s.abs); // it changed since the walk
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return { kind: 'gone', bytes: 0 }; // deleted since the walk
      if (e instanceof FileOpenError && e.code === 'busy') return { kind: 'retry', bytes: 0 };
      return errorRow(stat, format, (e as Error).message);
    }
    // The hash tells a touched file (same content, new mtime) from a changed one: a file that can be
    // the same as indexed is not decoded when its hash matches. Hash, decode, field rows and tiers run
    // on a decode worker, which reads a big file itself (its content never comes to this thread);
    // a small one, or any while the `afterRead` hook is set, is read here. Either way what is read is
    // the `size` bytes stat'ed, or the file is retried (file-read.ts): `sameAs` is decided on that size.
    const { size, mtimeMs } = stat;
    const sameAs =
      prev !== undefined && prev.size === size && prev.status === 'ok' && prev.format === format.name && !this.rebuilding
        ? prev.hash
        : null;
    const job = { key, relPath: s.rel, format: format.name, summaries: this.o.summaries !== false, sameAs, decodeLimit: this.decodeLimit };
    const hook = this.o.afterRead;
    // on a decode worker, which reads the file itself; undefined when none can
    const onWorker = async (): Promise<Exclude<PoolResult, { kind: 'unthreaded' }> | undefined> => {
      this.check(); // a closed scanner gives the shared workers no more files
      const direct = this.direct === 'all' || (this.direct !== null && stat.dev === this.direct.dev);
      const w = await this.decoder.runFile({ ...job, abs: s.abs, size, mtimeMs, ...(direct ? { direct } : {}) }, this.lease);
      return w.kind === 'unthreaded' ? undefined : w;
    };
    // here; `bounded`: what a small file decompresses to is limited (this thread also serves), beyond it `elsewhere`
    const here = (bounded: boolean) =>
      this.readingHere.run(async () => {
        const got = await readUnchanged({ abs: s.abs, size, mtimeMs }, (n) => Buffer.allocUnsafe(n), hook && (() => hook(s.rel, attempt)));
        if (!('content' in got)) return got;
        return summariseFile({ ...job, ...(bounded ? { maxDecodedBytes: THREAD_DECODED_BYTES } : {}), content: got.content });
      });
    const threaded = !hook && this.decoder.threaded;
    let r = threaded && size >= this.decoder.minBytes ? await onWorker() : undefined;
    r ??= await here(threaded);
    if (r.kind === 'elsewhere') r = (await onWorker()) ?? (await here(false));
    // a worker, or this thread unbounded, never answers `elsewhere`
    if (r.kind === 'elsewhere') return errorRow(stat, format, 'no thread could decode it');
    if (r.kind === 'retry') return { kind: 'retry', bytes: r.bytes };
    if (r.kind === 'gone') return { kind: 'gone', bytes: 0 };
    if (r.kind === 'unreadable') return errorRow(stat, format, r.error);
    if (r.kind === 'same') {
      return {
        kind: 'touch',
        file: { ...prev!, size: stat.size, mtime: stat.mtimeMs / 1000, recheck: base(stat, format).recheck, scannedAt: Date.now() / 1000 },
        bytes: size,
      };
    }
    if (r.kind === 'lost') return r.running ? { ...errorRow(stat, format, r.error), bytes: size } : { kind: 'retry', bytes: size };
    if (r.kind === 'error') return { ...errorRow(stat, format, r.error), bytes: size };
    if (r.warnings?.length) {
      const more = r.warningsDropped ? ` (and ${r.warningsDropped} more)` : '';
      this.log.warn({ file: s.rel, warnings: r.warnings }, `file decoded with ${r.warnings.length} warning(s)${more}`);
    }
    const file: FileRow = {
      ...base(stat, format),
      hash: r.hash,
      badRows: r.badRows,
      tFirst: r.tFirst,
      tLast: r.tLast,
      nSamples: r.nSamples,
    };
    return { kind: 'write', file, fields: r.fields, ...(r.tiers ? { tiers: r.tiers } : {}), isNew: !prev, bytes: size };
  }

  /** Stops renewing and releases the lease (the index stays). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.lease.release();
    await this.o.db
      .releaseLock(SCANNER_LOCK, this.owner)
      .catch((e: Error) => this.log.warn({ err: e.message }, 'could not release the scanner lease'));
  }
}
