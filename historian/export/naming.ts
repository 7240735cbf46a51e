/**
 * How sisock samples become InfluxDB points (configurable):
 *
 *   measurement  template, default "{node}"        e.g. "sisock" with tags {node: "{node}"}
 *   field        template, default "{field}"
 *   tags         name → template, default {}        e.g. {site: "pton", timeline: "{timeline}", host: "{meta.host}"}
 *   integer_fields  sisock field names written as integers (`12i`); other numbers are floats
 *
 * Templates may use {node}, {field} and {timeline}, and the node's metadata (its get_metadata when
 * it (re)appeared, see follow.ts): {meta.<key>} (e.g. {meta.host}, {meta.description}) and
 * {status.<key>} (its `status` map, e.g. {status.mqtt_connected}). A metadata value that is missing
 * or not a string, number or boolean is empty, and a tag whose value is empty is left out; values
 * are cut to 256 characters. One line per sample and field (a refused value
 * then costs that one sample, never its neighbours). Null samples are skipped (line protocol has
 * no null). A sample whose type differs from the type this exporter already wrote for the same
 * measurement and field (InfluxDB fixes a field's type at its first write) is refused here, before
 * it reaches the database, with the reason.
 */
import type { DataResult, FieldInfo, Sample } from '../../contract';
import { formatTime, formatValue, PointError, seriesPrefix, type FieldKind, type FieldValue, type Precision } from './line-protocol';

export interface NamingConfig {
  measurement: string;
  field: string;
  tags: Record<string, string>;
  integerFields: string[];
}

export const DEFAULT_NAMING: NamingConfig = { measurement: '{node}', field: '{field}', tags: {}, integerFields: [] };

export interface Rejected {
  node: string;
  field: string;
  t: number;
  value: Sample;
  reason: string;
}

export interface Converted {
  lines: string[];
  /** newest time per node among the converted samples */
  newest: number | null;
  rejected: Rejected[];
  /** "measurement\0field" → kind, for keys seen first in this result */
  newTypes: Map<string, FieldKind>;
}

interface Vars {
  node: string;
  field: string;
  timeline: string;
  meta?: Readonly<Record<string, unknown>>;
}

/** Longest value a metadata placeholder gives, characters. */
export const MAX_META_VALUE = 256;

function metaValue(v: unknown): string {
  return typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))
    ? String(v).slice(0, MAX_META_VALUE)
    : '';
}

const PLACEHOLDER = /\{(node|field|timeline|meta\.[A-Za-z0-9_]+|status\.[A-Za-z0-9_.-]+)\}/g;

function fill(template: string, vars: Vars): string {
  return template.replace(PLACEHOLDER, (_, k: string) => {
    if (k === 'node' || k === 'field' || k === 'timeline') return vars[k];
    const meta = vars.meta;
    if (!meta) return '';
    if (k.startsWith('meta.')) return metaValue(Object.hasOwn(meta, k.slice(5)) ? meta[k.slice(5)] : undefined);
    const status = meta.status;
    const key = k.slice(7);
    return status !== null && typeof status === 'object' && Object.hasOwn(status, key)
      ? metaValue((status as Record<string, unknown>)[key])
      : '';
  });
}

function fieldValue(v: Sample, integer: boolean): FieldValue | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'boolean') return { kind: 'bool', value: v };
  if (typeof v === 'string') return { kind: 'string', value: v };
  if (typeof v === 'number') return integer ? { kind: 'integer', value: v } : { kind: 'float', value: v };
  throw new PointError(`value of type ${typeof v} cannot be written`);
}

/**
 * Which timeline a field of `result` belongs to: the field map from get_fields when it knows the
 * field, else the only timeline, else the one timeline whose length matches the field's.
 */
export function timelineOf(result: DataResult, field: string, fields?: Readonly<Record<string, FieldInfo>>): string | null {
  const known = fields?.[field]?.timeline;
  if (known !== undefined && result.timeline[known]) return known;
  const names = Object.keys(result.timeline);
  if (names.length === 1) return names[0] ?? null;
  const n = result.data[field]?.length ?? -1;
  const same = names.filter((tl) => result.timeline[tl]?.t.length === n);
  return same.length === 1 ? (same[0] ?? null) : null;
}

export class Namer {
  private readonly integers: Set<string>;

  constructor(
    readonly config: NamingConfig,
    readonly precision: Precision,
    private readonly types: Map<string, FieldKind>,
  ) {
    this.integers = new Set(config.integerFields);
  }

  /** A node's get_data result → lines (one per non-null sample), and what was refused and why. */
  convert(
    node: string,
    result: DataResult,
    fields?: Readonly<Record<string, FieldInfo>>,
    meta?: Readonly<Record<string, unknown>>,
  ): Converted {
    const out: Converted = { lines: [], newest: null, rejected: [], newTypes: new Map() };
    for (const [field, values] of Object.entries(result.data)) {
      if (!Array.isArray(values) || values.length === 0) continue;
      const timeline = timelineOf(result, field, fields);
      const t = timeline === null ? undefined : result.timeline[timeline]?.t;
      if (!t || t.length !== values.length) {
        out.rejected.push({
          node,
          field,
          t: 0,
          value: null,
          reason: `field ${field}: no timeline of ${values.length} samples in the result`,
        });
        continue;
      }
      const vars = { node, field, timeline: timeline ?? '', meta };
      const measurement = fill(this.config.measurement, vars);
      const key = fill(this.config.field, vars);
      const tags: Record<string, string> = {};
      for (const [k, tmpl] of Object.entries(this.config.tags)) tags[k] = fill(tmpl, vars);
      const typeKey = `${measurement}\0${key}`;
      const integer = this.integers.has(field);
      let prefix: string;
      try {
        prefix = seriesPrefix(measurement, tags, key);
      } catch (e) {
        if (!(e instanceof PointError)) throw e;
        for (let i = 0; i < values.length; i++)
          out.rejected.push({ node, field, t: t[i] ?? NaN, value: values[i] ?? null, reason: e.reason });
        continue;
      }
      for (let i = 0; i < values.length; i++) {
        const v = values[i] ?? null;
        const ti = t[i] ?? NaN;
        try {
          const fv = fieldValue(v, integer);
          if (fv === null) continue;
          const known = this.types.get(typeKey);
          if (known !== undefined && known !== fv.kind) {
            throw new PointError(`type conflict: field "${key}" of measurement "${measurement}" is ${known}, this sample is ${fv.kind}`);
          }
          out.lines.push(`${prefix}${formatValue(fv)} ${formatTime(ti, this.precision)}`);
          if (known === undefined) {
            this.types.set(typeKey, fv.kind);
            out.newTypes.set(typeKey, fv.kind);
          }
          if (out.newest === null || ti > out.newest) out.newest = ti;
        } catch (e) {
          if (!(e instanceof PointError)) throw e;
          out.rejected.push({ node, field, t: ti, value: v, reason: e.reason });
        }
      }
    }
    return out;
  }
}
