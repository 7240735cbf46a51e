/**
 * The index over SQL, written once for both backends. A backend supplies a Querier (parameterised
 * SQL with `?`), transactions, the migration lock and two dialect fragments.
 */
import type { FieldType } from '../../sdk/types';
import { MIGRATIONS, SCHEMA_VERSION, metaTableSql, type Dialect } from './schema';
import {
  CHUNK as TIER_CHUNK,
  F,
  STRIDE,
  chunkOf,
  chunkQuery,
  chunkRows,
  chunkParts,
  coarsen,
  partRows,
  mergePacked,
  finestRollupRung,
  isOwnRow,
  PACKED_FIELD,
  PackedRowError,
  packedFieldNames,
  packedRows,
  unpackRow,
  ROLLUP_MIN_WIDTH,
  ROLLUP_SOURCE,
  ROLLUP_WIDTHS,
  rowBuckets,
  TIER_COLS,
  type TierRow,
} from '../../sdk/tiers';
import type { FieldMeta, FieldRow, FileHit, FileRow, FileStatus, IndexDb, LockState, TierPlan, WriteBatch } from './types';

export interface Querier {
  all<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Returns the number of rows changed (or matched). */
  run(sql: string, params?: unknown[]): Promise<number>;
  insertMany(table: string, cols: string[], rows: unknown[][]): Promise<void>;
  /**
   * Rows that exist (`rows` in the order of `cols`, found by the first `keys` of them) get their other
   * columns' values: in place, their keys and so their index entries untouched.
   */
  updateMany(table: string, cols: string[], keys: number, rows: unknown[][]): Promise<void>;
}

const CHUNK = 500;

/**
 * `xs` cut into runs of `n` at most and, with `size`, of `maxSize` in all at most (an item bigger than
 * that alone).
 */
function chunks<T>(xs: T[], n = CHUNK, size?: (x: T) => number, maxSize = Infinity): T[][] {
  const out: T[][] = [];
  let cur: T[] = [];
  let total = 0;
  for (const x of xs) {
    const k = size ? size(x) : 0;
    if (cur.length === n || (cur.length && total + k > maxSize)) {
      out.push(cur);
      cur = [];
      total = 0;
    }
    cur.push(x);
    total += k;
  }
  if (cur.length) out.push(cur);
  return out;
}

/** Files whose packed tier rows are read at once (a file of many fields has blobs of up to 1 MiB each). */
const PACKED_KEYS = 20;
/**
 * Tier rows per INSERT at most, and their blobs' bytes (MySQL: max_allowed_packet, 16 MiB by default in
 * MariaDB; mysql2 sends a blob in hex).
 */
const TIER_ROWS = 100;
const TIER_BYTES = 4 * 2 ** 20;

/** Appends `x` to the list of `key` in `m`. */
function push<K, V>(m: Map<K, V[]>, key: K, x: V): void {
  const list = m.get(key);
  if (list) list.push(x);
  else m.set(key, [x]);
}

/**
 * One rollup chunk a write touches: computed `again` from the sources, or merged with `parts` (the new
 * files' buckets in it). `sole`: those of `parts` that are no file's own rows (`sharing`).
 */
interface RollupJob {
  field: string;
  width: number;
  lo: number;
  again: boolean;
  parts: Float64Array[];
  sole: Float64Array[];
}

/**
 * The finest rollup rung. A file whose finest rung it is keeps its own rows there only for the fields
 * whose span (first to last bucket, `spanOf`) another file's span of the field reaches: the buckets of
 * the rest are each one file's alone, so the rollup holds them as they are, and they are taken out of it
 * by the file's span when the file goes away (`rollUpAgain`). When a new file comes to share such a
 * file's buckets, that file's own rows are made from the rollup first (`sharing`). A year of hour files
 * stored each bucket of this rung twice (own rows and rollup): 55 of the index's 158 MB.
 */
const FINEST_RUNG = ROLLUP_WIDTHS[0] ?? ROLLUP_MIN_WIDTH;

/** A file's span of a field at FINEST_RUNG: its first and last bucket index (from its first and last time). */
function spanOf(tFirst: number, tLast: number): [number, number] {
  const a = Math.floor(tFirst / FINEST_RUNG);
  const b = Math.floor(tLast / FINEST_RUNG);
  // a time a double cannot bucket (never in an index: the columns are finite): a span over every bucket
  return Number.isFinite(a) && Number.isFinite(b) && a <= b ? [a, b] : [-Infinity, Infinity];
}

const spanKey = (key: string, field: string): string => `${key}\u0000${field}`;

/** `x` as a bound a query can take (MySQL takes no infinity): the largest finite double past it. */
const finite = (x: number): number => Math.min(Math.max(x, -Number.MAX_VALUE), Number.MAX_VALUE);

/**
 * Each field's spans sorted and merged where they meet or touch: as few as there are gaps between them
 * (a removal of thousands of files checks each stored bucket against them, `keepSole`).
 */
function disjoint(byField: Map<string, Array<[number, number]>>): Map<string, Array<[number, number]>> {
  for (const [field, spans] of byField) {
    spans.sort((x, y) => x[0] - y[0]);
    const out: Array<[number, number]> = [];
    for (const [a, b] of spans) {
      const last = out[out.length - 1];
      if (last && a <= last[1] + 1) last[1] = Math.max(last[1], b);
      else out.push([a, b]);
    }
    byField.set(field, out);
  }
  return byField;
}

/** The earliest and latest sample times of packed buckets (F.tFirst, F.tLast of each). */
function sampleTimes(p: Float64Array): [number, number] {
  let t0 = Infinity;
  let t1 = -Infinity;
  for (let s = 0; s < p.length; s += STRIDE) {
    t0 = Math.min(t0, p[s + F.tFirst] as number);
    t1 = Math.max(t1, p[s + F.tLast] as number);
  }
  return [t0, t1];
}

/** The buckets of packed `p` whose idx is not `dropped` (a copy). */
function bucketsWithout(p: Float64Array, dropped: (idx: number) => boolean): Float64Array {
  const out = new Float64Array(p.length);
  let o = 0;
  for (let s = 0; s < p.length; s += STRIDE)
    if (!dropped(p[s] as number)) {
      out.set(p.subarray(s, s + STRIDE), o);
      o += STRIDE;
    }
  return out.subarray(0, o);
}

const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

const FILE_COLS = [
  'file_key',
  'path',
  'size',
  'mtime',
  'hash',
  'format',
  'status',
  'error',
  't_first',
  't_last',
  'n_samples',
  'bad_rows',
  'recheck',
  'scanned_at',
];
const FIELD_COLS = ['file_key', 'field', 'timeline', 'type', 'units', 'description', 'interval_s', 't_first', 't_last', 'n', 'tier_min'];

export abstract class SqlIndexDb implements IndexDb {
  abstract readonly kind: Dialect;
  abstract readonly location: string;
  protected abstract readonly q: Querier;
  /** SQL expression of the database clock in UNIX seconds. */
  protected abstract readonly nowSql: string;
  /** `INSERT IGNORE` / `INSERT OR IGNORE`. */
  protected abstract readonly insertIgnore: string;
  protected abstract transaction<T>(fn: (q: Querier) => Promise<T>): Promise<T>;
  /** Runs `fn` while no other process migrates this index. */
  protected abstract migrationLock<T>(fn: (q: Querier) => Promise<T>): Promise<T>;
  abstract close(): Promise<void>;

  constructor(protected readonly p: string) {}

  private t(name: string): string {
    return this.p + name;
  }

  async migrate(): Promise<number> {
    return this.migrationLock(async (q) => {
      await q.run(metaTableSql(this.kind, this.p));
      const rows = await q.all<{ v: string }>(`SELECT v FROM ${this.t('meta')} WHERE k = ?`, ['schema_version']);
      let v = rows[0] ? Number(rows[0].v) : 0;
      if (v > SCHEMA_VERSION) {
        throw new Error(`the index ${this.location} has schema version ${v}, newer than this program's ${SCHEMA_VERSION}: upgrade sisock`);
      }
      for (const m of MIGRATIONS) {
        if (m.version <= v) continue;
        for (const s of m.statements(this.kind, this.p)) await q.run(s);
        await q.run(`DELETE FROM ${this.t('meta')} WHERE k = ?`, ['schema_version']);
        await q.run(`INSERT INTO ${this.t('meta')} (k, v) VALUES (?, ?)`, ['schema_version', String(m.version)]);
        v = m.version;
      }
      await q.run(`${this.insertIgnore} INTO ${this.t('meta')} (k, v) VALUES (?, ?)`, ['generation', '0']);
      return v;
    });
  }

  async schemaVersion(): Promise<number | null> {
    try {
      const v = await this.getMeta('schema_version');
      return v === null ? null : Number(v);
    } catch {
      return null; // no meta table yet
    }
  }

  async getMeta(key: string): Promise<string | null> {
    const rows = await this.q.all<{ v: string }>(`SELECT v FROM ${this.t('meta')} WHERE k = ?`, [key]);
    return rows[0] ? String(rows[0].v) : null;
  }

  async setMeta(key: string, value: string): Promise<void> {
    await this.transaction(async (q) => {
      await q.run(`DELETE FROM ${this.t('meta')} WHERE k = ?`, [key]);
      await q.run(`INSERT INTO ${this.t('meta')} (k, v) VALUES (?, ?)`, [key, value]);
    });
  }

  async listFiles(): Promise<FileRow[]> {
    const rows = await this.q.all(`SELECT ${FILE_COLS.join(', ')} FROM ${this.t('file')}`);
    return rows.map((r) => ({
      key: String(r.file_key),
      path: String(r.path),
      size: num(r.size),
      mtime: num(r.mtime),
      hash: strOrNull(r.hash),
      format: strOrNull(r.format),
      status: String(r.status) as FileStatus,
      error: strOrNull(r.error),
      tFirst: numOrNull(r.t_first),
      tLast: numOrNull(r.t_last),
      nSamples: num(r.n_samples),
      badRows: num(r.bad_rows),
      recheck: num(r.recheck) !== 0,
      scannedAt: num(r.scanned_at),
    }));
  }

  async writeBatch(batch: WriteBatch): Promise<void> {
    // rows to remove first: deleted files', and those of files written again (a fresh file has none)
    const gone = [...batch.deleteKeys, ...batch.files.filter((f) => !f.fresh).map((f) => f.file.key)];
    if (batch.files.length === 0 && gone.length === 0 && batch.touched.length === 0) return;
    await this.transaction(async (q) => {
      // Rollup chunks this batch touches. One where rows go away is computed again (`again`), and so
      // is every coarser rung's chunk over it; one that only gains rows is the stored rollup merged
      // with the new buckets (exact: merging is order-free), so a first scan costs what it adds, not
      // what the index holds. A file's own rows: table.ts `isOwnRow`, and at the finest rung only where
      // its buckets are shared (`sharing`).
      // keyed by field, width, then chunk: no key string made of numbers for every bucket array
      const jobs = new Map<string, Map<number, Map<number, RollupJob>>>();
      const order: RollupJob[] = [];
      const job = (field: string, width: number, lo: number): RollupJob => {
        let byWidth = jobs.get(field);
        if (!byWidth) jobs.set(field, (byWidth = new Map()));
        let byLo = byWidth.get(width);
        if (!byLo) byWidth.set(width, (byLo = new Map()));
        let j = byLo.get(lo);
        if (!j) {
          byLo.set(lo, (j = { field, width, lo, again: false, parts: [], sole: [] }));
          order.push(j);
        }
        return j;
      };
      const again = (field: string, width: number, lo: number): void => {
        job(field, width, lo).again = true;
        // the chunks over it at the coarser rungs (a chunk of a rung lies inside one of the next)
        for (let i = ROLLUP_WIDTHS.indexOf(width) + 1; i > 0 && i < ROLLUP_WIDTHS.length; i++) {
          const next = ROLLUP_WIDTHS[i] ?? width;
          lo = chunkOf(Math.floor(lo / Math.round(next / width)));
          width = next;
          job(field, width, lo).again = true;
        }
      };
      // the gone files' fields with own rows at FINEST_RUNG (key and field): their chunks are found by those rows
      const goneOwn = new Set<string>();
      for (const keys of chunks(gone)) {
        const marks = keys.map(() => '?').join(', ');
        // own rows one per field (indexes written before packed rows), then packed ones (table.ts `packedRows`)
        const old = await q.all(
          `SELECT DISTINCT source, field, width, idx_lo FROM ${this.t('tier')} WHERE source IN (${marks}) AND width >= ?`,
          [...keys, ROLLUP_MIN_WIDTH],
        );
        for (const r of old) {
          again(String(r.field), num(r.width), num(r.idx_lo));
          if (num(r.width) === FINEST_RUNG) goneOwn.add(spanKey(String(r.source), String(r.field)));
        }
        // their blobs read a few files at a time (a file of many fields has a big one), and only their names
        for (const few of chunks(keys, PACKED_KEYS)) {
          const packed = await q.all(
            `SELECT source, width, idx_lo, data FROM ${this.t('tier')} WHERE source IN (${few.map(() => '?').join(', ')}) AND field = ? AND width <= ?`,
            [...few, PACKED_FIELD, -ROLLUP_MIN_WIDTH],
          );
          for (const r of packed) {
            const width = -num(r.width);
            const lo = chunkOf(num(r.idx_lo));
            let fields: string[];
            let damaged = false;
            try {
              fields = packedFieldNames(r.data);
            } catch (e) {
              if (!(e instanceof PackedRowError)) throw e;
              damaged = true;
              // a damaged row goes with its file: every field with a rollup over the chunk is computed again
              const rolled = await q.all(`SELECT DISTINCT field FROM ${this.t('tier')} WHERE source = ? AND width = ? AND idx_lo = ?`, [
                ROLLUP_SOURCE,
                width,
                lo,
              ]);
              fields = rolled.map((x) => String(x.field));
            }
            for (const field of fields) again(field, width, lo);
            if (width === FINEST_RUNG && !damaged) for (const field of fields) goneOwn.add(spanKey(String(r.source), field));
          }
        }
      }
      // The finest rung's buckets of the files going away, by their spans (a file whose buckets no other
      // file shared has no own rows there): their chunks are computed again, without those buckets.
      const [goneSpans, soleSpans] = await this.goneSpans(q, gone, goneOwn);
      // only those of the fields the files had no own rows of: the chunks of the others are marked above
      // (a file's span may reach every chunk of years of the others' buckets)
      for (const [field, spans] of soleSpans) {
        // the rollup's chunks they reach (not every chunk of a span: a file's times may lie years apart);
        // the spans are sorted and apart (`disjoint`)
        const a = spans[0]?.[0] ?? 0;
        const b = spans[spans.length - 1]?.[1] ?? -1;
        const rolled = await q.all(
          `SELECT DISTINCT idx_lo FROM ${this.t('tier')} WHERE source = ? AND field = ? AND width = ? AND idx_lo >= ? AND idx_lo <= ?`,
          [ROLLUP_SOURCE, field, FINEST_RUNG, finite(chunkOf(a)), finite(b)],
        );
        for (const r of rolled) {
          const lo = num(r.idx_lo);
          if (spans.some(([x, y]) => x < lo + TIER_CHUNK && y >= lo)) again(field, FINEST_RUNG, lo);
        }
      }
      for (const keys of chunks(gone)) {
        const marks = keys.map(() => '?').join(', ');
        await q.run(`DELETE FROM ${this.t('field')} WHERE file_key IN (${marks})`, keys);
        await q.run(`DELETE FROM ${this.t('tier')} WHERE source IN (${marks})`, keys);
        await q.run(`DELETE FROM ${this.t('file')} WHERE file_key IN (${marks})`, keys);
      }
      // which of the new files' fields share finest-rung buckets (with the index's files or each other),
      // and the index's files that now share theirs for the first time (their own rows made from the rollup)
      const sole = await this.sharing(q, batch);
      const tierRows: TierRow[] = [];
      for (let i = 0; i < batch.files.length; i++) {
        const { file, fields, tiers } = batch.files[i] as WriteBatch['files'][number];
        if (!tiers) continue;
        // the file's own rows at rollup widths, packed by width and chunk
        const packs = new Map<number, Map<number, Array<{ field: string; part: Float64Array }>>>();
        // its fields in their order (tiers hold a field's, in the same order)
        for (let at = 0; at < fields.length; at++) {
          const field = (fields[at] as FieldRow).field;
          const byWidth = tiers.get(field);
          if (!byWidth) continue;
          // a number and a test, no Set: this runs for every field of every file
          const finest = finestRollupRung(byWidth.keys());
          // at the finest rung, a file whose buckets no other file's span reaches keeps none of its own
          const alone = sole[i]?.[at] === 1;
          for (const [w, p] of byWidth) {
            const parts = chunkParts(p);
            const own = isOwnRow(w, finest) && !(alone && w === FINEST_RUNG);
            if (w < ROLLUP_MIN_WIDTH) {
              if (own) for (const row of partRows(file.key, field, w, parts, true)) tierRows.push(row);
              continue;
            }
            // the file's packs at this width, for its own rows only (another field may own this width)
            let byLo = own ? packs.get(w) : undefined;
            if (own && !byLo) packs.set(w, (byLo = new Map()));
            for (const { lo, part } of parts) {
              // each chunk gets only its own buckets (a view): a file of scattered times spans many chunks
              const j = job(field, w, lo);
              j.parts.push(part);
              if (alone && w === FINEST_RUNG) j.sole.push(part);
              if (byLo) push(byLo, lo, { field, part });
            }
          }
        }
        for (const [w, byLo] of packs) for (const [lo, parts] of byLo) tierRows.push(...packedRows(file.key, w, lo, parts, true));
      }
      const fileRows = batch.files.map(({ file: f }) => [
        f.key,
        f.path,
        f.size,
        f.mtime,
        f.hash,
        f.format,
        f.status,
        f.error,
        f.tFirst,
        f.tLast,
        f.nSamples,
        f.badRows,
        f.recheck ? 1 : 0,
        f.scannedAt,
      ]);
      for (const rows of chunks(fileRows)) await q.insertMany(this.t('file'), FILE_COLS, rows);
      const fieldRows = batch.files.flatMap(({ fields }) =>
        fields.map((d) => [d.key, d.field, d.timeline, d.type, d.units, d.description, d.interval, d.tFirst, d.tLast, d.n, d.tierMin]),
      );
      for (const rows of chunks(fieldRows)) await q.insertMany(this.t('field'), FIELD_COLS, rows);
      for (const rows of chunks(tierRows, TIER_ROWS, (r) => r[6].length, TIER_BYTES))
        await q.insertMany(this.t('tier'), [...TIER_COLS], rows);
      // The chunks that only gain buckets first, many at a time; then those computed again, finer rungs
      // first: one reads the finer rung's rollup over it, already up to date (a chunk over one computed
      // again is computed again itself: `again`)
      await this.mergeRollups(
        q,
        order.filter((j) => !j.again),
      );
      await this.rollUpAgain(
        q,
        order.filter((x) => x.again),
        goneSpans,
      );
      for (const f of batch.touched) {
        await q.run(`UPDATE ${this.t('file')} SET size = ?, mtime = ?, recheck = ?, scanned_at = ? WHERE file_key = ?`, [
          f.size,
          f.mtime,
          f.recheck ? 1 : 0,
          f.scannedAt,
          f.key,
        ]);
      }
      await q.run(`UPDATE ${this.t('meta')} SET v = v + 1 WHERE k = ?`, ['generation']);
    });
  }

  async clearTiers(): Promise<void> {
    await this.transaction(async (q) => {
      await q.run(`DELETE FROM ${this.t('tier')}`);
      await q.run(`UPDATE ${this.t('field')} SET tier_min = NULL`);
      await q.run(`UPDATE ${this.t('meta')} SET v = v + 1 WHERE k = ?`, ['generation']);
    });
  }

  async generation(): Promise<number> {
    return Number((await this.getMeta('generation')) ?? 0);
  }

  async fieldMeta(): Promise<FieldMeta[]> {
    const rows = await this.q.all(
      `SELECT field, timeline, type, units, description, MIN(interval_s) AS interval_s, MIN(t_first) AS t_first, MAX(t_last) AS t_last
       FROM ${this.t('field')} GROUP BY field, timeline, type, units, description`,
    );
    const best = new Map<string, FieldMeta>();
    for (const r of rows) {
      const m: FieldMeta = {
        field: String(r.field),
        timeline: String(r.timeline),
        type: String(r.type) as FieldType,
        units: strOrNull(r.units),
        description: strOrNull(r.description),
        interval: numOrNull(r.interval_s),
        tFirst: num(r.t_first),
        tLast: num(r.t_last),
      };
      const prev = best.get(m.field);
      if (!prev) best.set(m.field, m);
      else {
        // The newest file's metadata wins; the time span covers every file.
        const span = { tFirst: Math.min(prev.tFirst, m.tFirst), tLast: Math.max(prev.tLast, m.tLast) };
        best.set(m.field, { ...(m.tLast > prev.tLast ? m : prev), ...span });
      }
    }
    return [...best.values()];
  }

  async fieldsIn(start: number, end: number): Promise<string[]> {
    const rows = await this.q.all<{ field: string }>(`SELECT DISTINCT field FROM ${this.t('field')} WHERE t_last >= ? AND t_first < ?`, [
      start,
      end,
    ]);
    return rows.map((r) => String(r.field));
  }

  async filesFor(fields: string[], start: number, end: number): Promise<FileHit[]> {
    const out: FileHit[] = [];
    for (const fs of chunks(fields)) {
      const rows = await this.q.all(
        `SELECT f.file_key, f.path, f.format, f.size, f.mtime, d.field, d.t_first, d.t_last, d.tier_min
         FROM ${this.t('field')} d JOIN ${this.t('file')} f ON f.file_key = d.file_key
         WHERE d.field IN (${fs.map(() => '?').join(', ')}) AND d.t_last >= ? AND d.t_first < ? AND f.status = 'ok'`,
        [...fs, start, end],
      );
      for (const r of rows) {
        out.push({
          key: String(r.file_key),
          path: String(r.path),
          format: String(r.format),
          size: num(r.size),
          mtime: num(r.mtime),
          field: String(r.field),
          tFirst: num(r.t_first),
          tLast: num(r.t_last),
          tierMin: numOrNull(r.tier_min),
        });
      }
    }
    return out;
  }

  async newest(): Promise<number | null> {
    const rows = await this.q.all(`SELECT MAX(t_last) AS t FROM ${this.t('field')}`);
    return rows[0] ? numOrNull(rows[0].t) : null;
  }

  async tierPlan(field: string, start: number, end: number): Promise<TierPlan> {
    const f = this.t('field');
    const where = 'field = ? AND t_last >= ? AND t_first < ?';
    const [a] = await this.q.all(`SELECT COUNT(*) AS n, COUNT(tier_min) AS k, MAX(tier_min) AS w FROM ${f} WHERE ${where}`, [
      field,
      start,
      end,
    ]);
    const files = num(a?.n ?? 0);
    if (files <= 1) return { files, tiered: num(a?.k ?? 0), tierMin: numOrNull(a?.w), overlaps: false };
    // a file starting before the latest end of the files before it (time order) overlaps one of them
    const [o] = await this.q.all(
      `SELECT COUNT(*) AS n FROM (SELECT t_first,
         MAX(t_last) OVER (ORDER BY t_first, file_key ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev
       FROM ${f} WHERE ${where}) x WHERE t_first <= prev`,
      [field, start, end],
    );
    return { files, tiered: num(a?.k ?? 0), tierMin: numOrNull(a?.w), overlaps: num(o?.n ?? 0) > 0 };
  }

  /**
   * The spans at FINEST_RUNG (`spanOf`) of the fields the files `keys` have tiers of there (tier_min at
   * most FINEST_RUNG: their finest rollup rung), by field: read before their rows are removed.
   */
  private async goneSpans(
    q: Querier,
    keys: string[],
    own: Set<string>,
  ): Promise<[Map<string, Array<[number, number]>>, Map<string, Array<[number, number]>>]> {
    const out = new Map<string, Array<[number, number]>>();
    const sole = new Map<string, Array<[number, number]>>();
    for (const some of chunks(keys)) {
      const rows = await q.all(
        `SELECT file_key, field, t_first, t_last FROM ${this.t('field')} WHERE file_key IN (${some.map(() => '?').join(', ')}) AND tier_min IS NOT NULL AND tier_min <= ?`,
        [...some, FINEST_RUNG],
      );
      for (const r of rows) {
        const span = spanOf(num(r.t_first), num(r.t_last));
        push(out, String(r.field), span);
        if (!own.has(spanKey(String(r.file_key), String(r.field)))) push(sole, String(r.field), span);
      }
    }
    return [disjoint(out), disjoint(sole)];
  }

  /**
   * Which new files of `batch` keep no own rows at FINEST_RUNG: for each field a new file has tiers of
   * there (its finest rung), whether its span (`spanOf`) meets another new file's or one of the index's
   * files' (those with tiers of the field at that rung); the answer: per file, per field (its place in
   * `fields`), 1 for those whose span meets none. A file of the index whose span a new file's now meets,
   * and which has no own rows of the field yet (no file's span met its own before), gets them here: its
   * buckets in the rollup, over its span (they are its alone), before this write changes the rollup.
   * Called after the rows of the files going away are removed (they share nothing any more).
   */
  private async sharing(q: Querier, batch: WriteBatch): Promise<Uint8Array[]> {
    // per file of the batch, per field (its place in `fields`): 1 when alone (no Set of the tiers' maps:
    // an identity hash made for each cost more than the rest of this loop)
    const alone = batch.files.map(({ fields }) => new Uint8Array(fields.length));
    type Span = { key: string; a: number; b: number; file: number; at: number };
    const byField = new Map<string, Span[]>();
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < batch.files.length; i++) {
      const { file, fields, tiers } = batch.files[i] as WriteBatch['files'][number];
      if (!tiers) continue;
      for (let at = 0; at < fields.length; at++) {
        const f = fields[at] as FieldRow;
        // (FINEST_RUNG is the finest rung of any tiers that have it)
        const p = tiers.get(f.field)?.get(FINEST_RUNG);
        if (!p || p.length < STRIDE) continue;
        let [a, b] = spanOf(f.tFirst, f.tLast);
        const first = p[F.idx] as number;
        const last = p[p.length - STRIDE + F.idx] as number;
        if (!(first >= a && last <= b)) {
          // Buckets outside the span its first and last times give (no format's output: their times
          // ascend): the field row is made to cover the samples of its tiers, as the spans of later writes
          // are read from it.
          const [t0, t1] = sampleTimes(p);
          if (Number.isFinite(t0) && Number.isFinite(t1)) {
            f.tFirst = Math.min(f.tFirst, t0);
            f.tLast = Math.max(f.tLast, t1);
            [a, b] = spanOf(f.tFirst, f.tLast);
          }
        }
        // (a span over every bucket, `spanOf`, or buckets still outside it: times a double cannot bucket,
        // which no format gives either; the field keeps its own rows, its span reaching every other file's)
        if (Number.isFinite(a) && first >= a && last <= b) (alone[i] as Uint8Array)[at] = 1;
        else [a, b] = [-Infinity, Infinity];
        push(byField, f.field, { key: file.key, a, b, file: i, at });
        if (a < lo) lo = a;
        if (b > hi) hi = b;
      }
    }
    if (byField.size === 0) return alone;
    // The index's files over the batch's time, found by their last times (its index on t_last: for files
    // added in time order, the few at the batch's start), then kept for the batch's fields. (By field
    // first, SQLite read every earlier row of each field through (field, t_first): a year of hour files
    // took 0.3 s a scan more.) The bounds as finite seconds: MySQL takes no infinity.
    const rows = await q.all(
      `SELECT file_key, field, t_first, t_last FROM ${this.t('field')} WHERE t_last >= ? AND t_first <= ? AND tier_min IS NOT NULL AND tier_min <= ?`,
      [finite(lo * FINEST_RUNG), finite((hi + 1) * FINEST_RUNG), FINEST_RUNG],
    );
    for (const r of rows) {
      const list = byField.get(String(r.field));
      if (!list) continue;
      const [a, b] = spanOf(num(r.t_first), num(r.t_last));
      list.push({ key: String(r.file_key), a, b, file: -1, at: -1 });
    }
    // sorted by start, a span meets another when it starts at or before the furthest end before it, or
    // the next one starts at or before its end
    const needs = new Map<string, Map<string, [number, number]>>();
    for (const [name, list] of byField) {
      if (list.length < 2) continue;
      list.sort((x, y) => x.a - y.a);
      let end = -Infinity;
      for (let i = 0; i < list.length; i++) {
        const x = list[i] as (typeof list)[number];
        const next = list[i + 1];
        if (x.a <= end || (next !== undefined && next.a <= x.b)) {
          if (x.file >= 0) (alone[x.file] as Uint8Array)[x.at] = 0;
          else {
            let m = needs.get(x.key);
            if (!m) needs.set(x.key, (m = new Map()));
            m.set(name, [x.a, x.b]);
          }
        }
        end = Math.max(end, x.b);
      }
    }
    if (needs.size) await this.ownFromRollup(q, needs);
    return alone;
  }

  /**
   * For each file of the index in `needs` and each of its fields there without own rows at FINEST_RUNG:
   * its own rows made from the rollup's buckets over its span (`sharing`: they are its alone); its
   * packed rows of those chunks written again with them.
   */
  private async ownFromRollup(q: Querier, needs: Map<string, Map<string, [number, number]>>): Promise<void> {
    const tier = this.t('tier');
    for (const keys of chunks([...needs.keys()], PACKED_KEYS)) {
      const marks = keys.map(() => '?').join(', ');
      // what they own: packed rows (every field of a chunk), or one row per field (indexes written before)
      const owned = new Set<string>();
      const packs = new Map<string, Map<number, Array<{ field: string; part: Float64Array }>>>();
      const packed = await q.all(`SELECT source, idx_lo, data FROM ${tier} WHERE source IN (${marks}) AND field = ? AND width = ?`, [
        ...keys,
        PACKED_FIELD,
        -FINEST_RUNG,
      ]);
      // names only first (most files a new one meets own rows of its fields already): buckets decoded
      // only for the files that get rows
      for (const r of packed) for (const f of packedFieldNames(r.data)) owned.add(spanKey(String(r.source), f));
      const single = await q.all(`SELECT DISTINCT source, field FROM ${tier} WHERE source IN (${marks}) AND width = ?`, [
        ...keys,
        FINEST_RUNG,
      ]);
      for (const r of single) owned.add(spanKey(String(r.source), String(r.field)));
      const lacking = new Set(keys.filter((key) => [...(needs.get(key)?.keys() ?? [])].some((name) => !owned.has(spanKey(key, name)))));
      for (const r of packed) {
        const source = String(r.source);
        if (!lacking.has(source)) continue;
        let byLo = packs.get(source);
        if (!byLo) packs.set(source, (byLo = new Map()));
        for (const e of unpackRow(r.data)) push(byLo, chunkOf(num(r.idx_lo)), e);
      }
      for (const key of lacking) {
        const changed = new Set<number>();
        for (const [name, [a, b]] of needs.get(key) ?? []) {
          if (owned.has(spanKey(key, name))) continue;
          const rows = await q.all(
            `SELECT idx_lo, data FROM ${tier} WHERE source = ? AND field = ? AND width = ? AND idx_lo >= ? AND idx_lo <= ?`,
            [ROLLUP_SOURCE, name, FINEST_RUNG, finite(chunkOf(a)), finite(b)],
          );
          let byLo = packs.get(key);
          if (!byLo) packs.set(key, (byLo = new Map()));
          for (const r of rows) {
            const part = bucketsWithout(rowBuckets(r.data), (idx) => !(idx >= a && idx <= b));
            if (part.length === 0) continue;
            const lo = chunkOf(num(r.idx_lo));
            push(byLo, lo, { field: name, part });
            changed.add(lo);
          }
        }
        const rows: TierRow[] = [];
        for (const lo of changed) {
          await q.run(`DELETE FROM ${tier} WHERE source = ? AND field = ? AND width = ? AND idx_lo >= ? AND idx_lo < ?`, [
            key,
            PACKED_FIELD,
            -FINEST_RUNG,
            lo,
            lo + TIER_CHUNK,
          ]);
          rows.push(...packedRows(key, FINEST_RUNG, lo, packs.get(key)?.get(lo) ?? [], true));
        }
        for (const some of chunks(rows, TIER_ROWS, (r) => r[6].length, TIER_BYTES)) await q.insertMany(tier, [...TIER_COLS], some);
      }
    }
  }

  /**
   * The rollup chunks a write only adds buckets to (`again` false): each the stored rollup merged with
   * `parts`, the buckets of the sources new to it. Read and written many at once: one SELECT per chunk
   * for all the fields it holds, the new rows in multi-row INSERTs, the others by `updateMany`. One
   * statement per chunk and field cost a server (MySQL) two round trips each: 60 days of G3 hour files
   * (1,880 chunks) spent 2.2 s of a 4.4 s scan in them.
   */
  private async mergeRollups(q: Querier, jobs: RollupJob[]): Promise<void> {
    const tier = this.t('tier');
    const byChunk = new Map<string, RollupJob[]>();
    for (const j of jobs) push(byChunk, `${j.width} ${j.lo}`, j);
    const inserts: TierRow[] = [];
    const updates: TierRow[] = [];
    for (const group of byChunk.values()) {
      for (const some of chunks(group)) {
        const { width, lo } = some[0] ?? { width: 0, lo: 0 };
        const rows = await q.all<{ field: unknown; data: unknown }>(
          `SELECT field, data FROM ${tier} WHERE source = ? AND width = ? AND idx_lo = ? AND field IN (${some.map(() => '?').join(', ')})`,
          [ROLLUP_SOURCE, width, lo, ...some.map((j) => j.field)],
        );
        const stored = new Map(rows.map((r) => [String(r.field), r.data]));
        for (const j of some) {
          const data = stored.get(j.field);
          const parts = data === undefined ? j.parts : [rowBuckets(data), ...j.parts];
          // a row at most (the buckets lie in one chunk), and one: `parts` holds a new source's buckets
          const [row] = chunkRows(ROLLUP_SOURCE, j.field, width, mergePacked(parts, lo, lo + TIER_CHUNK), true);
          if (row) (data === undefined ? inserts : updates).push(row);
        }
      }
    }
    const size = (r: TierRow): number => r[6].length;
    for (const rows of chunks(inserts, TIER_ROWS, size, TIER_BYTES)) await q.insertMany(tier, [...TIER_COLS], rows);
    for (const rows of chunks(updates, TIER_ROWS, size, TIER_BYTES)) await q.updateMany(tier, [...TIER_COLS], 4, rows);
  }

  /**
   * The rollup chunks computed again (`again`: rows went away), a chunk's fields at a time, finer rungs
   * first (a chunk reads the finer rung's rollup over it, which must be up to date): each field's own
   * rows (packed, or one per field in indexes written before) of the sources whose finest rung is this
   * width, merged with the finer rung's rollup over the chunk's span, coarsened (the finest rung, or a
   * width off the ladder: every source's rows). One statement per chunk for each of those reads, its
   * old rows' removal and its new rows (four a field and chunk cost a server a round trip each: a
   * rewritten hour file of 20 fields, 136-180 ms a rescan on MariaDB). At FINEST_RUNG, also the buckets
   * that are no file's own rows (`keepSole`).
   */
  private async rollUpAgain(q: Querier, jobs: RollupJob[], goneSpans: Map<string, Array<[number, number]>>): Promise<void> {
    const tier = this.t('tier');
    const byWidth = new Map<number, Map<number, RollupJob[]>>();
    for (const j of jobs) {
      let byLo = byWidth.get(j.width);
      if (!byLo) byWidth.set(j.width, (byLo = new Map()));
      push(byLo, j.lo, j);
    }
    for (const width of [...byWidth.keys()].sort((x, y) => x - y)) {
      const i = ROLLUP_WIDTHS.indexOf(width);
      const finer = i > 0 ? ROLLUP_WIDTHS.slice(0, i) : [];
      const fw = finer[finer.length - 1];
      // Indexes of older versions kept every width of a file: a source with rows at a finer rung is
      // in that rung's rollup, so its rows here are not read.
      const notFiner = finer.length
        ? ` AND NOT EXISTS (SELECT 1 FROM ${tier} u WHERE u.source = t.source AND u.field = t.field AND u.width IN (${finer.map(() => '?').join(', ')}))`
        : '';
      const rows: TierRow[] = [];
      for (const [lo, group] of [...(byWidth.get(width) ?? new Map<number, RollupJob[]>())].sort((x, y) => x[0] - y[0])) {
        const parts = new Map<string, Float64Array[]>();
        // packed own rows (table.ts `packedRows`): a source's finest rung for the fields they hold, each row
        // decoded once for all the chunk's fields; a damaged one stops the write (the error says to rebuild
        // the summaries, which starts from no tier row: Scanner, rebuildSummaries)
        const packed = await q.all<{ data: unknown }>(
          `SELECT data FROM ${tier} WHERE field = ? AND width = ? AND idx_lo >= ? AND idx_lo < ? AND source <> ?`,
          [PACKED_FIELD, -width, lo, lo + TIER_CHUNK, ROLLUP_SOURCE],
        );
        const wanted = new Set(group.map((j) => j.field));
        for (const r of packed) for (const { field: f, part } of unpackRow(r.data)) if (wanted.has(f)) push(parts, f, part);
        for (const some of chunks(group)) {
          const fields = some.map((j) => j.field);
          const marks = fields.map(() => '?').join(', ');
          const own = await q.all<{ field: unknown; data: unknown }>(
            `SELECT t.field AS field, t.data AS data FROM ${tier} t WHERE t.width = ? AND t.idx_lo = ? AND t.source <> ? AND t.field IN (${marks})${notFiner}`,
            [width, lo, ROLLUP_SOURCE, ...fields, ...finer],
          );
          for (const r of own) push(parts, String(r.field), rowBuckets(r.data));
          if (width === FINEST_RUNG) await this.keepSole(q, lo, some, parts, goneSpans);
          if (fw !== undefined) {
            const f = Math.round(width / fw);
            const fine = await q.all<{ field: unknown; data: unknown }>(
              `SELECT field, data FROM ${tier} WHERE source = ? AND width = ? AND idx_lo >= ? AND idx_lo < ? AND field IN (${marks})`,
              [ROLLUP_SOURCE, fw, lo * f, (lo + TIER_CHUNK) * f, ...fields],
            );
            for (const r of fine) push(parts, String(r.field), coarsen(rowBuckets(r.data), fw, width));
          }
          await q.run(`DELETE FROM ${tier} WHERE source = ? AND width = ? AND idx_lo = ? AND field IN (${marks})`, [
            ROLLUP_SOURCE,
            width,
            lo,
            ...fields,
          ]);
          for (const field of fields) {
            // one row at most: the buckets lie in one chunk
            const [row] = chunkRows(ROLLUP_SOURCE, field, width, mergePacked(parts.get(field) ?? [], lo, lo + TIER_CHUNK), true);
            if (row) rows.push(row);
          }
        }
      }
      // this rung's rows in before the next rung reads them
      for (const some of chunks(rows, TIER_ROWS, (r) => r[6].length, TIER_BYTES)) await q.insertMany(tier, [...TIER_COLS], some);
    }
  }

  /**
   * The buckets of a FINEST_RUNG chunk computed again that are no file's own rows, added to `parts` (the
   * own rows read, by field): the new files' that have none (`RollupJob.sole`), and the stored rollup's
   * at every index where no own row has a bucket and no file going away spans (`goneSpans`): a bucket
   * there is one file's alone, and that file stays. (A bucket two files' spans reach is in both files'
   * own rows: `sharing`.)
   */
  private async keepSole(
    q: Querier,
    lo: number,
    group: RollupJob[],
    parts: Map<string, Float64Array[]>,
    goneSpans: Map<string, Array<[number, number]>>,
  ): Promise<void> {
    const stored = await q.all<{ field: unknown; data: unknown }>(
      `SELECT field, data FROM ${this.t('tier')} WHERE source = ? AND width = ? AND idx_lo = ? AND field IN (${group.map(() => '?').join(', ')})`,
      [ROLLUP_SOURCE, FINEST_RUNG, lo, ...group.map((j) => j.field)],
    );
    const rollup = new Map(stored.map((r) => [String(r.field), r.data]));
    for (const j of group) {
      const taken = new Set<number>();
      for (const p of [...(parts.get(j.field) ?? []), ...j.sole]) for (let s = 0; s < p.length; s += STRIDE) taken.add(p[s] as number);
      for (const p of j.sole) push(parts, j.field, p);
      const data = rollup.get(j.field);
      if (data === undefined) continue;
      const spans = (goneSpans.get(j.field) ?? []).filter(([a, b]) => a < lo + TIER_CHUNK && b >= lo);
      const kept = bucketsWithout(rowBuckets(data), (idx) => taken.has(idx) || spans.some(([a, b]) => idx >= a && idx <= b));
      if (kept.length) push(parts, j.field, kept);
    }
  }

  async tierBuckets(field: string, width: number, idxLo: number, idxHi: number): Promise<Float64Array[]> {
    const c = chunkQuery(
      this.t('tier'),
      field,
      width,
      idxLo,
      idxHi,
      width >= ROLLUP_MIN_WIDTH ? { only: ROLLUP_SOURCE } : { except: ROLLUP_SOURCE },
    );
    return (await this.q.all<{ data: unknown }>(c.sql, c.params)).map((r) => rowBuckets(r.data));
  }

  private async dbNow(q: Querier): Promise<number> {
    const [row] = await q.all(`SELECT ${this.nowSql} AS now`);
    if (!row) throw new Error(`the index ${this.location} returned no row for its clock (${this.nowSql})`);
    return num(row.now);
  }

  async acquireLock(name: string, owner: string, leaseSeconds: number): Promise<LockState> {
    const now = await this.dbNow(this.q);
    const lock = this.t('lock');
    await this.q.run(`${this.insertIgnore} INTO ${lock} (name, owner, acquired, expires) VALUES (?, ?, ?, ?)`, [
      name,
      owner,
      now,
      now + leaseSeconds,
    ]);
    // `acquired` first: MySQL evaluates SET assignments left to right.
    await this.q.run(
      `UPDATE ${lock} SET acquired = CASE WHEN owner = ? THEN acquired ELSE ? END, owner = ?, expires = ?
       WHERE name = ? AND (owner = ? OR expires < ?)`,
      [owner, now, owner, now + leaseSeconds, name, owner, now],
    );
    const rows = await this.q.all(`SELECT owner, expires FROM ${lock} WHERE name = ?`, [name]);
    const [row] = rows;
    const holder = row ? String(row.owner) : null;
    return { acquired: holder === owner, owner: holder, expires: row ? num(row.expires) : null };
  }

  async renewLock(name: string, owner: string, leaseSeconds: number): Promise<boolean> {
    const now = await this.dbNow(this.q);
    await this.q.run(`UPDATE ${this.t('lock')} SET expires = ? WHERE name = ? AND owner = ?`, [now + leaseSeconds, name, owner]);
    const rows = await this.q.all(`SELECT owner FROM ${this.t('lock')} WHERE name = ?`, [name]);
    return rows[0] !== undefined && String(rows[0].owner) === owner;
  }

  async releaseLock(name: string, owner: string): Promise<void> {
    await this.q.run(`DELETE FROM ${this.t('lock')} WHERE name = ? AND owner = ?`, [name, owner]);
  }
}
