/**
 * A decode worker's `decoded` SummaryResult as it crosses to the scanner's thread (decode-worker.ts →
 * decode-pool.ts): its field rows as columns (a few typed arrays and the distinct strings) and its tiers
 * as the one buffer they are views of (TierPack) with their places, the buffers transferred, not copied.
 * Sent as they are, a year of G3 hour files (20 fields each) made the scanner's thread rebuild ~1.2
 * million objects from structured-clone data (a FieldRow, a Map and a view each per field and width),
 * ~25-30 µs a file there, and collect them after; from these it makes the same rows and maps with
 * plain literals. Every other result crosses as it is.
 */
import type { SummaryResult } from './file-summary';
import type { FieldRow } from './index-db/types';
import { float64Here } from './formats/types';
import type { FieldType } from '../sdk/types';
import type { FieldTiers } from '../sdk/tiers';

type Decoded = Extract<SummaryResult, { kind: 'decoded' }>;

/**
 * The properties of a `decoded` result toWire and fromWire copy one by one besides kind, fields and
 * tiers: a property added to SummaryResult and not here fails to compile (`COPIES_ALL`), not to cross.
 */
type Copied = 'hash' | 'badRows' | 'tFirst' | 'tLast' | 'nSamples' | 'warnings' | 'warningsDropped';
const COPIES_ALL: [Exclude<keyof Decoded, Copied | 'kind' | 'fields' | 'tiers'>] extends [never] ? true : never = true;
void COPIES_ALL;

/** Per field in `refs`: its name, timeline, type, units, description (-1: null), as places in `strings`. */
const REFS = 5;
/** Per field in `nums`: interval, tFirst, tLast, n, tierMin (interval and tierMin null where `nulls` says). */
const NUMS = 5;
/** Per tier part in `parts`: field (its place), width, start, length (in the buffer's numbers). */
const PART = 4;

export interface WireDecoded extends Omit<Decoded, 'kind' | 'fields' | 'tiers'> {
  kind: 'decoded-wire';
  /** The file's key (every field row's). */
  key: string;
  strings: string[];
  refs: Int32Array;
  nums: Float64Array;
  /** Per field: bit 1 interval null, bit 2 tierMin null. */
  nulls: Uint8Array;
  tiers?: { buf: Float64Array; parts: Float64Array };
}

/**
 * `r` for postMessage, and the buffers to transfer with it: a `decoded` one as a WireDecoded (its tier
 * views then unusable here: they are moved), any other as it is.
 */
export function toWire<R extends { kind: string }>(r: R | Decoded): { wire: R | Decoded | WireDecoded; transfer: ArrayBuffer[] } {
  if (r.kind !== 'decoded') return { wire: r, transfer: [] };
  const d = r as Decoded;
  const { fields, tiers } = d;
  const strings: string[] = [];
  const at = new Map<string, number>();
  const ref = (s: string | null): number => {
    if (s === null) return -1;
    let i = at.get(s);
    if (i === undefined) {
      i = strings.length;
      strings.push(s);
      at.set(s, i);
    }
    return i;
  };
  const n = fields.length;
  const refs = new Int32Array(n * REFS);
  const nums = new Float64Array(n * NUMS);
  const nulls = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const f = fields[i] as FieldRow;
    refs[i * REFS] = ref(f.field);
    refs[i * REFS + 1] = ref(f.timeline);
    refs[i * REFS + 2] = ref(f.type);
    refs[i * REFS + 3] = ref(f.units);
    refs[i * REFS + 4] = ref(f.description);
    nums[i * NUMS] = f.interval ?? 0;
    nums[i * NUMS + 1] = f.tFirst;
    nums[i * NUMS + 2] = f.tLast;
    nums[i * NUMS + 3] = f.n;
    nums[i * NUMS + 4] = f.tierMin ?? 0;
    nulls[i] = (f.interval === null ? 1 : 0) | (f.tierMin === null ? 2 : 0);
  }
  // each property named (an object rest and its spread took a fifth of this function's time)
  const wire: WireDecoded = {
    kind: 'decoded-wire',
    hash: d.hash,
    badRows: d.badRows,
    tFirst: d.tFirst,
    tLast: d.tLast,
    nSamples: d.nSamples,
    key: fields[0]?.key ?? '',
    strings,
    refs,
    nums,
    nulls,
  };
  if (d.warnings !== undefined) wire.warnings = d.warnings;
  if (d.warningsDropped !== undefined) wire.warningsDropped = d.warningsDropped;
  const transfer: ArrayBuffer[] = [refs.buffer, nums.buffer, nulls.buffer];
  if (tiers) {
    // the parts, and the one buffer they are views of (TierPack); tiers built otherwise are copied into one
    let count = 0;
    for (const byWidth of tiers.values()) count += byWidth.size;
    // per part: field (its place), width, then its start and length in `buf`
    const parts = new Float64Array(count * PART);
    const views: Float64Array[] = [];
    let shared: ArrayBuffer | null = null;
    let one = true;
    let total = 0;
    // fields are in the tiers' order (file-summary.ts): the place of each is looked for from the last one's
    let at = 0;
    let k = 0;
    for (const [field, byWidth] of tiers) {
      let i = at;
      while (i < fields.length && (fields[i] as FieldRow).field !== field) i++;
      if (i === fields.length) i = fields.findIndex((f) => f.field === field);
      if (i < 0) throw new Error(`toWire: tiers of ${JSON.stringify(field)}, which has no field row`);
      at = i + 1;
      for (const [w, p] of byWidth) {
        parts[k] = i;
        parts[k + 1] = w;
        parts[k + 2] = p.byteOffset / 8;
        parts[k + 3] = p.length;
        k += PART;
        views.push(p);
        total += p.length;
        if (shared === null) shared = p.buffer as ArrayBuffer;
        else if (p.buffer !== shared) one = false;
      }
    }
    let buf: Float64Array;
    if (one && shared !== null && !(shared instanceof SharedArrayBuffer)) buf = new Float64Array(shared);
    else {
      buf = new Float64Array(total);
      for (let v = 0, o = 0; v < views.length; v++) {
        const p = views[v] as Float64Array;
        buf.set(p, o);
        parts[v * PART + 2] = o;
        o += p.length;
      }
    }
    wire.tiers = { buf, parts };
    transfer.push(buf.buffer as ArrayBuffer, parts.buffer);
  }
  return { wire, transfer };
}

/** What `toWire` made, as it was: a WireDecoded back as its `decoded` result; any other as it is. */
export function fromWire<R extends { kind: string }>(w: R | WireDecoded): R | Decoded {
  if (w.kind !== 'decoded-wire') return w as R;
  const d = w as WireDecoded;
  const { key, strings, refs, nums, nulls, tiers: wt } = d;
  const str = (i: number): string | null => (i < 0 ? null : (strings[i] ?? null));
  const n = nulls.length;
  const fields: FieldRow[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const z = nulls[i] as number;
    fields[i] = {
      key,
      field: str(refs[i * REFS] as number) ?? '',
      timeline: str(refs[i * REFS + 1] as number) ?? '',
      type: (str(refs[i * REFS + 2] as number) ?? 'number') as FieldType,
      units: str(refs[i * REFS + 3] as number),
      description: str(refs[i * REFS + 4] as number),
      interval: z & 1 ? null : (nums[i * NUMS] as number),
      tFirst: nums[i * NUMS + 1] as number,
      tLast: nums[i * NUMS + 2] as number,
      n: nums[i * NUMS + 3] as number,
      tierMin: z & 2 ? null : (nums[i * NUMS + 4] as number),
    };
  }
  const out: Decoded = {
    kind: 'decoded',
    hash: d.hash,
    fields,
    badRows: d.badRows,
    tFirst: d.tFirst,
    tLast: d.tLast,
    nSamples: d.nSamples,
  };
  if (d.warnings !== undefined) out.warnings = d.warnings;
  if (d.warningsDropped !== undefined) out.warningsDropped = d.warningsDropped;
  if (wt) {
    const buf = float64Here(wt.buf);
    const tiers: FieldTiers = new Map();
    for (let k = 0; k < wt.parts.length; k += PART) {
      const field = (fields[wt.parts[k] as number] as FieldRow).field;
      let byWidth = tiers.get(field);
      if (!byWidth) tiers.set(field, (byWidth = new Map()));
      const from = wt.parts[k + 2] as number;
      byWidth.set(wt.parts[k + 1] as number, buf.subarray(from, from + (wt.parts[k + 3] as number)));
    }
    out.tiers = tiers;
  }
  return out;
}
