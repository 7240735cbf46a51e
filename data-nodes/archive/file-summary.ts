/**
 * What the scanner needs from one file's bytes, computed where the bytes are (a decode worker, or the
 * scanner's thread for small files): the content hash, and unless the content is the one indexed,
 * the decode, the field rows and the summary tiers. Only these small results leave: the decoded
 * columns never cross threads. No I/O; formats are found by name.
 */
import { createHash } from 'node:crypto';
import { formatByName } from './formats';
import { releaseColumns } from './formats/column-pool';
import { DecodeElsewhereError, warningCollector, type DecodedFile, type FileContext } from './formats/types';
import type { FieldRow } from './index-db/types';
import { axisRuns, buildTiers, ladderFor, TierPack, type FieldTiers, type ValueSpan } from '../sdk/tiers';

export const sha1Hex = (b: string | Uint8Array): string => createHash('sha1').update(b).digest('hex');

/**
 * The content hash stored in the index (`file.hash`, sha1 hex) and compared to tell a touched file (same
 * content, new mtime) from a changed one, for formats without a fingerprint of their own (G3 has one: its
 * frames' CRCs, `summariseFile`). sha1 as every earlier scanner wrote it, so an existing index
 * recognises its files. (A faster 128-bit JS fingerprint was tried here and dropped: its four 32-bit lanes
 * were independent, so a change confined to one lane collided with a chance of 2^-32, and OpenSSL's sha1
 * was only ~1.4x slower than it on this machine. G3's fingerprint has that same 2^-32 for a change inside
 * one frame, and is kept: it costs no pass over the bytes at all (the decode checks the CRCs anyway), it
 * is as strong as the check spt3g itself makes of a frame, and a file damaged since it was indexed is
 * still caught, as its CRCs are verified before a match skips the decode: formats/g3 frameFingerprint.)
 */
export const contentHash = (b: Uint8Array): string => sha1Hex(b);

export interface SummaryJob {
  /** The file's index key (its field rows carry it). */
  key: string;
  relPath: string;
  format: string;
  content: Uint8Array;
  /** The indexed hash when the file may be unchanged (same size, format, status ok): equal → no decode. */
  sameAs: string | null;
  summaries: boolean;
  /** FileContext.maxDecodedBytes: set on the scanner's own thread, which answers `elsewhere` beyond it. */
  maxDecodedBytes?: number;
  /** FileContext.decodeLimit: what a compressed file may decompress to wherever it is decoded. */
  decodeLimit?: number;
}

export type SummaryResult =
  | { kind: 'same'; hash: string }
  /** It decodes to more than `maxDecodedBytes`: for a decode worker. */
  | { kind: 'elsewhere' }
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

/**
 * First and last index with a value, and how many values. For numbers: the ends found from each side,
 * then only the NaN between them counted (cheaper than tracking all three for every value).
 */
function span(values: Float64Array | unknown[]): ValueSpan {
  if (values instanceof Float64Array) {
    const n = values.length;
    let first = 0;
    while (first < n && values[first] !== values[first]) first++;
    if (first === n) return { first: -1, last: -1, n: 0 };
    let last = n - 1;
    while (values[last] !== values[last]) last--;
    let nan = 0;
    for (let i = first + 1; i < last; i++) if (values[i] !== values[i]) nan++;
    return { first, last, n: last - first + 1 - nan };
  }
  let first = -1;
  let last = -1;
  let n = 0;
  for (let i = 0; i < values.length; i++)
    if (values[i] !== null && values[i] !== undefined) {
      if (first < 0) first = i;
      last = i;
      n++;
    }
  return { first, last, n };
}

/**
 * Whether a field name can be a key of the index: 255 characters at most (the column's size), and no
 * trailing space. MySQL and MariaDB compare their binary collation PAD SPACE, so "p.x " is the key
 * "p.x": a file holding both failed its write on a duplicate key, and one of each merged into the other's
 * summary rows (SQLite tells them apart; the index means the same on both).
 */
function indexable(name: string): boolean {
  return name.length <= 255 && !name.endsWith(' ');
}

/**
 * One row per field (the first timeline holding a value of it wins) and, with `summaries`, the summary
 * tiers of every numeric one (Float64Array, whatever the format) at the ladder of its timeline's
 * native interval (sdk/tiers). Generic over formats. The columns of a timeline share its times: where
 * the sorted path applies (`axisRuns`), the buckets of the finest width are found once for all of
 * them, and each column is then read once, for its buckets and its span together. Every packed array of
 * the tiers is a view of one buffer (TierPack): a worker's result is copied to the scanner's thread as
 * one buffer, not one per field and width (a thousand small ones for a file of hundreds of fields, each
 * its own allocation there and work for its collector).
 */
export function summarise(key: string, d: DecodedFile, summaries: boolean): { fields: FieldRow[]; tiers?: FieldTiers } {
  const fields: FieldRow[] = [];
  const tiers: FieldTiers | undefined = summaries ? new Map() : undefined;
  // every field's tiers built into one buffer, made views of one array at the end (TierPack)
  const pack = tiers ? new TierPack() : null;
  const seen = new Set<string>();
  for (const tl of d.timelines) {
    const ladder = ladderFor(tl.interval); // ascending (TierPack.onRuns)
    const finest = ladder[0] ?? 86400;
    let runs: Int32Array | null | undefined; // undefined: not looked for yet
    for (const c of tl.columns) {
      if (seen.has(c.name)) continue;
      if (!indexable(c.name)) {
        warningCollector(d)(
          `field ${JSON.stringify(c.name.slice(0, 300))}: a name the index cannot hold (over 255 characters, or ending in a space); skipped`,
        );
        continue;
      }
      let s: ValueSpan | undefined;
      if (pack && c.values instanceof Float64Array && c.values.length === tl.t.length) {
        if (runs === undefined) runs = axisRuns(tl.t, finest);
        if (runs !== null) {
          s = { first: -1, last: -1, n: 0 };
          pack.onRuns(tl.t, runs, c.values, ladder, s);
        }
      }
      const onRuns = s !== undefined;
      s ??= span(c.values);
      const tFirst = tl.t[s.first];
      const tLast = tl.t[s.last];
      if (s.n === 0 || tFirst === undefined || tLast === undefined) {
        pack?.drop();
        continue;
      }
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
      if (tiers && pack && c.values instanceof Float64Array) {
        if (!onRuns) pack.add(buildTiers(tl.t, c.values, ladder));
        const byWidth = new Map<number, Float64Array>(); // filled by pack.finish()
        const tierMin = pack.keep(byWidth);
        if (tierMin === null) continue;
        tiers.set(c.name, byWidth);
        row.tierMin = tierMin;
      }
    }
  }
  pack?.finish();
  return tiers ? { fields, tiers } : { fields };
}

/**
 * Hash (the format's fingerprint where it has one, FormatReader.fingerprint, else `contentHash`), then
 * (unless `sameAs` matches) decode and summarise; a new file's fingerprint comes from its decode where
 * the format makes it there (G3: in its one walk of the frames). A decode error is a result, not a throw.
 */
export async function summariseFile(job: SummaryJob): Promise<SummaryResult> {
  const content = Buffer.from(job.content.buffer, job.content.byteOffset, job.content.byteLength);
  const format = formatByName(job.format);
  // A format's fingerprint that fails is only a missed shortcut: the bytes are hashed.
  const fingerprintOf = (verify: boolean): string | null => {
    try {
      return format?.fingerprint?.(content, verify) ?? null;
    } catch {
      return null;
    }
  };
  // Nothing indexed to compare with (a new file): the decode may compute the fingerprint on its way
  // (FileContext.fingerprint), else it is computed after. One indexed: verified first, as a match skips
  // the decode (which checks what it reads itself).
  const along = job.sameAs === null && format?.fingerprint !== undefined;
  let hash: string | null = null;
  if (!along) {
    hash = fingerprintOf(job.sameAs !== null) ?? contentHash(content);
    if (job.sameAs !== null && job.sameAs === hash) return { kind: 'same', hash };
  }
  if (!format) return { kind: 'error', error: `unknown format ${job.format}` };
  let decoded: DecodedFile;
  try {
    const ctx: FileContext = {
      relPath: job.relPath,
      ...(job.maxDecodedBytes !== undefined ? { maxDecodedBytes: job.maxDecodedBytes } : {}),
      ...(job.decodeLimit !== undefined ? { decodeLimit: job.decodeLimit } : {}),
      ...(along ? { fingerprint: true } : {}),
    };
    decoded = format.decodeAsync ? await format.decodeAsync(content, ctx) : format.decode(content, ctx);
  } catch (e) {
    if (e instanceof DecodeElsewhereError) return { kind: 'elsewhere' };
    return { kind: 'error', error: (e as Error).message };
  }
  hash ??= decoded.fingerprint ?? fingerprintOf(false) ?? contentHash(content);
  // what a format decoded is its own (a bug there, or a shape nobody foresaw, fails this file, not the scan)
  let summary: ReturnType<typeof summarise>;
  try {
    summary = summarise(job.key, decoded, job.summaries);
  } catch (e) {
    releaseColumns(decoded);
    return { kind: 'error', error: `decoded, but could not be summarised: ${(e as Error).message}` };
  }
  const { fields, tiers } = summary;
  const nSamples = fields.length ? decoded.timelines.reduce((n, tl) => n + tl.t.length, 0) : 0;
  releaseColumns(decoded); // the results are copies: its columns serve the next decode of this thread
  let tFirst: number | null = null;
  let tLast: number | null = null;
  for (const f of fields) {
    if (tFirst === null || f.tFirst < tFirst) tFirst = f.tFirst;
    if (tLast === null || f.tLast > tLast) tLast = f.tLast;
  }
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
