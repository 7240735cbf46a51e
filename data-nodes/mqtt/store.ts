/**
 * The MQTT bridge's history: SQLite (better-sqlite3) in WAL mode, written in batches.
 *
 *   fields(id, node, name, timeline, type, units, description, first_t, last_t)   UNIQUE(node, name)
 *   samples(field_id, t, v)   PRIMARY KEY (field_id, t), WITHOUT ROWID
 *   dead_letters(id, at, topic, reason, detail, size, payload)   payload cut to 4 KiB
 *
 * Samples are queued by `add` and written by `flush` in one transaction (the ingest calls it every
 * `batch_ms` and when `batch_size` rows are queued; every read flushes first, so a reader always
 * sees what arrived). The primary key makes a sample idempotent: the same field at the same time
 * is stored once (`INSERT OR IGNORE`), which turns MQTT's at-least-once QoS 1 into exactly-once
 * storage for payloads that carry their timestamp. `prune` deletes samples older than the
 * retention and dead letters beyond the cap.
 *
 * Summary tiers (sdk/tiers, table `tiers`, one source `live`, field key = field id): every batch's newly
 * inserted numeric samples are merged into per-bucket summaries (1 min … 1 d) in the same transaction;
 * a thinned `getData` answers from them (raw samples only at the range's edges); `prune` drops the
 * buckets before the cutoff and rebuilds the one straddling it from the samples kept. A store from
 * before tiers gets them built from its samples when opened.
 *
 * Bounds: `add` refuses (too_many_fields) a message that would take its node past
 * `max_fields_per_node`; `getData` refuses (TooLargeError, like the SQL node's max_rows) to read more
 * than `max_rows` rows; when writes fail (SQLite busy, disk full) the queue is kept for the retry
 * and `boundQueue` drops its oldest entries beyond `max_queue`.
 */
import Database from 'better-sqlite3';
import { silentLogger, type Logger } from '../../common/log';
import { downsampleMinMax, StrideKeeper, TooLargeError } from '../sdk';
import {
  buildBuckets,
  buildFieldTiers,
  joinFields,
  reduceField,
  reduceSamples,
  SqliteTierStore,
  type FieldTiers,
  type Points,
  type Reduce,
} from '../sdk/tiers';
import type { DataResult, FieldInfo, FieldsResult, FieldType, Sample, TimelineInfo } from '../sdk/types';
import type { StoreConfig } from './config';
import type { Mapped, RejectReason } from './mapping';

export interface FieldRecord {
  id: number;
  node: string;
  name: string;
  timeline: string;
  type: FieldType;
  units: string | null;
  description: string | null;
  firstT: number | null;
  lastT: number | null;
}

export interface DeadLetter {
  id: number;
  at: number;
  topic: string;
  reason: string;
  detail: string;
  size: number;
  /** payload as text (cut to 4 KiB) */
  payload: string;
}

export interface FlushResult {
  inserted: number;
  duplicates: number;
  /** node → the inserted samples in get_data shape (for the live push) */
  live: Map<string, DataResult>;
}

const DEAD_PAYLOAD_BYTES = 4096;
/** Tier widths of MQTT fields (their native interval is unknown): 1 min … 1 day. */
export const MQTT_TIER_WIDTHS = [60, 600, 3600, 21600, 86400];
const LIVE = 'live';

function encode(v: Sample): number | string | null {
  if (typeof v === 'boolean') return v ? 1 : 0;
  return v;
}

function decode(v: unknown, type: FieldType): Sample {
  if (v === null || v === undefined) return null;
  if (type === 'bool') return v === 1 || v === true || v === '1';
  if (type === 'string') return String(v);
  return typeof v === 'number' ? v : Number(v);
}

/** Rows of several fields of one timeline → one time axis (union of times), null where a field has no sample. */
export function alignRows(fields: string[], rows: Map<string, { t: number[]; v: Sample[] }>): { t: number[]; columns: Sample[][] } {
  const present = fields.filter((f) => rows.has(f));
  const only = present.length === 1 ? present[0] : undefined;
  const r = only === undefined ? undefined : rows.get(only);
  if (r) return { t: r.t, columns: fields.map((f) => (f === only ? r.v : [])) };
  const all = new Set<number>();
  for (const f of present) for (const t of rows.get(f)?.t ?? []) all.add(t);
  const t = [...all].sort((a, b) => a - b);
  const index = new Map(t.map((x, i) => [x, i]));
  const columns = fields.map((f) => {
    const r = rows.get(f);
    if (!r) return [];
    const col: Sample[] = new Array(t.length).fill(null);
    r.t.forEach((x, i) => (col[index.get(x)!] = r.v[i] ?? null)); // every time of r is in index
    return col;
  });
  return { t, columns };
}

export class MqttStore {
  readonly db: Database.Database;
  /** `${node}\0${name}` → field */
  private readonly fields = new Map<string, FieldRecord>();
  /** id → field */
  private readonly byId = new Map<number, FieldRecord>();
  private readonly log: Logger;
  /** queued samples, parallel arrays */
  private qField: number[] = [];
  private qT: number[] = [];
  private qV: Array<number | string | null> = [];
  private qDead: Array<[number, string, string, string, number, Buffer]> = [];
  private readonly dirty = new Set<FieldRecord>();
  /** node name → number of fields (its key set is the node names) */
  private readonly nodeFields = new Map<string, number>();
  private closed = false;
  /** Called once for every node name seen for the first time (also for nodes loaded at open). */
  onNewNode: ((node: string) => void) | undefined;
  /** Called after every write that inserted samples (whoever triggered it: timer, batch size, a read). */
  onFlush: ((r: FlushResult) => void) | undefined;
  totals = { inserted: 0, duplicates: 0, deadLetters: 0, pruned: 0 };

  private readonly stInsert: Database.Statement;
  private readonly stField: Database.Statement;
  private readonly stFieldMeta: Database.Statement;
  private readonly stFieldRange: Database.Statement;
  private readonly stRange: Database.Statement;
  private readonly stDead: Database.Statement;
  private readonly txFlush: (n: number) => { inserted: boolean[] };
  readonly tiers: SqliteTierStore | null;

  constructor(
    readonly config: StoreConfig,
    opts: { logger?: Logger } = {},
  ) {
    this.log = opts.logger ?? silentLogger;
    this.db = new Database(config.path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS fields (
        id INTEGER PRIMARY KEY, node TEXT NOT NULL, name TEXT NOT NULL, timeline TEXT NOT NULL,
        type TEXT NOT NULL, units TEXT, description TEXT, first_t REAL, last_t REAL, UNIQUE (node, name));
      CREATE TABLE IF NOT EXISTS samples (
        field_id INTEGER NOT NULL, t REAL NOT NULL, v, PRIMARY KEY (field_id, t)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS dead_letters (
        id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, topic TEXT NOT NULL, reason TEXT NOT NULL,
        detail TEXT NOT NULL, size INTEGER NOT NULL, payload BLOB);
      CREATE INDEX IF NOT EXISTS dead_letters_at ON dead_letters (at);
    `);
    this.stInsert = this.db.prepare('INSERT OR IGNORE INTO samples (field_id, t, v) VALUES (?, ?, ?)');
    this.stField = this.db.prepare('INSERT INTO fields (node, name, timeline, type, units, description) VALUES (?, ?, ?, ?, ?, ?)');
    this.stFieldMeta = this.db.prepare('UPDATE fields SET timeline = ?, type = ?, units = ?, description = ? WHERE id = ?');
    this.stFieldRange = this.db.prepare('UPDATE fields SET first_t = ?, last_t = ? WHERE id = ?');
    this.stRange = this.db.prepare('SELECT t, v FROM samples WHERE field_id = ? AND t >= ? AND t < ? ORDER BY t').raw(true);
    this.stDead = this.db.prepare('INSERT INTO dead_letters (at, topic, reason, detail, size, payload) VALUES (?, ?, ?, ?, ?, ?)');
    const hadTiers = this.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'tiers'").get() !== undefined;
    this.tiers = config.summaries === false ? null : new SqliteTierStore(this.db, 'tiers');
    const tx = this.db.transaction((n: number) => {
      const inserted: boolean[] = new Array(n);
      for (let i = 0; i < n; i++) inserted[i] = this.stInsert.run(this.qField[i], this.qT[i], this.qV[i]).changes > 0;
      if (this.tiers) this.tiers.addToSource(LIVE, this.batchTiers(n, inserted));
      for (const d of this.qDead) this.stDead.run(...d);
      for (const f of this.dirty) this.stFieldRange.run(f.firstT, f.lastT, f.id);
      return { inserted };
    });
    this.txFlush = (n) => tx(n);
    for (const row of this.db
      .prepare('SELECT id, node, name, timeline, type, units, description, first_t, last_t FROM fields')
      .all() as Array<Record<string, unknown>>) {
      const f: FieldRecord = {
        id: row.id as number,
        node: row.node as string,
        name: row.name as string,
        timeline: row.timeline as string,
        type: row.type as FieldType,
        units: row.units as string | null,
        description: row.description as string | null,
        firstT: row.first_t as number | null,
        lastT: row.last_t as number | null,
      };
      this.fields.set(`${f.node}\0${f.name}`, f);
      this.byId.set(f.id, f);
      this.nodeFields.set(f.node, (this.nodeFields.get(f.node) ?? 0) + 1);
    }
    if (this.tiers && !hadTiers) this.rebuildTiers();
  }

  /** Tiers of the numeric samples a batch really inserted (duplicates are not counted twice). */
  private batchTiers(n: number, inserted: boolean[]): FieldTiers {
    const per = new Map<number, { t: number[]; v: number[] }>();
    for (let i = 0; i < n; i++) {
      const v = this.qV[i];
      if (!inserted[i] || typeof v !== 'number') continue;
      const id = this.qField[i] ?? -1;
      if (this.byId.get(id)?.type !== 'number') continue;
      let r = per.get(id);
      if (!r) per.set(id, (r = { t: [], v: [] }));
      r.t.push(this.qT[i] ?? NaN);
      r.v.push(v);
    }
    const out: FieldTiers = new Map();
    for (const [id, r] of per) {
      const one = buildFieldTiers(r.t, { x: r.v }, null, MQTT_TIER_WIDTHS).get('x');
      if (one) out.set(String(id), one);
    }
    return out;
  }

  /** Tiers from every stored sample (a store from before tiers). */
  private rebuildTiers(): void {
    const all = this.db.prepare('SELECT t, v FROM samples WHERE field_id = ? ORDER BY t').raw(true);
    this.db.transaction(() => {
      for (const f of this.byId.values()) {
        if (f.type !== 'number' || !this.tiers) continue;
        const rows = all.all(f.id) as Array<[number, unknown]>;
        const t = rows.map((r) => r[0]);
        const v = rows.map((r) => (typeof r[1] === 'number' ? r[1] : NaN));
        const tiers = buildFieldTiers(t, { x: v }, null, MQTT_TIER_WIDTHS).get('x');
        if (tiers) this.tiers.addToSource(LIVE, new Map([[String(f.id), tiers]]));
      }
    })();
  }

  /** Node names that have fields. */
  nodes(): string[] {
    return [...this.nodeFields.keys()];
  }

  /** Announces the nodes loaded from disk to `onNewNode`. */
  announceLoadedNodes(): void {
    for (const n of this.nodes()) this.onNewNode?.(n);
  }

  field(node: string, name: string): FieldRecord | undefined {
    return this.fields.get(`${node}\0${name}`);
  }

  get pending(): number {
    return this.qField.length;
  }

  private fieldFor(node: string, timeline: string, v: Mapped['values'][number]): FieldRecord {
    const key = `${node}\0${v.name}`;
    let f = this.fields.get(key);
    if (!f) {
      const count = this.nodeFields.get(node);
      const isNewNode = count === undefined;
      const id = Number(this.stField.run(node, v.name, timeline, v.type, v.units, v.description).lastInsertRowid);
      f = { id, node, name: v.name, timeline, type: v.type, units: v.units, description: v.description, firstT: null, lastT: null };
      this.fields.set(key, f);
      this.byId.set(id, f);
      this.nodeFields.set(node, (count ?? 0) + 1);
      if (isNewNode) this.onNewNode?.(node);
    } else if (f.timeline !== timeline || f.type !== v.type || f.units !== v.units || f.description !== v.description) {
      this.log.info({ node, field: v.name, timeline, type: v.type, units: v.units }, 'field metadata changed');
      f.timeline = timeline;
      f.type = v.type;
      f.units = v.units;
      f.description = v.description;
      this.stFieldMeta.run(timeline, v.type, v.units, v.description, f.id);
    }
    return f;
  }

  /**
   * Queues the samples of one mapped message; or, when it would take its node past
   * `max_fields_per_node`, queues nothing and says why (the caller dead-letters it).
   */
  add(m: Mapped): { reason: 'too_many_fields'; detail: string } | null {
    const max = this.config.maxFieldsPerNode ?? Infinity;
    const have = this.nodeFields.get(m.node) ?? 0;
    if (have + m.values.length > max) {
      const fresh = new Set<string>();
      for (const v of m.values) if (!this.fields.has(`${m.node}\0${v.name}`)) fresh.add(v.name);
      if (fresh.size && have + fresh.size > max) {
        return {
          reason: 'too_many_fields',
          detail: `${fresh.size} new fields would take node ${m.node} past max_fields_per_node ${max} (has ${have})`,
        };
      }
    }
    for (const v of m.values) {
      const f = this.fieldFor(m.node, m.timeline, v);
      this.qField.push(f.id);
      this.qT.push(m.t);
      this.qV.push(encode(v.value));
      if (f.firstT === null || m.t < f.firstT) f.firstT = m.t;
      if (f.lastT === null || m.t > f.lastT) f.lastT = m.t;
      this.dirty.add(f);
    }
    return null;
  }

  /**
   * Drops the oldest queued samples beyond `max` (and the oldest queued dead letters beyond `max`),
   * for when writes keep failing. Returns how many samples were dropped.
   */
  boundQueue(max = this.config.maxQueue ?? Infinity): number {
    if (this.qDead.length > max) this.qDead = this.qDead.slice(this.qDead.length - max);
    const drop = this.qField.length - max;
    if (drop <= 0) return 0;
    this.qField = this.qField.slice(drop);
    this.qT = this.qT.slice(drop);
    this.qV = this.qV.slice(drop);
    return drop;
  }

  addDeadLetter(topic: string, reason: RejectReason | string, detail: string, payload: Buffer, at = Date.now() / 1000): void {
    if (this.config.deadLetters <= 0) return;
    this.qDead.push([at, topic, reason, detail, payload.length, payload.subarray(0, DEAD_PAYLOAD_BYTES)]);
    this.totals.deadLetters++;
  }

  /** Writes what is queued in one transaction. */
  flush(): FlushResult {
    const n = this.qField.length;
    if (this.closed || (n === 0 && this.qDead.length === 0 && this.dirty.size === 0))
      return { inserted: 0, duplicates: 0, live: new Map() };
    const { inserted } = this.txFlush(n);
    const qField = this.qField;
    const qT = this.qT;
    const qV = this.qV;
    this.qField = [];
    this.qT = [];
    this.qV = [];
    this.qDead = [];
    this.dirty.clear();
    // Live result: node → timeline → field → rows (only what was really inserted).
    const perNode = new Map<string, Map<string, Map<string, { t: number[]; v: Sample[] }>>>();
    let ins = 0;
    for (let i = 0; i < n; i++) {
      if (!inserted[i]) continue;
      ins++;
      const f = this.byId.get(qField[i]!)!;
      let tls = perNode.get(f.node);
      if (!tls) perNode.set(f.node, (tls = new Map()));
      let rows = tls.get(f.timeline);
      if (!rows) tls.set(f.timeline, (rows = new Map()));
      let r = rows.get(f.name);
      if (!r) rows.set(f.name, (r = { t: [], v: [] }));
      r.t.push(qT[i]!);
      r.v.push(decode(qV[i], f.type));
    }
    const live = new Map<string, DataResult>();
    for (const [node, tls] of perNode) {
      const res: DataResult = { data: {}, timeline: {} };
      for (const [tl, rows] of tls) {
        for (const r of rows.values()) sortRows(r);
        const names = [...rows.keys()];
        const { t, columns } = alignRows(names, rows);
        names.forEach((nm, i) => (res.data[nm] = columns[i] ?? []));
        res.timeline[tl] = { t, finalized_until: t.at(-1) ?? null };
      }
      live.set(node, res);
    }
    this.totals.inserted += ins;
    this.totals.duplicates += n - ins;
    const result = { inserted: ins, duplicates: n - ins, live };
    if (ins) this.onFlush?.(result);
    return result;
  }

  getFields(node: string, start: number, end: number): FieldsResult {
    this.flush();
    const fields: Record<string, FieldInfo> = {};
    const timelines: Record<string, TimelineInfo> = {};
    for (const f of this.fields.values()) {
      if (f.node !== node || f.firstT === null || f.lastT === null) continue;
      if (!(f.firstT < end && f.lastT >= start)) continue;
      fields[f.name] = { description: f.description, timeline: f.timeline, type: f.type, units: f.units };
      (timelines[f.timeline] ??= { interval: null, field: [] }).field.push(f.name);
    }
    return [fields, timelines];
  }

  /** Per-bucket min/max (or mean) of one numeric field from its tiers; null when no tier fits the stride. */
  private async fromTiers(f: FieldRecord, start: number, end: number, stride: number, reduce: Reduce): Promise<Points | null> {
    const tiers = this.tiers;
    if (!tiers || f.type !== 'number') return null;
    const raw = (lo: number, hi: number) => {
      const rows = this.stRange.all(f.id, lo, hi) as Array<[number, unknown]>;
      return { t: rows.map((r) => r[0]), v: rows.map((r) => (typeof r[1] === 'number' ? r[1] : NaN)) };
    };
    const p = await reduceField(tiers.reader(String(f.id), MQTT_TIER_WIDTHS, raw), start, end, stride, reduce);
    if (p !== null || reduce !== 'mean') return p;
    const r = raw(start, end); // finer than any tier: the mean from raw samples
    return reduceSamples(r.t, r.v, start, end, stride, 'mean');
  }

  /**
   * Thinned answers from tiers for the timelines whose fields are all numeric and fit a tier (the
   * others through `getData`); `reduce: 'mean'` gives bucket means.
   */
  async getDataTiered(
    node: string,
    fields: string[],
    start: number,
    end: number,
    minStride: number | null,
    reduce: Reduce = 'minmax',
  ): Promise<DataResult> {
    this.flush();
    if (minStride === null || !(minStride > 0) || !this.tiers) return this.getData(node, fields, start, end, minStride);
    const byTimeline = new Map<string, FieldRecord[]>();
    for (const name of fields) {
      const f = this.fields.get(`${node}\0${name}`);
      if (!f || f.firstT === null || f.lastT === null || f.firstT >= end || f.lastT < start) continue;
      const list = byTimeline.get(f.timeline) ?? [];
      if (!list.includes(f)) list.push(f);
      byTimeline.set(f.timeline, list);
    }
    const done = new Set<string>();
    const result: DataResult = { data: {}, timeline: {} };
    for (const [tl, list] of byTimeline) {
      const per: Array<Points | null> = [];
      for (const f of list) {
        const p = await this.fromTiers(f, start, end, minStride, reduce);
        if (p === null) break;
        per.push(p);
      }
      if (per.length < list.length) continue;
      const j = joinFields(per);
      list.forEach((f, i) => {
        result.data[f.name] = j.columns[i] ?? [];
        done.add(f.name);
      });
      if (j.t.length) result.timeline[tl] = { t: j.t, finalized_until: j.t[j.t.length - 1] ?? null };
    }
    const rest = fields.filter((n) => !done.has(n));
    if (rest.length === 0) {
      for (const n of fields) result.data[n] ??= [];
      return result;
    }
    const other = this.getData(node, rest, start, end, minStride);
    return { data: { ...other.data, ...result.data }, timeline: { ...other.timeline, ...result.timeline } };
  }

  getData(node: string, fields: string[], start: number, end: number, minStride: number | null): DataResult {
    this.flush();
    const maxRows = this.config.maxRows ?? Infinity;
    let budget = maxRows;
    const result: DataResult = { data: {}, timeline: {} };
    const byTimeline = new Map<string, FieldRecord[]>();
    for (const name of fields) {
      result.data[name] = [];
      const f = this.fields.get(`${node}\0${name}`);
      if (!f || f.firstT === null || f.lastT === null || f.firstT >= end || f.lastT < start) continue;
      const list = byTimeline.get(f.timeline) ?? [];
      if (!list.includes(f)) list.push(f);
      byTimeline.set(f.timeline, list);
    }
    for (const [tl, list] of byTimeline) {
      const rows = new Map<string, { t: number[]; v: Sample[] }>();
      for (const f of list) {
        // Rows are counted over the whole request and read one at a time, so a too-large answer
        // stops at max_rows + 1 rows instead of materialising all of them.
        // With a min_stride only the rows the downsampling can use are kept (StrideKeeper).
        const tooMany = () =>
          new TooLargeError(
            `${node}.get_data: more than max_rows (${maxRows}) stored samples in [${start}, ${end}); use min_stride or a shorter range`,
          );
        let raw: Array<[number, unknown]> = [];
        if (minStride !== null && minStride > 0) {
          const keeper = new StrideKeeper<[number, unknown]>(minStride, 1, (r) => decode(r[1], f.type));
          let i = 0;
          for (const row of this.stRange.iterate(f.id, start, end) as IterableIterator<[number, unknown]>) {
            keeper.add(i++, row[0], row);
            if ((i & 1023) === 0 && keeper.size > budget) throw tooMany();
          }
          raw = keeper.finish().map((e) => e[1]);
          budget -= raw.length;
          if (budget < 0) throw tooMany();
        } else {
          for (const row of this.stRange.iterate(f.id, start, end) as IterableIterator<[number, unknown]>) {
            if (--budget < 0) throw tooMany();
            raw.push(row);
          }
        }
        if (raw.length === 0) continue;
        rows.set(f.name, { t: raw.map(([t]) => t), v: raw.map(([, x]) => decode(x, f.type)) });
      }
      if (rows.size === 0) continue;
      const names = list.map((f) => f.name);
      const aligned = alignRows(names, rows);
      const ds = downsampleMinMax(aligned.t, aligned.columns, minStride);
      names.forEach((nm, i) => (result.data[nm] = ds.columns[i] ?? []));
      const newest = Math.max(...list.map((f) => f.lastT ?? -Infinity));
      result.timeline[tl] = { t: ds.t, finalized_until: Number.isFinite(newest) ? newest : null };
    }
    return result;
  }

  newestSample(node?: string): number | null {
    let n: number | null = null;
    for (const f of this.fields.values()) if ((!node || f.node === node) && f.lastT !== null && (n === null || f.lastT > n)) n = f.lastT;
    return n;
  }

  /** Deletes samples older than the retention and dead letters beyond the cap. */
  prune(now = Date.now() / 1000): number {
    this.flush();
    let removed = 0;
    const del = this.db.prepare('DELETE FROM samples WHERE field_id = ? AND t < ?');
    const first = this.db.prepare('SELECT MIN(t) AS t FROM samples WHERE field_id = ?');
    if (this.config.retention !== null) {
      const cutoff = now - this.config.retention;
      this.db.transaction(() => {
        for (const f of this.fields.values()) {
          if (f.firstT === null || f.firstT >= cutoff) continue;
          removed += del.run(f.id, cutoff).changes;
          if (this.tiers && f.type === 'number') this.pruneTiers(f, cutoff);
          const m = (first.get(f.id) as { t: number | null }).t;
          f.firstT = m;
          if (m === null) f.lastT = null;
          this.stFieldRange.run(f.firstT, f.lastT, f.id);
        }
        this.db.prepare('DELETE FROM dead_letters WHERE at < ?').run(cutoff);
      })();
    }
    this.db.prepare('DELETE FROM dead_letters WHERE id <= (SELECT MAX(id) FROM dead_letters) - ?').run(this.config.deadLetters);
    this.totals.pruned += removed;
    return removed;
  }

  /** Tiers of one field after its samples before `cutoff` were deleted: older buckets go, the straddling one is rebuilt. */
  private pruneTiers(f: FieldRecord, cutoff: number): void {
    const tiers = this.tiers;
    if (!tiers) return;
    tiers.dropBefore(LIVE, cutoff, String(f.id));
    for (const w of MQTT_TIER_WIDTHS) {
      const k = Math.floor(cutoff / w);
      const rows = this.stRange.all(f.id, k * w, (k + 1) * w) as Array<[number, unknown]>;
      const b = buildBuckets(
        rows.map((r) => r[0]),
        rows.map((r) => (typeof r[1] === 'number' ? r[1] : NaN)),
        w,
      );
      tiers.replaceBuckets(LIVE, String(f.id), w, k, k + 1, b);
    }
  }

  deadLetters(limit = 100, reason?: string): DeadLetter[] {
    this.flush();
    const rows = (
      reason
        ? this.db.prepare('SELECT * FROM dead_letters WHERE reason = ? ORDER BY id DESC LIMIT ?').all(reason, limit)
        : this.db.prepare('SELECT * FROM dead_letters ORDER BY id DESC LIMIT ?').all(limit)
    ) as Array<Record<string, unknown>>;
    return rows.map((r) => ({
      id: r.id as number,
      at: r.at as number,
      topic: r.topic as string,
      reason: r.reason as string,
      detail: r.detail as string,
      size: r.size as number,
      payload: r.payload ? (r.payload as Buffer).toString('utf8') : '',
    }));
  }

  /** Rows stored for (node, field), all time (tests, stats). */
  count(node: string, name: string): number {
    this.flush();
    const f = this.field(node, name);
    if (!f) return 0;
    return (this.db.prepare('SELECT COUNT(*) AS n FROM samples WHERE field_id = ?').get(f.id) as { n: number }).n;
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.db.close();
  }
}

function sortRows(r: { t: number[]; v: Sample[] }): void {
  for (let i = 1; i < r.t.length; i++) {
    if (r.t[i]! < r.t[i - 1]!) {
      // 0 < i < length
      const rows = r.t.map((t, j) => [t, r.v[j] ?? null] as const).sort((a, b) => a[0] - b[0]); // stable
      r.t = rows.map(([t]) => t);
      r.v = rows.map(([, v]) => v);
      return;
    }
  }
}
