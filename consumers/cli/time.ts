/**
 * Human-friendly time and duration arguments of the consumer CLI. All results are UNIX seconds.
 *
 *   now                       the current time
 *   -1h  -30m  -2d  -1w  -90s  -1h30m  -500ms   relative to now (also `now-1h`; `+1h` is in the future)
 *   -3600, 0                  a number <= 0 is relative to now, as on the wire (contract section 1)
 *   1763600000, 1763600000.5  a positive number is UNIX seconds
 *   2026-11-20                midnight UTC
 *   2026-11-20T12:00Z, 2026-11-20T12:00:30.25+01:00, 2026-11-20 12:00
 *                             ISO 8601; without a zone the time is UTC (observatory data is UTC)
 *
 * Durations (--min-stride): `10`, `10s`, `5m`, `1h`, `1d`, `250ms`, `1m30s`.
 */
import { ErrorCode, SisockError } from '../../common/errors';
import { resolveRelative } from '../../contract';

const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 7 * 86400 };
const DURATION = /^(?:(\d+(?:\.\d+)?|\.\d+)(ms|s|m|h|d|w))+$/;
const DURATION_PART = /(\d+(?:\.\d+)?|\.\d+)(ms|s|m|h|d|w)/g;
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?\s*(Z|z|[+-]\d{2}:?\d{2})?$/;

export const TIME_HELP = 'now, -1h, -30m, -2d, -1w, 2026-11-20, 2026-11-20T12:00Z or UNIX seconds';

function badArgument(message: string): SisockError {
  return new SisockError(ErrorCode.INVALID_ARGUMENT, message);
}

/** Seconds in a duration like `1h30m`, or null when `s` is not one. */
function durationSeconds(s: string): number | null {
  if (!DURATION.test(s)) return null;
  let total = 0;
  for (const m of s.matchAll(DURATION_PART)) {
    const unit = UNIT_SECONDS[m[2] ?? ''];
    if (unit === undefined) return null;
    total += Number(m[1]) * unit;
  }
  return total;
}

/** Parses a time argument (see the header) against `now` (UNIX seconds). Throws SisockError. */
export function parseTime(input: string, now: number): number {
  const s = input.trim();
  const lower = s.toLowerCase();
  if (lower === 'now') return now;
  const rel = /^(?:now)?\s*([+-])\s*(.+)$/.exec(lower);
  if (rel) {
    const d = durationSeconds((rel[2] ?? '').replace(/\s+/g, ''));
    if (d !== null) return rel[1] === '-' ? now - d : now + d;
  }
  if (NUMBER.test(s)) {
    const v = Number(s);
    if (Number.isFinite(v)) return resolveRelative(v, now);
  }
  const iso = ISO.exec(s);
  if (iso) {
    const t = isoSeconds(iso);
    if (t !== null) return t;
    throw badArgument(`invalid time "${input}": not a real date or time of day`);
  }
  throw badArgument(`invalid time "${input}": use ${TIME_HELP}`);
}

function isoSeconds(m: RegExpExecArray): number | null {
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const [h, mi, sec] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
  const frac = m[7] ? Number(m[7]) : 0;
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59) return null;
  const ms = Date.UTC(y, mo - 1, d, h, mi, sec);
  const check = new Date(ms);
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) return null; // 2026-02-30
  let offset = 0;
  const zone = m[8];
  if (zone && zone.toUpperCase() !== 'Z') {
    const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
    const zh = Number(z[2]);
    const zm = Number(z[3]);
    if (zh > 23 || zm > 59) return null;
    offset = (z[1] === '-' ? -1 : 1) * (zh * 3600 + zm * 60);
  }
  return ms / 1000 + frac - offset;
}

/** Parses a duration (`10`, `10s`, `5m`, `1h30m`…) into seconds > 0. Throws SisockError. */
export function parseDuration(input: string): number {
  const s = input.trim().toLowerCase();
  let v: number | null = null;
  if (NUMBER.test(s)) v = Number(s);
  else v = durationSeconds(s);
  if (v === null || !Number.isFinite(v) || v <= 0) {
    throw badArgument(`invalid duration "${input}": use a positive number of seconds or e.g. 10s, 5m, 1h`);
  }
  return v;
}

/** Resolves --from/--to with one `now`, checks from < to. */
export function parseRange(from: string, to: string, now: number): { start: number; end: number } {
  const start = parseTime(from, now);
  const end = parseTime(to, now);
  if (!(start < end)) {
    throw badArgument(`--from (${formatIso(start)}) must be before --to (${formatIso(end)})`);
  }
  return { start, end };
}

/** ISO 8601 UTC, milliseconds only when the time has them: `2026-11-20T12:00:00Z`. */
export function formatIso(t: number): string {
  const d = new Date(Math.round(t * 1000));
  if (Number.isNaN(d.getTime())) return String(t);
  const iso = d.toISOString();
  return iso.endsWith('.000Z') ? iso.slice(0, -5) + 'Z' : iso;
}
