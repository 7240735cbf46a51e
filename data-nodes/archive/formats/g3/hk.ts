/**
 * The SO housekeeping schema (so3g.hk, hkagg_version 0–2) over decoded frames (FORMAT.md §7):
 * session frames (hkagg_type 0), status frames (1: the providers active now, prov_id → description)
 * and data frames (2: blocks of co-sampled fields). A provider that restarts gets a new prov_id with
 * the same description; its fields continue under the same full names `<description>.<field>`.
 * Block names: v2 `block_names`; v1/v0 `block_for_<alphabetically first field>` as so3g's translator.
 * State (session, active providers) carries over from one file to the next (`add` in file order).
 */
import type { G3Warn } from './errors';
import { frameObject, type FrameReadOptions, type G3Frame } from './frame';
import type { G3Object, IntArray, TimeVector } from './types';
import { plainInt, plainStrings, TickArray, VectorDouble } from './lazy-vectors';
import { mapOf, TimesampleMap } from './maps';

export type HkValues = Float64Array | IntArray | Uint8Array | string[];

export interface HkColumn {
  /** G3VectorDouble / G3VectorInt / G3VectorBool / G3VectorString. */
  readonly g3Type: string;
  readonly values: HkValues;
  /** Number of values. */
  readonly length: number;
  /** G3VectorDouble: writes its values at out[at…] (`outBytes` a byte view of `out`), straight from the file bytes. */
  copyInto?(out: Float64Array, outBytes: Uint8Array, at: number): void;
}

export interface HkChunk {
  /** The times as read from the file: 10-ns `ticks` (decoded on first use), or seconds written straight into a column. */
  readonly time: TimeVector;
  columns: Map<string, HkColumn>;
  /**
   * When present, the same columns as parallel arrays, keys unique (the usual block: no Map is built
   * per data frame, and the chunks of one layout share their keys array).
   */
  readonly list?: { readonly keys: readonly string[]; readonly values: readonly HkColumn[] };
  frame: number;
}

export interface HkBlock {
  name: string;
  /** field key → G3 type */
  fields: Map<string, string>;
  chunks: HkChunk[];
  nSamples: number;
}

export interface HkProvider {
  provId: number;
  description: string;
  sessionId: bigint | null;
  nDataFrames: number;
  blocks: Map<string, HkBlock>;
}

export type HkFrameInfo =
  | { hkagg_type: 'session'; hkagg_version: number }
  | { hkagg_type: 'status'; hkagg_version: number; providers: Array<{ prov_id: number; description: string }> }
  | { hkagg_type: 'data'; hkagg_version: number; prov_id: number; block_names?: string[] };

const FIELD_TYPES = new Set(['G3VectorDouble', 'G3VectorInt', 'G3VectorString', 'G3VectorBool']);

function int(o: G3Object | null | undefined): number | null {
  return o && o.kind === 'int' ? Number(o.value) : null;
}

/** The entry's value when it is a G3Int, else null (an absent entry too); throws as `frameObject`. */
function intEntry(frame: G3Frame, name: string, o: FrameReadOptions): bigint | null {
  const blob = frame.entries.get(name);
  if (blob === undefined) return null;
  // The usual archive without the general reader (these are read in every frame).
  const plain = plainInt(blob);
  if (plain !== null) return plain;
  const v = frameObject(frame, name, o);
  return v && v.kind === 'int' ? v.value : null;
}

/** The entry's strings when it is a G3VectorString, else undefined (an absent entry too); throws as `frameObject`. */
function stringsEntry(frame: G3Frame, name: string, o: FrameReadOptions): string[] | undefined {
  const blob = frame.entries.get(name);
  if (blob === undefined) return undefined;
  const plain = plainStrings(blob);
  if (plain !== null) return plain;
  const v = frameObject(frame, name, o);
  return v && v.kind === 'vector-string' ? v.values : undefined;
}

function num(v: bigint | null): number | null {
  return v === null ? null : Number(v);
}

function str(o: G3Object | null | undefined): string | null {
  return o && o.kind === 'string' ? o.value : null;
}

function column(o: G3Object | null): HkColumn | null {
  if (!o || !FIELD_TYPES.has(o.type)) return null;
  // A VectorDouble is its own column (no object per field and frame).
  if (o instanceof VectorDouble) return o;
  if (o.kind === 'vector-int' || o.kind === 'vector-bytes' || o.kind === 'vector-string') {
    return { g3Type: o.type, values: o.values, length: o.values.length };
  }
  return null;
}

export class HkReader {
  /** Every provider session seen, in order of first appearance (a restart is a new entry). */
  readonly providers: HkProvider[] = [];
  private active = new Map<number, HkProvider>();
  private sessionId: bigint | null = null;
  /** Data frames naming a prov_id no status frame announced. */
  orphanFrames = 0;

  constructor(private readonly warn: G3Warn = () => {}) {}

  /** Interprets one frame; returns its HK role, or null for a frame that is not HK. */
  add(frame: G3Frame, o: FrameReadOptions): HkFrameInfo | null {
    if (frame.typeCode !== 72 || !frame.entries.has('hkagg_type')) return null;
    const type = num(intEntry(frame, 'hkagg_type', o));
    const version = num(intEntry(frame, 'hkagg_version', o)) ?? 0;
    const sessionId = intEntry(frame, 'session_id', o);
    if (type === 0) {
      if (sessionId !== this.sessionId) {
        this.sessionId = sessionId;
        this.active = new Map();
      }
      return { hkagg_type: 'session', hkagg_version: version };
    }
    if (type === 1) return this.status(frameObject(frame, 'providers', o), version, sessionId);
    if (type === 2) return this.data(frame, o, version);
    this.warn(`${o.file} frame ${frame.index}: unknown hkagg_type ${type}; skipped`);
    return null;
  }

  private status(list: G3Object | null | undefined, version: number, sessionId: bigint | null): HkFrameInfo {
    const now = new Map<number, HkProvider>();
    const out: Array<{ prov_id: number; description: string }> = [];
    for (const item of list && list.kind === 'vector-object' ? list.items : []) {
      if (!item || item.kind !== 'map') continue;
      const pv = item.items.get('prov_id');
      const dv = item.items.get('description');
      const id = int(pv as G3Object | null);
      const description = str(dv as G3Object | null);
      if (id === null || description === null) continue;
      out.push({ prov_id: id, description });
      const known = this.active.get(id);
      if (known && known.description === description) {
        now.set(id, known);
        continue;
      }
      const p: HkProvider = { provId: id, description, sessionId, nDataFrames: 0, blocks: new Map() };
      this.providers.push(p);
      now.set(id, p);
    }
    // A provider missing from the list has ended; coming back it gets a new prov_id (a new entry).
    this.active = now;
    return { hkagg_type: 'status', hkagg_version: version, providers: out };
  }

  private data(frame: G3Frame, o: FrameReadOptions, version: number): HkFrameInfo {
    const provId = num(intEntry(frame, 'prov_id', o)) ?? -1;
    const blocksObj = frameObject(frame, 'blocks', o);
    const names = stringsEntry(frame, 'block_names', o);
    const info: HkFrameInfo = { hkagg_type: 'data', hkagg_version: version, prov_id: provId, ...(names ? { block_names: names } : {}) };
    const p = this.active.get(provId);
    if (!p) {
      this.orphanFrames++;
      this.warn(`${o.file} frame ${frame.index}: data for prov_id ${provId}, which no status frame announced; skipped`);
      return info;
    }
    p.nDataFrames++;
    const items = blocksObj && blocksObj.kind === 'vector-object' ? blocksObj.items : [];
    // A block the vector names again (a cereal back-reference, 8 bytes) is the object already read: taken
    // each time, 4,000 references to a block of 4,000 samples made 16 million of them (625 MB, 5 s)
    // from a 97 KB file. spt3g writes each block once.
    const seen = new Set<G3Object>();
    items.forEach((b, i) => {
      if (b && seen.has(b)) {
        this.warn(`${o.file} frame ${frame.index}: block ${i} is a reference to an earlier block of the frame; skipped`);
        return;
      }
      if (b) seen.add(b);
      const chunk = toChunk(b, frame.index);
      if (!chunk) {
        if (b) this.warn(`${o.file} frame ${frame.index}: block ${i} of class ${b.type} is not HK data; skipped`);
        return;
      }
      // no sample: nothing to add (its fields would be columns of nothing, and cost a pass per chunk)
      if (chunk.time.length === 0) return;
      const name = names?.[i] ?? `block_for_${[...chunk.columns.keys()].sort()[0] ?? i}`;
      let block = p.blocks.get(name);
      if (!block) {
        block = { name, fields: new Map(), chunks: [], nSamples: 0 };
        p.blocks.set(name, block);
      }
      const fields = block.fields;
      const list = chunk.list;
      if (list) {
        for (let k = 0; k < list.keys.length; k++) {
          const key = list.keys[k] as string;
          if (!fields.has(key)) fields.set(key, (list.values[k] as HkColumn).g3Type);
        }
      } else {
        chunk.columns.forEach((c, k) => {
          if (!fields.has(k)) fields.set(k, c.g3Type);
        });
      }
      block.chunks.push(chunk);
      block.nSamples += chunk.time.length;
    });
    return info;
  }
}

function allDoubles(fields: ReadonlyArray<G3Object | null>, n: number): fields is readonly VectorDouble[] {
  for (let i = 0; i < fields.length; i++) {
    const v = fields[i];
    if (!(v instanceof VectorDouble && v.length === n)) return false;
  }
  return true;
}

class Chunk implements HkChunk {
  constructor(
    readonly time: TimeVector,
    readonly columns: Map<string, HkColumn>,
    readonly frame: number,
  ) {}
}

/** A chunk of the usual block: its columns as the arrays read, the Map built on first use. */
class ListChunk implements HkChunk {
  private map: Map<string, HkColumn> | null = null;
  constructor(
    readonly time: TimeVector,
    readonly list: { readonly keys: readonly string[]; readonly values: readonly VectorDouble[] },
    readonly frame: number,
  ) {}
  get columns(): Map<string, HkColumn> {
    return (this.map ??= mapOf<HkColumn>(this.list.keys, this.list.values));
  }
}

/** One block as times + columns (v0 IrregBlockDouble: t seconds truncated to ticks as so3g does). */
function toChunk(b: G3Object | null, frame: number): HkChunk | null {
  if (!b) return null;
  if (b.kind === 'timesample-map') {
    const n = b.timeVector.length;
    // The usual block (every field a G3VectorDouble of n values, keys unique): its field arrays are the columns.
    if (b instanceof TimesampleMap && b.list.unique && allDoubles(b.list.values, n)) {
      return new ListChunk(b.timeVector, { keys: b.list.keys, values: b.list.values }, frame);
    }
    const columns = new Map<string, HkColumn>();
    b.fields.forEach((v, k) => {
      const c = column(v);
      if (c && c.length === n) columns.set(k, c);
    });
    return new Chunk(b.timeVector, columns, frame);
  }
  if (b.kind === 'irreg-block') {
    const ticks = new BigInt64Array(b.t.length);
    for (let i = 0; i < b.t.length; i++) {
      const s = (b.t[i] ?? 0) * 1e8;
      ticks[i] = Number.isFinite(s) ? BigInt(Math.trunc(s)) : 0n;
    }
    const columns = new Map<string, HkColumn>();
    for (const [k, v] of b.data) if (v.length === b.t.length) columns.set(k, { g3Type: 'G3VectorDouble', values: v, length: v.length });
    return new Chunk(new TickArray(ticks), columns, frame);
  }
  return null;
}
