/**
 * CSV and TSV with a header row.
 *
 * - Delimiter: tab for `.tsv`/`.tab`, otherwise whichever of `,` `;` `\t` occurs most in the header.
 *   Double-quoted cells with `""` escapes are understood (within one line).
 * - Leading `#` lines are comments; `# timeline: NAME` names the timeline. Otherwise the timeline is
 *   the file name without its extension and trailing date/number part (`cryo_2024-01-02.csv` →
 *   `cryo`), else the parent directory's name, else `csv`.
 * - Header cells `name [unit]` or `name (unit)` give a field `name` with units `unit`.
 * - Time: a column named time/timestamp/t/unix_time/epoch/datetime/utc… holding UNIX seconds
 *   (`*_ms` or unit `ms`: milliseconds) or ISO date-times; or the common logger layout of separate
 *   `date` and `time` columns (`2024-01-02`, `02.01.2024`, `01/02/2024` — month first unless some day
 *   exceeds 12 — and `13:04:05`, `1:04:05 PM`). Wall-clock times without a zone are UTC.
 * - Cells: numbers, `true`/`false`, anything else is a string; empty, `nan`, `NA`, `N/A`, `null` are
 *   missing. A column is `number` when every present cell is a number, `bool` when every one is a
 *   boolean, else `string`.
 * - Rows with a different number of cells or an unreadable time are skipped and counted. Text that is
 *   not UTF-8 is read as Latin-1 (Windows loggers write `°C` that way).
 */
import * as path from 'node:path';
import type { Sample } from '../../sdk/types';
import { DECIMAL_TEXT } from '../../../common/decimal';
import { parseClock, parseDate, parseIsoDateTime, guessDateOrder } from './time';
import { fastNumericRows } from './csv-fast';
import {
  FormatError,
  decodeText,
  medianSpacing,
  reorder,
  sortUnique,
  timelineFromPath,
  type DecodedColumn,
  type DecodedFile,
  type FileContext,
  type FormatReader,
} from './types';

export const TIME_NAMES = new Set([
  'time',
  'timestamp',
  't',
  'unix_time',
  'unixtime',
  'unix',
  'ctime',
  'epoch',
  'datetime',
  'date_time',
  'utc',
  'time_utc',
  'timestamp_utc',
  'time_ms',
  'timestamp_ms',
  'unix_ms',
  'epoch_ms',
  'ts',
]);
const MISSING = new Set(['', 'nan', 'na', 'n/a', 'null', 'none', '-nan']);

/** A time cell: a number as written, or an ISO date-time (NaN otherwise). */
const timeCell = (c: string): number => (DECIMAL_TEXT.test(c) ? Number(c) : parseIsoDateTime(c));

/**
 * A cell that is exactly a number (the DECIMAL_TEXT grammar, no spaces), or null: a char-code scan, no regular
 * expression, so the common all-numeric file decodes at the speed of `Number()`.
 */
export function strictNumber(s: string): number | null {
  const n = s.length;
  let i = 0;
  let c = s.charCodeAt(0);
  if (c === 43 || c === 45) i++;
  let digits = 0;
  while (i < n && (c = s.charCodeAt(i)) >= 48 && c <= 57) {
    i++;
    digits++;
  }
  if (i < n && s.charCodeAt(i) === 46) {
    i++;
    while (i < n && (c = s.charCodeAt(i)) >= 48 && c <= 57) {
      i++;
      digits++;
    }
  }
  if (digits === 0) return null;
  if (i < n && ((c = s.charCodeAt(i)) === 101 || c === 69)) {
    i++;
    if (i < n && ((c = s.charCodeAt(i)) === 43 || c === 45)) i++;
    let e = 0;
    while (i < n && (c = s.charCodeAt(i)) >= 48 && c <= 57) {
      i++;
      e++;
    }
    if (e === 0) return null;
  }
  return i === n ? Number(s) : null;
}

/** Splits one line into cells; quote-aware only when the line holds a quote. */
export function splitLine(line: string, delim: string): string[] {
  if (!line.includes('"')) return line.split(delim);
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"') {
        if (line[i + 1] === '"') {
          cur += '"';
          i++;
        } else quoted = false;
      } else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === delim) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/**
 * A header cell's name and units: `temperature [K]`, `p (mbar)`. The units are the last bracket at the
 * end: from the first `[` or `(` after the last closing bracket before it. Found in one pass (it was the
 * regex /^(.*?)\s*[[(]([^\])]*)[\])]\s*$/, same answers on 2 million random cells, which backtracked in
 * the square of the cell's length: a 60 KB cell "a [a [a […" took 2.6 s, a 600 KB one minutes).
 */
function headerCell(raw: string): { name: string; units: string | null } {
  const s = raw.trim();
  const last = s.length - 1;
  if (s[last] === ']' || s[last] === ')') {
    let j = last - 1;
    while (j >= 0 && s[j] !== ']' && s[j] !== ')') j--;
    let k = j + 1;
    while (k < last && s[k] !== '[' && s[k] !== '(') k++;
    const name = s.slice(0, k).trimEnd();
    // a name on one line (the regex's `.`), not empty
    if (k < last && name && !/[\n\r\u2028\u2029]/.test(name)) return { name, units: s.slice(k + 1, last).trim() || null };
  }
  return { name: s, units: null };
}

type Mode = 0 | 1 | 2 | 3; // unknown, number, bool, string

class ColumnBuilder {
  mode: Mode = 0;
  nums: number[] = [];
  strs: Sample[] = [];
  constructor(
    readonly name: string,
    readonly units: string | null,
  ) {}

  push(raw: string): void {
    if (this.mode <= 1) {
      const x = strictNumber(raw); // the fast path: a plain number
      if (x !== null) {
        this.mode = 1;
        this.nums.push(x);
        return;
      }
    }
    const s = raw.trim();
    const n = this.nums.length + this.strs.length;
    if (MISSING.has(s.toLowerCase())) {
      if (this.mode === 3 || this.mode === 2) this.strs.push(null);
      else this.nums.push(NaN);
      return;
    }
    if (this.mode <= 1 && DECIMAL_TEXT.test(s)) {
      this.mode = 1;
      this.nums.push(Number(s));
      return;
    }
    const lower = s.toLowerCase();
    const isBool = lower === 'true' || lower === 'false';
    if (this.mode === 0 || (this.mode === 1 && this.nums.every((v) => Number.isNaN(v)))) {
      // only missing values so far
      this.strs = new Array<Sample>(n).fill(null);
      this.nums = [];
      this.mode = isBool ? 2 : 3;
    } else if (this.mode === 1) {
      this.strs = this.nums.map((v) => (Number.isNaN(v) ? null : String(v)));
      this.nums = [];
      this.mode = 3;
    } else if (this.mode === 2 && !isBool) {
      this.strs = this.strs.map((v) => (v === null ? null : String(v)));
      this.mode = 3;
    }
    this.strs.push(this.mode === 2 ? lower === 'true' : s);
  }

  build(order: number[] | null, description: string | null): DecodedColumn {
    let values: Float64Array | Sample[];
    if (this.mode <= 1) values = Float64Array.from(this.nums);
    else values = this.strs;
    if (order) values = reorder(values, order);
    const type = this.mode === 2 ? 'bool' : this.mode === 3 ? 'string' : 'number';
    return { name: this.name, type, units: this.units, description, values };
  }
}

export function decodeCsv(content: Buffer, ctx: FileContext, forcedDelim?: string): DecodedFile {
  const text = decodeText(content);
  // The header section is read line by line; the whole text is split only for the general path.
  let pos = 0;
  let i = 0;
  const nextLine = (): string => {
    const e = text.indexOf('\n', pos);
    let l = text.slice(pos, e < 0 ? text.length : e);
    if (l.endsWith('\r')) l = l.slice(0, -1);
    pos = e < 0 ? text.length + 1 : e + 1;
    i++;
    return l;
  };
  let timeline: string | null = null;
  let headerLine: string | null = null;
  while (pos <= text.length) {
    const raw = nextLine();
    const l = raw.trim();
    if (l === '') continue;
    if (!l.startsWith('#')) {
      headerLine = raw;
      break;
    }
    const m = /^#\s*timeline\s*:\s*(.+)$/i.exec(l);
    if (m?.[1]) timeline = m[1].trim();
  }
  if (headerLine === null) return { timelines: [], badRows: 0 };
  let split: string[] | null = null;
  const allLines = (): string[] => (split ??= text.includes('\r') ? text.split(/\r?\n/) : text.split('\n'));

  let delim = forcedDelim;
  if (!delim) {
    const counts = [',', ';', '\t'].map((d) => [d, headerLine.split(d).length] as const);
    delim = counts.reduce((a, b) => (b[1] > a[1] ? b : a))[0];
  }
  const header = splitLine(headerLine, delim).map(headerCell);
  const seen = new Set<string>();
  header.forEach((h, k) => {
    if (h.name === '' || seen.has(h.name)) h.name = `col${k + 1}`;
    seen.add(h.name);
  });
  const lower = header.map((h) => h.name.toLowerCase());
  const dateIdx = lower.indexOf('date');
  const clockIdx = lower.findIndex((n) => n === 'time' || n === 'clock' || n === 'time_of_day');
  const separate = dateIdx >= 0 && clockIdx >= 0;
  let timeIdx = separate ? -1 : lower.findIndex((n) => TIME_NAMES.has(n));
  if (!separate && timeIdx < 0) {
    // No named time column: the first column, if its first cell reads as a time.
    const first = allLines()
      .slice(i)
      .find((l) => l.trim() !== '' && !l.startsWith('#'));
    if (first !== undefined) {
      const cell = splitLine(first, delim)[0]?.trim() ?? '';
      const v = timeCell(cell);
      if (Number.isFinite(v) && v > 1e8) timeIdx = 0;
    }
  }
  if (!separate && timeIdx < 0) throw new FormatError(`no time column in header "${headerLine.slice(0, 200)}"`);
  const ms = !separate && (/_ms$/.test(lower[timeIdx] ?? '') || header[timeIdx]?.units === 'ms');
  const timeCols = separate ? [dateIdx, clockIdx] : [timeIdx];
  const dataIdx = header.map((_, k) => k).filter((k) => !timeCols.includes(k));
  const cols = header.filter((_, k) => !timeCols.includes(k)).map((h) => new ColumnBuilder(h.name, h.units));
  const width = header.length;

  if (!separate && width >= 2) {
    const fast = fastNumericRows(text, Math.min(pos, text.length), delim, width, timeIdx, ms);
    if (fast && fast.t.every(Number.isFinite)) {
      if (fast.t.length === 0) return { timelines: [], badRows: 0 };
      const order = sortUnique(fast.t);
      const t = order ? Float64Array.from(order, (k) => fast.t[k] ?? NaN) : fast.t;
      const columns: DecodedColumn[] = [];
      dataIdx.forEach((k, j) => {
        const h = header[k];
        const values = fast.cols[j];
        if (h === undefined || values === undefined) return;
        columns.push({ name: h.name, type: 'number', units: h.units, description: null, values: order ? reorder(values, order) : values });
      });
      return { badRows: 0, timelines: [{ name: timeline ?? timelineFromPath(ctx, 'csv'), t, interval: medianSpacing(t), columns }] };
    }
  }
  const lines = allLines();

  let dateOrder: ReturnType<typeof guessDateOrder> = 'ymd';
  if (separate) {
    const samples: string[] = [];
    for (let j = i; j < lines.length && samples.length < 5000; j++) {
      const c = splitLine(lines[j] ?? '', delim)[dateIdx];
      if (c !== undefined) samples.push(c);
    }
    dateOrder = guessDateOrder(samples);
  }

  const ts: number[] = [];
  let badRows = 0;
  for (const line of lines.slice(i)) {
    if (line === '' || line.startsWith('#')) continue;
    const cells = splitLine(line, delim);
    if (cells.length !== width) {
      if (line.trim() !== '') badRows++;
      continue;
    }
    let t: number;
    if (separate) t = parseDate(cells[dateIdx] ?? '', dateOrder) + parseClock(cells[clockIdx] ?? '');
    else {
      const raw = cells[timeIdx] ?? '';
      const x = strictNumber(raw);
      if (x !== null) t = x;
      else {
        const c = raw.trim();
        t = timeCell(c);
      }
      if (ms || t > 1e12) t /= 1000;
    }
    if (!Number.isFinite(t)) {
      badRows++;
      continue;
    }
    ts.push(t);
    dataIdx.forEach((k, c) => cols[c]?.push(cells[k] ?? ''));
  }
  if (ts.length === 0) {
    if (badRows > 0) throw new FormatError(`no readable rows (${badRows} unreadable)`);
    return { timelines: [], badRows };
  }
  const order = sortUnique(ts);
  const t = order ? Float64Array.from(order, (k) => ts[k] ?? NaN) : Float64Array.from(ts);
  return {
    badRows,
    timelines: [
      {
        name: timeline ?? timelineFromPath(ctx, 'csv'),
        t,
        interval: medianSpacing(t),
        columns: cols.map((c) => c.build(order, null)),
      },
    ],
  };
}

export const csvFormat: FormatReader = {
  name: 'csv',
  extensions: ['.csv', '.tsv', '.tab'],
  sniff(): boolean {
    return false; // CSV is claimed by extension only: too many text files look like it.
  },
  decode(content: Buffer, ctx: FileContext): DecodedFile {
    const ext = path.posix.extname(ctx.relPath).toLowerCase();
    return decodeCsv(content, ctx, ext === '.tsv' || ext === '.tab' ? '\t' : undefined);
  },
};
