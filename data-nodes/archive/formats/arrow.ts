/**
 * Apache Arrow IPC files, file (`.arrow`, `.feather` v2) or stream (`.arrows`) form.
 *
 * - Time: the first Timestamp column (any unit), else a numeric column named like a time column
 *   (time, timestamp, t, unix_time…; `*_ms`: milliseconds), holding UNIX seconds.
 * - Other columns: integers and floats are `number` (Int64 converted to double), Bool is `bool`,
 *   Utf8 and dictionary-encoded strings are `string`, other timestamps are numbers in seconds;
 *   nested types are skipped.
 * - Field metadata `units` and `description` are used; schema metadata `timeline` names the
 *   timeline, else the file name rule of `timelineFromPath`.
 * - Bodies compressed with LZ4_FRAME (what pyarrow and pandas write Feather files with by default) are
 *   read (lz4.ts); ZSTD ones are refused with a message saying so.
 */
import { createRequire } from 'node:module';
import type { Field, Table, Vector } from 'apache-arrow';
import type { FieldType, Sample } from '../../sdk/types';
import { checkArrowIpc } from './arrow-check';
import { lz4FrameDecode } from './lz4';
import { TIME_NAMES } from './csv';
import {
  decodeLimitMessage,
  DecodeElsewhereError,
  FormatError,
  MAX_DECODED_BYTES,
  medianSpacing,
  reorder,
  sortUnique,
  timelineFromPath,
  type DecodedColumn,
  type DecodedFile,
  type FileContext,
  type FormatReader,
} from './types';

type ArrowLib = typeof import('apache-arrow');
let lib: ArrowLib | undefined;
let UNIT_SECONDS: Record<number, number> = {};
/**
 * apache-arrow, loaded at the first Arrow file: loading it costs ~45 ms, paid otherwise by every
 * process and every scanner decode worker whether or not the archive holds any Arrow file.
 */
function arrow(): ArrowLib {
  if (lib) return lib;
  const a = createRequire(__filename)('apache-arrow') as ArrowLib;
  // LZ4-compressed bodies (pyarrow's and pandas' Feather default), decoded here; an encoder set by
  // someone else (a test writing such files) is kept
  const prev = a.compressionRegistry.get(a.CompressionType.LZ4_FRAME);
  a.compressionRegistry.set(a.CompressionType.LZ4_FRAME, { ...(prev ?? {}), decode: lz4Buffer });
  UNIT_SECONDS = {
    [a.TimeUnit.SECOND]: 1,
    [a.TimeUnit.MILLISECOND]: 1e3,
    [a.TimeUnit.MICROSECOND]: 1e6,
    [a.TimeUnit.NANOSECOND]: 1e9,
  };
  return (lib = a);
}

/**
 * One LZ4_FRAME-compressed buffer of an Arrow body, as apache-arrow hands it to its codec: the bytes after
 * the buffer's 8-byte uncompressed length, which precede them in the same memory (ipc/reader.js
 * _decompressBuffers). That length (checked by checkArrowIpc: at most MAX_INFLATION times the file in
 * all) is what is allocated, and what the frames must fill exactly.
 */
function lz4Buffer(bytes: Uint8Array): Uint8Array {
  if (bytes.byteOffset < 8) throw new FormatError('an LZ4 buffer without its length prefix');
  const declared = new DataView(bytes.buffer, bytes.byteOffset - 8, 8).getBigInt64(0, true);
  if (declared < 0n || declared > BigInt(MAX_DECODED_BYTES)) throw new FormatError(`an LZ4 buffer declaring ${declared} bytes`);
  const out = new Uint8Array(Number(declared));
  const n = lz4FrameDecode(bytes, out);
  if (n !== out.length) throw new FormatError(`an LZ4 buffer of ${n} bytes where its prefix declares ${out.length}`);
  return out;
}

function numbers(vec: Vector, scale = 1): Float64Array {
  const n = vec.length;
  const { DataType, Precision } = arrow();
  // toArray() gives a Float16 column's raw bits (a Uint16Array); get() converts
  if (DataType.isFloat(vec.type) && (vec.type as { precision: number }).precision === Precision.HALF)
    return Float64Array.from({ length: n }, (_, i) => ((vec.get(i) as number | null) ?? NaN) / scale);
  const out = new Float64Array(n);
  const raw = vec.toArray() as ArrayLike<number | bigint>;
  const bigint =
    typeof (raw as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT === 'number' && raw.length > 0 && typeof raw[0] === 'bigint';
  if (raw.length === n && vec.nullCount === 0) {
    if (bigint) for (let i = 0; i < n; i++) out[i] = Number(raw[i] as bigint) / scale;
    else if (scale === 1 && raw instanceof Float64Array) out.set(raw);
    else for (let i = 0; i < n; i++) out[i] = Number(raw[i]) / scale;
    return out;
  }
  for (let i = 0; i < n; i++) {
    if (!vec.isValid(i)) {
      out[i] = NaN;
      continue;
    }
    const v = raw.length === n ? raw[i] : (vec.get(i) as number | bigint);
    out[i] = Number(v) / scale;
  }
  return out;
}

function isTimestamp(f: Field): boolean {
  return arrow().DataType.isTimestamp(f.type);
}
function isNumeric(f: Field): boolean {
  const { DataType } = arrow();
  return DataType.isInt(f.type) || DataType.isFloat(f.type);
}

function timeScale(f: Field): number {
  if (isTimestamp(f)) return UNIT_SECONDS[(f.type as { unit: number }).unit] ?? 1e3;
  return /_ms$/i.test(f.name) ? 1e3 : 1;
}

/**
 * What a file's string values may add up to, in UTF-16 units: buffers shared between columns, or a long
 * dictionary entry repeated by every row, let 60 KB of Arrow ask for gigabytes of strings (an adversarial
 * read: 880 MB from 57 KB; out of memory from 59 KB). A file's own string bytes are within its size;
 * dictionary entries are decoded once and shared by the rows that use them.
 */
class StringBudget {
  private left: number;
  constructor(private readonly fileBytes: number) {
    this.left = 2 * fileBytes + (1 << 20);
  }
  take(v: unknown): string | null {
    this.left -= 1;
    const s = v === null || v === undefined ? null : String(v);
    if (s !== null) this.left -= s.length;
    if (this.left < 0) throw new FormatError(`string values adding up to more than ${this.fileBytes} bytes can hold: a damaged Arrow file`);
    return s;
  }
}

/**
 * A dictionary-encoded column's values: each dictionary entry a row uses decoded once (only those: a
 * dictionary may be much longer than the rows), then shared by the rows that use it.
 */
function dictionaryStrings(vec: Vector, budget: StringBudget): Sample[] {
  const out: Sample[] = new Array<Sample>(vec.length);
  const decoded = new Map<Vector, Map<number, string | null>>();
  let at = 0;
  for (const d of vec.data) {
    const dict = d.dictionary;
    if (!dict) throw new FormatError('a dictionary-encoded column without its dictionary');
    let entries = decoded.get(dict);
    if (!entries) decoded.set(dict, (entries = new Map()));
    const idx = d.values as ArrayLike<number | bigint>;
    for (let i = 0; i < d.length; i++, at++) {
      if (!d.getValid(i)) {
        out[at] = null;
        continue;
      }
      // as apache-arrow's own getDictionary: the values are sliced already, getValid adds the offset
      const k = Number(idx[i]);
      let e = entries.get(k);
      if (e === undefined) {
        if (!(k >= 0 && k < dict.length)) throw new FormatError(`a dictionary index ${k} beyond its ${dict.length} entries`);
        entries.set(k, (e = budget.take(dict.get(k))));
      }
      out[at] = e;
    }
  }
  return out;
}

function column(f: Field, vec: Vector, budget: StringBudget): DecodedColumn | null {
  const { DataType } = arrow();
  const units = f.metadata.get('units') ?? null;
  const description = f.metadata.get('description') ?? null;
  let type: FieldType;
  let values: Float64Array | Sample[];
  if (isNumeric(f)) {
    type = 'number';
    values = numbers(vec);
  } else if (isTimestamp(f)) {
    type = 'number';
    values = numbers(vec, timeScale(f));
  } else if (DataType.isBool(f.type)) {
    type = 'bool';
    values = Array.from({ length: vec.length }, (_, i) => (vec.get(i) as boolean | null) ?? null);
  } else if (DataType.isDictionary(f.type)) {
    // of strings only: String() of a nested value (a list of 2^31 nulls, 712 bytes) walks all of it
    const v = (f.type as { dictionary: Field['type'] }).dictionary;
    if (!DataType.isUtf8(v) && !DataType.isLargeUtf8(v)) return null;
    type = 'string';
    values = dictionaryStrings(vec, budget);
  } else if (DataType.isUtf8(f.type) || DataType.isLargeUtf8(f.type)) {
    type = 'string';
    values = Array.from({ length: vec.length }, (_, i) => budget.take(vec.get(i)));
  } else return null;
  return { name: f.name, type, units, description, values };
}

export const arrowFormat: FormatReader = {
  name: 'arrow',
  extensions: ['.arrow', '.feather', '.arrows', '.ipc'],
  sniff(head: Buffer): boolean {
    // File form starts with "ARROW1"; stream form with a continuation marker 0xFFFFFFFF.
    return head.subarray(0, 6).toString('latin1') === 'ARROW1' || (head.length >= 8 && head.readUInt32LE(0) === 0xffffffff);
  },
  decode(content: Buffer, ctx: FileContext): DecodedFile {
    if (content.length === 0) return { timelines: [], badRows: 0 };
    // apache-arrow trusts the file's counts and offsets: a few hostile bytes could exhaust memory or loop
    const bytes = checkArrowIpc(content);
    if (ctx.maxDecodedBytes !== undefined && bytes > ctx.maxDecodedBytes) throw new DecodeElsewhereError(`${bytes} bytes decompressed`);
    const inflated = bytes - content.length;
    if (ctx.decodeLimit !== undefined && inflated > ctx.decodeLimit)
      throw new FormatError(decodeLimitMessage(`LZ4 content (${inflated} bytes)`, ctx.decodeLimit));
    // apache-arrow's own errors, reading the file or then its values (a buffer shorter than its column,
    // an offset of 2^60: a TypeError or RangeError), are the file's error all the same; FormatErrors
    // (ours: the LZ4 codec, the budgets) pass as they are
    let t: Float64Array;
    let cols: DecodedColumn[] = [];
    let table: Table;
    try {
      table = arrow().tableFromIPC(content);
      // checkArrowIpc saw to the sizes the loops below take: rows (all batches) no more than the file's
      // bytes (decompressed), and every column of its batch's rows
      const fields = table.schema.fields;
      let ti = fields.findIndex(isTimestamp);
      if (ti < 0) ti = fields.findIndex((f) => isNumeric(f) && TIME_NAMES.has(f.name.toLowerCase()));
      if (ti < 0) throw new FormatError('no time column (a Timestamp column, or a numeric one named time/timestamp/t…)');
      if (table.numRows === 0) return { timelines: [], badRows: 0 };
      const timeField = fields[ti];
      const timeVector = table.getChildAt(ti);
      if (!timeField || !timeVector) throw new FormatError('no time column');
      t = numbers(timeVector, timeScale(timeField));
      const budget = new StringBudget(bytes);
      fields.forEach((f, k) => {
        if (k === ti) return;
        const c = column(f, table.getChildAt(k)!, budget);
        if (c) cols.push(c);
      });
    } catch (e) {
      if (e instanceof FormatError) throw e;
      throw new FormatError(`not a readable Arrow IPC file: ${(e as Error).message}`);
    }
    // Rows without a time are dropped.
    let badRows = 0;
    for (let i = 0; i < t.length; i++) if (!Number.isFinite(t[i])) badRows++;
    let order: number[] | null = null;
    if (badRows > 0) order = Array.from(t.keys()).filter((i) => Number.isFinite(t[i]));
    if (order) {
      const keep = order;
      t = Float64Array.from(keep, (i) => t[i] ?? NaN);
      cols = cols.map((c) => ({ ...c, values: reorder(c.values, keep) }));
    }
    const sorted = sortUnique(t);
    if (sorted) {
      t = Float64Array.from(sorted, (i) => t[i] ?? NaN);
      cols = cols.map((c) => ({ ...c, values: reorder(c.values, sorted) }));
    }
    return {
      badRows,
      timelines: [
        {
          name: table.schema.metadata.get('timeline') ?? timelineFromPath(ctx, 'arrow'),
          t,
          interval: medianSpacing(t),
          columns: cols,
        },
      ],
    };
  },
};
