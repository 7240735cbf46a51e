/**
 * Output of the consumer CLI: outer join on time of several series, and rendering as an aligned
 * table (a terminal), TSV (a pipe: the default when stdout is not a TTY), CSV or JSON.
 *
 * Columns of `sisock get` / `sisock tail`:
 *   table   time (ISO 8601 UTC), then one column per `node::field` (header shows units)
 *   tsv     time, unix, then one column per `node::field`; a header row; missing values empty
 *   csv     the same columns comma-separated, RFC 4180 quoting (LF line ends)
 *   json    get: one document {fields, units, time[], unix[], data: {"node::field": [...]}}
 *           tail: one JSON object per line {time, unix, "node::field": value, ...}
 * Colours (a bold table header) only on a TTY without NO_COLOR.
 */
import type { Sample } from '../../contract';
import { formatIso } from './time';

export type { Sample };

export type OutputFormat = 'table' | 'tsv' | 'csv' | 'json';

export interface Series {
  /** `node::field` */
  key: string;
  units: string | null;
  t: number[];
  v: Sample[];
}

export interface Joined {
  keys: string[];
  units: (string | null)[];
  t: number[];
  /** rows[i][c]: value of column c at t[i], null when that series has no sample then. */
  rows: Sample[][];
}

/** Outer join on time: every time any series has, in ascending order. */
export function outerJoin(series: Series[]): Joined {
  const times = new Set<number>();
  for (const s of series) for (const t of s.t) times.add(t);
  const t = [...times].sort((a, b) => a - b);
  const index = new Map(t.map((x, i) => [x, i]));
  const rows: Sample[][] = t.map(() => new Array(series.length).fill(null));
  series.forEach((s, c) => {
    for (const [i, time] of s.t.entries()) {
      const row = rows[index.get(time) ?? -1]; // every time of every series is in index
      if (row && i < s.v.length) row[c] = s.v[i] ?? null;
    }
  });
  return { keys: series.map((s) => s.key), units: series.map((s) => s.units), t, rows };
}

/** A value for TSV/CSV/JSON-free text: full precision, empty for missing. */
export function plainValue(v: Sample | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  return String(v);
}

/** A value for the table: floating-point noise trimmed (at most 6 decimals). */
export function tableValue(v: Sample | undefined): string {
  if (typeof v === 'number' && Number.isFinite(v) && !Number.isInteger(v)) {
    const a = Math.abs(v);
    if (a !== 0 && a < 1e-4) return v.toPrecision(4);
    if (a < 1e15) return String(Number(v.toFixed(6)));
  }
  return plainValue(v);
}

function tsvCell(s: string): string {
  return s.replace(/[\t\r\n]+/g, ' ');
}

export function csvCell(s: string): string {
  return /[",\r\n]/.test(s) || /^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export interface TableOptions {
  /** Right-align these columns (numbers). */
  rightAlign?: boolean[];
  color?: boolean;
}

/** An aligned text table: columns separated by two spaces, header first. */
export function renderTable(header: string[], rows: string[][], opts: TableOptions = {}): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => (opts.rightAlign?.[c] ? cell.padStart(widths[c] ?? 0) : cell.padEnd(widths[c] ?? 0)))
      .join('  ')
      .replace(/\s+$/, '');
  const head = line(header);
  const out = [opts.color ? `\x1b[1m${head}\x1b[0m` : head];
  for (const r of rows) out.push(line(r));
  return out.join('\n') + '\n';
}

export function renderTsv(header: string[], rows: string[][]): string {
  return [header, ...rows].map((r) => r.map(tsvCell).join('\t')).join('\n') + '\n';
}

export function renderCsv(header: string[], rows: string[][]): string {
  return [header, ...rows].map((r) => r.map(csvCell).join(',')).join('\n') + '\n';
}

function headerWithUnits(key: string, units: string | null): string {
  return units ? `${key} [${units}]` : key;
}

/** Renders a joined data set (`sisock get`). */
export function renderJoined(j: Joined, format: OutputFormat, color = false): string {
  if (format === 'json') {
    const data: Record<string, Sample[]> = {};
    j.keys.forEach((k, c) => (data[k] = j.rows.map((r) => jsonValue(r[c]))));
    const units: Record<string, string | null> = {};
    j.keys.forEach((k, c) => (units[k] = j.units[c] ?? null));
    return JSON.stringify({ fields: j.keys, units, time: j.t.map(formatIso), unix: j.t, data }) + '\n';
  }
  if (format === 'table') {
    const header = ['time', ...j.keys.map((k, c) => headerWithUnits(k, j.units[c] ?? null))];
    const rows = j.t.map((t, i) => [formatIso(t), ...(j.rows[i] ?? []).map(tableValue)]);
    const right = [false, ...j.keys.map((_, c) => j.rows.some((r) => typeof r[c] === 'number'))];
    return renderTable(header, rows, { rightAlign: right, color });
  }
  const header = ['time', 'unix', ...j.keys];
  const rows = j.t.map((t, i) => [formatIso(t), String(t), ...(j.rows[i] ?? []).map(plainValue)]);
  return format === 'csv' ? renderCsv(header, rows) : renderTsv(header, rows);
}

function jsonValue(v: Sample | undefined): Sample {
  if (v === undefined) return null;
  if (typeof v === 'number' && !Number.isFinite(v)) return null;
  return v;
}

/**
 * Streaming rows for `sisock tail`: `header()` once, then `row()` per sample. Table columns get a
 * fixed width (the header's, at least 12) since later rows are not known yet.
 */
export class RowStream {
  private readonly widths: number[];

  constructor(
    private readonly keys: string[],
    private readonly units: (string | null)[],
    private readonly format: OutputFormat,
    private readonly color = false,
  ) {
    this.widths = [24, ...keys.map((k, c) => Math.max(12, headerWithUnits(k, units[c] ?? null).length))];
  }

  header(): string {
    switch (this.format) {
      case 'json':
        return '';
      case 'table': {
        const h = ['time', ...this.keys.map((k, c) => headerWithUnits(k, this.units[c] ?? null))]
          .map((s, c) => (c === 0 ? s.padEnd(this.widths[c] ?? 0) : s.padStart(this.widths[c] ?? 0)))
          .join('  ');
        return (this.color ? `\x1b[1m${h}\x1b[0m` : h) + '\n';
      }
      case 'csv':
        return ['time', 'unix', ...this.keys].map(csvCell).join(',') + '\n';
      default:
        return ['time', 'unix', ...this.keys].map(tsvCell).join('\t') + '\n';
    }
  }

  row(t: number, values: Sample[]): string {
    switch (this.format) {
      case 'json': {
        const o: Record<string, unknown> = { time: formatIso(t), unix: t };
        this.keys.forEach((k, c) => (o[k] = jsonValue(values[c])));
        return JSON.stringify(o) + '\n';
      }
      case 'table':
        return (
          [formatIso(t).padEnd(this.widths[0] ?? 0), ...values.map((v, c) => tableValue(v).padStart(this.widths[c + 1] ?? 12))].join('  ') +
          '\n'
        );
      case 'csv':
        return [formatIso(t), String(t), ...values.map(plainValue)].map(csvCell).join(',') + '\n';
      default:
        return [formatIso(t), String(t), ...values.map(plainValue)].map(tsvCell).join('\t') + '\n';
    }
  }
}

/** The output format from the flags and whether stdout is a terminal. */
export function chooseFormat(flags: { csv?: boolean; json?: boolean; tsv?: boolean; table?: boolean }, isTty: boolean): OutputFormat {
  if (flags.json) return 'json';
  if (flags.csv) return 'csv';
  if (flags.tsv) return 'tsv';
  if (flags.table) return 'table';
  return isTty ? 'table' : 'tsv';
}

/** Colour only on a terminal, and never with NO_COLOR set or TERM=dumb. */
export function useColor(isTty: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  return isTty && env.NO_COLOR === undefined && env.TERM !== 'dumb';
}
