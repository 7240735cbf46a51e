/**
 * The original sisock weather archive format (simonsobs/sisock, `example_data/*.dat` served by
 * `server_example_weather.py`): one field per file, the field name is the file name without `.dat`.
 *
 * ```
 * # APEX weather station humidity.        <- line 1: description
 * # hourly                                <- line 2: timeline name
 * # %                                     <- line 3: units
 * # 2017-07-14                            <- any further `#` line is ignored
 * 1499990400.0 33.34                      <- <unix time> <value>, whitespace separated
 * ```
 *
 * The three header lines are positional, as in the original. A keyed form is accepted too:
 * `# description: …`, `# timeline: …`, `# units: …` (in any order) — a file whose first line is keyed
 * is read in keyed form only. A missing timeline puts the field on a timeline of its own name; an empty
 * units line means no units (null).
 *
 * Reading is forgiving: bytes that are not UTF-8 become U+FFFD; blank lines are skipped; a value of
 * `nan` (any case) is a missing sample (null); any other line that is not exactly two finite numbers is
 * skipped and counted in `badLines`. Lines need not be in time order (they are sorted); a repeated time
 * keeps the last value given for it (the original files repeat midnight at each day boundary).
 */
import { parseDecimal } from '../../common/decimal';

export interface WeatherHeader {
  description: string | null;
  timeline: string | null;
  units: string | null;
}

export interface ParsedWeatherFile {
  header: WeatherHeader;
  /** Sample times, ascending, unique. */
  t: Float64Array;
  /** Values; NaN is a missing sample. */
  v: Float64Array;
  badLines: number;
  /** 1-based number of the first skipped line, for the log message. */
  firstBadLine: number | null;
}

const KEYED = /^#\s*(description|timeline|units)\s*:\s?(.*)$/i;
const POSITIONAL: (keyof WeatherHeader)[] = ['description', 'timeline', 'units'];

function headerValue(s: string): string | null {
  const v = s.trim();
  return v === '' ? null : v;
}

export function parseWeatherFile(content: Buffer | string): ParsedWeatherFile {
  const text = typeof content === 'string' ? content : new TextDecoder('utf-8', { fatal: false }).decode(content);
  const lines = text.split(/\r?\n/);
  const header: WeatherHeader = { description: null, timeline: null, units: null };
  let keyedMode: boolean | null = null;
  let headerIdx = 0;
  let inHeader = true;
  const rows: Array<[t: number, v: number]> = [];
  let badLines = 0;
  let firstBadLine: number | null = null;

  for (const [n, raw] of lines.entries()) {
    const line = raw.replace(/^\uFEFF/, '');
    const trimmed = line.trim();
    if (trimmed === '') continue;
    if (trimmed.startsWith('#')) {
      if (!inHeader) continue;
      const keyed = KEYED.exec(trimmed);
      if (keyedMode === null) keyedMode = keyed !== null;
      if (keyedMode) {
        const [, key, value = ''] = keyed ?? [];
        if (key !== undefined) header[key.toLowerCase() as keyof WeatherHeader] = headerValue(value);
      } else {
        const key = POSITIONAL[headerIdx];
        if (key !== undefined) header[key] = headerValue(trimmed.replace(/^#\s?/, ''));
      }
      headerIdx++;
      continue;
    }
    inHeader = false;
    const [tText, vText, extra] = trimmed.split(/\s+/);
    let ok = tText !== undefined && vText !== undefined && extra === undefined;
    const t = ok ? parseDecimal(tText ?? '') : NaN;
    ok = ok && Number.isFinite(t);
    let v = NaN;
    if (ok && !/^nan$/i.test(vText ?? '')) {
      v = parseDecimal(vText ?? '');
      ok = Number.isFinite(v);
    }
    if (!ok) {
      badLines++;
      if (firstBadLine === null) firstBadLine = n + 1;
      continue;
    }
    rows.push([t, v]);
  }

  // Sort by time (stable, so that for a repeated time the last line given wins), then drop repeats.
  let previous = -Infinity;
  let sorted = true;
  for (const [t] of rows) {
    if (t <= previous) {
      sorted = false;
      break;
    }
    previous = t;
  }
  if (!sorted) rows.sort((a, b) => a[0] - b[0]); // Array.prototype.sort is stable
  const tOut: number[] = [];
  const vOut: number[] = [];
  for (const [t, v] of rows) {
    if (tOut.length > 0 && tOut[tOut.length - 1] === t) {
      vOut[vOut.length - 1] = v;
    } else {
      tOut.push(t);
      vOut.push(v);
    }
  }
  return { header, t: Float64Array.from(tOut), v: Float64Array.from(vOut), badLines, firstBadLine };
}

/** The median spacing of sorted times, or null with fewer than two. */
export function medianInterval(t: ArrayLike<number>): number | null {
  if (t.length < 2) return null;
  const d: number[] = [];
  for (let i = 1; i < t.length; i++) d.push(t[i]! - t[i - 1]!); // 0 < i < length
  d.sort((a, b) => a - b);
  const m = d[d.length >> 1] ?? 0;
  return Math.round(m * 1e6) / 1e6;
}
