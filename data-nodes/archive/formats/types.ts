/**
 * The one interface every archive file format implements. A format is a pure function from the bytes
 * of one file to its timelines; it never touches the file system or the index.
 *
 * Rules every format keeps (the reader and the scanner rely on them):
 * - times are UNIX seconds, UTC: a wall-clock time without an explicit offset is read as UTC, never in
 *   the server's local zone;
 * - within one timeline `t` is strictly ascending (sort out-of-order samples; a repeated time keeps the
 *   last value given for it);
 * - a missing numeric value is NaN in a Float64Array column, `null` in a Sample[] column;
 * - a file that cannot be decoded at all throws (a `FormatError` when the cause is the content); rows
 *   that cannot be read are skipped and counted in `badRows`.
 *
 * Adding a format: one file exporting a `FormatReader`, one line in `index.ts`, and its tests.
 */
import * as path from 'node:path';
import type { FieldType, Sample } from '../../sdk/types';

export interface DecodedColumn {
  name: string;
  type: FieldType;
  units: string | null;
  description: string | null;
  /** One value per `t`: Float64Array for numbers (NaN = missing), Sample[] otherwise. */
  values: Float64Array | Sample[];
}

export interface DecodedTimeline {
  name: string;
  /** Strictly ascending UNIX seconds. */
  t: Float64Array;
  /** Nominal interval in seconds (median spacing) or null. */
  interval: number | null;
  columns: DecodedColumn[];
}

export interface DecodedFile {
  timelines: DecodedTimeline[];
  /** Rows or lines that were skipped. */
  badRows: number;
  /**
   * What the format skipped or could not read but decoded around (an unknown object type, a FLAC stream it
   * cannot read): at most MAX_WARNINGS messages, each naming what was skipped; `warningsDropped` counts the rest.
   * Formats are pure, so they hand these to the caller, which logs them (the scanner at warn, once per file).
   */
  warnings?: string[];
  warningsDropped?: number;
  /**
   * `FormatReader.fingerprint(content, false)`, where the caller asked for it (`FileContext.fingerprint`)
   * and the format computed it in the decode's own pass over the content; absent otherwise.
   */
  fingerprint?: string;
}

/** Bound on `DecodedFile.warnings` per file: a hostile file cannot flood the log. */
export const MAX_WARNINGS = 20;

/** A warn callback collecting at most MAX_WARNINGS messages into `into`. */
export function warningCollector(into: Pick<DecodedFile, 'warnings' | 'warningsDropped'>): (m: string) => void {
  return (m: string) => {
    const list = (into.warnings ??= []);
    if (list.length < MAX_WARNINGS) list.push(m.length > 500 ? `${m.slice(0, 500)}…` : m);
    else into.warningsDropped = (into.warningsDropped ?? 0) + 1;
  };
}

/** Where the file is, for formats that take names from the path (field or timeline names). */
export interface FileContext {
  /** Path relative to the archive root, '/' separated. */
  relPath: string;
  /**
   * Bytes a compressed file may decode to here (the scanner's own thread, which also serves: a small file
   * decompressing to much more is `DecodeElsewhereError`, for a decode worker). Unset: MAX_DECODED_BYTES.
   */
  maxDecodedBytes?: number;
  /**
   * Bytes a compressed file may decompress to in this decode (the scanner's or the reader's share of
   * the memory available for one decode: file-read.ts `decodeLimitFor`); beyond it the file is an error naming the
   * limit, never a decompression that takes the process's memory. Unset: MAX_DECODED_BYTES.
   */
  decodeLimit?: number;
  /**
   * The caller stores the format's fingerprint of the content too (a file not indexed yet): a format
   * that walks what it fingerprints anyway may compute it in the decode (`DecodedFile.fingerprint`).
   */
  fingerprint?: boolean;
}

/** What a file decompressing to more than its `FileContext.decodeLimit` (or a format's own bound) is told. */
export function decodeLimitMessage(what: string, limit: number): string {
  return `${what} exceeds ${limit} bytes, ${DECODE_LIMIT_WORDS} (a share of the memory available); refused: decompress the file on disk to have it indexed`;
}

const DECODE_LIMIT_WORDS = 'the most one decode may hold here';

/** Whether an error's message is `decodeLimitMessage`'s (it may have crossed threads as a string). */
export function isDecodeLimitMessage(message: string): boolean {
  return message.includes(DECODE_LIMIT_WORDS);
}

/** The most a file, whole or decompressed, may hold (fs.readFile's limit): beyond it, a FormatError. */
export const MAX_DECODED_BYTES = 2 ** 31 - 1;

/**
 * Bytes a small file (under a decode pool's minBytes, 64 KiB) decoded on a thread that also serves (the
 * scanner's, the reader's) may decompress to there (FileContext.maxDecodedBytes): a compressed one holding
 * more goes to a decode worker, with its deadline and heap (64 KB of LZ4 Arrow can hold 15 M rows: 4.6 s
 * and 535 MB, measured; a few KB of bzip2 G3, gigabytes).
 */
export const THREAD_DECODED_BYTES = 1 << 20;

/**
 * Numbers that came from another thread (a transferred buffer) as a Float64Array of this context: a
 * view of the same memory, no copy. A message is deserialised in the main context of the process, and
 * code running in another one (a vm context: jest's test sandbox) sees its arrays fail `instanceof`.
 */
export function float64Here(a: ArrayBufferView): Float64Array {
  return a instanceof Float64Array ? a : new Float64Array(a.buffer, a.byteOffset, a.byteLength / Float64Array.BYTES_PER_ELEMENT);
}

/** A file that decodes to more than `FileContext.maxDecodedBytes`: to be decoded on another thread, not an error of the file. */
export class DecodeElsewhereError extends Error {
  constructor(what: string) {
    super(`${what}: more than this thread decodes`);
    this.name = 'DecodeElsewhereError';
  }
}

export interface FormatReader {
  /** Stable name stored in the index (`weather`, `csv`, `arrow`). */
  readonly name: string;
  /** Lower-case extensions with the dot, e.g. ['.csv', '.tsv']. */
  readonly extensions: readonly string[];
  /** For files whose extension no format claims: true when the first bytes look like this format. */
  sniff?(head: Buffer, ctx: FileContext): boolean;
  decode(content: Buffer, ctx: FileContext): DecodedFile;
  /**
   * For formats with content only an asynchronous decoder can read (G3 `.xz`): the scanner and the
   * reader call this instead of `decode` when it is present.
   */
  decodeAsync?(content: Buffer, ctx: FileContext): Promise<DecodedFile>;
  /**
   * For formats that store checksums of their own content (G3 frames): a fingerprint of `content` (at
   * most 40 characters, never a sha1 hex digest) that the scanner stores instead of the sha1 of every byte
   * and compares to tell a file whose mtime changed from one whose content did. `verify`: the caller
   * will skip the decode when it matches, so every stored checksum is checked first. Null: hash the
   * bytes (compressed content, a checksum that does not match, content not of this format).
   */
  fingerprint?(content: Buffer, verify: boolean): string | null;
}

export class FormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FormatError';
  }
}

/** The median spacing of ascending times (rounded to 1 µs), or null with fewer than two. */
export function medianSpacing(t: ArrayLike<number>): number | null {
  const n = t.length;
  if (n < 2) return null;
  // Sample at most 1001 spacings: exact for small files, cheap for big ones.
  const step = Math.max(1, Math.floor((n - 1) / 1000));
  // evenly spaced (most archives): every sampled spacing the first, then that is the answer (what the
  // lo === hi case below gives), found without the array below (a NaN spacing is never equal: below)
  const d0 = t[1]! - t[0]!; // n >= 2
  let even = true;
  for (let i = 1 + step; i < n && even; i += step) even = t[i]! - t[i - 1]! === d0; // 0 < i < n
  if (even && d0 === d0) return Math.round(d0 * 1e6) / 1e6;
  const d = new Float64Array(Math.floor((n - 2) / step) + 1);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 1, k = 0; i < n; i += step, k++) {
    const x = t[i]! - t[i - 1]!; // 0 < i < n
    d[k] = x;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  // equal but for NaN spacings (lo and hi skip them): no sort
  const median = lo === hi ? lo : d.sort()[d.length >> 1]!;
  return Math.round(median * 1e6) / 1e6;
}

/**
 * Sorts rows by time (stable: for equal times the later row wins) and drops repeated times.
 * Returns the row order to keep, or null when `t` is already strictly ascending.
 */
export function sortUnique(t: ArrayLike<number>): number[] | null {
  let ok = true;
  for (let i = 1; i < t.length; i++)
    if (!(t[i]! > t[i - 1]!)) {
      ok = false;
      break;
    } // 0 < i < length
  if (ok) return null;
  // Indexes in order and keep are < t.length.
  const order = Array.from({ length: t.length }, (_, i) => i).sort((a, b) => t[a]! - t[b]! || a - b);
  const keep: number[] = [];
  for (const i of order) {
    const last = keep.at(-1);
    if (last !== undefined && t[last] === t[i]) keep[keep.length - 1] = i;
    else keep.push(i);
  }
  return keep;
}

/** Applies a row order from `sortUnique` to a column. */
export function reorder(values: Float64Array | Sample[], order: number[]): Float64Array | Sample[] {
  if (values instanceof Float64Array) {
    const out = new Float64Array(order.length);
    for (const [i, k] of order.entries()) out[i] = values[k] ?? NaN;
    return out;
  }
  return order.map((i) => values[i] ?? null);
}

/** Decodes bytes as UTF-8, or as Latin-1 (Windows logger files) when they are not valid UTF-8. */
export function decodeText(content: Buffer): string {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(content);
  } catch {
    text = content.toString('latin1');
  }
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * Timeline of a multi-column file without a stated one: the file name without its extension and
 * trailing date/number part (`cryo_2024-01-02.csv` → `cryo`), else the parent directory's name,
 * else `fallback`. Daily files of one logger thus share a timeline.
 */
export function timelineFromPath(ctx: FileContext, fallback: string): string {
  const stem = path.posix.basename(ctx.relPath).replace(/\.[^.]*$/, '');
  const fromStem = stem.replace(/[-_. ]*\d[\d\-_.T:]*$/, '');
  if (fromStem !== '') return fromStem;
  const dir = path.posix.basename(path.posix.dirname(ctx.relPath));
  return dir && dir !== '.' ? dir : fallback;
}
