/**
 * A DataSource over one MySQL/MariaDB or PostgreSQL table (config.ts). Read-only: it only runs
 * SELECTs, built from validated, quoted identifiers, with every value bound as a parameter.
 *
 * The table is introspected (information_schema) at the first call and at most every 10 s, and
 * again after any failed query; a dropped or renamed column, or a dropped table, makes that call
 * fail with a message that says so (the SDK turns it into wamp.error.runtime_error) and the node
 * keeps serving: it recovers as soon as the table is back. A lost database connection is the
 * pool's to re-open.
 *
 * Times: DATETIME/TIMESTAMP columns (MySQL; the session runs in UTC) and timestamp [with time
 * zone] columns (PostgreSQL; a naive timestamp is taken as UTC) are converted in SQL to UNIX
 * seconds; integer/float columns are epoch seconds (or milliseconds: time_type epoch_ms).
 *
 * Thinned answers (a min_stride on numeric columns) are reduced in the database: per bucket of
 * 2 × min_stride (aligned on multiples of it) the rows of its minimum and maximum (window functions:
 * MariaDB ≥ 10.2, MySQL ≥ 8, PostgreSQL), at their real times; `reduce: 'mean'` asks for AVG per bucket
 * of min_stride. Only those rows cross the network, whatever the span.
 */
import type { Pool as MysqlPool } from 'mysql2/promise';
import type { Pool as PgPool } from 'pg';
import { silentLogger, type Logger } from '../../common/log';
import { downsampleMinMax, InvalidRequestError, NotFoundError, TooLargeError } from '../sdk';
import type { DataResult, DataSource, FieldInfo, FieldsResult, FieldType, GetDataOptions, Sample, TimelineInfo } from '../sdk/types';
import { joinFields, type Points } from '../sdk/tiers';
import type { SqlConfig } from './config';

type Row = Record<string, unknown>;

interface Driver {
  query(sql: string, params: unknown[]): Promise<Row[]>;
  quote(ident: string): string;
  /** placeholder of the i-th parameter (0-based) */
  ph(i: number): string;
  close(): Promise<void>;
}

/**
 * The drivers load their library (mysql2, pg) when a node opens its database, not when this module is
 * loaded: `sisock node <kind>` loads every node kind's modules, and the two cost ~90 ms of its start.
 * A failed load is the error of the first query.
 */
function loaded<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {});
  return p;
}

function mysqlDriver(cfg: SqlConfig): Driver {
  const u = new URL(cfg.database.url.replace(/^mariadb:/, 'mysql:'));
  const options = {
    host: u.hostname,
    port: u.port ? Number(u.port) : 3306,
    user: decodeURIComponent(u.username) || undefined,
    password: cfg.database.password ?? (u.password ? decodeURIComponent(u.password) : undefined),
    database: decodeURIComponent(u.pathname.replace(/^\//, '')) || undefined,
    connectionLimit: cfg.database.pool,
    timezone: 'Z',
    decimalNumbers: true,
    supportBigNumbers: true,
    bigNumberStrings: false,
    dateStrings: true,
  };
  const pool: Promise<MysqlPool> = loaded(
    import('mysql2/promise').then((mysql) => {
      const p = mysql.createPool(options);
      (p as unknown as { pool: { on(ev: string, f: (c: { query(sql: string): void }) => void): void } }).pool.on('connection', (c) =>
        c.query("SET time_zone = '+00:00'"),
      );
      return p;
    }),
  );
  return {
    async query(sql, params) {
      const [rows] = await (
        await pool
      ).execute({ sql, timeout: cfg.database.queryTimeoutMs }, params as (string | number | boolean | null)[]);
      return rows as Row[];
    },
    quote: (id) => '`' + id + '`',
    ph: () => '?',
    close: async () => (await pool).end(),
  };
}

function pgDriver(cfg: SqlConfig): Driver {
  const pool: Promise<PgPool> = loaded(
    import('pg').then((pg) => {
      const p = new pg.default.Pool({
        connectionString: cfg.database.url,
        ...(cfg.database.password ? { password: cfg.database.password } : {}),
        max: cfg.database.pool,
        statement_timeout: cfg.database.queryTimeoutMs,
        idleTimeoutMillis: 10000,
      });
      p.on('error', () => {
        /* an idle client died; the pool replaces it */
      });
      return p;
    }),
  );
  return {
    async query(sql, params) {
      const r = await (await pool).query(sql, params);
      return r.rows as Row[];
    },
    quote: (id) => '"' + id + '"',
    ph: (i) => `$${i + 1}`,
    close: async () => (await pool).end(),
  };
}

type TimeKind = 'mysql_datetime' | 'pg_tstz' | 'pg_ts' | 'epoch_s' | 'epoch_ms';

interface Introspection {
  at: number;
  time: TimeKind;
  types: Map<string, FieldType>;
}

interface GroupInfo {
  value: string | number | null;
  label: string;
}

const NUMERIC = /int|float|double|real|decimal|numeric|serial|money/;

export function sqlTypeToField(dataType: string, columnType = ''): FieldType {
  const t = dataType.toLowerCase();
  if (t === 'boolean' || t === 'bool' || columnType.toLowerCase() === 'tinyint(1)') return 'bool';
  if (NUMERIC.test(t) || t === 'bit') return 'number';
  return 'string';
}

function label(v: unknown): string {
  return String(v).replace(/[^A-Za-z0-9_-]/g, '_');
}

export class SqlSource implements DataSource {
  private readonly db: Driver;
  private readonly log: Logger;
  private intro: Introspection | null = null;
  private groupCache: { at: number; groups: GroupInfo[] } | null = null;
  private readonly tbl: string;

  constructor(
    readonly cfg: SqlConfig,
    opts: { logger?: Logger } = {},
  ) {
    this.log = opts.logger ?? silentLogger;
    this.db = cfg.database.kind === 'mysql' ? mysqlDriver(cfg) : pgDriver(cfg);
    const q = this.db.quote;
    this.tbl = cfg.schema ? `${q(cfg.schema)}.${q(cfg.table)}` : q(cfg.table);
  }

  private get tableText(): string {
    return this.cfg.schema ? `${this.cfg.schema}.${this.cfg.table}` : this.cfg.table;
  }

  /** Column types of the table; checks that every configured column exists. */
  async introspect(force = false): Promise<Introspection> {
    const now = Date.now();
    if (!force && this.intro && now - this.intro.at < 10_000) return this.intro;
    const cfg = this.cfg;
    let rows: Row[];
    if (cfg.database.kind === 'mysql') {
      rows = await this.db.query(
        'SELECT COLUMN_NAME AS name, DATA_TYPE AS type, COLUMN_TYPE AS ctype FROM ' +
          'information_schema.COLUMNS WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?',
        [cfg.schema, cfg.table],
      );
    } else {
      rows = await this.db.query(
        'SELECT column_name AS name, data_type AS type, data_type AS ctype FROM information_schema.columns ' +
          'WHERE table_schema = COALESCE($1, current_schema()) AND table_name = $2',
        [cfg.schema, cfg.table],
      );
    }
    if (rows.length === 0) {
      this.intro = null;
      throw new NotFoundError(`table ${this.tableText} not found (dropped or renamed?)`);
    }
    const byName = new Map(rows.map((r) => [String(r.name), { type: String(r.type), ctype: String(r.ctype ?? '') }]));
    const need = [cfg.timeColumn, ...(cfg.groupColumn ? [cfg.groupColumn] : []), ...cfg.columns.map((c) => c.column)];
    const missing = need.filter((c) => !byName.has(c));
    if (missing.length) {
      this.intro = null;
      throw new NotFoundError(
        `column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} of table ${this.tableText} not found (dropped or renamed?)`,
      );
    }
    const tt = byName.get(cfg.timeColumn)!.type.toLowerCase();
    let time: TimeKind;
    if (cfg.timeType === 'epoch_s' || cfg.timeType === 'epoch_ms') time = cfg.timeType;
    else if (cfg.database.kind === 'mysql') {
      if (/date|time/.test(tt)) time = 'mysql_datetime';
      else if (cfg.timeType === 'datetime') throw new Error(`time column ${cfg.timeColumn} is ${tt}, not a date/time type`);
      else time = 'epoch_s';
    } else if (tt === 'timestamp with time zone') time = 'pg_tstz';
    else if (/timestamp|date/.test(tt)) time = 'pg_ts';
    else if (cfg.timeType === 'datetime') throw new Error(`time column ${cfg.timeColumn} is ${tt}, not a timestamp`);
    else time = 'epoch_s';
    const types = new Map<string, FieldType>();
    for (const c of cfg.columns) {
      const info = byName.get(c.column)!;
      types.set(c.field, c.type ?? sqlTypeToField(info.type, info.ctype));
    }
    this.intro = { at: now, time, types };
    return this.intro;
  }

  /** [time expression → UNIX seconds, condition `start <= t < end` using params i, i+1, params]. */
  private timeSql(time: TimeKind, start: number, end: number, i: number): { expr: string; cond: string; params: unknown[] } {
    const c = this.db.quote(this.cfg.timeColumn);
    const p0 = this.db.ph(i);
    const p1 = this.db.ph(i + 1);
    // Clamp to what the databases accept (FROM_UNIXTIME: 1970..2038-01-19 on many MariaDB/MySQL versions).
    const s = Math.max(0, start);
    const e = Math.min(end, time === 'mysql_datetime' ? 2147483647 : 32503680000);
    switch (time) {
      case 'mysql_datetime':
        return { expr: `UNIX_TIMESTAMP(${c})`, cond: `${c} >= FROM_UNIXTIME(${p0}) AND ${c} < FROM_UNIXTIME(${p1})`, params: [s, e] };
      case 'pg_tstz':
        return {
          expr: `EXTRACT(EPOCH FROM ${c})::float8`,
          cond: `${c} >= to_timestamp(${p0}) AND ${c} < to_timestamp(${p1})`,
          params: [s, e],
        };
      case 'pg_ts':
        return {
          expr: `EXTRACT(EPOCH FROM ${c})::float8`,
          cond: `${c} >= (to_timestamp(${p0}) AT TIME ZONE 'UTC') AND ${c} < (to_timestamp(${p1}) AT TIME ZONE 'UTC')`,
          params: [s, e],
        };
      case 'epoch_ms':
        return { expr: `${c} / 1000.0`, cond: `${c} >= ${p0} AND ${c} < ${p1}`, params: [start * 1000, end * 1000] };
      default:
        return { expr: c, cond: `${c} >= ${p0} AND ${c} < ${p1}`, params: [start, end] };
    }
  }

  /** Runs a query; on failure re-checks the table so the error says what changed. */
  private async run<T>(f: (intro: Introspection) => Promise<T>): Promise<T> {
    const intro = await this.introspect();
    try {
      return await f(intro);
    } catch (err) {
      this.intro = null;
      this.groupCache = null;
      // The table may have changed since the last look: report that rather than the raw error.
      await this.introspect(true);
      throw err;
    }
  }

  private fieldName(group: GroupInfo | null, field: string): string {
    return this.cfg.fieldName.replace(/\{field\}/g, field).replace(/\{group\}/g, group?.label ?? '');
  }

  private timelineName(group: GroupInfo | null): string {
    return this.cfg.timeline.replace(/\{group\}/g, group?.label ?? '').replace(/\{field\}/g, '');
  }

  /** Groups with rows in [start, end) (no group column: one group, or none when no rows). */
  private async groupsIn(intro: Introspection, start: number, end: number): Promise<GroupInfo[]> {
    const cfg = this.cfg;
    const ts = this.timeSql(intro.time, start, end, 0);
    if (!cfg.groupColumn) {
      const rows = await this.db.query(`SELECT 1 AS one FROM ${this.tbl} WHERE ${ts.cond} LIMIT 1`, ts.params);
      return rows.length ? [{ value: null, label: '' }] : [];
    }
    const g = this.db.quote(cfg.groupColumn);
    const rows = await this.db.query(`SELECT DISTINCT ${g} AS g FROM ${this.tbl} WHERE ${ts.cond} AND ${g} IS NOT NULL`, ts.params);
    let groups = rows.map((r) => ({ value: r.g as string | number, label: label(r.g) }));
    if (cfg.groups) groups = groups.filter((x) => cfg.groups!.some((v) => String(v) === String(x.value)));
    groups.sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
    return groups;
  }

  private async allGroups(intro: Introspection): Promise<GroupInfo[]> {
    if (this.groupCache && Date.now() - this.groupCache.at < 10_000) return this.groupCache.groups;
    const groups = await this.groupsIn(intro, 0, 32503680000);
    this.groupCache = { at: Date.now(), groups };
    return groups;
  }

  async getFields(start: number, end: number): Promise<FieldsResult> {
    return this.run(async (intro) => {
      const fields: Record<string, FieldInfo> = {};
      const timelines: Record<string, TimelineInfo> = {};
      for (const g of await this.groupsIn(intro, start, end)) {
        const tl = this.timelineName(g);
        const list = (timelines[tl] ??= { interval: this.cfg.interval, field: [] }).field;
        for (const c of this.cfg.columns) {
          const name = this.fieldName(g, c.field);
          fields[name] = { description: c.description, timeline: tl, type: intro.types.get(c.field) ?? 'number', units: c.units };
          list.push(name);
        }
      }
      return [fields, timelines];
    });
  }

  /**
   * One numeric column reduced in the database: per bucket its min and max rows (ties: earliest min,
   * latest max), or its mean at the middle of its first and last time.
   */
  private async reduced(
    timeExpr: string,
    where: string,
    params: unknown[],
    column: string,
    stride: number,
    mean: boolean,
  ): Promise<Points> {
    const W = mean ? stride : 2 * stride;
    if (!Number.isFinite(W) || W <= 0) throw new InvalidRequestError(`min_stride must be a positive number of seconds, got ${stride}`);
    const w = String(W);
    const col = this.db.quote(column);
    const inner =
      `SELECT ${timeExpr} AS t, FLOOR(${timeExpr} / ${w}) AS b, ${col} AS v FROM ${this.tbl} ` + `WHERE ${where} AND ${col} IS NOT NULL`;
    const sql = mean
      ? `SELECT (MIN(t) + MAX(t)) / 2 AS t, AVG(v) AS v FROM (${inner}) s GROUP BY b ORDER BY b LIMIT ${this.cfg.maxRows + 1}`
      : `SELECT t, v FROM (SELECT t, v, ROW_NUMBER() OVER (PARTITION BY b ORDER BY v ASC, t ASC) AS rmin,
           ROW_NUMBER() OVER (PARTITION BY b ORDER BY v DESC, t DESC) AS rmax FROM (${inner}) s) x
         WHERE rmin = 1 OR rmax = 1 ORDER BY t LIMIT ${this.cfg.maxRows + 1}`;
    const rows = await this.db.query(sql, params);
    if (rows.length > this.cfg.maxRows) {
      throw new TooLargeError(`more than max_rows (${this.cfg.maxRows}) buckets in the interval: ask for a larger min_stride`);
    }
    const t: number[] = [];
    const v: number[] = [];
    for (const r of rows) {
      const x = Number(r.v);
      if (!Number.isFinite(x)) continue;
      t.push(Number(r.t));
      v.push(x);
    }
    return { t, v };
  }

  async getData(fields: string[], start: number, end: number, minStride: number | null, options?: GetDataOptions): Promise<DataResult> {
    const result: DataResult = { data: {}, timeline: {} };
    for (const f of fields) result.data[f] = [];
    if (fields.length === 0) return result;
    return this.run(async (intro) => {
      // field name → (group, column); look the groups up again when a name is not known yet.
      const resolve = (groups: GroupInfo[]) => {
        const m = new Map<string, { group: GroupInfo | null; col: SqlConfig['columns'][number] }>();
        for (const g of groups) for (const c of this.cfg.columns) m.set(this.fieldName(g, c.field), { group: g, col: c });
        return m;
      };
      let groups = this.cfg.groupColumn ? await this.allGroups(intro) : [{ value: null, label: '' }];
      let map = resolve(groups);
      if (this.cfg.groupColumn && fields.some((f) => !map.has(f))) {
        this.groupCache = null;
        groups = await this.allGroups(intro);
        map = resolve(groups);
      }
      const byGroup = new Map<GroupInfo | null, Array<{ name: string; col: SqlConfig['columns'][number] }>>();
      for (const f of new Set(fields)) {
        const hit = map.get(f);
        if (!hit) continue;
        const list = byGroup.get(hit.group) ?? [];
        list.push({ name: f, col: hit.col });
        byGroup.set(hit.group, list);
      }
      for (const [group, list] of byGroup) {
        const ts = this.timeSql(intro.time, start, end, 0);
        const params = [...ts.params];
        let where = ts.cond;
        if (this.cfg.groupColumn && group) {
          where += ` AND ${this.db.quote(this.cfg.groupColumn)} = ${this.db.ph(params.length)}`;
          params.push(group.value);
        }
        if (minStride !== null && minStride > 0 && list.every((x) => (intro.types.get(x.col.field) ?? 'number') === 'number')) {
          const per: Points[] = [];
          for (const x of list) per.push(await this.reduced(ts.expr, where, params, x.col.column, minStride, options?.reduce === 'mean'));
          const j = joinFields(per);
          if (j.t.length === 0) continue;
          list.forEach((x, i) => (result.data[x.name] = j.columns[i] ?? []));
          result.timeline[this.timelineName(group)] = { t: j.t, finalized_until: null };
          continue;
        }
        const cols = list.map((x, i) => `${this.db.quote(x.col.column)} AS c${i}`).join(', ');
        const sql =
          `SELECT ${ts.expr} AS t, ${cols} FROM ${this.tbl} WHERE ${where} ORDER ` +
          `BY ${this.db.quote(this.cfg.timeColumn)} LIMIT ${this.cfg.maxRows + 1}`;
        const rows = await this.db.query(sql, params);
        if (rows.length > this.cfg.maxRows)
          throw new TooLargeError(`more than max_rows (${this.cfg.maxRows}) rows in the interval: ask for a shorter one or a min_stride`);
        if (rows.length === 0) continue;
        const t = rows.map((r) => Number(r.t));
        const columns = list.map((x, i) => {
          const type = intro.types.get(x.col.field) ?? 'number';
          return rows.map((r) => convert(r[`c${i}`], type));
        });
        const ds = downsampleMinMax(t, columns, minStride);
        list.forEach((x, i) => (result.data[x.name] = ds.columns[i] ?? []));
        result.timeline[this.timelineName(group)] = { t: ds.t, finalized_until: null };
      }
      return result;
    });
  }

  async close(): Promise<void> {
    await this.db.close().catch(() => {});
  }
}

function convert(v: unknown, type: FieldType): Sample {
  if (v === null || v === undefined) return null;
  if (type === 'number') {
    const n = typeof v === 'number' ? v : Number(v);
    return Number.isFinite(n) ? n : null;
  }
  if (type === 'bool') return v === true || v === 1 || v === '1' || v === 't' || v === 'true';
  if (v instanceof Date) return v.toISOString();
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  return String(v);
}
