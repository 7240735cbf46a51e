import { parseTime, parseDuration, parseRange, formatIso } from '../../consumers/cli';
import { SisockError } from '../../common/errors';

const NOW = Date.UTC(2026, 10, 21, 6, 30, 0) / 1000; // 2026-11-21T06:30:00Z

describe('parseTime', () => {
  test.each([
    ['now', NOW],
    ['NOW', NOW],
    ['-1h', NOW - 3600],
    ['-30m', NOW - 1800],
    ['-2d', NOW - 2 * 86400],
    ['-1w', NOW - 7 * 86400],
    ['-90s', NOW - 90],
    ['-1h30m', NOW - 5400],
    ['-500ms', NOW - 0.5],
    ['now-1h', NOW - 3600],
    ['+1h', NOW + 3600],
    ['-3600', NOW - 3600],
    ['0', NOW],
    ['1763600000', 1763600000],
    ['1763600000.5', 1763600000.5],
    ['2026-11-20', Date.UTC(2026, 10, 20) / 1000],
    ['2026-11-20T12:00Z', Date.UTC(2026, 10, 20, 12) / 1000],
    ['2026-11-20T12:00', Date.UTC(2026, 10, 20, 12) / 1000],
    ['2026-11-20 12:00:30', Date.UTC(2026, 10, 20, 12, 0, 30) / 1000],
    ['2026-11-20T12:00:30.25Z', Date.UTC(2026, 10, 20, 12, 0, 30) / 1000 + 0.25],
    ['2026-11-20T12:00+01:00', Date.UTC(2026, 10, 20, 11) / 1000],
    ['2026-11-20T12:00-0330', Date.UTC(2026, 10, 20, 15, 30) / 1000],
    ['  -1h ', NOW - 3600],
  ])('%s', (input, expected) => {
    expect(parseTime(input, NOW)).toBeCloseTo(expected, 6);
  });

  test.each([
    '',
    'yesterday',
    '-1x',
    '1h',
    '2026-02-30',
    '2026-13-01',
    '2026-11-20T25:00Z',
    '2026-11-20T12:60',
    'NaN',
    'Infinity',
    '0x10',
    '--1h',
    '2026-11-20T12:00+25:00',
  ])('rejects %j with a one-line message', (input) => {
    expect(() => parseTime(input, NOW)).toThrow(SisockError);
    try {
      parseTime(input, NOW);
    } catch (e) {
      expect((e as Error).message).not.toContain('\n');
      expect((e as Error).message).toContain(input.trim() === '' ? 'invalid' : input);
    }
  });
});

describe('parseDuration', () => {
  test.each([
    ['10', 10],
    ['10s', 10],
    ['5m', 300],
    ['1h', 3600],
    ['1d', 86400],
    ['250ms', 0.25],
    ['1m30s', 90],
    ['0.5', 0.5],
  ])('%s', (i, e) => {
    expect(parseDuration(i)).toBeCloseTo(e, 9);
  });
  test.each(['0', '-5', 'abc', '5x', '', '0s'])('rejects %j', (i) => {
    expect(() => parseDuration(i)).toThrow(SisockError);
  });
});

describe('parseRange', () => {
  test('from must be before to', () => {
    expect(parseRange('-1h', 'now', NOW)).toEqual({ start: NOW - 3600, end: NOW });
    expect(() => parseRange('now', '-1h', NOW)).toThrow(/must be before/);
    expect(() => parseRange('now', 'now', NOW)).toThrow(/must be before/);
  });
});

describe('formatIso', () => {
  test('seconds, milliseconds only when present', () => {
    expect(formatIso(Date.UTC(2026, 10, 20, 12) / 1000)).toBe('2026-11-20T12:00:00Z');
    expect(formatIso(Date.UTC(2026, 10, 20, 12) / 1000 + 0.25)).toBe('2026-11-20T12:00:00.250Z');
  });
});
