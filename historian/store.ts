/**
 * The historian's embedded store: SQLite in WAL mode (better-sqlite3, the MQTT store's pattern) with
 * the SDK's summary tiers (data-nodes/sdk/tiers) for numeric fields.
 *
 *   fields(id, node, name, timeline, type, units, description, first_t, last_t)   UNIQUE(node, name)
 *   samples(field_id, t, v)   PRIMARY KEY (field_id, t), WITHOUT ROWID: raw samples, each stored once
 *   cursors(node, t)          per node: everything before t is stored (where a backfill starts)
 *   tiers                     SqliteTierStore, source "live", field = fields.id; widths of the policy
 *
 * `write` queues; `flush` (every `flushMs`, at `flushRows` queued, and before every read) inserts in
 * one transaction and adds only the rows really inserted to the tiers (a backfill that overlaps live
 * data does not count a sample twice). Retention (`prune`, hourly): raw samples older than
 * `policy.raw`, tier buckets of width w older than that width's retention (chunks wholly before the
 * cutoff). Reads: a thinned read (min_stride) of a numeric field comes from the coarsest tier that fits
 * (plan.ts), raw samples at the edges; a raw read of a range whose raw samples were pruned comes from
 * the finest tier kept (per bucket min and max at their real times), so old ranges still answer.
 */
import Database from 'better-sqlite3';
import { silentLogger, type Logger } from '../common/log';
import type { DataResult, FieldInfo, FieldType, Sample } from '../contract';
import { downsampleMinMax } from '../data-nodes/sdk/downsample';
import { buildFieldTiers, reduceField, SqliteTierStore, type Reduce } from '../data-nodes/sdk/tiers';
import { timelineOf } from './export/naming';
import type { Sink, WriteOptions } from './sink';

export interface RetentionPolicy {
  /** seconds raw samples are kept (null: forever) */
  raw: number | null;
  /** tier width (s) → seconds kept (null: forever); each width divides the next */
  tiers: Array<{ width: number; keep: number | null }>;
}

const DAY = 86400;
export const DEFAULT_POLICY: RetentionPolicy = {
  raw: 30 * DAY,
  tiers: [
    { width: 60, keep: 730 * DAY },
    { width: 3600, keep: null },
  ],
};

export interface StoreOptions {
  path: string;
  policy?: RetentionPolicy;
  flushMs?: number;
  flushRows?: number;
  /** most fields kept per node (default 10000) and longest field name (default 1000): bad or hostile nodes */
  maxFieldsPerNode?: number;
  maxNameLength?: number;
  logger?: Logger;
  now?: () => number;
}

interface FieldRec {
  id: number;
  node: string;
  name: string;
  type: FieldType;
  info: FieldInfo;
  firstT: number | null;
  lastT: number | null;
}

function encode(v: Sample): number | string | null {
  return typeof v === 'boolean' ? (v ? 1 : 0) : v;
}

function decode(v: unknown, type: FieldType): Sample {
  if (v === null || v === undefined) return null;
  if (type === 'bool') return v === 1;
  if (type === 'string') return String(v);
  return typeof v === 'number' ? v : Number(v);
}

function typeOf(v: Sample): FieldType | null {
  if (typeof v === 'number') return 'number';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  return null;
}

export class HistoryStore implements Sink {
  readonly db: Database.Database;
  readonly policy: RetentionPolicy;
  readonly tiers: SqliteTierStore;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly fields = new Map<string, FieldRec>();
  private readonly widths: number[];
  private qF: FieldRec[] = [];
  private qT: number[] = [];
  private qV: Sample[] = [];
  private readonly cursorsQ = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  private readonly flushRows: number;
  private readonly maxFields: number;
  private readonly maxName: number;
  private readonly perNode = new Map<string, number>();
  private readonly refused = new Set<string>();
  private readonly st: Record<'insert' | 'field' | 'range' | 'cursor' | 'meta', Database.Statement>;
  totals = { inserted: 0, duplicates: 0, pruned: 0, refused: 0 };

  constructor(o: StoreOptions) {
    this.log = o.logger ?? silentLogger;
    this.now = o.now ?? (() => Date.now() / 1000);
    this.policy = o.policy ?? DEFAULT_POLICY;
    this.widths = this.policy.tiers.map((t) => t.width).sort((a, b) => a - b);
    this.flushRows = o.flushRows ?? 20000;
    this.maxFields = o.maxFieldsPerNode ?? 10000;
    this.maxName = o.maxNameLength ?? 1000;
    this.db = new Database(o.path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS fields (id INTEGER PRIMARY KEY, node TEXT NOT NULL, name TEXT NOT NULL, timeline TEXT NOT NULL,
        type TEXT NOT NULL, units TEXT, description TEXT, first_t REAL, last_t REAL, UNIQUE (node, name));
      CREATE TABLE IF NOT EXISTS samples (field_id INTEGER NOT NULL, t REAL NOT NULL, v, PRIMARY KEY (field_id, t)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS cursors (node TEXT PRIMARY KEY, t REAL NOT NULL);`);
    this.tiers = new SqliteTierStore(this.db, 'history_tiers');
    this.st = {
      insert: this.db.prepare('INSERT OR IGNORE INTO samples (field_id, t, v) VALUES (?, ?, ?)'),
      field: this.db.prepare('INSERT INTO fields (node, name, timeline, type, units, description) VALUES (?, ?, ?, ?, ?, ?)'),
      range: this.db.prepare('SELECT t, v FROM samples WHERE field_id = ? AND t >= ? AND t < ? ORDER BY t').raw(true),
      cursor: this.db.prepare('INSERT INTO cursors (node, t) VALUES (?, ?) ON CONFLICT (node) DO UPDATE SET t = max(t, excluded.t)'),
      meta: this.db.prepare('UPDATE fields SET first_t = ?, last_t = ?, units = ?, description = ? WHERE id = ?'),
    };
    for (const r of this.db.prepare('SELECT * FROM fields').all() as Array<Record<string, unknown>>) {
      const info: FieldInfo = {
        timeline: String(r.timeline),
        type: r.type as FieldType,
        units: (r.units as string | null) ?? null,
        description: (r.description as string | null) ?? null,
      };
      const f: FieldRec = {
        id: Number(r.id),
        node: String(r.node),
        name: String(r.name),
        type: info.type,
        info,
        firstT: r.first_t as number | null,
        lastT: r.last_t as number | null,
      };
      this.fields.set(`${f.node}\0${f.name}`, f);
      this.perNode.set(f.node, (this.perNode.get(f.node) ?? 0) + 1);
    }
    this.timer = setInterval(() => this.flushSafe(), o.flushMs ?? 500);
    this.timer.unref();
  }

  cursor(node: string): number | null {
    this.flush();
    const r = this.db.prepare('SELECT t FROM cursors WHERE node = ?').get(node) as { t: number } | undefined;
    return r?.t ?? null;
  }

  /** Queues a node's samples (stored at the next flush). Values of another type than the field's are skipped. */
  write(node: string, result: DataResult, o: WriteOptions = {}): void {
    for (const [name, values] of Object.entries(result.data)) {
      if (!Array.isArray(values) || values.length === 0) continue;
      const tl = timelineOf(result, name, o.fields);
      const t = tl === null ? undefined : result.timeline[tl]?.t;
      if (!t || t.length !== values.length) continue;
      const f = this.field(node, name, o.fields?.[name], values);
      if (!f) continue;
      for (let i = 0; i < values.length; i++) {
        const v = values[i] ?? null;
        const ti = t[i];
        if (v === null || ti === undefined || !Number.isFinite(ti) || typeOf(v) !== f.type) continue;
        this.qF.push(f);
        this.qT.push(ti);
        this.qV.push(v);
      }
    }
    if (o.cursorTo !== undefined && o.cursorTo !== null)
      this.cursorsQ.set(node, Math.max(o.cursorTo, this.cursorsQ.get(node) ?? -Infinity));
    if (this.qF.length >= this.flushRows) this.flush();
  }

  private field(node: string, name: string, info: FieldInfo | undefined, values: Sample[]): FieldRec | null {
    const key = `${node}\0${name}`;
    const have = this.fields.get(key);
    if (have) return have;
    const count = this.perNode.get(node) ?? 0;
    if (count >= this.maxFields || name.length > this.maxName || node.length > this.maxName) {
      if (!this.refused.has(node))
        this.log.warn({ node, fields: count, maxFields: this.maxFields }, 'field refused: too many fields or too long a name');
      this.refused.add(node);
      this.totals.refused++;
      return null;
    }
    const first = values.find((v) => v !== null && v !== undefined) ?? null;
    const type = info?.type ?? (first === null ? null : typeOf(first));
    if (type === null) return null;
    const fi: FieldInfo = { timeline: name, type, units: info?.units ?? null, description: info?.description ?? null };
    const id = Number(this.st.field.run(node, name, name, type, fi.units, fi.description).lastInsertRowid);
    const f: FieldRec = { id, node, name, type, info: fi, firstT: null, lastT: null };
    this.fields.set(key, f);
    this.perNode.set(node, count + 1);
    return f;
  }

  private flushSafe(): void {
    try {
      this.flush();
    } catch (e) {
      this.log.error({ err: (e as Error).message, queued: this.qF.length }, 'history write failed; kept for the next try');
    }
  }

  /** Writes what is queued in one transaction (raw rows, tiers of the new rows, cursors). */
  flush(): void {
    const n = this.qF.length;
    if ((n === 0 && this.cursorsQ.size === 0) || !this.db.open) return;
    const qF = this.qF;
    const qT = this.qT;
    const qV = this.qV;
    this.db.transaction(() => {
      const fresh = new Map<FieldRec, { t: number[]; v: number[] }>();
      let ins = 0;
      for (let i = 0; i < n; i++) {
        const f = qF[i];
        const t = qT[i];
        const v = qV[i] ?? null;
        if (!f || t === undefined) continue;
        if (this.st.insert.run(f.id, t, encode(v)).changes === 0) continue;
        ins++;
        if (f.firstT === null || t < f.firstT) f.firstT = t;
        if (f.lastT === null || t > f.lastT) f.lastT = t;
        let r = fresh.get(f);
        if (!r) fresh.set(f, (r = { t: [], v: [] }));
        if (typeof v === 'number') {
          r.t.push(t);
          r.v.push(v);
        }
      }
      for (const [f, r] of fresh) {
        this.st.meta.run(f.firstT, f.lastT, f.info.units, f.info.description, f.id);
        if (r.t.length > 0) this.tiers.addToSource('live', buildFieldTiers(r.t, { [String(f.id)]: r.v }, null, this.widths));
      }
      for (const [node, t] of this.cursorsQ) this.st.cursor.run(node, t);
      this.totals.inserted += ins;
      this.totals.duplicates += n - ins;
    })();
    this.qF = [];
    this.qT = [];
    this.qV = [];
    this.cursorsQ.clear();
  }

  /** Deletes what the policy no longer keeps. */
  prune(): void {
    this.flush();
    const now = this.now();
    if (this.policy.raw !== null)
      this.totals.pruned += this.db.prepare('DELETE FROM samples WHERE t < ?').run(now - this.policy.raw).changes;
    for (const { width, keep } of this.policy.tiers) {
      if (keep === null) continue;
      this.db.prepare('DELETE FROM history_tiers WHERE width = ? AND (idx_lo + 512) * width <= ?').run(width, now - keep);
    }
  }

  nodes(): string[] {
    return [...new Set([...this.fields.values()].map((f) => f.node))];
  }

  /** Fields with data in [start, end) as `<node>.<field>` (each its own timeline). */
  getFields(start: number, end: number): [Record<string, FieldInfo>, Record<string, { interval: null; field: string[] }>] {
    this.flush();
    const fields: Record<string, FieldInfo> = {};
    const timelines: Record<string, { interval: null; field: string[] }> = {};
    for (const f of this.fields.values()) {
      if (f.firstT === null || f.lastT === null || f.lastT < start || f.firstT >= end) continue;
      const name = `${f.node}.${f.name}`;
      fields[name] = { ...f.info, timeline: name };
      timelines[name] = { interval: null, field: [name] };
    }
    return [fields, timelines];
  }

  lookup(qualified: string): FieldRec | undefined {
    const dot = qualified.indexOf('.');
    return dot > 0 ? this.fields.get(`${qualified.slice(0, dot)}\0${qualified.slice(dot + 1)}`) : undefined;
  }

  /** Newest time held for a node (or any node), for metadata. */
  newest(node?: string): number | null {
    let n: number | null = null;
    for (const f of this.fields.values()) if ((!node || f.node === node) && f.lastT !== null && (n === null || f.lastT > n)) n = f.lastT;
    return n;
  }

  /** The finest tier width whose retention still covers `t`. */
  private finestKept(t: number): number {
    const now = this.now();
    const tiers = [...this.policy.tiers].sort((a, b) => a.width - b.width);
    for (const { width, keep } of tiers) if (keep === null || t >= now - keep) return width;
    return tiers[tiers.length - 1]?.width ?? 1;
  }

  private raw(f: FieldRec, start: number, end: number): { t: number[]; v: Sample[] } {
    const rows = this.st.range.all(f.id, start, end) as Array<[number, unknown]>;
    return { t: rows.map((r) => r[0]), v: rows.map((r) => decode(r[1], f.type)) };
  }

  async read(
    qualified: string,
    start: number,
    end: number,
    minStride: number | null,
    reduce: Reduce = 'minmax',
  ): Promise<{ t: number[]; v: Sample[] }> {
    this.flush();
    const f = this.lookup(qualified);
    if (!f) return { t: [], v: [] };
    const rawFrom = this.policy.raw === null ? -Infinity : this.now() - this.policy.raw;
    if (f.type === 'number' && this.widths.length > 0) {
      const rawFn = (a: number, b: number) => {
        const r = this.raw(f, a, b);
        return { t: r.t, v: r.v.map((x) => (typeof x === 'number' ? x : NaN)) };
      };
      const reader = this.tiers.reader(String(f.id), this.widths, rawFn);
      if (minStride !== null) {
        // a range older than a fine tier's retention: no finer than the finest tier still holding it
        const floor = start < rawFrom && (f.firstT ?? Infinity) < rawFrom ? this.finestKept(start) / (reduce === 'mean' ? 1 : 2) : 0;
        const pts = await reduceField(reader, start, end, Math.max(minStride, floor), reduce);
        if (pts) return pts;
      } else if (start < rawFrom && (f.firstT ?? Infinity) < rawFrom) {
        // raw samples before rawFrom were pruned: that part from the finest tier still holding it
        // (min and max per bucket), the rest raw
        const old = await reduceField(reader, start, Math.min(end, rawFrom), this.finestKept(start) / 2, 'minmax');
        const recent = end > rawFrom ? this.raw(f, rawFrom, end) : { t: [], v: [] };
        return { t: [...(old?.t ?? []), ...recent.t], v: [...(old?.v ?? []), ...recent.v] };
      }
    }
    const r = this.raw(f, start, end);
    if (minStride === null) return r;
    const d = downsampleMinMax(r.t, [r.v], minStride);
    return { t: d.t, v: d.columns[0] ?? [] };
  }

  close(): void {
    clearInterval(this.timer);
    this.flushSafe();
    if (this.db.open) this.db.close();
  }
}
