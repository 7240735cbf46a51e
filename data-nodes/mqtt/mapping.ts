/**
 * One MQTT message → samples, by the first topic rule whose pattern matches (config order). Pure:
 * no I/O, so the unit tests drive it directly.
 *
 * A message is rejected (→ dead letter, counted by reason, never stalls ingest) when it is larger
 * than `max_payload_bytes` (too_large), matches no rule (unknown_topic), is not JSON (malformed),
 * fails the rule's JSON Schema (schema), has no valid timestamp at the configured path
 * (bad_timestamp), has a value of the wrong type (wrong_type), misses a `required` field
 * (missing_field), yields no value at all (no_fields) or more values than `max_fields_per_message`
 * (too_many_fields: a `fields_from` payload such as `[0,0,…]` with thousands of leaves; the store
 * rejects with the same reason a message that would take a node past `max_fields_per_node`).
 * Fields whose path is absent or null are skipped: devices often send partial updates.
 */
import type { FieldType, Sample } from '../sdk/types';
import { DECIMAL_TEXT } from '../../common/decimal';
import type { Captures } from './topic';
import type { FieldsFrom, TimeUnit, TopicRule } from './config';

export type RejectReason =
  | 'too_large'
  | 'unknown_topic'
  | 'malformed'
  | 'schema'
  | 'bad_timestamp'
  | 'wrong_type'
  | 'missing_field'
  | 'no_fields'
  | 'too_many_fields';
export const REJECT_REASONS: readonly RejectReason[] = [
  'too_large',
  'unknown_topic',
  'malformed',
  'schema',
  'bad_timestamp',
  'wrong_type',
  'missing_field',
  'no_fields',
  'too_many_fields',
];

/** Default cap of the values one message may yield (`store.max_fields_per_message`). */
export const DEFAULT_MAX_FIELDS_PER_MESSAGE = 1000;

export interface MappedValue {
  name: string;
  type: FieldType;
  units: string | null;
  description: string | null;
  value: Sample;
}

export interface Mapped {
  ok: true;
  rule: number;
  node: string;
  timeline: string;
  t: number;
  values: MappedValue[];
}

export interface Rejected {
  ok: false;
  reason: RejectReason;
  detail: string;
  rule: number | null;
}

export type MapResult = Mapped | Rejected;

function reject(reason: RejectReason, detail: string, rule: number | null): Rejected {
  return { ok: false, reason, detail, rule };
}

export function getPath(v: unknown, path: ReadonlyArray<string | number>): unknown {
  let cur = v;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[k];
  }
  return cur;
}

/** UNIX seconds from a payload timestamp, or null. */
export function toSeconds(v: unknown, unit: TimeUnit): number | null {
  if (typeof v === 'string') {
    if (unit !== 'iso' && unit !== 'auto' && /^\s*-?\d+(\.\d+)?\s*$/.test(v)) return toSeconds(Number(v), unit);
    if (unit !== 'iso' && unit !== 'auto') return null;
    const ms = Date.parse(v);
    return Number.isFinite(ms) ? ms / 1000 : null;
  }
  if (typeof v !== 'number' || !Number.isFinite(v)) return null;
  switch (unit) {
    case 's':
      return v;
    case 'ms':
      return v / 1e3;
    case 'us':
      return v / 1e6;
    case 'ns':
      return v / 1e9;
    case 'iso':
      return null;
    default: {
      const a = Math.abs(v);
      return a >= 1e17 ? v / 1e9 : a >= 1e14 ? v / 1e6 : a >= 1e11 ? v / 1e3 : v;
    }
  }
}

function typeOf(v: unknown): FieldType | null {
  if (typeof v === 'number') return Number.isFinite(v) ? 'number' : null;
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'string') return 'string';
  return null;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  const s = JSON.stringify(v) ?? String(v);
  return `${typeof v} ${s.length > 40 ? s.slice(0, 40) + '…' : s}`;
}

/** Plain (non-JSON) payload text as a value of `type`, or undefined. */
function plainValue(text: string, type: FieldType): Sample | undefined {
  const s = text.trim();
  if (type === 'string') return text;
  if (type === 'bool') {
    const l = s.toLowerCase();
    if (['true', 'on', '1', 'yes'].includes(l)) return true;
    if (['false', 'off', '0', 'no'].includes(l)) return false;
    return undefined;
  }
  if (!DECIMAL_TEXT.test(s)) return undefined;
  return Number(s);
}

/** Collects scalar leaves; stops (returns false) once `out` holds more than `limit`. */
function collectLeaves(
  v: unknown,
  keys: string[],
  ff: FieldsFrom,
  out: Array<{ key: string; dotted: string; value: unknown }>,
  depth: number,
  limit: number,
): boolean {
  if (depth > 16) return true;
  if (v !== null && typeof v === 'object') {
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) if (!collectLeaves(v[i], [...keys, String(i)], ff, out, depth + 1, limit)) return false;
    } else {
      for (const k in v as Record<string, unknown>) {
        if (!Object.prototype.hasOwnProperty.call(v, k)) continue;
        if (!collectLeaves((v as Record<string, unknown>)[k], [...keys, k], ff, out, depth + 1, limit)) return false;
      }
    }
    return true;
  }
  const dotted = keys.join('.');
  if (ff.exclude.has(dotted) || ff.exclude.has(keys[keys.length - 1] ?? '')) return true;
  out.push({ key: keys.join(ff.separator), dotted, value: v });
  return out.length <= limit;
}

/**
 * Maps one message. `payload` is the raw bytes; `arrival` the receive time (UNIX seconds);
 * `maxFields` the most values one message may yield (more → too_many_fields).
 */
export function mapMessage(
  rules: readonly TopicRule[],
  topic: string,
  payload: Buffer,
  arrival: number,
  maxPayloadBytes: number,
  maxFields = DEFAULT_MAX_FIELDS_PER_MESSAGE,
): MapResult {
  if (payload.length > maxPayloadBytes)
    return reject('too_large', `payload of ${payload.length} bytes exceeds max_payload_bytes ${maxPayloadBytes}`, null);
  let rule: TopicRule | undefined;
  let caps: Captures | null = null;
  for (const r of rules) {
    caps = r.pattern.match(topic);
    if (caps) {
      rule = r;
      break;
    }
  }
  if (!rule || !caps) return reject('unknown_topic', `topic ${JSON.stringify(topic)} matches no configured pattern`, null);
  const ri = rule.index;
  const text = payload.toString('utf8');

  if (rule.format === 'value') {
    const values: MappedValue[] = [];
    for (const f of rule.fields) {
      const v = plainValue(text, f.type);
      if (v === undefined) return reject('wrong_type', `payload ${describe(text)} is not a ${f.type}`, ri);
      values.push({
        name: f.name.render(caps),
        type: f.type,
        units: f.units?.render(caps) ?? null,
        description: f.description?.render(caps) ?? null,
        value: v,
      });
    }
    if (rule.validate && !rule.validate(values[0]?.value)) return reject('schema', `schema: ${schemaErrors(rule)}`, ri);
    return { ok: true, rule: ri, node: nodeName(rule, caps), timeline: rule.timeline.render(caps), t: arrival, values };
  }

  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return reject('malformed', `not JSON: ${(err as Error).message}`, ri);
  }
  if (rule.validate && !rule.validate(doc)) return reject('schema', `schema: ${schemaErrors(rule)}`, ri);

  let t = arrival;
  if (rule.time.kind === 'path') {
    const raw = getPath(doc, rule.time.path);
    const s = toSeconds(raw, rule.time.unit);
    if (s === null)
      return reject(
        'bad_timestamp',
        `no valid timestamp (unit ${rule.time.unit}) at ${rule.time.pathText}: ${raw === undefined ? 'missing' : describe(raw)}`,
        ri,
      );
    t = s;
  }

  const values: MappedValue[] = [];
  for (const f of rule.fields) {
    const v = f.path.length ? getPath(doc, f.path) : doc;
    if (v === undefined || v === null) {
      if (f.required) return reject('missing_field', `required field ${f.name.render(caps)} missing at ${f.pathText}`, ri);
      continue;
    }
    const got = typeOf(v);
    if (got !== f.type) return reject('wrong_type', `${f.pathText}: expected ${f.type}, got ${describe(v)}`, ri);
    values.push({
      name: f.name.render(caps),
      type: f.type,
      units: f.units?.render(caps) ?? null,
      description: f.description?.render(caps) ?? null,
      value: v as Sample,
    });
  }
  if (rule.fieldsFrom) {
    const ff = rule.fieldsFrom;
    const base = ff.path.length ? getPath(doc, ff.path) : doc;
    const leaves: Array<{ key: string; dotted: string; value: unknown }> = [];
    // Leaves beyond the cap are not even collected: a `[0,0,…]` of 20,000 elements costs little.
    const limit = Math.max(0, maxFields - values.length);
    if (base !== null && typeof base === 'object' && !collectLeaves(base, [], ff, leaves, 0, limit)) {
      return reject('too_many_fields', `fields_from yields more than ${limit} values (max_fields_per_message ${maxFields})`, ri);
    }
    const prefix = ff.prefix.render(caps);
    const timeText = rule.time.kind === 'path' ? rule.time.path.join('.') : null;
    const basePrefix = ff.path.join('.');
    for (const leaf of leaves) {
      const full = basePrefix ? `${basePrefix}.${leaf.dotted}` : leaf.dotted;
      if (full === timeText) continue;
      const type = typeOf(leaf.value);
      if (type === null) continue; // null leaves: no sample
      values.push({ name: prefix + leaf.key, type, units: null, description: null, value: leaf.value as Sample });
    }
  }
  if (values.length === 0) return reject('no_fields', 'no configured field present in the payload', ri);
  if (values.length > maxFields) return reject('too_many_fields', `${values.length} values exceed max_fields_per_message ${maxFields}`, ri);
  return { ok: true, rule: ri, node: nodeName(rule, caps), timeline: rule.timeline.render(caps), t, values };
}

/** The rule's node name for these captures; characters a URI component cannot hold become '_'. */
function nodeName(rule: TopicRule, caps: Captures): string {
  const n = rule.node.render(caps);
  return rule.node.constant ? n : n.replace(/[\s.#]/g, '_') || '_';
}

function schemaErrors(rule: TopicRule): string {
  const errs = rule.validate?.errors ?? [];
  return errs.map((e) => `${e.instancePath || '(root)'} ${e.message ?? 'invalid'}`).join('; ') || 'invalid';
}
