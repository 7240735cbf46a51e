/**
 * Wall-clock time parsing for text formats. Everything is computed with Date.UTC: a time without an
 * explicit zone (`Z`, `+02:00`, `-0300`, `UTC`) is UTC, whatever the server's time zone.
 */

const ISO = /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2})?$/i;
const DMY_DOT = /^(\d{1,2})\.(\d{1,2})\.(\d{4})$/;
const SLASH = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/;
// `(?:\s*(AM|PM))?\s*`, not `\s*(AM|PM)?\s*`: the same strings, but two `\s*` side by side split a run of
// spaces every way before failing (a 60 KB cell "1:00      …x" took 10.7 s)
export const CLOCK = /^(\d{1,2}):(\d{2})(?::(\d{2})(\.\d+)?)?(?:\s*(AM|PM))?\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2})?$/i;

function zoneOffsetSeconds(z: string | undefined): number {
  if (!z || /^(z|utc|gmt)$/i.test(z)) return 0;
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(z)!;
  const s = (Number(m[2]) * 60 + Number(m[3])) * 60;
  return m[1] === '-' ? -s : s;
}

function validDate(y: number, mo: number, d: number): boolean {
  return mo >= 1 && mo <= 12 && d >= 1 && d <= 31;
}

/** An ISO-like date-time (`2024-01-02T03:04:05.5Z`, `2024/01/02 03:04`) as UNIX seconds, or NaN. */
export function parseIsoDateTime(s: string): number {
  const m = ISO.exec(s.trim());
  if (!m) return NaN;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (!validDate(y, mo, d)) return NaN;
  const ms = Date.UTC(y, mo - 1, d, Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0));
  return ms / 1000 + (m[7] ? Number(m[7]) : 0) - zoneOffsetSeconds(m[8]);
}

export type DateOrder = 'ymd' | 'dmy' | 'mdy';

/**
 * Day order of slash dates in a column: `dmy` when some first component exceeds 12, else `mdy`
 * (the usual US logger layout). Dotted dates are always day first, dashed ones year first.
 */
export function guessDateOrder(samples: string[]): DateOrder {
  let slash = false;
  for (const s of samples) {
    const m = SLASH.exec(s.trim());
    if (!m) continue;
    slash = true;
    if (Number(m[1]) > 12) return 'dmy';
  }
  return slash ? 'mdy' : 'ymd';
}

/** A date alone as UNIX seconds of its UTC midnight, or NaN. */
export function parseDate(s: string, order: DateOrder): number {
  const v = s.trim();
  let y: number, mo: number, d: number;
  let m = /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$/.exec(v);
  if (m) [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  else if ((m = DMY_DOT.exec(v))) [d, mo, y] = [Number(m[1]), Number(m[2]), Number(m[3])];
  else if ((m = SLASH.exec(v))) {
    if (order === 'dmy') [d, mo, y] = [Number(m[1]), Number(m[2]), Number(m[3])];
    else [mo, d, y] = [Number(m[1]), Number(m[2]), Number(m[3])];
  } else return NaN;
  if (!validDate(y, mo, d)) return NaN;
  return Date.UTC(y, mo - 1, d) / 1000;
}

/** A time of day (`13:04:05.25`, `1:04 PM`, `13:04+02:00`) as seconds after midnight UTC, or NaN. */
export function parseClock(s: string): number {
  const m = CLOCK.exec(s.trim());
  if (!m) return NaN;
  let h = Number(m[1]);
  const min = Number(m[2]);
  const sec = Number(m[3] ?? 0) + (m[4] ? Number(m[4]) : 0);
  if (m[5]) {
    if (h < 1 || h > 12) return NaN;
    h = (h % 12) + (m[5].toUpperCase() === 'PM' ? 12 : 0);
  }
  if (h > 24 || min > 59 || sec >= 61) return NaN;
  return h * 3600 + min * 60 + sec - zoneOffsetSeconds(m[6]);
}
