/**
 * Text that is exactly a decimal number: an optional sign, digits with an optional fraction (or a
 * fraction alone), an optional exponent; no spaces, no hex, no Infinity or NaN. One declaration for
 * every reader of numbers as text: CSV cells, weather-file lines, MQTT payloads.
 *
 * Written so that a run of digits can be matched one way only. The earlier
 * /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/ (the same strings) let `\d+` and `\d*` share a run of
 * digits, so a long run followed by anything else backtracked in its square: a weather line of 700 KB
 * of digits held a decode worker for minutes, and an MQTT payload is whatever a publisher sends.
 */
export const DECIMAL_TEXT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** The number `s` spells (DECIMAL_TEXT), else NaN. */
export function parseDecimal(s: string): number {
  return DECIMAL_TEXT.test(s) ? Number(s) : NaN;
}
