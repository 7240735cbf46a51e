/**
 * What the scanner needs from one file's bytes, computed where the bytes are (a decode worker, or the
 * scanner's thread for small files): the content hash, and unless the content is the one indexed,
 * the decode, the field rows and the summary tiers. Only these small results leave: the decoded
 * columns never cross threads. No I/O; formats are found by name.
 */
import { createHash } from 'node:crypto';
import { formatByName } from './formats';
import type { DecodedFile } from './formats/types';
import type { FieldRow } from './index-db/types';
import { buildTiers, ladderFor, type FieldTiers } from '../sdk/tiers';

export const sha1Hex = (b: string | Uint8Array): string => createHash('sha1').update(b).digest('hex');

const fmix32 = (h: number): number => {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
};

/**
 * The content hash stored in the index (`file.hash`) and compared to tell a touched file (same content,
 * new mtime) from a changed one: `fp1:` and 128 bits as hex. Four lanes of 32 bits, each taking every
 * fourth little-endian word through x → rotl(imul(x ^ w, odd), 13), a bijection of the lane for any
 * word: a change confined to one word of a lane always changes the hash; then the length and a final
 * mix. Not cryptographic (the scanner only needs to notice accidental change; anyone who can write
 * the archive can change it anyway), and about twice as fast as sha1 here (~1.4 vs ~0.7 GB/s).
 * Older indexes hold sha1 hex in the column: never equal to an `fp1:` value, so such a file is read
 * as changed once (decoded again), never taken as unchanged.
 */
export function contentHash(b: Uint8Array): string {
  const aligned = b.byteOffset % 4 === 0 ? b : Uint8Array.prototype.slice.call(b);
  const n = b.byteLength;
  const words = n >>> 2;
  const w = new Int32Array(aligned.buffer, aligned.byteOffset, words);
  let h0 = 0x243f6a88;
  let h1 = 0x85a308d3;
  let h2 = 0x13198a2e;
  let h3 = 0x03707344;
  const m = words & ~3;
  let i = 0;
  for (; i < m; i += 4) {
    h0 = Math.imul(h0 ^ (w[i] as number), 0x85ebca77);
    h0 = (h0 << 13) | (h0 >>> 19);
    h1 = Math.imul(h1 ^ (w[i + 1] as number), 0xc2b2ae3d);
    h1 = (h1 << 13) | (h1 >>> 19);
    h2 = Math.imul(h2 ^ (w[i + 2] as number), 0x27d4eb2f);
    h2 = (h2 << 13) | (h2 >>> 19);
    h3 = Math.imul(h3 ^ (w[i + 3] as number), 0x165667b1);
    h3 = (h3 << 13) | (h3 >>> 19);
  }
  // the last words and bytes (little-endian), each in lane 0 with its position
  for (; i < words; i++) {
    h0 = Math.imul(h0 ^ (w[i] as number), 0x85ebca77);
    h0 = (h0 << 13) | (h0 >>> 19);
  }
  for (let k = words * 4; k < n; k++) {
    h0 = Math.imul(h0 ^ (((aligned[k] as number) << 8) | (k & 3)), 0x85ebca77);
    h0 = (h0 << 13) | (h0 >>> 19);
  }
  const hi = Math.floor(n / 2 ** 32);
  const hex = (x: number): string => x.toString(16).padStart(8, '0');
  return `fp1:${hex(fmix32(h0 ^ n))}${hex(fmix32(h1 ^ hi))}${hex(fmix32(h2 + h0))}${hex(fmix32(h3 + h1))}`;
}

export interface SummaryJob {
  /** The file's index key (its field rows carry it). */
  key: string;
  relPath: string;
  format: string;
  content: Uint8Array;
  /** The indexed hash when the file may be unchanged (same size, format, status ok): equal → no decode. */
  sameAs: string | null;
  summaries: boolean;
}

export type SummaryResult =
  | { kind: 'same'; hash: string }
  | { kind: 'error'; error: string }
  | {
      kind: 'decoded';
      hash: string;
      fields: FieldRow[];
      tiers?: FieldTiers;
      badRows: number;
      tFirst: number | null;
      tLast: number | null;
      nSamples: number;
      /** What the format skipped (DecodedFile.warnings, bounded), for the scanner's log. */
      warnings?: string[];
      warningsDropped?: number;
    };

/** First and last index with a value, and how many values. */
function span(values: Float64Array | unknown[]): { first: number; last: number; n: number } {
  let first = -1;
  let last = -1;
  let n = 0;
  if (values instanceof Float64Array) {
    for (let i = 0; i < values.length; i++)
      if (values[i] === values[i]) {
        if (first < 0) first = i;
        last = i;
        n++;
      }
  } else {
    for (let i = 0; i < values.length; i++)
      if (values[i] !== null && values[i] !== undefined) {
        if (first < 0) first = i;
        last = i;
        n++;
      }
  }
  return { first, last, n };
}

/**
 * One row per field (the first timeline holding a value of it wins) and, with `summaries`, the summary
 * tiers of every numeric one (Float64Array, whatever the format) at the ladder of its timeline's
 * native interval (sdk/tiers): one pass over the columns. Generic over formats.
 */
export function summarise(key: string, d: DecodedFile, summaries: boolean): { fields: FieldRow[]; tiers?: FieldTiers } {
  const fields: FieldRow[] = [];
  const tiers: FieldTiers | undefined = summaries ? new Map() : undefined;
  const seen = new Set<string>();
  for (const tl of d.timelines) {
    const ladder = ladderFor(tl.interval);
    for (const c of tl.columns) {
      if (seen.has(c.name) || c.name.length > 255) continue;
      const s = span(c.values);
      const tFirst = tl.t[s.first];
      const tLast = tl.t[s.last];
      if (s.n === 0 || tFirst === undefined || tLast === undefined) continue;
      seen.add(c.name);
      const row: FieldRow = {
        key,
        field: c.name,
        timeline: tl.name.slice(0, 255),
        type: c.type,
        units: c.units?.slice(0, 255) ?? null,
        description: c.description,
        interval: tl.interval,
        tFirst,
        tLast,
        n: s.n,
        tierMin: null,
      };
      fields.push(row);
      if (tiers && c.values instanceof Float64Array) {
        const byWidth = buildTiers(tl.t, c.values, ladder);
        if (byWidth.size === 0) continue;
        tiers.set(c.name, byWidth);
        row.tierMin = Math.min(...byWidth.keys());
      }
    }
  }
  return tiers ? { fields, tiers } : { fields };
}

/** The field rows of a decoded file (no tiers). */
export const fieldRows = (key: string, d: DecodedFile): FieldRow[] => summarise(key, d, false).fields;

/** Hash, then (unless `sameAs` matches) decode and summarise. A decode error is a result, not a throw. */
export async function summariseFile(job: SummaryJob): Promise<SummaryResult> {
  const content = Buffer.from(job.content.buffer, job.content.byteOffset, job.content.byteLength);
  const hash = contentHash(content);
  if (job.sameAs !== null && job.sameAs === hash) return { kind: 'same', hash };
  const format = formatByName(job.format);
  if (!format) return { kind: 'error', error: `unknown format ${job.format}` };
  let decoded: DecodedFile;
  try {
    const ctx = { relPath: job.relPath };
    decoded = format.decodeAsync ? await format.decodeAsync(content, ctx) : format.decode(content, ctx);
  } catch (e) {
    return { kind: 'error', error: (e as Error).message };
  }
  const { fields, tiers } = summarise(job.key, decoded, job.summaries);
  let tFirst: number | null = null;
  let tLast: number | null = null;
  for (const f of fields) {
    if (tFirst === null || f.tFirst < tFirst) tFirst = f.tFirst;
    if (tLast === null || f.tLast > tLast) tLast = f.tLast;
  }
  const nSamples = fields.length ? decoded.timelines.reduce((n, tl) => n + tl.t.length, 0) : 0;
  return {
    kind: 'decoded',
    hash,
    fields,
    ...(tiers ? { tiers } : {}),
    badRows: decoded.badRows,
    tFirst,
    tLast,
    nSamples,
    ...(decoded.warnings ? { warnings: decoded.warnings } : {}),
    ...(decoded.warningsDropped ? { warningsDropped: decoded.warningsDropped } : {}),
  };
}
