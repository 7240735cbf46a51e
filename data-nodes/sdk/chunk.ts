/**
 * Splitting a `get_data` result into pieces that each fit in one WAMP message.
 *
 * Every piece has the contract's `{data, timeline}` shape and holds, for one timeline, a
 * contiguous slice of its `t` and the same slice of each of its fields. Concatenating the pieces
 * per field and per timeline (contract/ `mergeDataResults`) gives back the whole result.
 * Fields that belong to no timeline in the result (unknown fields, `[]`) travel in the first piece.
 * Sizes are bounded from above (jsonSizeBound) without encoding numbers; JSON length is itself an
 * upper bound for msgpack/cbor.
 */
import type { DataResult } from './types';

export function jsonSize(v: unknown): number {
  return JSON.stringify(v)?.length ?? 0;
}

/** Longest JSON text of a number (e.g. -2.2250738585072014e-308), plus its comma. */
const NUMBER_BOUND = 25;

/** An upper bound of one value's JSON length (with its comma); exact for strings and objects. */
function valueBound(v: unknown): number {
  switch (typeof v) {
    case 'number':
      return NUMBER_BOUND;
    case 'boolean':
      return 6;
    case 'string':
      return JSON.stringify(v).length + 1;
    default:
      return v === null || v === undefined ? 5 : (JSON.stringify(v)?.length ?? 4) + 1;
  }
}

/**
 * An upper bound of `JSON.stringify(result).length` (also of MsgPack/CBOR sizes) without
 * stringifying the numbers: a million samples cost a typeof each instead of a full encode. Strings
 * are measured exactly. Pieces sized by it are up to ~30 % smaller than they could be, never larger.
 */
export function jsonSizeBound(result: DataResult): number {
  let n = 32;
  for (const [f, values] of Object.entries(result.data)) {
    n += JSON.stringify(f).length + 4;
    for (let i = 0; i < values.length; i++) n += valueBound(values[i]);
  }
  for (const [tl, v] of Object.entries(result.timeline)) {
    n += JSON.stringify(tl).length + 48 + NUMBER_BOUND;
    for (let i = 0; i < v.t.length; i++) n += valueBound(v.t[i]);
  }
  return n;
}

/** Which fields go with which timeline: the timeline whose `t` has the field's length, in order. */
function groupFields(result: DataResult): { byTimeline: Map<string, string[]>; loose: string[] } {
  const byTimeline = new Map<string, string[]>();
  for (const tl of Object.keys(result.timeline)) byTimeline.set(tl, []);
  const loose: string[] = [];
  const timelines = Object.entries(result.timeline);
  for (const [field, values] of Object.entries(result.data)) {
    // The result does not say which timeline a field is on; sources put it on one whose t has the
    // same length (the first such timeline).
    const match = values.length > 0 ? timelines.find(([, tl]) => tl.t.length === values.length) : undefined;
    const group = match && byTimeline.get(match[0]);
    if (group) group.push(field);
    else loose.push(field);
  }
  return { byTimeline, loose };
}

/**
 * Splits `result` into pieces of at most `budget` bytes (JSON), or returns `[result]` when it fits.
 * `fieldTimeline` (field → timeline name, from get_fields) disambiguates timelines of equal length.
 */
export function splitResult(result: DataResult, budget: number, fieldTimeline?: Record<string, string>, knownSize?: number): DataResult[] {
  // The caller usually measured the whole result already.
  if ((knownSize ?? jsonSizeBound(result)) <= budget) return [result];
  let byTimeline: Map<string, string[]>;
  let loose: string[];
  if (fieldTimeline) {
    byTimeline = new Map(Object.keys(result.timeline).map((tl) => [tl, [] as string[]]));
    loose = [];
    for (const [field, values] of Object.entries(result.data)) {
      const tl = fieldTimeline[field];
      const group = tl === undefined ? undefined : byTimeline.get(tl);
      const timeline = tl === undefined ? undefined : result.timeline[tl];
      if (group && timeline && timeline.t.length === values.length && values.length > 0) group.push(field);
      else loose.push(field);
    }
  } else {
    ({ byTimeline, loose } = groupFields(result));
  }
  const pieces: DataResult[] = [];
  const first: DataResult = { data: {}, timeline: {} };
  for (const f of loose) first.data[f] = result.data[f] ?? [];
  let firstUsed = loose.length > 0;

  type Timeline = DataResult['timeline'][string];
  const make = (tl: string, src: Timeline, fields: string[], a: number, b: number): DataResult => {
    const piece: DataResult = { data: {}, timeline: { [tl]: { t: src.t.slice(a, b), finalized_until: src.finalized_until } } };
    for (const f of fields) piece.data[f] = (result.data[f] ?? []).slice(a, b);
    return piece;
  };
  const emit = (tl: string, src: Timeline, fields: string[], a: number, b: number): void => {
    const piece = make(tl, src, fields, a, b);
    if (jsonSizeBound(piece) > budget && b - a > 1) {
      const mid = a + Math.floor((b - a) / 2);
      emit(tl, src, fields, a, mid);
      emit(tl, src, fields, mid, b);
      return;
    }
    pieces.push(piece);
  };

  for (const [tl, fields] of byTimeline) {
    const src = result.timeline[tl];
    if (!src) continue; // byTimeline's keys are result.timeline's
    const n = src.t.length;
    if (n === 0) {
      // a timeline without samples (should not be included, but keep it whole)
      first.timeline[tl] = src;
      for (const f of fields) first.data[f] = [];
      firstUsed = true;
      continue;
    }
    // Row size from up to 1000 rows spread over the whole timeline (not only its start, whose
    // values may be shorter or longer than the rest); emit() still checks each piece.
    const sampleRows = Math.min(n, 1000);
    const step = n / sampleRows;
    const sampleT: number[] = [];
    const columns = fields.map((f) => ({ values: result.data[f] ?? [], sampled: [] as DataResult['data'][string] }));
    for (let i = 0; i < sampleRows; i++) {
      const r = Math.floor(i * step); // < n: every column of this timeline has n values
      sampleT.push(src.t[r]!);
      for (const c of columns) c.sampled.push(c.values[r] ?? null);
    }
    const sample: DataResult = { data: {}, timeline: { [tl]: { t: sampleT, finalized_until: null } } };
    fields.forEach((f, i) => (sample.data[f] = columns[i]?.sampled ?? []));
    const perRow = jsonSizeBound(sample) / sampleRows;
    const rows = Math.max(1, Math.floor((budget * 0.8) / Math.max(perRow, 1)));
    for (let a = 0; a < n; a += rows) emit(tl, src, fields, a, Math.min(n, a + rows));
  }
  if (firstUsed) pieces.unshift(first);
  return pieces.length ? pieces : [result];
}
