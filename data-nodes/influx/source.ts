/**
 * An existing InfluxDB 1.x database as a sisock data source, over its HTTP API and InfluxQL
 * (`sisock node influx`): a Telegraf site's data shows up in every sisock consumer without moving it.
 *
 * Naming: one sisock field per series and field, named `<series key>.<field>` where the series key is
 * InfluxDB's own (`SHOW SERIES`): the measurement, then its tags sorted, as in line protocol:
 *
 *   cpu,cpu=cpu0,host=a.usage_idle      measurement cpu, tags cpu=cpu0 and host=a, field usage_idle
 *   weather.temperature                 measurement weather without tags, field temperature
 *
 * InfluxDB keeps field keys per measurement, so every series of a measurement lists all of its
 * fields (one a series never wrote answers []; the contract allows listing it). Each field is its own
 * timeline (same name). Types from `SHOW FIELD KEYS`: float and integer →
 * number, string → string, boolean → bool. The schema is read at start and every `refreshMs`.
 *
 * get_data: raw → `SELECT "f" FROM "m" WHERE <tags> AND time >= … AND time < …`; with min_stride s
 * → `SELECT min("f"), max("f") … GROUP BY time(2s) fill(none)`, whose answer has the bucket's start
 * as its time: the node emits the min at the bucket start and the max at its middle (both inside the
 * bucket, successive points s apart). `reduce: 'mean'` → `mean("f") … GROUP BY time(s)`. Strings and
 * booleans thin with `first()`. A raw answer of more than `maxRows` rows is refused with a message
 * asking for a min_stride (InfluxDB would otherwise send it whole).
 *
 * Credentials: env SISOCK_INFLUX_USER / SISOCK_INFLUX_PASSWORD or a `user:password@` in the URL;
 * sent as HTTP Basic, never logged and never in the node's description (`redactUrl`).
 */
import { silentLogger, type Logger } from '../../common/log';
import type {
  DataResult,
  DataSource,
  DataSourceExtras,
  FieldInfo,
  FieldsResult,
  FieldType,
  GetDataOptions,
  Sample,
  TimelineInfo,
} from '../sdk/types';
import { TooLargeError } from '../sdk';
import { redactUrl } from '../../common/redact';

export interface InfluxSourceOptions {
  url: string;
  db: string;
  rp?: string;
  user?: string;
  password?: string;
  /** only measurements matching this (default all) */
  measurements?: RegExp;
  /** most series × fields served (default 20000; the rest is logged and left out) */
  maxFields?: number;
  /** most rows of a raw answer (default 2,000,000) */
  maxRows?: number;
  refreshMs?: number;
  timeoutMs?: number;
  logger?: Logger;
}

interface FieldRef {
  measurement: string;
  tags: Array<[string, string]>;
  field: string;
  type: FieldType;
}

type Series = { name: string; columns: string[]; values: unknown[][]; tags?: Record<string, string> };

export const quoteIdent = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
export const quoteString = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** UNIX seconds → an InfluxQL time literal in ns (integer, exact to the µs). */
export function timeLiteral(t: number): string {
  const us = Math.round(t * 1e6);
  return us === 0 ? '0' : `${us}000`;
}

/** A series key `m,k=v,k2=v2` (line-protocol escaping) → measurement and tags. */
export function parseSeriesKey(key: string): { measurement: string; tags: Array<[string, string]> } {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < key.length; i++) {
    const c = key[i] ?? '';
    if (c === '\\' && i + 1 < key.length) {
      cur += key[i + 1];
      i++;
      continue;
    }
    if (c === ',') {
      parts.push(cur);
      cur = '';
      continue;
    }
    cur += c;
  }
  parts.push(cur);
  const [measurement = '', ...rest] = parts;
  // tag values were split on unescaped "=": the first "=" of each part separates key and value
  const tags = rest.map((p): [string, string] => {
    const i = p.indexOf('=');
    return [p.slice(0, i), p.slice(i + 1)];
  });
  return { measurement, tags };
}

function typeOf(influxType: string): FieldType {
  if (influxType === 'string') return 'string';
  if (influxType === 'boolean') return 'bool';
  return 'number';
}

export class InfluxSource implements DataSource, DataSourceExtras {
  private readonly queryUrl: string;
  private readonly headers: Record<string, string> = {};
  private fields = new Map<string, FieldRef>();
  private loaded: Promise<void> | null = null;
  private loadedAt = 0;
  private readonly log: Logger;
  readonly label: string;

  constructor(readonly o: InfluxSourceOptions) {
    const u = new URL(o.url);
    const user = o.user ?? (u.username ? decodeURIComponent(u.username) : undefined);
    const password = o.password ?? (u.password ? decodeURIComponent(u.password) : undefined);
    u.username = '';
    u.password = '';
    this.queryUrl = `${u.toString().replace(/\/$/, '')}/query`;
    if (user !== undefined) this.headers.authorization = `Basic ${Buffer.from(`${user}:${password ?? ''}`).toString('base64')}`;
    this.label = `${redactUrl(o.url)} db ${o.db}`;
    this.log = o.logger ?? silentLogger;
  }

  private from(m: string): string {
    return this.o.rp ? `${quoteIdent(this.o.db)}.${quoteIdent(this.o.rp)}.${quoteIdent(m)}` : quoteIdent(m);
  }

  /** One InfluxQL statement → its series (throws on an error answer). */
  async query(q: string): Promise<Series[]> {
    const body = new URLSearchParams({ q, db: this.o.db, epoch: 'u' });
    let r: Response;
    try {
      r = await fetch(this.queryUrl, {
        method: 'POST',
        body,
        headers: this.headers,
        signal: AbortSignal.timeout(this.o.timeoutMs ?? 60000),
      });
    } catch (e) {
      throw new Error(
        `InfluxDB ${this.label} unreachable: ${(e as Error & { cause?: { code?: string } }).cause?.code ?? (e as Error).message}`,
      );
    }
    const text = await r.text();
    let j: { results?: Array<{ series?: Series[]; error?: string }>; error?: string };
    try {
      j = JSON.parse(text) as typeof j;
    } catch {
      throw new Error(`InfluxDB ${this.label} answered ${r.status} without JSON`);
    }
    const err = j.error ?? j.results?.[0]?.error;
    if (!r.ok || err) throw new Error(`InfluxDB ${this.label}: ${r.status} ${err ?? ''}`);
    return j.results?.[0]?.series ?? [];
  }

  private async schema(): Promise<void> {
    if (this.loaded && Date.now() - this.loadedAt < (this.o.refreshMs ?? 60000)) return this.loaded;
    this.loadedAt = Date.now();
    this.loaded = (async () => {
      const types = new Map<string, Array<[string, string]>>();
      for (const s of await this.query('SHOW FIELD KEYS')) {
        if (this.o.measurements && !this.o.measurements.test(s.name)) continue;
        types.set(
          s.name,
          s.values.map((v) => [String(v[0]), String(v[1])]),
        );
      }
      const fields = new Map<string, FieldRef>();
      const max = this.o.maxFields ?? 20000;
      let cut = false;
      const add = (series: Series[], limit: number): void => {
        // InfluxDB gave as many series as asked: there may be more (some without fields the kept
        // measurements list), so say the list was cut even if the field count stays under max
        if (series.reduce((k, s) => k + s.values.length, 0) >= limit) cut = true;
        for (const s of series) {
          for (const v of s.values) {
            const key = String(v[0]);
            const { measurement, tags } = parseSeriesKey(key);
            for (const [field, t] of types.get(measurement) ?? []) {
              if (fields.size >= max) cut = true;
              else fields.set(`${key}.${field}`, { measurement, tags, field, type: typeOf(t) });
            }
          }
        }
      };
      // Every series has at least one field, so more than `max` series can never be served: InfluxDB is asked
      // for at most max + 1 (a database with millions of series is never read whole). With a measurement
      // filter, per kept measurement, so other measurements' series do not use up the limit.
      if (!this.o.measurements) add(await this.query(`SHOW SERIES LIMIT ${max + 1}`), max + 1);
      else
        for (const m of types.keys()) {
          if (fields.size >= max) {
            cut = true;
            break;
          }
          add(await this.query(`SHOW SERIES FROM ${quoteIdent(m)} LIMIT ${max - fields.size + 1}`), max - fields.size + 1);
        }
      if (cut) this.log.warn({ maxFields: max }, 'more series × fields than --max-fields; the rest is not served');
      this.fields = fields;
    })().catch((e: unknown) => {
      this.loaded = null;
      throw e;
    });
    return this.loaded;
  }

  async getFields(): Promise<FieldsResult> {
    await this.schema();
    const f: Record<string, FieldInfo> = {};
    const tl: Record<string, TimelineInfo> = {};
    for (const [name, ref] of this.fields) {
      f[name] = {
        description: `${ref.measurement} ${ref.field}${ref.tags.length ? ` (${ref.tags.map(([k, v]) => `${k}=${v}`).join(', ')})` : ''}`,
        timeline: name,
        type: ref.type,
        units: null,
      };
      tl[name] = { interval: null, field: [name] };
    }
    return [f, tl];
  }

  /** The InfluxQL of one field's read (exported for tests and the bench). */
  statement(ref: FieldRef, start: number, end: number, minStride: number | null, reduce: 'minmax' | 'mean' = 'minmax'): string {
    const where = [
      ...ref.tags.map(([k, v]) => `${quoteIdent(k)} = ${quoteString(v)}`),
      `time >= ${timeLiteral(start)}`,
      `time < ${timeLiteral(end)}`,
    ].join(' AND ');
    const f = quoteIdent(ref.field);
    const from = this.from(ref.measurement);
    if (minStride === null) return `SELECT ${f} FROM ${from} WHERE ${where} LIMIT ${(this.o.maxRows ?? 2_000_000) + 1}`;
    const us = (s: number) => `${Math.max(1, Math.round(s * 1e6))}u`;
    if (ref.type !== 'number') return `SELECT first(${f}) FROM ${from} WHERE ${where} GROUP BY time(${us(minStride)}) fill(none)`;
    if (reduce === 'mean') return `SELECT mean(${f}) FROM ${from} WHERE ${where} GROUP BY time(${us(minStride)}) fill(none)`;
    return `SELECT min(${f}), max(${f}) FROM ${from} WHERE ${where} GROUP BY time(${us(2 * minStride)}) fill(none)`;
  }

  async getData(fields: string[], start: number, end: number, minStride: number | null, options?: GetDataOptions): Promise<DataResult> {
    await this.schema();
    const out: DataResult = { data: {}, timeline: {} };
    const reduce = options?.reduce ?? 'minmax';
    await Promise.all(
      fields.map(async (name) => {
        out.data[name] = [];
        const ref = this.fields.get(name);
        if (!ref) return;
        const rows = (await this.query(this.statement(ref, start, end, minStride, reduce)))[0]?.values ?? [];
        if (minStride === null && rows.length > (this.o.maxRows ?? 2_000_000)) {
          throw new TooLargeError(`${name}: more than ${this.o.maxRows ?? 2_000_000} samples in the range; ask with a min_stride`);
        }
        const t: number[] = [];
        const v: Sample[] = [];
        const twoPoints = minStride !== null && ref.type === 'number' && reduce === 'minmax';
        for (const row of rows) {
          const bt = Number(row[0]) / 1e6;
          if (twoPoints) {
            const mn = row[1] as number | null;
            const mx = row[2] as number | null;
            if (mn === null || mx === null) continue;
            t.push(Math.max(bt, start));
            v.push(mn);
            if (mx !== mn) {
              t.push(Math.min(Math.max(bt + (minStride ?? 0), start), end - 1e-6));
              v.push(mx);
            }
          } else {
            t.push(Math.max(bt, start));
            v.push((row[1] ?? null) as Sample);
          }
        }
        out.data[name] = v;
        if (t.length) out.timeline[name] = { t, finalized_until: null };
      }),
    );
    return out;
  }

  async newestSample(): Promise<number | null> {
    return null;
  }
}
