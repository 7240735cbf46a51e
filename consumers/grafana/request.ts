/**
 * Parsing and validation of what Grafana sends, for both plugins:
 *
 *  - grafana-simple-json-datasource 1.4: `/search {target}`, `/query {range, rangeRaw, interval,
 *    intervalMs, maxDataPoints, targets: [{target, refId, type: "timeserie"|"table", hide, data}],
 *    adhocFilters}`, `/annotations {range, rangeRaw, annotation: {name, query, …}}`,
 *    `/tag-keys {}`, `/tag-values {key}`;
 *  - simPod JSON datasource ≤ 0.6 (openapi.yaml): `/metrics {metric, payload}`,
 *    `/metric-payload-options {metric, payload, name}`, `/query` with `targets[].payload`,
 *    `type: "timeseries"` or none, `filters`, `/variable {payload: {target}, range}`.
 *
 * Lenient where Grafana varies (unknown extra fields ignored, payload as object or JSON string,
 * times as ISO strings, epoch ms or `now-1h`), strict where a wrong answer would follow (missing or
 * reversed range, absurd spans, malformed targets, too many targets): those throw HttpError 400
 * with a message Grafana shows on the panel.
 */
import { badRequest } from './errors';
import { compileGlob, compileRegex } from './pattern';

export type TargetFormat = 'timeseries' | 'table';

export interface AdhocFilter {
  key: string;
  operator: string;
  value: string;
}

/** A target as asked for, before the field catalogue expands patterns. */
export interface ParsedTarget {
  /** The target string as sent (trimmed). */
  target: string;
  refId?: string;
  format: TargetFormat;
  /** `events`: the node added/removed events the bridge saw (annotations); else a field. */
  kind: 'field' | 'events';
  /** For kind `field`: node and field, either may be a glob (`*`, `?`, `{a,b}`). */
  node: string;
  field: string;
  /** Per-target extras from `payload` (simPod) or `data` (simple-json 1.4). */
  payload: Record<string, unknown>;
  /** Per-target point budget (payload.maxDataPoints), else the request's. */
  maxDataPoints?: number;
  /** payload.annotations: answer the field's value changes as an annotation table. */
  annotations: boolean;
}

/** Time range in epoch milliseconds, [from, to). */
export interface MsRange {
  from: number;
  to: number;
}

export interface ParsedQuery {
  range: MsRange;
  /** Point budget per series. */
  maxDataPoints: number;
  targets: ParsedTarget[];
  filters: AdhocFilter[];
}

export interface RequestLimits {
  /** Most targets in one /query (more → 400). */
  maxTargets: number;
  /** Longest range, ms (longer → 400). */
  maxSpanMs: number;
  /** maxDataPoints is clamped to this. */
  maxPointsCap: number;
  /** When the request gives neither maxDataPoints nor intervalMs. */
  defaultMaxDataPoints: number;
}

export const DEFAULT_LIMITS: RequestLimits = {
  maxTargets: 1000,
  maxSpanMs: 20 * 366 * 86400e3,
  maxPointsCap: 1_000_000,
  defaultMaxDataPoints: 1000,
};

const UNITS_MS: Record<string, number> = {
  ms: 1,
  s: 1e3,
  m: 60e3,
  h: 3600e3,
  d: 86400e3,
  w: 7 * 86400e3,
  M: 30 * 86400e3,
  y: 365 * 86400e3,
};

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
}

/**
 * A time as Grafana or a person sends it, to epoch ms: ISO 8601 string, epoch ms (number or
 * numeric string), `now`, `now-6h`, `now+1d` (units ms s m h d w M y).
 */
export function parseTime(v: unknown, nowMs: number, what: string): number {
  if (typeof v === 'number') {
    if (Number.isFinite(v)) return v;
  } else if (typeof v === 'string') {
    const s = v.trim();
    if (/^-?\d+(\.\d+)?$/.test(s)) return Number(s);
    const rel = /^now(?:\s*([+-])\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w|M|y))?$/.exec(s);
    if (rel) {
      const [, sign, amount, unit = ''] = rel;
      const unitMs = UNITS_MS[unit];
      return sign && unitMs !== undefined ? nowMs + (sign === '-' ? -1 : 1) * Number(amount) * unitMs : nowMs;
    }
    if (/^\d{4}-\d{2}-\d{2}/.test(s)) {
      const ms = Date.parse(s);
      if (Number.isFinite(ms)) return ms;
    }
  }
  throw badRequest(`${what} must be an ISO 8601 time, epoch milliseconds or now-<n><unit>; got ${show(v)}`);
}

/** `range` (with `raw` or `rangeRaw` as fallbacks) → checked epoch-ms range. */
export function parseRange(body: Record<string, unknown>, nowMs: number, limits: RequestLimits = DEFAULT_LIMITS): MsRange {
  const range = body.range;
  const raw = isObject(range) && isObject(range.raw) ? range.raw : isObject(body.rangeRaw) ? body.rangeRaw : undefined;
  if (!isObject(range) && !raw) throw badRequest('missing range: the body needs range.from and range.to (ISO 8601 or epoch ms)');
  const pick = (k: 'from' | 'to') => {
    const v = isObject(range) ? range[k] : undefined;
    if (v !== undefined && v !== null && v !== '') return parseTime(v, nowMs, `range.${k}`);
    const r = raw?.[k];
    if (r !== undefined && r !== null && r !== '') return parseTime(r, nowMs, `range.raw.${k}`);
    throw badRequest(`missing range.${k}`);
  };
  const from = pick('from');
  const to = pick('to');
  if (!(to > from)) throw badRequest(`range is empty or reversed: from ${iso(from)} is not before to ${iso(to)}`);
  if (to - from > limits.maxSpanMs) {
    throw badRequest(
      `range too long: ${((to - from) / 86400e3 / 365.25).toFixed(1)} ` +
        `years (at most ${(limits.maxSpanMs / 86400e3 / 365.25).toFixed(1)})`,
    );
  }
  return { from, to };
}

function iso(ms: number): string {
  const d = new Date(ms);
  return Number.isFinite(d.getTime()) ? d.toISOString() : String(ms);
}

function positiveNumber(v: unknown, what: string): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0) throw badRequest(`${what} must be a positive number; got ${show(v)}`);
  return n;
}

/** `payload` (simPod, object or JSON text) or `data` (simple-json 1.4) → an object. */
export function parsePayload(t: Record<string, unknown>): Record<string, unknown> {
  for (const key of ['payload', 'data'] as const) {
    const p = t[key];
    if (isObject(p)) return p;
    if (typeof p === 'string' && p.trim() !== '') {
      try {
        const parsed: unknown = JSON.parse(p);
        if (isObject(parsed)) return parsed;
      } catch {
        /* not JSON: ignored, as Grafana does */
      }
    }
  }
  return {};
}

/** Splits `<node>::<field>`; 400 when it is not of that form. */
export function splitTarget(target: string): { node: string; field: string } {
  const i = target.indexOf('::');
  const node = i < 0 ? '' : target.slice(0, i).trim();
  const field = i < 0 ? '' : target.slice(i + 2).trim();
  if (!node || !field) throw badRequest(`target ${show(target)} is not <node>::<field> (e.g. sim::sensor_temperature)`);
  return { node, field };
}

function parseTarget(t: unknown, i: number, limits: RequestLimits): ParsedTarget | null {
  if (!isObject(t)) throw badRequest(`targets[${i}] must be an object with a "target"`);
  if (t.hide === true) return null;
  // Grafana sends placeholder queries (no metric picked yet) without a target: skipped.
  if (t.target === undefined || t.target === null || t.target === '') return null;
  if (typeof t.target !== 'string') throw badRequest(`targets[${i}].target must be a string; got ${show(t.target)}`);
  const target = t.target.trim();
  const payload = parsePayload(t);
  const format: TargetFormat = t.type === 'table' || payload.format === 'table' ? 'table' : 'timeseries';
  const refId = typeof t.refId === 'string' ? t.refId : undefined;
  let maxDataPoints: number | undefined;
  const mdp = positiveNumber(payload.maxDataPoints, `targets[${i}].payload.maxDataPoints`);
  if (mdp !== undefined) maxDataPoints = Math.min(Math.floor(mdp) || 1, limits.maxPointsCap);
  const annotations = payload.annotations === true;
  if (target === 'events')
    return { target, refId, format: 'table', kind: 'events', node: '', field: '', payload, maxDataPoints, annotations: true };
  const { node, field } = splitTarget(target);
  return { target, refId, format: annotations ? 'table' : format, kind: 'field', node, field, payload, maxDataPoints, annotations };
}

/** `adhocFilters` (simple-json) or `filters` (simPod); malformed entries are ignored. */
export function parseFilters(body: Record<string, unknown>): AdhocFilter[] {
  const list = Array.isArray(body.adhocFilters) ? body.adhocFilters : Array.isArray(body.filters) ? body.filters : [];
  const out: AdhocFilter[] = [];
  for (const f of list) {
    if (!isObject(f) || typeof f.key !== 'string') continue;
    out.push({
      key: f.key,
      operator: typeof f.operator === 'string' ? f.operator : '=',
      value: f.value === undefined || f.value === null ? '' : String(f.value),
    });
  }
  return out;
}

/** A /query body → ParsedQuery (hidden and placeholder targets dropped). */
export function parseQueryRequest(body: unknown, nowMs: number, limits: RequestLimits = DEFAULT_LIMITS): ParsedQuery {
  if (!isObject(body)) throw badRequest('the body must be a JSON object');
  const targetsIn = body.targets;
  if (targetsIn !== undefined && !Array.isArray(targetsIn)) throw badRequest('targets must be an array');
  const list = (targetsIn ?? []) as unknown[];
  if (list.length > limits.maxTargets) throw badRequest(`too many targets: ${list.length} (at most ${limits.maxTargets} per query)`);
  const range = parseRange(body, nowMs, limits);
  const span = range.to - range.from;
  const mdp = positiveNumber(body.maxDataPoints, 'maxDataPoints');
  const intervalMs = positiveNumber(body.intervalMs, 'intervalMs');
  let maxDataPoints = mdp !== undefined ? Math.floor(mdp) || 1 : limits.defaultMaxDataPoints;
  // Grafana's interval honours the panel's "min interval": no more points than span / interval.
  if (intervalMs !== undefined) {
    const byInterval = Math.max(1, Math.ceil(span / intervalMs));
    maxDataPoints = mdp !== undefined ? Math.min(maxDataPoints, byInterval) : Math.min(byInterval, limits.maxPointsCap);
  }
  maxDataPoints = Math.min(maxDataPoints, limits.maxPointsCap);
  const targets: ParsedTarget[] = [];
  list.forEach((t, i) => {
    const p = parseTarget(t, i, limits);
    if (p) targets.push(p);
  });
  return { range, maxDataPoints, targets, filters: parseFilters(body) };
}

/** /search (simple-json `{target}`, simPod `{type, target}`) and /variable (`{payload: {target}}`). */
export function parseSearchTarget(body: unknown): string {
  if (!isObject(body)) return '';
  if (typeof body.target === 'string') return body.target.trim();
  const p = body.payload;
  if (isObject(p) && typeof p.target === 'string') return p.target.trim();
  if (typeof p === 'string') {
    try {
      const parsed: unknown = JSON.parse(p);
      if (isObject(parsed) && typeof parsed.target === 'string') return parsed.target.trim();
    } catch {
      /* plain text query */
    }
    return p.trim();
  }
  return '';
}

export interface AnnotationRequest {
  range: MsRange;
  /** `annotation.query`: '' or `events` → node events; else `<node>::<field>`. */
  query: string;
  /** The annotation object as sent (echoed back in simple-json answers). */
  annotation: Record<string, unknown>;
}

export function parseAnnotationRequest(body: unknown, nowMs: number, limits: RequestLimits = DEFAULT_LIMITS): AnnotationRequest {
  if (!isObject(body)) throw badRequest('the body must be a JSON object');
  const range = parseRange(body, nowMs, limits);
  const annotation = isObject(body.annotation) ? body.annotation : {};
  const query = typeof annotation.query === 'string' ? annotation.query.trim() : '';
  return { range, query, annotation };
}

/** /tag-values: `{key}` is required. */
export function parseTagValuesRequest(body: unknown): string {
  if (!isObject(body) || typeof body.key !== 'string' || body.key === '') throw badRequest('tag-values needs {"key": …}');
  return body.key;
}

/**
 * A glob (`*`, `?`, `{a,b}` — what Grafana makes of multi-value variables in "glob" format) or a
 * plain name → a matcher. Plain names match exactly. Globs are matched in linear time
 * (pattern.ts: no backtracking regex); longer than MAX_GLOB_LENGTH → 400.
 */
export function globMatcher(pattern: string): { literal: boolean; test(s: string): boolean } {
  if (!/[*?{]/.test(pattern)) return { literal: true, test: (s) => s === pattern };
  return { literal: false, test: compileGlob(pattern) };
}

type FieldPredicate = (node: string, field: string) => boolean;

/**
 * Ad hoc filters (keys `node` and `field`; others ignored) → one predicate, compiled once.
 * Operators: `=`, `!=`, `<`, `>` (string comparison), `=~` / `!~` (JavaScript regular expression,
 * unanchored, matched in linear time by pattern.ts: at most MAX_REGEX_LENGTH characters, no
 * backreferences or lookarounds; else 400).
 */
export function compileFilters(filters: AdhocFilter[]): FieldPredicate {
  const checks: FieldPredicate[] = [];
  for (const f of filters) {
    const pick = f.key === 'node' ? (n: string) => n : f.key === 'field' ? (_n: string, fl: string) => fl : null;
    if (!pick) continue;
    const v = f.value;
    switch (f.operator) {
      case '!=':
        checks.push((n, fl) => pick(n, fl) !== v);
        break;
      case '=~':
      case '!~': {
        const test = compileRegex(v, `ad hoc filter ${f.key} ${f.operator} ${show(v)}`);
        const want = f.operator === '=~';
        checks.push((n, fl) => test(pick(n, fl)) === want);
        break;
      }
      case '<':
        checks.push((n, fl) => pick(n, fl) < v);
        break;
      case '>':
        checks.push((n, fl) => pick(n, fl) > v);
        break;
      default:
        checks.push((n, fl) => pick(n, fl) === v);
    }
  }
  return (node, field) => checks.every((c) => c(node, field));
}

/** Does an ad hoc filter (see compileFilters) let this field through? */
export function filterAllows(filters: AdhocFilter[], node: string, field: string): boolean {
  return compileFilters(filters)(node, field);
}
