/**
 * Endpoints shaped for Grafana's Infinity datasource (yesoreyeram-infinity-datasource) and its
 * backend parser, so that alerting, recorded queries and public dashboards work (docs/grafana.md):
 *
 *   GET|POST /infinity/query    target=<node>::<field> (repeat it, or comma-separate; globs as /query),
 *                               from, to (epoch ms as Grafana's ${__from}/${__to}, ISO 8601, now-6h),
 *                               maxDataPoints or interval_ms (${__interval_ms}) or interval (${__interval}),
 *                               shape=wide|long, format=json|csv, time=ms|iso
 *     wide: [{time, "<node>::<field>": value, …}] — one row per timestamp, null where a field has none
 *     long: [{time, node, field, value}] sorted by time (Grafana turns node and field into labels)
 *   GET /infinity/nodes         [{node, description}]                    ($node variable)
 *   GET /infinity/fields        ?node=<glob> → [{node, field, target, type, units, description}]  ($field)
 *   GET /infinity/events        ?from&to → [{time, title, text, node, kind, tags}]  (annotations)
 *
 * Parameters come from the query string and, for POST, from a JSON body (the body wins). The data go
 * through the same QueryEngine as /query (one get_data per node, node-side min_stride, min/max
 * buckets); only the shape differs. Bad input is a 4xx `{message}` saying what to send instead.
 */
import type { Request } from 'express';
import type { FieldCatalogue } from './catalogue';
import type { HistoryFallback } from './history';
import { badRequest } from './errors';
import type { QueryEngine, QueryResult, TimeSeriesResult } from './query';
import { globMatcher, parseTime, splitTarget, type MsRange, type ParsedQuery, type ParsedTarget, type RequestLimits } from './request';
import type { Sample } from '../../client/data';

export type InfinityShape = 'wide' | 'long';
export type InfinityFormat = 'json' | 'csv';

export interface InfinityRequest {
  query: ParsedQuery;
  shape: InfinityShape;
  format: InfinityFormat;
  time: 'ms' | 'iso';
}

/** The answer: a body and its content type. */
export interface InfinityAnswer {
  contentType: string;
  body: string;
}

type Params = Record<string, unknown>;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 };

function isObject(v: unknown): v is Params {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
}

/** Query string and JSON body, merged (body wins). */
export function infinityParams(req: Request): Params {
  const out: Params = { ...(req.query as Params) };
  if (req.method === 'POST' && isObject(req.body)) Object.assign(out, req.body);
  return out;
}

/** One parameter as a single string (the first, when repeated); undefined when absent or empty. */
function one(p: Params, ...keys: string[]): string | undefined {
  for (const k of keys) {
    let v = p[k];
    if (Array.isArray(v)) v = v[0];
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    if (typeof v === 'string' && v.trim() !== '') return v.trim();
    if (v !== undefined && v !== null && v !== '') throw badRequest(`${k} must be a string or a number; got ${show(v)}`);
  }
  return undefined;
}

/** Grafana did not expand a macro or variable: the request says `${__from}` literally. */
function unexpanded(v: string): boolean {
  return /\$\{?_*[A-Za-z]/.test(v);
}

function refuseMacro(name: string, v: string, instead: string): void {
  if (unexpanded(v)) {
    throw badRequest(
      `${name} is ${show(v)}, a Grafana macro nobody expanded: put it in the Infinity query's URL or body ` +
        `(Grafana expands it there) or send ${instead}`,
    );
  }
}

/** Comma-separated lists split at top level only: `sim::{a,b},w::t` → [`sim::{a,b}`, `w::t`]. */
export function splitTargets(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '{') depth++;
    else if (ch === '}') depth = Math.max(0, depth - 1);
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((x) => x.trim()).filter((x) => x !== '');
}

function targetsOf(p: Params, limits: RequestLimits): string[] {
  const raw = p.target ?? p.targets;
  const list = Array.isArray(raw) ? raw : raw === undefined || raw === null ? [] : [raw];
  const out: string[] = [];
  for (const v of list) {
    if (typeof v !== 'string') throw badRequest(`target must be a string like sim::sensor_temperature; got ${show(v)}`);
    refuseMacro('target', v, 'a target like sim::sensor_temperature (a multi-value variable as ${field:csv} or ${field:glob})');
    out.push(...splitTargets(v));
  }
  if (out.length === 0)
    throw badRequest('missing target: send target=<node>::<field> (e.g. target=sim::sensor_temperature; globs allowed)');
  if (out.length > limits.maxTargets)
    throw badRequest(`too many targets: ${out.length} (at most ${limits.maxTargets}); use a glob such as sim::*`);
  return out;
}

function timeOf(p: Params, key: 'from' | 'to', nowMs: number): number {
  const v = one(p, key);
  const macro = key === 'from' ? '${__from}' : '${__to}';
  if (v === undefined) throw badRequest(`missing ${key}: send ${key}=${macro} in the Infinity URL (epoch ms), an ISO 8601 time or now-6h`);
  refuseMacro(key, v, `epoch milliseconds, an ISO 8601 time or now-6h`);
  return parseTime(v, nowMs, key);
}

/** `10s`, `1m`, `500ms`, `1h`, or plain milliseconds → ms. */
function intervalMs(v: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(v);
  const ms = m ? Number(m[1]) * (UNIT_MS[m[2] ?? 'ms'] ?? 1) : NaN;
  if (!(ms > 0) || !Number.isFinite(ms))
    throw badRequest(`${what} must be a positive duration such as 10s, 1m or 500 (ms); got ${show(v)}`);
  return ms;
}

/** The parameters of /infinity/query → a ParsedQuery for the engine, plus the answer's shape. */
export function parseInfinityRequest(p: Params, nowMs: number, limits: RequestLimits): InfinityRequest {
  const targets = targetsOf(p, limits);
  const from = timeOf(p, 'from', nowMs);
  const to = timeOf(p, 'to', nowMs);
  if (!(to > from)) throw badRequest(`the range is empty or reversed: from ${from} is not before to ${to} (epoch ms)`);
  if (to - from > limits.maxSpanMs) throw badRequest(`the range is too long: at most ${Math.floor(limits.maxSpanMs / 86400e3)} days`);
  if (Math.abs(from) < 1e11 && Math.abs(to) < 1e11 && one(p, 'from')?.match(/^\d+$/) && one(p, 'to')?.match(/^\d+$/)) {
    // 1e11 ms is 1973: two plain numbers this small are epoch seconds (${__from:date:seconds})
    throw badRequest(`from ${from} and to ${to} look like epoch seconds: send milliseconds (\${__from}, \${__to}) or ISO 8601 times`);
  }
  const range: MsRange = { from, to };

  const mdpRaw = one(p, 'maxDataPoints', 'max_data_points');
  const ivMsRaw = one(p, 'interval_ms', 'intervalMs');
  const ivRaw = one(p, 'interval');
  for (const [k, v] of [
    ['maxDataPoints', mdpRaw],
    ['interval_ms', ivMsRaw],
    ['interval', ivRaw],
  ] as const) {
    if (v !== undefined) refuseMacro(k, v, 'a number');
  }
  let maxDataPoints = limits.defaultMaxDataPoints;
  if (mdpRaw !== undefined) {
    const n = Number(mdpRaw);
    if (!Number.isFinite(n) || n < 1)
      throw badRequest(`maxDataPoints must be a positive integer such as 1000 (\${__maxDataPoints}); got ${show(mdpRaw)}`);
    if (n > limits.maxPointsCap)
      throw badRequest(`maxDataPoints ${mdpRaw} is more than ${limits.maxPointsCap}: send at most ${limits.maxPointsCap}`);
    maxDataPoints = Math.floor(n);
  }
  const iv = ivMsRaw !== undefined ? intervalMs(ivMsRaw, 'interval_ms') : ivRaw !== undefined ? intervalMs(ivRaw, 'interval') : undefined;
  if (iv !== undefined) {
    const byInterval = Math.max(1, Math.ceil((to - from) / iv));
    if (mdpRaw === undefined && byInterval > limits.maxPointsCap) {
      throw badRequest(
        `interval ${iv} ms over this range asks for ${byInterval} points (at most ${limits.maxPointsCap}): send a longer interval`,
      );
    }
    maxDataPoints = mdpRaw === undefined ? byInterval : Math.min(maxDataPoints, byInterval);
  }

  const shape = (one(p, 'shape') ?? 'wide').toLowerCase();
  if (shape !== 'wide' && shape !== 'long')
    throw badRequest(`shape must be wide (a time column and one column per field) or long (time, node, field, value); got ${show(shape)}`);
  const format = (one(p, 'format') ?? 'json').toLowerCase();
  if (format !== 'json' && format !== 'csv') throw badRequest(`format must be json or csv; got ${show(format)}`);
  const time = (one(p, 'time') ?? 'ms').toLowerCase();
  if (time !== 'ms' && time !== 'iso') throw badRequest(`time must be ms (epoch milliseconds) or iso (ISO 8601); got ${show(time)}`);

  const parsed: ParsedTarget[] = targets.map((target) => {
    const { node, field } = splitTarget(target);
    return { target, format: 'timeseries', kind: 'field', node, field, payload: {}, annotations: false };
  });
  return { query: { range, maxDataPoints, targets: parsed, filters: [] }, shape, format, time };
}

/** The series of an engine answer (the Infinity endpoints ask only for time series). */
function seriesOf(results: QueryResult[]): TimeSeriesResult[] {
  return results.filter((r): r is TimeSeriesResult => !('type' in r) && r.error === undefined);
}

/** Every timestamp of the series, ascending, once. */
function unionTimes(series: TimeSeriesResult[]): number[] {
  const all: number[] = [];
  for (const s of series) for (const p of s.datapoints) all.push(p[1]);
  all.sort((a, b) => a - b);
  const out: number[] = [];
  for (const t of all) if (out.length === 0 || out[out.length - 1] !== t) out.push(t);
  return out;
}

/** Wide table: header and rows, each row [time, value per series] (null where a series has no sample). */
export function wideRows(series: TimeSeriesResult[]): { header: string[]; rows: Sample[][] } {
  const times = unionTimes(series);
  const rows: Sample[][] = times.map((t) => {
    const row: Sample[] = new Array(series.length + 1).fill(null);
    row[0] = t;
    return row;
  });
  series.forEach((s, k) => {
    let i = 0;
    for (const [v, t] of s.datapoints) {
      while (i < times.length && (times[i] ?? Infinity) < t) i++;
      const row = rows[i];
      if (row) row[k + 1] = v;
    }
  });
  return { header: ['time', ...series.map((s) => s.target)], rows };
}

/** Long table rows [time, node, field, value], ascending in time (stable: series order within a time). */
export function longRows(series: TimeSeriesResult[]): Sample[][] {
  const rows: Sample[][] = [];
  for (const s of series) {
    const { node, field } = splitTarget(s.target);
    for (const [v, t] of s.datapoints) rows.push([t, node, field, v]);
  }
  return rows.sort((a, b) => (a[0] as number) - (b[0] as number));
}

function csvCell(v: Sample): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Rows (first cell a time in ms) → the requested body. */
export function renderTable(header: string[], rows: Sample[][], format: InfinityFormat, time: 'ms' | 'iso'): InfinityAnswer {
  const t = (ms: Sample): Sample => (time === 'iso' && typeof ms === 'number' ? new Date(ms).toISOString() : ms);
  if (format === 'csv') {
    const lines = [header.map(csvCell).join(',')];
    for (const r of rows) lines.push(r.map((c, i) => csvCell(i === 0 ? t(c) : c)).join(','));
    return { contentType: 'text/csv; charset=utf-8', body: `${lines.join('\n')}\n` };
  }
  const objs = rows.map((r) => {
    const o: Record<string, Sample> = {};
    header.forEach((h, i) => {
      o[h] = i === 0 ? t(r[i] ?? null) : (r[i] ?? null);
    });
    return o;
  });
  return { contentType: 'application/json; charset=utf-8', body: JSON.stringify(objs) };
}

/** /infinity/query: parse, ask the engine (strict: any failure is the answer's status), shape. */
export async function infinityQuery(engine: QueryEngine, p: Params, nowMs: number, limits: RequestLimits): Promise<InfinityAnswer> {
  const r = parseInfinityRequest(p, nowMs, limits);
  const series = seriesOf(await engine.query(r.query, { strict: true }));
  if (r.shape === 'long') return renderTable(['time', 'node', 'field', 'value'], longRows(series), r.format, r.time);
  const { header, rows } = wideRows(series);
  return renderTable(header, rows, r.format, r.time);
}

/**
 * /infinity/fields: every field of the nodes matching `node` (a glob; default all), then, with a
 * history fallback, the fields the historian holds of matching nodes that are offline.
 */
export async function infinityFields(
  catalogue: FieldCatalogue,
  p: Params,
  history?: HistoryFallback,
): Promise<Array<Record<string, unknown>>> {
  const pattern = one(p, 'node') ?? '*';
  refuseMacro('node', pattern, 'a node name or a glob such as {sim,weather}');
  const rows: Array<Record<string, unknown>> = [];
  const nodes = await catalogue.all();
  const names = new Set(nodes.map((n) => n.name));
  const wanted = new Set(pattern === '*' ? names : splitTargets(pattern).flatMap((x) => [...names].filter((n) => globMatcher(x).test(n))));
  for (const n of nodes) {
    if (!wanted.has(n.name)) continue;
    for (const [field, info] of Object.entries(n.fields ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
      rows.push({
        node: n.name,
        field,
        target: `${n.name}::${field}`,
        type: info.type ?? 'number',
        units: info.units ?? '',
        description: info.description ?? '',
      });
    }
  }
  if (history) {
    const want = splitTargets(pattern).map((x) => globMatcher(x));
    for (const x of await history.offlineFields(names)) {
      if (pattern !== '*' && !want.some((m) => m.test(x.node))) continue;
      rows.push({
        node: x.node,
        field: x.field,
        target: `${x.node}::${x.field}`,
        type: x.info.type ?? 'number',
        units: x.info.units ?? '',
        description: x.info.description ?? '',
      });
    }
  }
  return rows;
}
