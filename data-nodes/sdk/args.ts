/**
 * Argument checking of `get_fields` and `get_data` as pure functions (contract section 1):
 *
 *   get_fields(start, end)
 *   get_data(fields[], start, end, min_stride=null)   min_stride positional or keyword
 *
 * Keywords `start`, `end`, `field`/`fields` and `min_stride` are accepted as well (the Python
 * original's parameter names). A time t <= 0 means now + t. Wrong types, NaN/Infinity, start >= end
 * after resolving, a non-list of fields, a negative min_stride or unknown keywords throw an
 * ArgumentError whose message says which argument is wrong; the SDK turns it into
 * `wamp.error.invalid_argument`. min_stride null (or absent) means "no thinning"; 0, negative or NaN
 * is refused.
 *
 * sisock addition (docs/contract.md; original peers never send it): keyword `reduce`, `"minmax"`
 * (default: per bucket its min and max samples) or `"mean"` (per bucket its mean), with a min_stride.
 */
import { resolveRelative } from '../../contract';

export class ArgumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArgumentError';
  }
}

/** Bounds of one get_data request: a node's work and memory grow with them (issue: 10^6 names froze a node). */
export const MAX_FIELDS_PER_REQUEST = 10_000;
export const MAX_FIELD_NAME_LENGTH = 1024;
export const MAX_FIELD_NAMES_TOTAL = 1024 * 1024;

export interface TimeRange {
  start: number;
  end: number;
}
export type ReduceMode = 'minmax' | 'mean';
export interface GetDataArgs extends TimeRange {
  fields: string[];
  minStride: number | null;
  reduce?: ReduceMode;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'number') return Number.isNaN(v) ? 'NaN' : String(v);
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  return `a ${typeof v}`;
}

/** A finite number (seconds); t <= 0 becomes now + t. */
export function resolveTime(name: string, v: unknown, now: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new ArgumentError(`${name} must be a finite number of seconds (UNIX time, or <= 0 for relative to now), got ${describe(v)}`);
  }
  return resolveRelative(v, now);
}

function checkRange(start: number, end: number): void {
  if (start >= end) {
    throw new ArgumentError(`start must be before end, got start=${start} end=${end} (after resolving times <= 0 against now)`);
  }
}

function pick(args: unknown[], kwargs: Record<string, unknown>, index: number, names: string[]): { present: boolean; value: unknown } {
  const kw = names.find((n) => Object.prototype.hasOwnProperty.call(kwargs, n));
  if (index < args.length) {
    if (kw !== undefined) throw new ArgumentError(`${names[0]} given both positionally and as keyword argument ${kw}`);
    return { present: true, value: args[index] };
  }
  if (kw !== undefined) return { present: true, value: kwargs[kw] };
  return { present: false, value: undefined };
}

function checkKeywords(kwargs: Record<string, unknown>, allowed: string[]): void {
  for (const k of Object.keys(kwargs)) {
    if (!allowed.includes(k)) throw new ArgumentError(`unexpected keyword argument ${JSON.stringify(k)} (allowed: ${allowed.join(', ')})`);
  }
}

function asArgs(args: unknown, kwargs: unknown): [unknown[], Record<string, unknown>] {
  const a = Array.isArray(args) ? args : [];
  const k = kwargs !== null && typeof kwargs === 'object' && !Array.isArray(kwargs) ? (kwargs as Record<string, unknown>) : {};
  return [a, k];
}

/** `get_fields(start, end)` → absolute [start, end). */
export function parseGetFieldsArgs(rawArgs: unknown, rawKwargs: unknown, now: number): TimeRange {
  const [args, kwargs] = asArgs(rawArgs, rawKwargs);
  checkKeywords(kwargs, ['start', 'end']);
  if (args.length > 2) throw new ArgumentError(`get_fields takes 2 arguments (start, end), got ${args.length}`);
  const s = pick(args, kwargs, 0, ['start']);
  const e = pick(args, kwargs, 1, ['end']);
  if (!s.present || !e.present) throw new ArgumentError('get_fields needs start and end (UNIX seconds, or <= 0 for relative to now)');
  const start = resolveTime('start', s.value, now);
  const end = resolveTime('end', e.value, now);
  checkRange(start, end);
  return { start, end };
}

/** `get_data(fields, start, end, min_stride=null)` → checked, absolute arguments. */
export function parseGetDataArgs(rawArgs: unknown, rawKwargs: unknown, now: number): GetDataArgs {
  const [args, kwargs] = asArgs(rawArgs, rawKwargs);
  checkKeywords(kwargs, ['fields', 'field', 'start', 'end', 'min_stride', 'reduce']);
  if (args.length > 4) throw new ArgumentError(`get_data takes at most 4 arguments (fields, start, end, min_stride), got ${args.length}`);
  const f = pick(args, kwargs, 0, ['fields', 'field']);
  const s = pick(args, kwargs, 1, ['start']);
  const e = pick(args, kwargs, 2, ['end']);
  const m = pick(args, kwargs, 3, ['min_stride']);
  if (!f.present || !s.present || !e.present) throw new ArgumentError('get_data needs fields (a list of field names), start and end');
  if (!Array.isArray(f.value)) throw new ArgumentError(`fields must be a list of field names, got ${describe(f.value)}`);
  if (f.value.length > MAX_FIELDS_PER_REQUEST) {
    throw new ArgumentError(`at most ${MAX_FIELDS_PER_REQUEST} fields per get_data, got ${f.value.length}; ask in several calls`);
  }
  const fields = new Set<string>(); // in first-seen order, without repeats
  let total = 0;
  for (const [i, name] of f.value.entries()) {
    if (typeof name !== 'string') throw new ArgumentError(`fields[${i}] must be a string, got ${describe(name)}`);
    if (name.length > MAX_FIELD_NAME_LENGTH) throw new ArgumentError(`fields[${i}] is longer than ${MAX_FIELD_NAME_LENGTH} characters`);
    total += name.length;
    if (total > MAX_FIELD_NAMES_TOTAL) {
      throw new ArgumentError(`field names longer than ${MAX_FIELD_NAMES_TOTAL} characters in all; ask in several calls`);
    }
    fields.add(name);
  }
  const start = resolveTime('start', s.value, now);
  const end = resolveTime('end', e.value, now);
  checkRange(start, end);
  let minStride: number | null = null;
  if (m.present && m.value !== null && m.value !== undefined) {
    if (typeof m.value !== 'number' || !Number.isFinite(m.value) || m.value <= 0) {
      throw new ArgumentError(`min_stride must be null or a number of seconds > 0, got ${describe(m.value)}`);
    }
    minStride = m.value;
  }
  const out: GetDataArgs = { fields: [...fields], start, end, minStride };
  if (Object.prototype.hasOwnProperty.call(kwargs, 'reduce') && kwargs.reduce !== null) {
    const r = kwargs.reduce;
    if (r !== 'minmax' && r !== 'mean') throw new ArgumentError(`reduce must be "minmax" or "mean", got ${describe(r)}`);
    if (r === 'mean') out.reduce = r;
  }
  return out;
}
