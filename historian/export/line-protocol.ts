/**
 * InfluxDB line protocol (1.x, 2.x, 3.x; VictoriaMetrics reads the same):
 *
 *   <measurement>[,<tag>=<value>…] <field>=<value>[,<field>=<value>…] <timestamp>
 *
 * Escaping: measurement escapes `,` and space; tag keys, tag values and field keys escape `,`, `=`
 * and space; string field values are double-quoted with `"` and `\` escaped. Field types: float
 * (`1.5`, `1e+300`), integer (`12i`), string (`"…"`), boolean (`true`/`false`).
 *
 * InfluxDB's rules, checked here before anything is written (a refused point names its reason and
 * goes to the dead-letter file, it never reaches the database):
 *   - names are non-empty, at most 64 KiB, valid UTF-8 without control characters (no newline);
 *   - a measurement, tag key or field key does not start with `_` (reserved by InfluxDB 2.x) and a
 *     tag or field key is not `time` (refused by 1.x);
 *   - a float is finite (no NaN, no ±Infinity: line protocol has no spelling for them); an integer
 *     is a safe integer (±2^53: JS numbers cannot hold InfluxDB's full int64 exactly);
 *   - a string value is at most 64 KiB (InfluxDB's limit);
 *   - a point has at least one field; tag values are non-empty (InfluxDB drops empty tags).
 */

export type FieldValue =
  | { kind: 'float'; value: number }
  | { kind: 'integer'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'bool'; value: boolean };

export type FieldKind = FieldValue['kind'];

export interface Point {
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, FieldValue>;
  /** UNIX seconds (float). */
  t: number;
}

export type Precision = 'ns' | 'u' | 'ms' | 's';

const PRECISION_SCALE: Record<Precision, number> = { ns: 1e9, u: 1e6, ms: 1e3, s: 1 };

export const MAX_NAME_BYTES = 65535;
export const MAX_STRING_BYTES = 65535;

export class PointError extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** True when `s` holds a C0 control character or DEL (newlines would end the line). */
function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/** True when `s` has no lone surrogate (it encodes to UTF-8 and back unchanged). */
function wellFormed(s: string): boolean {
  return !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);
}

export function checkName(what: string, name: string): void {
  if (name.length === 0) throw new PointError(`${what} is empty`);
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) throw new PointError(`${what} is longer than ${MAX_NAME_BYTES} bytes`);
  if (hasControl(name)) throw new PointError(`${what} ${JSON.stringify(name)} contains a control character`);
  if (name.startsWith('_')) throw new PointError(`${what} ${JSON.stringify(name)} starts with "_" (reserved by InfluxDB)`);
  if (!wellFormed(name)) throw new PointError(`${what} is not valid UTF-8`);
}

function checkKey(what: string, key: string): void {
  checkName(what, key);
  if (key === 'time') throw new PointError(`${what} "time" is refused by InfluxDB`);
}

export const escapeMeasurement = (s: string): string => s.replace(/[, ]/g, (c) => `\\${c}`);
export const escapeKey = (s: string): string => s.replace(/[,= ]/g, (c) => `\\${c}`);
export const escapeString = (s: string): string => `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`;

export function formatValue(f: FieldValue): string {
  switch (f.kind) {
    case 'float':
      if (!Number.isFinite(f.value))
        throw new PointError(`float value ${f.value} cannot be written (line protocol has no NaN or Infinity)`);
      return String(f.value);
    case 'integer':
      if (!Number.isSafeInteger(f.value)) throw new PointError(`integer value ${f.value} is not a safe integer`);
      return `${f.value}i`;
    case 'string':
      if (Buffer.byteLength(f.value) > MAX_STRING_BYTES) throw new PointError(`string value longer than ${MAX_STRING_BYTES} bytes`);
      if (!wellFormed(f.value)) throw new PointError('string value is not valid UTF-8');
      if (/[\n\r]/.test(f.value)) throw new PointError('string value contains a line break (InfluxDB 1.x line protocol cannot carry it)');
      return escapeString(f.value);
    case 'bool':
      return f.value ? 'true' : 'false';
  }
}

/** The timestamp of `t` (UNIX seconds) in `precision` units, as an integer string. */
export function formatTime(t: number, precision: Precision): string {
  if (!Number.isFinite(t)) throw new PointError(`time ${t} is not finite`);
  const v = Math.round(t * PRECISION_SCALE[precision]);
  if (!Number.isSafeInteger(v)) throw new PointError(`time ${t} is out of range`);
  return String(v);
}

/** `<measurement>[,<tags>] <fieldKey>=`: the part of a one-field line before its value, checked once per series. */
export function seriesPrefix(measurement: string, tags: Record<string, string>, fieldKey: string): string {
  checkName('measurement', measurement);
  let line = escapeMeasurement(measurement);
  for (const k of Object.keys(tags).sort()) {
    const v = tags[k] ?? '';
    checkKey('tag key', k);
    if (v === '') continue;
    if (hasControl(v) || !wellFormed(v))
      throw new PointError(`tag value of ${JSON.stringify(k)} contains a control character or invalid UTF-8`);
    line += `,${escapeKey(k)}=${escapeKey(v)}`;
  }
  checkKey('field key', fieldKey);
  if (fieldKey in tags) throw new PointError(`field key ${JSON.stringify(fieldKey)} is also a tag key`);
  return `${line} ${escapeKey(fieldKey)}=`;
}

/** One point → one line (no newline). Throws PointError naming the rule it breaks. */
export function formatPoint(p: Point, precision: Precision): string {
  const entries = Object.entries(p.fields);
  const first = entries[0];
  if (first === undefined) {
    checkName('measurement', p.measurement);
    throw new PointError('a point needs at least one field');
  }
  let line = seriesPrefix(p.measurement, p.tags, first[0]) + formatValue(first[1]);
  for (const [k, f] of entries.slice(1)) {
    checkKey('field key', k);
    if (k in p.tags) throw new PointError(`field key ${JSON.stringify(k)} is also a tag key`);
    line += `,${escapeKey(k)}=${formatValue(f)}`;
  }
  return `${line} ${formatTime(p.t, precision)}`;
}
