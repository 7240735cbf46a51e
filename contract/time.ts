/**
 * The contract's time rule (docs/contract.md section 1): UNIX seconds as floats; a time `t <= 0`
 * means `now + t` (0 is now, -3600 an hour ago). Intervals are `[start, end)`.
 */

/** `get_fields(1, 0)`: all time. */
export const ALL_TIME = { start: 1, end: 0 } as const;

/** Seconds since the epoch, now. */
export function nowSeconds(): number {
  return Date.now() / 1000;
}

/** Applies the relative-time rule: `t <= 0` → `now + t`, else `t`. `t` must be finite. */
export function resolveRelative(t: number, now: number): number {
  return t <= 0 ? now + t : t;
}
