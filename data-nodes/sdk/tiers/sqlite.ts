/**
 * Tiers in SQLite (better-sqlite3), inside the caller's own database so that summaries change in the
 * same transaction as the data they summarise. Every method is synchronous; call them inside the
 * caller's `db.transaction(...)` (better-sqlite3 nests it as a savepoint otherwise).
 *
 *   const tiers = new SqliteTierStore(db, 'my_tiers');            // creates the table
 *   db.transaction(() => { writeMyRows(); tiers.replaceSource(fileKey, buildFieldTiers(...)); })();
 *   db.transaction(() => { insertBatch(); tiers.addToSource('live', fieldTiers); })();  // merge in place
 *   const points = await reduceField(tiers.reader(field, widths, rawFn), start, end, stride);
 */
import type Database from 'better-sqlite3';
import { mergePacked, nBuckets, STRIDE } from './bucket';
import type { RawSamples, TierReader } from './plan';
import { CHUNK, chunkOf, chunkQuery, chunkRows, rowBuckets, TIER_COLS, tierTableSql, type TierRow } from './table';

/** field → width → packed buckets. */
export type FieldTiers = Map<string, Map<number, Float64Array>>;

export class SqliteTierStore {
  private readonly ins: Database.Statement;
  private readonly delSource: Database.Statement;
  private readonly sel: Database.Statement;
  private readonly selChunk: Database.Statement;
  private readonly delChunk: Database.Statement;

  constructor(
    private readonly db: Database.Database,
    readonly table = 'tiers',
  ) {
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,60}$/.test(table)) throw new Error(`invalid tier table name "${table}"`);
    for (const s of tierTableSql('sqlite', table)) db.exec(s);
    this.ins = db.prepare(`INSERT OR REPLACE INTO ${table} (${TIER_COLS.join(', ')}) VALUES (?, ?, ?, ?, ?, ?, ?)`);
    this.delSource = db.prepare(`DELETE FROM ${table} WHERE source = ?`);
    this.sel = db.prepare(chunkQuery(table, '', 0, 0, 0).sql);
    this.selChunk = db.prepare(`SELECT data FROM ${table} WHERE source = ? AND field = ? AND width = ? AND idx_lo = ?`);
    this.delChunk = db.prepare(`DELETE FROM ${table} WHERE source = ? AND field = ? AND width = ? AND idx_lo = ?`);
  }

  private insert(rows: TierRow[]): void {
    for (const r of rows) this.ins.run(...r);
  }

  /** Replaces everything of `source` by `tiers` (a grown or rewritten file). */
  replaceSource(source: string, tiers: FieldTiers): void {
    this.db.transaction(() => {
      this.delSource.run(source);
      for (const [field, byWidth] of tiers) for (const [w, p] of byWidth) this.insert(chunkRows(source, field, w, p));
    })();
  }

  removeSource(source: string): void {
    this.delSource.run(source);
  }

  /** Merges `tiers` into what `source` holds already (late and out-of-order batches included). */
  addToSource(source: string, tiers: FieldTiers): void {
    this.db.transaction(() => {
      for (const [field, byWidth] of tiers) {
        for (const [w, p] of byWidth) {
          for (const [, , , lo, , , data] of chunkRows(source, field, w, p)) {
            const old = this.selChunk.get(source, field, w, lo) as { data: Buffer } | undefined;
            const merged = old ? mergePacked([rowBuckets(old.data), rowBuckets(data)]) : rowBuckets(data);
            this.delChunk.run(source, field, w, lo);
            this.insert(chunkRows(source, field, w, merged));
          }
        }
      }
    })();
  }

  /**
   * Retention: drops the buckets of `source` that end at or before `cutoff` and the one straddling it,
   * whose raw samples were partly deleted; the caller rebuilds that one from the raw samples it kept
   * (`replaceBuckets` over [floor(cutoff / w), +1) per width), in the same transaction.
   */
  dropBefore(source: string, cutoff: number, field?: string): void {
    const rows = (
      field === undefined
        ? this.db
            .prepare(`SELECT field, width, idx_lo, data FROM ${this.table} WHERE source = ? AND idx_lo * width < ?`)
            .all(source, cutoff)
        : this.db
            .prepare(`SELECT field, width, idx_lo, data FROM ${this.table} WHERE source = ? AND field = ? AND idx_lo * width < ?`)
            .all(source, field, cutoff)
    ) as Array<{ field: string; width: number; idx_lo: number; data: Buffer }>;
    this.db.transaction(() => {
      for (const r of rows) {
        const keep = mergePacked([rowBuckets(r.data)], Math.floor(cutoff / r.width) + 1);
        this.delChunk.run(source, r.field, r.width, r.idx_lo);
        if (nBuckets(keep)) this.insert(chunkRows(source, r.field, r.width, keep));
      }
    })();
  }

  /** Replaces the buckets of `source` in [idxLo, idxHi) of one field and width by `packed` (rebuilt from raw). */
  replaceBuckets(source: string, field: string, width: number, idxLo: number, idxHi: number, packed: Float64Array): void {
    this.db.transaction(() => {
      for (let lo = chunkOf(idxLo); lo < idxHi; lo += CHUNK) {
        const old = this.selChunk.get(source, field, width, lo) as { data: Buffer } | undefined;
        const kept = old ? filterOut(rowBuckets(old.data), idxLo, idxHi) : new Float64Array(0);
        this.delChunk.run(source, field, width, lo);
        const fresh = mergePacked([kept, filterIn(packed, idxLo, idxHi)], lo, lo + CHUNK);
        if (nBuckets(fresh)) this.insert(chunkRows(source, field, width, fresh));
      }
    })();
  }

  /** Packed arrays (one per stored chunk, all sources) of `field` and `width` that hold idx in [idxLo, idxHi). */
  buckets(field: string, width: number, idxLo: number, idxHi: number): Float64Array[] {
    const q = chunkQuery(this.table, field, width, idxLo, idxHi);
    return (this.sel.all(...q.params) as Array<{ data: Buffer }>).map((r) => rowBuckets(r.data));
  }

  /** The widths stored for `field`, ascending. */
  widthsOf(field: string): number[] {
    const rows = this.db.prepare(`SELECT DISTINCT width FROM ${this.table} WHERE field = ?`).all(field) as Array<{ width: number }>;
    return rows.map((r) => Number(r.width)).sort((a, b) => a - b);
  }

  /** A TierReader for `reduceField`, with `raw` the caller's raw samples of the field. */
  reader(field: string, widths: readonly number[], raw: (start: number, end: number) => RawSamples | Promise<RawSamples>): TierReader {
    return { widths, buckets: (w, lo, hi) => this.buckets(field, w, lo, hi), raw };
  }
}

const filterIn = (p: Float64Array, lo: number, hi: number): Float64Array => mergePacked([p], lo, hi);

function filterOut(p: Float64Array, idxLo: number, idxHi: number): Float64Array {
  const out: number[] = [];
  for (let k = 0; k < nBuckets(p); k++) {
    const idx = p[k * STRIDE] ?? NaN;
    if (idx >= idxLo && idx < idxHi) continue;
    for (let j = 0; j < STRIDE; j++) out.push(p[k * STRIDE + j] ?? NaN);
  }
  return Float64Array.from(out);
}
