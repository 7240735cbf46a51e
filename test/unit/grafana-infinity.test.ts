/**
 * The Infinity endpoints' pure parts: parameters → engine query (macros, ranges, budgets), and the
 * wide / long / CSV shapes from series whose timestamps differ.
 */
import { longRows, parseInfinityRequest, renderTable, splitTargets, wideRows } from '../../consumers/grafana/infinity';
import { DEFAULT_LIMITS } from '../../consumers/grafana/request';
import type { TimeSeriesResult } from '../../consumers/grafana/query';

const NOW = 1_700_000_000_000;

describe('Infinity request parsing', () => {
  it('splits comma lists at top level only, keeping {a,b} globs whole', () => {
    expect(splitTargets('sim::{a,b}, w::t ,,x::*')).toEqual(['sim::{a,b}', 'w::t', 'x::*']);
  });

  it('maps ms, ISO and relative times, interval_ms and maxDataPoints onto the engine query', () => {
    const r = parseInfinityRequest(
      { target: ['sim::a', 'w::{x,y}'], from: String(NOW - 3600e3), to: 'now', interval_ms: '60000' },
      NOW,
      DEFAULT_LIMITS,
    );
    expect(r.query.range).toEqual({ from: NOW - 3600e3, to: NOW });
    expect(r.query.maxDataPoints).toBe(60);
    expect(r.query.targets.map((t) => [t.node, t.field])).toEqual([
      ['sim', 'a'],
      ['w', '{x,y}'],
    ]);
    expect(r).toMatchObject({ shape: 'wide', format: 'json', time: 'ms' });
    const iso = parseInfinityRequest(
      { target: 'sim::a', from: '2023-11-14T22:00:00Z', to: 'now', maxDataPoints: '500', interval: '1m' },
      NOW,
      DEFAULT_LIMITS,
    );
    expect(iso.query.maxDataPoints).toBe(14); // 800 s at one point a minute: the interval caps the 500
    expect(iso.query.range.from).toBe(Date.parse('2023-11-14T22:00:00Z'));
  });

  it.each([
    [{ target: 'sim::a', from: '$__from', to: 'now' }, /macro nobody expanded/],
    [{ target: '${field}', from: 'now-1h', to: 'now' }, /macro nobody expanded/],
    [{ target: 'sim::a', from: 'now-1h', to: 'now', maxDataPoints: '-3' }, /positive integer/],
    [{ target: 'sim::a', from: 'now-1h', to: 'now', interval: 'fast' }, /positive duration/],
    [{ target: { a: 1 }, from: 'now-1h', to: 'now' }, /target must be a string/],
    [{ target: 'sim::a', from: ['now-1h'], to: { x: 1 } }, /to must be a string or a number/],
  ])('refuses %j', (params, message) => {
    expect(() => parseInfinityRequest(params as Record<string, unknown>, NOW, DEFAULT_LIMITS)).toThrow(message);
  });
});

describe('Infinity shapes', () => {
  const series: TimeSeriesResult[] = [
    {
      target: 'n::a',
      datapoints: [
        [1, 1000],
        [2, 3000],
      ],
    },
    {
      target: 'm::s',
      datapoints: [
        ['x, "y"', 2000],
        ['z', 3000],
      ],
    },
  ];

  it('wide: one row per distinct time, null where a series has no sample', () => {
    expect(wideRows(series)).toEqual({
      header: ['time', 'n::a', 'm::s'],
      rows: [
        [1000, 1, null],
        [2000, null, 'x, "y"'],
        [3000, 2, 'z'],
      ],
    });
  });

  it('long: rows ascending in time with node and field', () => {
    expect(longRows(series)).toEqual([
      [1000, 'n', 'a', 1],
      [2000, 'm', 's', 'x, "y"'],
      [3000, 'n', 'a', 2],
      [3000, 'm', 's', 'z'],
    ]);
  });

  it('CSV quotes what needs quoting and leaves nulls empty; JSON keeps types; ISO times on request', () => {
    const { header, rows } = wideRows(series);
    expect(renderTable(header, rows, 'csv', 'ms').body).toBe('time,n::a,m::s\n1000,1,\n2000,,"x, ""y"""\n3000,2,z\n');
    expect(JSON.parse(renderTable(header, rows, 'json', 'iso').body)[0]).toEqual({
      time: '1970-01-01T00:00:01.000Z',
      'n::a': 1,
      'm::s': null,
    });
  });
});
