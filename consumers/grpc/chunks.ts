/**
 * A `get_data` result (or one progressive piece of it) → `DataChunk` messages of bounded size.
 *
 * A chunk is a contiguous slice of one timeline: its times `t` and the same slice of each wanted
 * field on that timeline. Limits: at most `maxPoints` samples (all columns together, times not
 * counted) and about `maxBytes` bytes of payload (8 per time and number, 1 per bool, UTF-8 length
 * + 2 per string); a single row larger than that still goes, alone.
 *
 * Column kind per chunk: doubles when every non-null value is a number, bools when every one is a
 * boolean, strings when every one is a string, strings (JSON text) for a mix; an all-null slice uses
 * the field's declared type. Nulls: listed in `null_indices`, their slot holds NaN, "" or false.
 */
import type { DataResult, FieldType, Sample } from '../../contract';

/** A field's declared type (the contract's FieldType). */
export type DeclaredType = FieldType;

export interface ColumnMsg {
  field: string;
  doubles?: { values: number[] };
  strings?: { values: string[] };
  bools?: { values: boolean[] };
  null_indices: number[];
}

export interface ChunkMsg {
  timeline: string;
  t: number[];
  columns: ColumnMsg[];
  finalized_until?: number;
  seq: number;
}

export interface ChunkLimits {
  maxPoints: number;
  maxBytes: number;
}

/** One timeline of a result with the wanted fields found on it. */
export interface TimelineGroup {
  timeline: string;
  t: number[];
  finalizedUntil: number | null;
  fields: string[];
}

/**
 * Which field goes with which timeline: the one get_fields named (`fieldTimeline`) when its `t` has
 * the field's length, else the first timeline of that length. Fields without samples, or whose
 * length matches no timeline (a malformed answer), are left out; `skipped` lists the latter.
 * `wanted` (when given) keeps only those fields.
 */
export function groupByTimeline(
  result: DataResult,
  fieldTimeline: ReadonlyMap<string, string>,
  wanted?: ReadonlySet<string>,
): { groups: TimelineGroup[]; skipped: string[] } {
  const groups = new Map<string, TimelineGroup>();
  const skipped: string[] = [];
  const timelines = result.timeline ?? {};
  const tlNames = Object.keys(timelines);
  for (const [field, values] of Object.entries(result.data ?? {})) {
    if (wanted && !wanted.has(field)) continue;
    if (!Array.isArray(values) || values.length === 0) continue;
    let tl = fieldTimeline.get(field);
    if (tl === undefined || timelines[tl]?.t?.length !== values.length) {
      tl = tlNames.find((n) => timelines[n]?.t?.length === values.length);
    }
    const src = tl === undefined ? undefined : timelines[tl];
    if (tl === undefined || src === undefined) {
      skipped.push(field);
      continue;
    }
    let g = groups.get(tl);
    if (!g) {
      g = { timeline: tl, t: src.t, finalizedUntil: typeof src.finalized_until === 'number' ? src.finalized_until : null, fields: [] };
      groups.set(tl, g);
    }
    g.fields.push(field);
  }
  return { groups: [...groups.values()], skipped };
}

function sampleBytes(v: Sample): number {
  if (typeof v === 'string') return Buffer.byteLength(v, 'utf8') + 2;
  if (typeof v === 'boolean') return 1;
  return 8;
}

/** Per-row byte cost when it is the same for every row (no string column), else null. */
function fixedRowBytes(columns: Sample[][]): number | null {
  let bytes = 8;
  for (const col of columns) {
    // a column is "fixed" when it holds no strings; checking it all is one pass, cheaper than per row
    let hasBool = false;
    let hasNumber = false;
    for (let i = 0; i < col.length; i++) {
      const v = col[i];
      if (typeof v === 'string') return null;
      if (typeof v === 'boolean') hasBool = true;
      else if (v !== null) hasNumber = true;
    }
    bytes += hasNumber || !hasBool ? 8 : 1;
  }
  return bytes;
}

/** Builds one column of rows [a, b). */
export function makeColumn(field: string, values: Sample[], a: number, b: number, declared?: DeclaredType): ColumnMsg {
  let numbers = 0;
  let bools = 0;
  let strings = 0;
  let nulls = 0;
  for (let i = a; i < b; i++) {
    const v = values[i];
    if (typeof v === 'number') numbers++;
    else if (typeof v === 'string') strings++;
    else if (typeof v === 'boolean') bools++;
    else nulls++;
  }
  const n = b - a;
  const null_indices: number[] = [];
  if (nulls > 0)
    for (let i = a; i < b; i++) {
      const v = values[i];
      if (v === null || v === undefined) null_indices.push(i - a);
    }
  const present = n - nulls;
  let kind: DeclaredType;
  if (present === 0) kind = declared ?? 'number';
  else if (numbers === present) kind = 'number';
  else if (bools === present) kind = 'bool';
  else kind = 'string';
  if (kind === 'number') {
    const out = nulls === 0 ? (values.slice(a, b) as number[]) : values.slice(a, b).map((v) => (typeof v === 'number' ? v : NaN));
    return { field, doubles: { values: out }, null_indices };
  }
  if (kind === 'bool') {
    const out = values.slice(a, b).map((v) => v === true);
    return { field, bools: { values: out }, null_indices };
  }
  const out =
    strings === present && nulls === 0
      ? (values.slice(a, b) as string[])
      : values.slice(a, b).map((v) => (v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v)));
  return { field, strings: { values: out }, null_indices };
}

/**
 * Cuts one timeline group into chunks within `limits`, calling `emit` for each (in time order).
 * `nextSeq` numbers them. Returns the number of samples emitted (times not counted).
 */
export function* chunkGroup(
  result: DataResult,
  group: TimelineGroup,
  limits: ChunkLimits,
  declared: ReadonlyMap<string, DeclaredType>,
): Generator<Omit<ChunkMsg, 'seq'>, void, void> {
  const n = group.t.length;
  const nf = group.fields.length;
  if (n === 0 || nf === 0) return;
  const columns = group.fields.map((f) => result.data[f] ?? []); // the group's fields come from result.data
  const maxRowsByPoints = Math.max(1, Math.floor(limits.maxPoints / nf));
  const fixed = fixedRowBytes(columns);
  const make = (a: number, b: number): Omit<ChunkMsg, 'seq'> => {
    const chunk: Omit<ChunkMsg, 'seq'> = {
      timeline: group.timeline,
      t: a === 0 && b === n ? group.t : group.t.slice(a, b),
      columns: group.fields.map((f, i) => makeColumn(f, columns[i] ?? [], a, b, declared.get(f))),
    };
    if (group.finalizedUntil !== null) chunk.finalized_until = group.finalizedUntil;
    return chunk;
  };
  if (fixed !== null) {
    const rows = Math.max(1, Math.min(maxRowsByPoints, Math.floor(limits.maxBytes / fixed)));
    for (let a = 0; a < n; a += rows) yield make(a, Math.min(n, a + rows));
    return;
  }
  let a = 0;
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    let row = 8;
    for (const col of columns) row += sampleBytes(col[i] ?? null);
    if (i > a && (i - a >= maxRowsByPoints || bytes + row > limits.maxBytes)) {
      yield make(a, i);
      a = i;
      bytes = 0;
    }
    bytes += row;
  }
  if (a < n) yield make(a, n);
}

/** About the payload bytes of a chunk: 8 a time and a number, 1 a flag, a string's UTF-8 and 2. */
export function chunkBytes(c: Pick<ChunkMsg, 't' | 'columns'>): number {
  let n = 8 * c.t.length;
  for (const col of c.columns) {
    n += 4 * col.null_indices.length;
    if (col.doubles) n += 8 * col.doubles.values.length;
    if (col.bools) n += col.bools.values.length;
    if (col.strings) for (const v of col.strings.values) n += sampleBytes(v);
  }
  return n;
}

/** Samples in a chunk (all columns, times not counted). */
export function chunkPoints(c: Pick<ChunkMsg, 't' | 'columns'>): number {
  return c.t.length * c.columns.length;
}
