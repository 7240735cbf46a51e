/**
 * The archive reader: a DataSource over an index (index-db/) and the files it lists.
 *
 * - `get_fields` is answered from the index alone: fields whose first..last time overlaps
 *   [start, end), with the metadata (timeline, type, units, description, interval) of the field's
 *   newest file. The per-field metadata is cached until the index's generation changes.
 * - `get_data` with a min_stride answers a timeline from summary tiers (tier-query.ts) when every file
 *   of its fields in the range has them and none overlap: stored buckets inside, raw samples from the
 *   edge files only; `reduce: 'mean'` gives bucket means. Otherwise, and without a min_stride:
 * - `get_data` asks the index which files hold the fields in [start, end), decodes only those
 *   (through the bounded cache) and, as each is decoded, copies out only its rows in [start, end)
 *   (with a min_stride, and when the file overlaps no other file of the request, only the rows the
 *   downsampling can use: StrideKeeper), so a request never holds more decoded files than the
 *   cache bound plus the ones being decoded; then it merges the slices per timeline in time order
 *   (a time present in several files appears once; the file that sorts last — by first time, then
 *   path — wins for the fields it has), then downsamples to `min_stride` keeping per-bucket extremes.
 *   A file that vanished or cannot be read any more since the scan is skipped with a warning; an
 *   indexed path that would resolve outside the data root (a tampered or foreign index) is skipped
 *   with an error.
 * - A field's timeline is the one of its newest file, in both answers, so fields from files with
 *   different timelines still come back on one time axis.
 */
import * as path from 'node:path';
import { silentLogger, type Logger } from '../../common/log';
import type { DataResult, DataSource, DataSourceExtras, FieldInfo, FieldsResult, GetDataOptions, Sample, TimelineInfo } from '../sdk/types';
import { joinFields, reduceSamples } from '../sdk/tiers';
import { answerFromTiers } from './tier-query';
import { downsampleMinMax, lowerBound, StrideKeeper } from '../sdk/downsample';
import { DecodedCache, DEFAULT_CACHE_BYTES } from './cache';
import { DecodePool, type JobDeadline } from './decode-pool';
import { decodeIndexed, decodeLimitFor, memoryAvailable, type ServeJob } from './file-read';
import { formatByName } from './formats';
import { DecodeElsewhereError, float64Here, isDecodeLimitMessage, THREAD_DECODED_BYTES, type DecodedFile } from './formats/types';
import type { FieldMeta, FileHit, IndexDb } from './index-db/types';

export interface ArchiveSourceOptions {
  db: IndexDb;
  /** Root of the files (default: the data directory the scanner recorded in the index). */
  dataDir?: string;
  /** Memory bound of the decoded-file cache, bytes (default 256 MiB). */
  cacheBytes?: number;
  logger?: Logger;
  /** Close the index when the source closes (default true). */
  closeDb?: boolean;
  /** Files decoded in parallel for one request (default 8). */
  concurrency?: number;
  /**
   * Threads that decode files for requests (default DEFAULT_DECODE_WORKERS; 0: every file on this thread).
   * A file of 1 MiB or more, or a smaller one that decompresses past THREAD_DECODED_BYTES, is decoded
   * there, so a big file (or a small one holding millions of rows) costs its own request time, not every
   * other client's: this thread keeps serving meanwhile. A decode past the pool's deadline (60 s + 1 s a
   * MiB) ends its worker, and the file is skipped for that request.
   */
  decodeWorkers?: number;
  /** Node flags of the decode threads (tests: a TypeScript loader). */
  workerExecArgv?: string[];
  /** Time a decode thread may spend on one file (default decode-pool DEFAULT_DEADLINE). */
  decodeDeadline?: JobDeadline;
  /**
   * Bytes a compressed file may decompress to in one decode (FileContext.decodeLimit; default
   * file-read.ts `decodeLimitFor` the memory available, looked at once a second at most, shared by the
   * decode threads and this one, or by `concurrency` decodes on this one when it has no threads). The
   * scanner refused a file past its own; this bounds one changed since (a file swapped for another of
   * the same size and mtime, which the reader does not read whole to check) or indexed where more
   * memory was. A file refused is left out of requests for REFUSED_MS before it is tried again.
   */
  decodeLimit?: number;
}

/**
 * How long a file refused for decompressing past the decode limit is left out of requests before it is
 * decoded again (each try decompresses up to the limit, 256 MiB or more, before it is refused).
 */
export const REFUSED_MS = 60_000;
/** Files remembered as refused at most (the oldest forgotten first). */
const MAX_REFUSED = 1024;

/** Decode threads of a reader: two keep one request's files decoding side by side on a small machine. */
export const DEFAULT_DECODE_WORKERS = 2;

/**
 * Files of this size or more are decoded on a decode thread; smaller ones here (unless they decompress
 * past THREAD_DECODED_BYTES), each a few ms at most, between which this thread answers others. Files of
 * 64 KiB (the scanner's bound) went to the threads at first: a day of 10 Hz data in 144 CSV files of
 * 100 KB then took 0.70 s for a node's first request against 0.68 s here, and as long afterwards
 * (0.28-0.40 s both ways): decoded by threads whose code was not yet compiled, then handed over, with
 * nothing gained on 2 cores.
 */
const THREAD_MIN_BYTES = 1 << 20;

type Column = Float64Array | Sample[];

interface Segment {
  t: Float64Array;
  lo: number;
  hi: number;
  /** per output field: its values in this file, or undefined */
  cols: Array<Column | undefined>;
  order: [number, string];
}

export class ArchiveSource implements DataSource, DataSourceExtras {
  readonly cache: DecodedCache;
  private readonly log: Logger;
  private root: string | null;
  private metaCache: { generation: number; byField: Map<string, FieldMeta> } | null = null;

  /** Decode threads (none started until a file needs one), or null: every file decoded on this thread. */
  private pool: DecodePool | null;
  private closed = false;
  /** The default decode limit and when it was computed (`decodeLimit`). */
  private limit = { bytes: 0, at: -Infinity };
  /** Files refused for decompressing past the limit: decode cache key → when (`REFUSED_MS`). */
  private readonly refused = new Map<string, number>();

  constructor(private readonly o: ArchiveSourceOptions) {
    this.cache = new DecodedCache(o.cacheBytes ?? DEFAULT_CACHE_BYTES);
    const workers = o.decodeWorkers ?? DEFAULT_DECODE_WORKERS;
    this.pool = workers > 0 ? this.newPool() : null;
    this.log = (o.logger ?? silentLogger).child({ component: 'archive-reader' });
    this.root = o.dataDir ? path.resolve(o.dataDir) : null;
  }

  /** Creates or upgrades the schema (a reader may start before the first scan). */
  async init(): Promise<this> {
    await this.o.db.migrate();
    return this;
  }

  private async dataRoot(): Promise<string> {
    if (this.root) return this.root;
    const r = await this.o.db.getMeta('data_dir');
    if (r === null) throw new Error('the index has no data directory yet: run `sisock node scan` first, or pass --data-dir');
    this.root = r;
    return r;
  }

  private async fieldMeta(): Promise<Map<string, FieldMeta>> {
    const generation = await this.o.db.generation();
    if (this.metaCache && this.metaCache.generation === generation) return this.metaCache.byField;
    const byField = new Map((await this.o.db.fieldMeta()).map((m) => [m.field, m]));
    this.metaCache = { generation, byField };
    return byField;
  }

  async getFields(start: number, end: number): Promise<FieldsResult> {
    const meta = await this.fieldMeta();
    const names = await this.o.db.fieldsIn(start, end);
    const fields: Record<string, FieldInfo> = {};
    const timelines: Record<string, TimelineInfo> = {};
    for (const name of names.sort()) {
      const m = meta.get(name);
      if (!m) continue;
      fields[name] = { description: m.description, timeline: m.timeline, type: m.type, units: m.units };
      const tl = (timelines[m.timeline] ??= { interval: m.interval, field: [] });
      tl.field.push(name);
      if (tl.interval === null || (m.interval !== null && m.interval < tl.interval)) tl.interval = m.interval;
    }
    return [fields, timelines];
  }

  private async decode(hit: FileHit, root: string, stamp = 0): Promise<DecodedFile | null> {
    const format = formatByName(hit.format);
    if (!format) return null;
    const file = path.resolve(root, ...hit.path.split('/'));
    const rootDir = path.resolve(root);
    if (!file.startsWith(rootDir.endsWith(path.sep) ? rootDir : rootDir + path.sep)) {
      this.log.error({ file: hit.path, root: rootDir }, 'indexed path is outside the data directory; skipped');
      return null;
    }
    const key = `${hit.key}:${hit.size}:${hit.mtime}`;
    const refusedAt = this.refused.get(key);
    if (refusedAt !== undefined && performance.now() - refusedAt < REFUSED_MS) return null;
    try {
      return await this.cache.get(
        key,
        async () => {
          const decodeLimit = this.decodeLimit();
          const d = await this.decodeFile({ serve: true, abs: file, relPath: hit.path, format: hit.format, size: hit.size, decodeLimit });
          // The scanner logged these at warn when it indexed the file.
          if (d.warnings?.length) this.log.debug({ file: hit.path, warnings: d.warnings }, 'file decoded with warnings');
          this.refused.delete(key); // refused before, decoded now (more memory)
          return d;
        },
        stamp,
      );
    } catch (e) {
      const err = (e as Error).message;
      if (!isDecodeLimitMessage(err)) {
        this.log.warn({ file: hit.path, err }, 'indexed file unreadable now; skipped until the next scan');
        return null;
      }
      // logged once while it stays refused (each request, or each sharing this decode, would write a line)
      if (!this.refused.has(key))
        this.log.warn(
          { file: hit.path, err },
          `indexed file decompresses past what one decode may hold here; left out of requests (tried again every ${REFUSED_MS / 1000} s)`,
        );
      this.refused.delete(key);
      this.refused.set(key, performance.now());
      if (this.refused.size > MAX_REFUSED) this.refused.delete(this.refused.keys().next().value as string);
      return null;
    }
  }

  /** What a compressed file may decompress to in one decode here (ArchiveSourceOptions.decodeLimit). */
  private decodeLimit(): number {
    if (this.o.decodeLimit !== undefined) return this.o.decodeLimit;
    const now = performance.now();
    if (now - this.limit.at > 1000) {
      // with threads, they and this one decode at once; without, up to `concurrency` decodes here (xz's is asynchronous)
      const threads = this.pool?.threaded ? this.pool.size + 1 : (this.o.concurrency ?? 8);
      this.limit = { bytes: decodeLimitFor(memoryAvailable(), threads), at: now };
    }
    return this.limit.bytes;
  }

  /** A decode pool for requests: one file a worker at a time, none under THREAD_MIN_BYTES. */
  private newPool(): DecodePool {
    return new DecodePool(this.o.decodeWorkers ?? DEFAULT_DECODE_WORKERS, {
      perWorker: 1,
      minBytes: THREAD_MIN_BYTES,
      ...(this.o.workerExecArgv ? { execArgv: this.o.workerExecArgv } : {}),
      ...(this.o.decodeDeadline ? { deadline: this.o.decodeDeadline } : {}),
    });
  }

  /**
   * A file decoded on a decode worker when it is big or decodes big (`decodeWorkers`), else here; throws
   * what the read or the format throws, or why the worker gave no file.
   */
  private async decodeFile(job: ServeJob, again = true): Promise<DecodedFile> {
    let pool = this.pool;
    // A pool gives up after its workers died MAX_RESPAWNS times (files that exhaust a worker's memory,
    // one client asking for one again and again), or when a replacement could not start: a new one
    // takes over, so neither a bad file nor a passing failure stops big files for the node's lifetime.
    // Each death costs that request its file and a worker's start (~50 ms), never this thread.
    if (pool && !pool.threaded && pool.everStarted && !this.closed) {
      void pool.close();
      this.pool = pool = this.newPool();
    }
    // no decode threads here (none asked for, or they cannot start): every file on this thread, as before
    if (!pool || !pool.threaded) return decodeIndexed(job);
    if (job.size < pool.minBytes) {
      try {
        return await decodeIndexed(job, THREAD_DECODED_BYTES);
      } catch (e) {
        if (!(e instanceof DecodeElsewhereError)) throw e;
      }
    }
    const r = await pool.serveFile(job);
    if (r.kind === 'served') return adopt(r.decoded);
    if (r.kind === 'unthreaded') {
      // workers cannot start here: as without them; the pool gave up while the file waited: once more
      if (!pool.everStarted) return decodeIndexed(job);
      if (again) return this.decodeFile(job, false);
      throw new Error('no decode thread could take it');
    }
    throw new Error(r.kind === 'lost' ? `its decode thread stopped: ${r.error}` : r.error);
  }

  async getData(fields: string[], start: number, end: number, minStride: number | null, options?: GetDataOptions): Promise<DataResult> {
    const result: DataResult = { data: {}, timeline: {} };
    for (const f of fields) result.data[f] = [];
    const meta = await this.fieldMeta();
    const known = [...new Set(fields)].filter((f) => meta.has(f));
    if (known.length === 0) return result;
    const root = await this.dataRoot();
    const reduce = options?.reduce === 'mean' ? 'mean' : 'minmax';
    const stride = minStride !== null && minStride > 0 ? minStride : null;
    // timeline → its asked fields
    const groups = new Map<string, string[]>();
    for (const f of known) {
      const tl = meta.get(f)!.timeline;
      const g = groups.get(tl);
      if (g) g.push(f);
      else groups.set(tl, [f]);
    }
    if (stride !== null) {
      // Thinned answers from summary tiers where every file of the timeline's fields has them.
      for (const [tl, names] of [...groups]) {
        const column = (hit: FileHit, field: string) => this.column(hit, field, root);
        const ans = await answerFromTiers({ db: this.o.db, names, start, end, stride, reduce, column });
        if (ans === null) continue;
        groups.delete(tl);
        this.setTimeline(result, tl, names, ans.t, ans.columns);
      }
      if (groups.size === 0) return result;
    }
    const hits = await this.o.db.filesFor([...groups.values()].flat(), start, end);
    const stamp = this.cache.beginRequest();

    // file key → the file, the asked fields it holds and its time range for them
    const files = new Map<string, { hit: FileHit; fields: Set<string>; first: number; last: number }>();
    for (const h of hits) {
      const e = files.get(h.key);
      if (e) {
        e.fields.add(h.field);
        e.first = Math.min(e.first, h.tFirst);
        e.last = Math.max(e.last, h.tLast);
      } else files.set(h.key, { hit: h, fields: new Set([h.field]), first: h.tFirst, last: h.tLast });
    }

    const list = [...files.values()];
    // Files whose range overlaps another file's of the same group: merged with "later file wins",
    // so they are only sliced, never pre-thinned.
    const overlapping = new Map<string, Set<string>>();
    if (stride !== null) {
      for (const [tl, names] of groups) {
        const inGroup = list.filter((e) => names.some((n) => e.fields.has(n))).sort((a, b) => a.first - b.first);
        const o = new Set<string>();
        let maxLast = -Infinity;
        let maxKey: string | null = null;
        for (const e of inGroup) {
          if (maxKey !== null && e.first <= maxLast) {
            o.add(e.hit.key);
            o.add(maxKey);
          }
          if (e.last > maxLast) {
            maxLast = e.last;
            maxKey = e.hit.key;
          }
        }
        overlapping.set(tl, o);
      }
    }

    // Each file is cut to what the request needs as soon as it is decoded; the decoded file itself
    // is only kept by the (bounded) cache.
    const segmentsOf = new Map<string, Segment[]>();
    for (const tl of groups.keys()) segmentsOf.set(tl, []);
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(this.o.concurrency ?? 8, list.length) }, async () => {
        while (next < list.length) {
          const e = list[next++];
          if (e === undefined) break;
          const decoded = await this.decode(e.hit, root, stamp);
          if (!decoded) continue;
          for (const [tl, names] of groups) {
            const wanted = names.filter((n) => e.fields.has(n));
            if (wanted.length === 0) continue;
            for (const dt of decoded.timelines) {
              const cols = names.map((n) => (wanted.includes(n) ? dt.columns.find((c) => c.name === n)?.values : undefined));
              if (cols.every((c) => c === undefined)) continue;
              const lo = lowerBound(dt.t, start);
              const hi = lowerBound(dt.t, end, lo);
              if (hi <= lo) continue;
              const thin = stride !== null && reduce !== 'mean' && !overlapping.get(tl)!.has(e.hit.key);
              segmentsOf
                .get(tl)!
                .push(thin ? thinSegment(dt.t, lo, hi, cols, stride!, e.hit.path) : sliceSegment(dt.t, lo, hi, cols, e.hit.path));
            }
          }
        }
      }),
    );

    for (const [tl, names] of groups) {
      const segments = segmentsOf.get(tl)!;
      if (segments.length === 0) continue;
      const merged = mergeSegments(segments, names.length);
      if (stride !== null && reduce === 'mean') {
        const j = joinFields(
          merged.cols.map((c) => (c instanceof Float64Array ? reduceSamples(merged.t, c, start, end, stride, 'mean') : null)),
        );
        this.setTimeline(result, tl, names, j.t, j.columns);
        continue;
      }
      // Downsampling reads the typed arrays directly (NaN never wins min/max) and only the thinned
      // output is converted; without it every column is converted once.
      const ds =
        minStride !== null && minStride > 0
          ? (() => {
              const r = downsampleMinMax(merged.t, merged.cols as ArrayLike<Sample>[], minStride);
              return { t: r.t, columns: r.columns.map(nanToNull) };
            })()
          : { t: toNumbers(merged.t), columns: merged.cols.map(toSamples) };
      let any = false;
      names.forEach((n, i) => {
        const c = ds.columns[i];
        if (c?.some((v) => v !== null)) {
          result.data[n] = c;
          any = true;
        }
      });
      if (any) result.timeline[tl] = { t: ds.t, finalized_until: ds.t.at(-1) ?? null };
    }
    return result;
  }

  /** A numeric column of one decoded file (through the cache), for tier edges. */
  private async column(hit: FileHit, field: string, root: string): Promise<{ t: Float64Array; v: Float64Array } | null> {
    const d = await this.decode(hit, root);
    for (const tl of d?.timelines ?? []) {
      const c = tl.columns.find((x) => x.name === field);
      if (c) return c.values instanceof Float64Array ? { t: tl.t, v: c.values } : null;
    }
    return null;
  }

  private setTimeline(result: DataResult, tl: string, names: string[], t: number[], columns: Array<Array<number | null>>): void {
    let any = false;
    names.forEach((n, i) => {
      const c = columns[i];
      if (c && c.some((v) => v !== null)) {
        result.data[n] = c;
        any = true;
      }
    });
    if (any) result.timeline[tl] = { t, finalized_until: t.length ? (t[t.length - 1] ?? null) : null };
  }

  async newestSample(): Promise<number | null> {
    return this.o.db.newest();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.cache.clear();
    await this.pool?.close();
    if (this.o.closeDb !== false) await this.o.db.close();
  }
}

/**
 * A decoded file from a decode worker with its number columns made Float64Arrays of this context
 * (`float64Here`).
 */
function adopt(d: DecodedFile): DecodedFile {
  for (const tl of d.timelines) {
    tl.t = float64Here(tl.t);
    for (const c of tl.columns) if (ArrayBuffer.isView(c.values)) c.values = float64Here(c.values as ArrayBufferView);
  }
  return d;
}

/** A copy of rows [lo, hi) of a decoded timeline (so the decoded file need not be kept). */
function sliceSegment(t: Float64Array, lo: number, hi: number, cols: Array<Column | undefined>, file: string): Segment {
  return { t: t.slice(lo, hi), lo: 0, hi: hi - lo, cols: cols.map((c) => c?.slice(lo, hi)), order: [t[lo] ?? NaN, file] };
}

/** Rows [lo, hi) reduced to those `downsampleMinMax(…, stride)` can use (see StrideKeeper). */
function thinSegment(t: Float64Array, lo: number, hi: number, cols: Array<Column | undefined>, stride: number, file: string): Segment {
  const keeper = new StrideKeeper<number>(stride, cols.length, (i, k) => {
    const c = cols[k];
    return c === undefined ? undefined : (c[i] as Sample);
  });
  for (let i = lo; i < hi; i++) keeper.add(i, t[i]!, i); // lo <= i < hi <= t.length
  const rows = keeper.finish().map((e) => e[1]); // row indexes of t (and of every column)
  const n = rows.length;
  const nt = Float64Array.from(rows, (r) => t[r]!);
  const ncols = cols.map((c): Column | undefined => {
    if (c === undefined) return undefined;
    if (c instanceof Float64Array) return Float64Array.from(rows, (r) => c[r]!);
    return rows.map((r) => c[r]!);
  });
  return { t: nt, lo: 0, hi: n, cols: ncols, order: [t[lo] ?? NaN, file] };
}

function toNumbers(t: Float64Array): number[] {
  return Array.from(t);
}

function toSamples(c: Column): Sample[] {
  if (!(c instanceof Float64Array)) return c;
  const out: Sample[] = new Array(c.length);
  for (const [i, v] of c.entries()) out[i] = v === v ? v : null;
  return out;
}

function nanToNull(c: Sample[]): Sample[] {
  for (let i = 0; i < c.length; i++) {
    const v = c[i];
    if (typeof v === 'number' && v !== v) c[i] = null;
  }
  return c;
}

function isNumeric(segments: Segment[], k: number): boolean {
  return segments.every((s) => s.cols[k] === undefined || s.cols[k] instanceof Float64Array);
}

/**
 * Merges time-sorted segments into one axis. Equal times collapse into one; for them the segment
 * that sorts later wins for each field it has a value for.
 */
export function mergeSegments(segments: Segment[], nCols: number): { t: Float64Array; cols: Column[] } {
  segments.sort((a, b) => a.order[0] - b.order[0] || (a.order[1] < b.order[1] ? -1 : a.order[1] > b.order[1] ? 1 : 0));
  const numeric = Array.from({ length: nCols }, (_, k) => isNumeric(segments, k));
  let disjoint = true;
  let total = 0;
  let previous: Segment | undefined;
  for (const s of segments) {
    total += s.hi - s.lo;
    if (previous && s.t[s.lo]! < previous.t[previous.hi - 1]!) disjoint = false; // lo < hi: segments are not empty
    previous = s;
  }
  const full = Array.from({ length: nCols }, (_, k) => segments.every((s) => s.cols[k] !== undefined));
  const newCols = (n: number, dense = false): Column[] =>
    numeric.map((num, k) =>
      num ? (dense && full[k] ? new Float64Array(n) : new Float64Array(n).fill(NaN)) : new Array<Sample>(n).fill(null),
    );
  const present = (c: Column, i: number) => {
    const v = c[i];
    return c instanceof Float64Array ? v === v : v !== null && v !== undefined;
  };

  if (disjoint) {
    const t = new Float64Array(total);
    const cols = newCols(total, true);
    let n = 0;
    for (const s of segments) {
      let lo = s.lo;
      if (n > 0 && s.t[lo] === t[n - 1]) {
        // the boundary time repeated: one sample, this segment's values win
        for (const [k, out] of cols.entries()) {
          const c = s.cols[k];
          if (c && present(c, lo)) out[n - 1] = c[lo] as never;
        }
        lo++;
      }
      const len = s.hi - lo;
      t.set(s.t.subarray(lo, s.hi), n);
      for (const [k, out] of cols.entries()) {
        const c = s.cols[k];
        if (!c) continue;
        if (out instanceof Float64Array && c instanceof Float64Array) out.set(c.subarray(lo, s.hi), n);
        else for (let i = 0; i < len; i++) (out as Sample[])[n + i] = toSample(c, lo + i);
      }
      n += len;
    }
    return { t: n === total ? t : t.slice(0, n), cols: n === total ? cols : cols.map((c) => c.slice(0, n)) };
  }

  // Overlapping files: order every sample by (time, segment), then collapse equal times.
  const segOf = new Uint32Array(total);
  const rowOf = new Uint32Array(total);
  let m = 0;
  segments.forEach((s, si) => {
    for (let i = s.lo; i < s.hi; i++) {
      segOf[m] = si;
      rowOf[m] = i;
      m++;
    }
  });
  const idx = Array.from({ length: total }, (_, i) => i);
  // Every j < total, segOf[j] < segments.length and rowOf[j] < that segment's hi: filled just above.
  const timeOf = (j: number) => segments[segOf[j]!]!.t[rowOf[j]!]!;
  idx.sort((a, b) => timeOf(a) - timeOf(b) || segOf[a]! - segOf[b]!);
  const t = new Float64Array(total);
  const cols = newCols(total);
  let n = 0;
  for (const j of idx) {
    const s = segments[segOf[j]!]!;
    const r = rowOf[j]!;
    const time = s.t[r]!;
    if (n === 0 || t[n - 1] !== time) {
      t[n] = time;
      n++;
    }
    for (const [k, out] of cols.entries()) {
      const c = s.cols[k];
      if (c && present(c, r)) out[n - 1] = toSample(c, r) as never;
    }
  }
  return { t: t.slice(0, n), cols: cols.map((c) => c.slice(0, n)) };
}

function toSample(c: Column, i: number): Sample {
  const v = c[i];
  if (typeof v === 'number' && v !== v) return null;
  return v ?? null;
}
