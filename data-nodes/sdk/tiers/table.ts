/**
 * The SQL shape of stored tiers, shared by every backend (SQLite here, MySQL/MariaDB in the archive's
 * index): one row per source, field, width and chunk of CHUNK bucket indexes (the archive also keeps
 * packed rows of many fields, width negated: `packedRows` below).
 *
 *   <table> (source, field, width, idx_lo, idx_hi, n, data)  PRIMARY KEY (source, field, width, idx_lo)
 *            index (field, width, idx_lo)
 *
 * `source` is what the samples came from (a file's key, a batch, or one name for a store that merges
 * batches into place); replacing or removing a source replaces or removes exactly its rows, in the same
 * transaction as the caller's own rows. `idx_lo` is the chunk's first possible bucket index
 * (chunk·CHUNK), `idx_hi` its last present one, `n` the buckets in `data` (packed, see bucket.ts).
 */
import { LADDER, nBuckets, packView, STRIDE } from './bucket';
import { decodeBuckets, encodeBuckets, encodeParts, TierBlobError } from './codec';

/** Bucket indexes per stored chunk: bounds the bytes read for a narrow query on a long source. */
export const CHUNK = 512;

export type TierDialect = 'sqlite' | 'mysql';

export const TIER_COLS = ['source', 'field', 'width', 'idx_lo', 'idx_hi', 'n', 'data'] as const;

/** CREATE statements for a tier table (idempotent). */
export function tierTableSql(d: TierDialect, table: string): string[] {
  const text = (n: number) => (d === 'mysql' ? `VARCHAR(${n})` : 'TEXT');
  const opts = d === 'mysql' ? ' ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin' : '';
  return [
    `CREATE TABLE IF NOT EXISTS ${table} (
      source ${text(64)} NOT NULL,
      field ${text(255)} NOT NULL,
      width DOUBLE NOT NULL,
      idx_lo DOUBLE NOT NULL,
      idx_hi DOUBLE NOT NULL,
      n INTEGER NOT NULL,
      data ${d === 'mysql' ? 'LONGBLOB' : 'BLOB'} NOT NULL,
      PRIMARY KEY (source, field, width, idx_lo)
    )${opts}`,
    `CREATE INDEX ${d === 'sqlite' ? 'IF NOT EXISTS ' : ''}${table}_by_field ON ${table} (field, width, idx_lo)`,
  ];
}

export type TierRow = [source: string, field: string, width: number, idxLo: number, idxHi: number, n: number, data: Buffer];

/** The chunk index of a bucket index. */
export const chunkOf = (idx: number): number => Math.floor(idx / CHUNK) * CHUNK;

/**
 * Rows for one source's packed buckets (sorted by idx) of one field and width. `compact`: their `data`
 * in codec.ts's encoding (what the archive's index writes from schema version 5); else raw, views of
 * `packed` (`packView`: no copy per row): insert the rows before changing `packed`.
 */
export function chunkRows(source: string, field: string, width: number, packed: Float64Array, compact = false): TierRow[] {
  return partRows(source, field, width, chunkParts(packed), compact);
}

/** `chunkRows` of buckets already cut by `chunkParts`. */
export function partRows(
  source: string,
  field: string,
  width: number,
  parts: Array<{ lo: number; part: Float64Array }>,
  compact = false,
): TierRow[] {
  return parts.map(({ lo, part }) => [
    source,
    field,
    width,
    lo,
    part[part.length - STRIDE] ?? lo,
    nBuckets(part),
    compact ? encodeBuckets(part) : packView(part),
  ]);
}

/** Packed buckets (sorted by idx) cut by chunk: each chunk's first possible idx and its buckets (views of `packed`). */
export function chunkParts(packed: Float64Array): Array<{ lo: number; part: Float64Array }> {
  const parts: Array<{ lo: number; part: Float64Array }> = [];
  const n = nBuckets(packed);
  let k = 0;
  while (k < n) {
    const lo = chunkOf(packed[k * STRIDE] ?? 0);
    let j = k + 1;
    while (j < n && chunkOf(packed[j * STRIDE] ?? 0) === lo) j++;
    // the whole array when it lies in one chunk and holds whole buckets only (the usual case: no view to make)
    const whole = k === 0 && j === n && packed.length === n * STRIDE;
    parts.push({ lo, part: whole ? packed : packed.subarray(k * STRIDE, j * STRIDE) });
    k = j;
  }
  return parts;
}

/** A stored row's buckets, raw or compact (codec.ts; a damaged compact row throws its TierBlobError). */
export function rowBuckets(data: unknown): Float64Array {
  if (data instanceof Uint8Array) return decodeBuckets(data);
  return new Float64Array(0);
}

/**
 * A SELECT (with `?` parameters) of the chunks of one field and width that may hold buckets in
 * [idxLo, idxHi); optionally only one source's, or every source but one.
 */
export function chunkQuery(
  table: string,
  field: string,
  width: number,
  idxLo: number,
  idxHi: number,
  source?: { only?: string; except?: string },
): { sql: string; params: unknown[] } {
  const extra = source?.only !== undefined ? ' AND source = ?' : source?.except !== undefined ? ' AND source <> ?' : '';
  const params: unknown[] = [field, width, chunkOf(idxLo), idxHi, idxLo];
  if (source?.only !== undefined) params.push(source.only);
  else if (source?.except !== undefined) params.push(source.except);
  return { sql: `SELECT data FROM ${table} WHERE field = ? AND width = ? AND idx_lo >= ? AND idx_lo < ? AND idx_hi >= ?${extra}`, params };
}

/**
 * Rollups: for widths ≥ ROLLUP_MIN_WIDTH a store of many small sources (files) also keeps source
 * ROLLUP_SOURCE, every source's buckets merged per chunk, recomputed for the chunks a write touches in
 * the same transaction; queries at those widths read only it, so their cost depends on the buckets, not
 * on the number of sources.
 *
 * A source keeps its own rows only where a query or the upkeep of a rollup reads them (`isOwnRow`):
 * below ROLLUP_MIN_WIDTH, and at its finest rung of ROLLUP_WIDTHS. A coarser rung's rollup is the finer
 * rung's rollup coarsened (the rungs nest) merged with the own rows of the sources whose finest rung it is.
 * (The archive's index keeps them at the first rung, ROLLUP_WIDTHS[0], only for the fields whose span
 * another source's span reaches: archive/index-db/sql.ts FINEST_RUNG.)
 */
export const ROLLUP_SOURCE = '*';
export const ROLLUP_MIN_WIDTH = 600;
/** The ladder's rungs with rollups, ascending; each divides the next. */
export const ROLLUP_WIDTHS: readonly number[] = LADDER.filter((w) => w >= ROLLUP_MIN_WIDTH);

/** Whether width `w` is a rung of ROLLUP_WIDTHS (its buckets go into that rung's rollup). */
function onRollupRung(w: number): boolean {
  return w >= ROLLUP_MIN_WIDTH && ROLLUP_WIDTHS.includes(w);
}

/** The finest of one source's widths for a field that is a rollup rung (Infinity: none): see `isOwnRow`. */
export function finestRollupRung(widths: Iterable<number>): number {
  let finest = Infinity;
  for (const w of widths) if (onRollupRung(w) && w < finest) finest = w;
  return finest;
}

/**
 * Whether a source stores width `w` of a field as its own rows in a store with rollups, `finest` being
 * `finestRollupRung` of its widths for that field: every width below ROLLUP_MIN_WIDTH, the finest of
 * ROLLUP_WIDTHS, and any width ≥ ROLLUP_MIN_WIDTH off the ladder (its rollup is merged from own rows only).
 */
export function isOwnRow(w: number, finest: number): boolean {
  return !onRollupRung(w) || w === finest;
}

/**
 * A source's own rows at widths ≥ ROLLUP_MIN_WIDTH are read only to compute a rollup chunk again (a
 * source removed or rewritten), never by a query. One row per field made a year of hour files of 20
 * fields 175,200 rows (and as many entries in each of the table's two indexes) that were written once and
 * almost never read: the archive stores them packed instead (`packedRows`), a source's buckets of every
 * such field in a chunk in one row, or a few: a row holds PACKED_ROW_BYTES of buckets at most (a
 * MySQL statement is bounded by max_allowed_packet, 16 MiB by default in MariaDB), and part p of the
 * chunk from `lo` has idx_lo = lo + p (its chunk: `chunkOf(idx_lo)`). A packed row has field
 * PACKED_FIELD and the width negated: no field's row has a negative width, so no query at a width finds
 * a packed row and no field name can be taken for one. Indexes written before hold them one per field:
 * the archive reads both.
 *
 * `data` (little-endian): u32 fields; per field u32 name bytes, u32 numbers (a multiple of STRIDE); the
 * names (UTF-8); zeros to a multiple of 8 bytes; every field's buckets, in that order. Compact (schema
 * version 5): u32 fields + PACKED_COMPACT, and per field u32 bytes of its buckets encoded (codec.ts).
 */
export const PACKED_FIELD = '';
/** Bytes of buckets in one packed row at most (one field's part of a chunk may exceed it: 37 KiB at most). */
export const PACKED_ROW_BYTES = 1 << 20;
/** Set in a packed row's count of fields: its buckets are encoded (codec.ts). */
const PACKED_COMPACT = 0x80000000;

/**
 * The packed rows of one source's buckets at `width` in the chunk from `lo` (each part inside it): as
 * few as PACKED_ROW_BYTES allows (of buckets before any encoding), fields in the order given, each
 * whole in one row; `compact`: encoded (codec.ts).
 */
export function packedRows(
  source: string,
  width: number,
  lo: number,
  parts: Array<{ field: string; part: Float64Array }>,
  compact = false,
): TierRow[] {
  const rows: TierRow[] = [];
  let from = 0;
  let bytes = 0;
  for (let i = 0; parts.length && i <= parts.length; i++) {
    const b = (parts[i]?.part.length ?? 0) * 8;
    if (i === parts.length || (i > from && bytes + b > PACKED_ROW_BYTES)) {
      // past CHUNK parts (more than 512 MiB of one source's buckets in one chunk) the last one takes the rest
      if (rows.length === CHUNK - 1) i = parts.length;
      rows.push(packedRow(source, width, lo + rows.length, parts.slice(from, i), compact));
      from = i;
      bytes = 0;
    }
    bytes += b;
  }
  return rows;
}

function packedRow(
  source: string,
  width: number,
  idxLo: number,
  parts: Array<{ field: string; part: Float64Array }>,
  compact: boolean,
): TierRow {
  const names = parts.map((p) => Buffer.from(p.field, 'utf8'));
  // compact: every part encoded one after the other (codec.ts), copied here once
  const enc = compact ? encodeParts(parts.map((p) => p.part)) : null;
  const sizes = parts.map((p, i) => (enc ? (enc.lengths[i] ?? 0) : p.part.length * 8));
  const head = 4 + 8 * parts.length + names.reduce((n, b) => n + b.length, 0);
  const start = Math.ceil(head / 8) * 8;
  const data = Buffer.alloc(start + sizes.reduce((n, b) => n + b, 0));
  data.writeUInt32LE(compact ? (parts.length | PACKED_COMPACT) >>> 0 : parts.length, 0);
  let o = 4;
  let v = start;
  let hi = idxLo;
  let n = 0;
  parts.forEach((p, i) => {
    const size = sizes[i] ?? 0;
    data.writeUInt32LE(names[i]?.length ?? 0, o);
    data.writeUInt32LE(compact ? size : p.part.length, o + 4);
    o += 8;
    if (!enc) packView(p.part).copy(data, v);
    v += size;
    hi = Math.max(hi, p.part[p.part.length - STRIDE] ?? idxLo);
    n += nBuckets(p.part);
  });
  enc?.bytes.copy(data, start);
  for (const b of names) o += b.copy(data, o);
  return [source, PACKED_FIELD, -width, idxLo, hi, n, data];
}

/** A packed row that does not parse: the index was damaged (or written by something else). */
export class PackedRowError extends TierBlobError {
  constructor(what: string) {
    super(`packed: ${what}`);
  }
}

/**
 * A packed row's fields: each name and where its buckets lie in `b`, from a header checked against the
 * row's length before anything past it is read.
 */
function packedEntries(data: unknown): { b: Buffer; entries: Array<{ field: string; at: number; bytes: number }> } {
  if (!(data instanceof Uint8Array) || data.byteLength < 4) throw new PackedRowError('no header');
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const word = b.readUInt32LE(0);
  const compact = word >= PACKED_COMPACT;
  const count = compact ? word - PACKED_COMPACT : word;
  const head = 4 + 8 * count;
  if (head > b.length) throw new PackedRowError(`${count} fields in ${b.length} bytes`);
  /** Bytes of field i's buckets. */
  const bytesOf = (i: number): number => {
    const x = b.readUInt32LE(8 + 8 * i);
    if (compact) return x;
    if (x % STRIDE !== 0) throw new PackedRowError(`${x} numbers for a field`);
    return x * 8;
  };
  let nameAt = head;
  let valueBytes = 0;
  for (let i = 0; i < count; i++) {
    nameAt += b.readUInt32LE(4 + 8 * i);
    valueBytes += bytesOf(i);
  }
  const start = Math.ceil(nameAt / 8) * 8;
  if (start + valueBytes !== b.length) throw new PackedRowError(`${b.length} bytes, ${start + valueBytes} described`);
  const entries: Array<{ field: string; at: number; bytes: number }> = [];
  for (let i = 0, name = head, at = start; i < count; i++) {
    const len = b.readUInt32LE(4 + 8 * i);
    const bytes = bytesOf(i);
    entries.push({ field: b.toString('utf8', name, name + len), at, bytes });
    name += len;
    at += bytes;
  }
  return { b, entries };
}

/** The fields of a packed row's `data` (no bucket copied). */
export function packedFieldNames(data: unknown): string[] {
  return packedEntries(data).entries.map((e) => e.field);
}

/** The fields of a packed row's `data` and their buckets (copies). */
export function unpackRow(data: unknown): Array<{ field: string; part: Float64Array }> {
  const { b, entries } = packedEntries(data);
  return entries.map((e) => {
    try {
      return { field: e.field, part: decodeBuckets(b.subarray(e.at, e.at + e.bytes)) };
    } catch (x) {
      throw x instanceof TierBlobError ? new PackedRowError(`field ${JSON.stringify(e.field)}: ${x.message}`) : x;
    }
  });
}
