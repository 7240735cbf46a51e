/**
 * common/decimal: the one grammar of numbers as text (CSV cells, weather lines, MQTT payloads). It
 * accepts exactly the strings the regex it replaced accepted (every string of up to 6 characters over
 * the characters that matter), and a long run of digits followed by anything else is refused: the old
 * regex backtracked in the square of that run (a 700 KB weather line: minutes).
 */
import { DECIMAL_TEXT, parseDecimal } from '../../common/decimal';
import { parseWeatherFile } from '../../data-nodes/weather/format';

const OLD = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

test('the same strings as the regex it replaced', () => {
  const alphabet = ['1', '0', '.', 'e', 'E', '+', '-', 'x', ' '];
  let checked = 0;
  let accepted = 0;
  const walk = (s: string): void => {
    if (DECIMAL_TEXT.test(s) !== OLD.test(s)) throw new Error(`differs on ${JSON.stringify(s)}`);
    checked++;
    if (DECIMAL_TEXT.test(s)) accepted++;
    if (s.length < 6) for (const c of alphabet) walk(s + c);
  };
  walk('');
  expect(checked).toBe((9 ** 7 - 1) / 8);
  expect(accepted).toBeGreaterThan(1000);
  expect([parseDecimal('-1.5e3'), parseDecimal('.5'), parseDecimal('7.'), parseDecimal('1e'), parseDecimal(' 1')]).toEqual([
    -1500,
    0.5,
    7,
    NaN,
    NaN,
  ]);
});

test('a long run of digits with a bad tail is refused (in one pass)', () => {
  const digits = '9'.repeat(700_000);
  expect(parseDecimal(`${digits}:99`)).toBeNaN();
  expect(parseDecimal(`${digits}.5e`)).toBeNaN();
  expect(parseDecimal(digits)).toBe(Infinity); // a number, too large: callers check isFinite
  const w = parseWeatherFile(`# description: t\n# timeline: t\n# units: C\n1700000000 1\n${digits}+25:99 2\n1700000001 3\n`);
  expect([Array.from(w.t), Array.from(w.v), w.badLines]).toEqual([[1700000000, 1700000001], [1, 3], 1]);
});
