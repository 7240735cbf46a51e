/**
 * The requests of sisock.proto as proto-loader gives them (keepCase, defaults, oneofs), their
 * checks (a bad request is INVALID_ARGUMENT), and the lookups made from a node's get_fields answer.
 */
import { ALL_TIME, NODE_NAME_RE, NODE_NAME_RULE, nowSeconds, resolveRelative } from '../../contract';
import type { FieldsResult } from '../../client';
import type { DeclaredType } from './chunks';
import { invalidArgument } from './errors';

export interface GetFieldsRequest {
  node: string;
  start?: number;
  end?: number;
}
export interface GetDataRequest {
  node: string;
  fields: string[];
  start?: number;
  end?: number;
  min_stride?: number;
  max_chunk_points: number;
}
export interface SubscribeRequest {
  node: string;
  fields: string[];
}

/** A node name as the hub accepts it (contract NODE_NAME_RE); a bad one is quoted cut to 80 characters. */
export function checkNode(node: unknown): string {
  if (typeof node !== 'string' || node === '') throw invalidArgument('node must be a non-empty node name');
  if (!NODE_NAME_RE.test(node))
    throw invalidArgument(`node ${JSON.stringify(node.slice(0, 80))} is not a valid node name (${NODE_NAME_RULE})`);
  return node;
}

function resolveTime(name: string, v: number | undefined, dflt: number, now: number): number {
  const t = v === undefined ? dflt : v;
  if (typeof t !== 'number' || !Number.isFinite(t))
    throw invalidArgument(`${name} must be a finite number of UNIX seconds (or <= 0 for relative to now)`);
  return resolveRelative(t, now);
}

/** `[start, end)` with the contract's defaults (all time) and time rule; start must be before end. */
export function timeRange(start: number | undefined, end: number | undefined): { start: number; end: number } {
  const now = nowSeconds();
  const s = resolveTime('start', start, ALL_TIME.start, now);
  const e = resolveTime('end', end, ALL_TIME.end, now);
  if (s >= e) throw invalidArgument(`start must be before end, got start=${s} end=${e} (after resolving times <= 0 against now)`);
  return { start: s, end: e };
}

/** field → timeline, field → declared type, timeline → nominal interval (null: irregular). */
export function fieldMaps(fields: FieldsResult): {
  fieldTimeline: Map<string, string>;
  declared: Map<string, DeclaredType>;
  intervals: Map<string, number | null>;
} {
  const [finfo, tinfo] = Array.isArray(fields) ? fields : [{}, {}];
  const fieldTimeline = new Map<string, string>();
  const declared = new Map<string, DeclaredType>();
  const intervals = new Map<string, number | null>();
  for (const [f, info] of Object.entries(finfo ?? {})) {
    if (!info || typeof info !== 'object') continue;
    if (typeof info.timeline === 'string') fieldTimeline.set(f, info.timeline);
    if (info.type === 'number' || info.type === 'string' || info.type === 'bool') declared.set(f, info.type);
  }
  for (const [tl, info] of Object.entries(tinfo ?? {})) {
    intervals.set(tl, info && typeof info.interval === 'number' && info.interval > 0 ? info.interval : null);
  }
  return { fieldTimeline, declared, intervals };
}
