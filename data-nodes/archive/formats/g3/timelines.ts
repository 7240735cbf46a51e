/**
 * HK blocks → the archive's timelines: one timeline per (provider description, block name), named
 * `<description>.<block>`; fields `<description>.<field>` as the original sisock g3 reader. Chunks of
 * one block (successive data frames, provider restarts) are concatenated in frame order; a field a
 * chunk lacks is NaN/null there. Times are ticks / 1e8 in doubles, exactly as so3g computes them.
 */
import type { FieldType, Sample } from '../../../sdk/types';
import { medianSpacing, reorder, sortUnique, type DecodedColumn, type DecodedTimeline } from '../types';
import type { HkBlock, HkChunk, HkColumn, HkProvider, HkValues } from './hk';
import { int64ToDouble } from './lazy-vectors';
import { takeColumn } from '../column-pool';

/** True when t[from, to) is strictly ascending: sortUnique's own check, on a Float64Array only. */
function ascending(t: Float64Array, from: number, to: number): boolean {
  for (let i = from + 1; i < to; i++) if (!((t[i] as number) > (t[i - 1] as number))) return false;
  return true;
}

/** With each chunk's own times strictly ascending: whether every chunk's first time follows the previous chunk's last. */
function joinsAscending(t: Float64Array, chunks: HkChunk[]): boolean {
  let at = 0;
  for (const c of chunks) {
    if (at > 0 && at < t.length && !((t[at] as number) > (t[at - 1] as number))) return false;
    at += c.time.length;
  }
  return true;
}

function fieldType(g3Type: string): FieldType {
  if (g3Type === 'G3VectorString') return 'string';
  if (g3Type === 'G3VectorBool') return 'bool';
  return 'number';
}

/** Fills out[at, at+n) from a chunk's column; `outBytes` is a byte view of `out` (for raw copies). */
function fillNumbers(c: HkColumn | undefined, out: Float64Array, outBytes: Uint8Array, at: number, n: number): void {
  if (c?.copyInto) {
    c.copyInto(out, outBytes, at);
    return;
  }
  const v = c?.values;
  if (v === undefined || Array.isArray(v)) {
    out.fill(NaN, at, at + n);
    return;
  }
  if (v instanceof BigInt64Array) {
    int64ToDouble(v, out, at, 1);
    return;
  }
  if (v instanceof Float64Array) {
    out.set(v, at);
    return;
  }
  for (let i = 0; i < n; i++) out[at + i] = v[i] ?? NaN;
}

/**
 * Appends the chunk's n samples of a string or bool field: null where it has no column, or a column of
 * strings for a bool field (or the reverse). A bool field's numbers are true where not 0 (OCS types each
 * flush by its first value: a bool field's chunk can be a G3VectorInt).
 */
function fillSamples(v: HkValues | undefined, type: FieldType, out: Sample[], n: number): void {
  if (type === 'string' && Array.isArray(v)) for (let i = 0; i < n; i++) out.push(v[i] ?? null);
  else if (type === 'bool' && v !== undefined && !Array.isArray(v))
    for (let i = 0; i < n; i++) {
      const x = Number(v[i]); // a bigint of a G3VectorInt too
      out.push(x === x ? x !== 0 : null);
    }
  else for (let i = 0; i < n; i++) out.push(null);
}

/**
 * Cells (samples × columns, times included) the timelines of one file may fill: DENSE_FACTOR per value
 * the file holds, and DENSE_SLACK more. A field a chunk of its block lacks is NaN/null there, so the
 * cells are the values when a block's fields are the same in every chunk (as OCS writes them) and more
 * when they vary: 6,000 one-sample chunks of one block, each with a field of its own, made a timeline
 * of 36 million cells (430 MB, 10 s) from 678 KB. A timeline past the budget is left out with a warning.
 */
const DENSE_FACTOR = 16;
const DENSE_SLACK = 2 ** 20;

interface Plan {
  name: string;
  description: string;
  chunks: HkChunk[];
  fields: Array<[string, string]>;
  t: Float64Array;
  /** Per field: its number column (with a byte view), or null for a string/bool field. */
  numbers: Array<{ key: string; v: Float64Array; bytes: Uint8Array } | null>;
  /** False once a chunk's times are seen not strictly ascending (checked as they are written, in cache). */
  ascending: boolean;
  /** Per keys array of list chunks: each number's place in it (-1: absent). */
  places: Map<readonly string[], Int32Array>;
}

/** Where each of the plan's numbers is in a list chunk's keys (the chunks of one layout share them). */
function placesOf(plan: Plan, keys: readonly string[]): Int32Array {
  let p = plan.places.get(keys);
  if (!p) {
    const at = new Map(keys.map((k, i) => [k, i]));
    p = Int32Array.from(plan.numbers, (num) => (num ? (at.get(num.key) ?? -1) : -1));
    plan.places.set(keys, p);
  }
  return p;
}

/**
 * The timelines of the providers' blocks. `beforeFrame`, when given, is called with each frame's
 * index before that frame's data is copied, in frame order (chunks from one file): the decoder
 * checks the frame's CRC there, so the bytes are read from memory once and copied from cache.
 */
export function timelinesOf(
  providers: HkProvider[],
  beforeFrame?: (frame: number) => void,
  warn: (m: string) => void = () => {},
): DecodedTimeline[] {
  // Provider sessions with one description continue each other: merge their blocks by name (the pair,
  // not `<description>.<block>`: provider "a.b" block "c" and provider "a" block "b.c" are two timelines).
  const blocks = new Map<string, { description: string; block: string; blocks: HkBlock[] }>();
  for (const p of providers) {
    for (const b of p.blocks.values()) {
      const key = `${p.description}\u0000${b.name}`;
      const e = blocks.get(key) ?? { description: p.description, block: b.name, blocks: [] };
      e.blocks.push(b);
      blocks.set(key, e);
    }
  }
  let present = 0;
  for (const { blocks: bs } of blocks.values())
    for (const b of bs) for (const c of b.chunks) present += c.time.length * (c.list ? c.list.keys.length : c.columns.size);
  const budget = DENSE_SLACK + DENSE_FACTOR * present;
  let cells = 0;
  const names = new Set<string>();
  const plans: Plan[] = [];
  for (const { description, block, blocks: bs } of blocks.values()) {
    const chunks = bs.flatMap((b) => b.chunks);
    const fields = new Map<string, string>();
    for (const b of bs) for (const [k, g] of b.fields) if (!fields.has(k)) fields.set(k, g);
    const n = chunks.reduce((s, c) => s + c.time.length, 0);
    if (n === 0) continue;
    let name = `${description}.${block}`;
    if (names.has(name)) {
      let k = 2;
      while (names.has(`${name}#${k}`)) k++;
      warn(`provider "${description}" block "${block}": timeline ${name} is another provider's; named ${name}#${k}`);
      name = `${name}#${k}`;
    }
    names.add(name);
    const dense = n * (fields.size + 1);
    if (cells + dense > budget) {
      warn(`timeline ${name}: ${fields.size} fields over ${n} samples, mostly absent (the file holds ${present} values); skipped`);
      continue;
    }
    cells += dense;
    const list = [...fields];
    const numbers = list.map(([key, g3]) => {
      if (fieldType(g3) !== 'number') return null;
      const v = takeColumn(n); // written in full below: every chunk copied or NaN-filled
      return { key, v, bytes: new Uint8Array(v.buffer) };
    });
    plans.push({ name, description, chunks, fields: list, t: takeColumn(n), numbers, ascending: true, places: new Map() });
  }
  // A field whose G3 type changes between chunks of its block keeps its first one. Numbers and bools are
  // converted (a bool is 0/1, a number true where not 0); strings and the others do not mix: those chunks
  // leave it NaN/null (said once a field and timeline).
  const mixed = new Set<string>();
  const ofType = (plan: Plan, key: string, type: FieldType, c: HkColumn | undefined): HkColumn | undefined => {
    if (c === undefined || (fieldType(c.g3Type) === 'string') === (type === 'string')) return c;
    if (!mixed.has(`${plan.name}\u0000${key}`)) {
      mixed.add(`${plan.name}\u0000${key}`);
      warn(`timeline ${plan.name}: field ${key} is ${c.g3Type} in a chunk after being ${type}; left empty there`);
    }
    return undefined;
  };
  // Times and numbers, chunk by chunk (in frame order when asked).
  const jobs: Array<{ plan: Plan; chunk: HkChunk; at: number }> = [];
  for (const plan of plans) {
    let at = 0;
    for (const chunk of plan.chunks) {
      jobs.push({ plan, chunk, at });
      at += chunk.time.length;
    }
  }
  if (beforeFrame) jobs.sort((a, b) => a.chunk.frame - b.chunk.frame);
  let frame = -1;
  for (const { plan, chunk, at } of jobs) {
    if (beforeFrame && chunk.frame !== frame) beforeFrame((frame = chunk.frame));
    chunk.time.seconds(plan.t, at);
    if (plan.ascending) plan.ascending = ascending(plan.t, at, at + chunk.time.length);
    const list = chunk.list;
    if (list) {
      const places = placesOf(plan, list.keys);
      for (let i = 0; i < plan.numbers.length; i++) {
        const num = plan.numbers[i];
        const k = places[i] ?? -1;
        if (num) fillNumbers(k < 0 ? undefined : list.values[k], num.v, num.bytes, at, chunk.time.length);
      }
    } else
      for (const num of plan.numbers)
        if (num) fillNumbers(ofType(plan, num.key, 'number', chunk.columns.get(num.key)), num.v, num.bytes, at, chunk.time.length);
  }
  const out: DecodedTimeline[] = [];
  for (const plan of plans) {
    const { name, description, chunks, fields, numbers, t: times, ascending: chunksAscending } = plan;
    let t = times;
    let columns: DecodedColumn[] = fields.map(([k, g3], i) => {
      const type = fieldType(g3);
      let values: Float64Array | Sample[];
      const num = numbers[i];
      if (num) values = num.v;
      else {
        const v: Sample[] = [];
        for (const c of chunks) fillSamples(ofType(plan, k, type, c.columns.get(k))?.values, type, v, c.time.length);
        values = v;
      }
      return { name: `${description}.${k}`, type, units: null, description: null, values };
    });
    const order = chunksAscending && joinsAscending(t, chunks) ? null : sortUnique(t);
    if (order) {
      const keep = order;
      t = Float64Array.from(keep, (i) => t[i] ?? NaN);
      columns = columns.map((c) => ({ ...c, values: reorder(c.values, keep) }));
    }
    out.push({ name, t, interval: medianSpacing(t), columns });
  }
  return out;
}
