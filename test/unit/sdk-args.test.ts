import {
  ArgumentError,
  parseGetDataArgs,
  parseGetFieldsArgs,
  resolveTime,
  splitResult,
  jsonSize,
  jsonSizeBound,
  type DataResult,
} from '../../data-nodes/sdk';
import { mergeDataResults } from '../../contract';
import fc from 'fast-check';

const NOW = 1_700_000_000;

describe('resolveTime', () => {
  it('keeps absolute times and makes t <= 0 relative to now', () => {
    expect(resolveTime('start', 1234.5, NOW)).toBe(1234.5);
    expect(resolveTime('start', 0, NOW)).toBe(NOW);
    expect(resolveTime('start', -3600, NOW)).toBe(NOW - 3600);
  });
  it.each([NaN, Infinity, -Infinity, '10', null, undefined, true, [1], {}])('rejects %p', (v) => {
    expect(() => resolveTime('start', v, NOW)).toThrow(ArgumentError);
    expect(() => resolveTime('start', v, NOW)).toThrow(/start must be a finite number/);
  });
});

describe('parseGetFieldsArgs', () => {
  it('get_fields(1, 0) means all time', () => {
    expect(parseGetFieldsArgs([1, 0], {}, NOW)).toEqual({ start: 1, end: NOW });
  });
  it('accepts keywords', () => {
    expect(parseGetFieldsArgs([], { start: -10, end: 0 }, NOW)).toEqual({ start: NOW - 10, end: NOW });
  });
  it.each([
    [[], /needs start and end/],
    [[5], /needs start and end/],
    [[5, 5], /start must be before end/],
    [[10, 5], /start must be before end/],
    [[1, 2, 3], /takes 2 arguments/],
    [[NaN, 2], /start must be a finite number.*NaN/],
  ])('rejects %p', (args, re) => {
    expect(() => parseGetFieldsArgs(args, {}, NOW)).toThrow(re);
  });
  it('rejects unknown keywords and duplicates', () => {
    expect(() => parseGetFieldsArgs([1, 2], { foo: 1 }, NOW)).toThrow(/unexpected keyword argument "foo"/);
    expect(() => parseGetFieldsArgs([1, 2], { start: 1 }, NOW)).toThrow(/both positionally and as keyword/);
  });
  it('tolerates missing args/kwargs containers', () => {
    expect(() => parseGetFieldsArgs(undefined, undefined, NOW)).toThrow(ArgumentError);
  });
});

describe('parseGetDataArgs', () => {
  it('parses positional min_stride', () => {
    expect(parseGetDataArgs([['a', 'b'], 1, 2, 0.5], {}, NOW)).toEqual({ fields: ['a', 'b'], start: 1, end: 2, minStride: 0.5 });
  });
  it('parses keyword min_stride and field names of the Python original', () => {
    expect(parseGetDataArgs([['a'], -60, 0], { min_stride: 10 }, NOW)).toEqual({ fields: ['a'], start: NOW - 60, end: NOW, minStride: 10 });
    expect(parseGetDataArgs([], { field: ['a'], start: 1, end: 2 }, NOW).fields).toEqual(['a']);
  });
  it('treats null min_stride as none, refuses 0, and drops duplicate fields', () => {
    expect(parseGetDataArgs([['a', 'a'], 1, 2, null], {}, NOW)).toEqual({ fields: ['a'], start: 1, end: 2, minStride: null });
    expect(() => parseGetDataArgs([[], 1, 2, 0], {}, NOW)).toThrow(/min_stride must be null or a number of seconds > 0/);
  });
  it('accepts the sisock keyword reduce ("minmax" or "mean") and refuses others', () => {
    expect(parseGetDataArgs([['a'], 1, 2, 0.5], { reduce: 'mean' }, NOW)).toEqual({
      fields: ['a'],
      start: 1,
      end: 2,
      minStride: 0.5,
      reduce: 'mean',
    });
    expect(parseGetDataArgs([['a'], 1, 2, 0.5], { reduce: 'minmax' }, NOW).reduce).toBeUndefined();
    expect(() => parseGetDataArgs([['a'], 1, 2, 0.5], { reduce: 'median' }, NOW)).toThrow(/reduce must be/);
  });
  it('de-duplicates fields, keeping first-seen order, also for many fields', () => {
    expect(parseGetDataArgs([['b', 'a', 'b', 'c', 'a'], 1, 2], {}, NOW).fields).toEqual(['b', 'a', 'c']);
    // (No timing assertion: speed belongs in bench/. A quadratic scan here would show as a slow test.)
    const many = Array.from({ length: 5_000 }, (_, i) => `f${i}`);
    expect(parseGetDataArgs([[...many, ...many], 1, 2], {}, NOW).fields).toEqual(many);
  });
  it.each([
    [['a', 1, 2], /fields must be a list.*string "a"/],
    [[{ a: 1 }, 1, 2], /fields must be a list/],
    [[null, 1, 2], /fields must be a list.*null/],
    [[['a', 3], 1, 2], /fields\[1\] must be a string/],
    [[['a'], '1', 2], /start must be a finite number/],
    [[['a'], 1, NaN], /end must be a finite number/],
    [[['a'], 2, 1], /start must be before end/],
    [[['a'], 1, 2, -1], /min_stride must be null or a number/],
    [[['a'], 1, 2, NaN], /min_stride/],
    [[['a'], 1, 2, 'x'], /min_stride/],
    [[['a'], 1, 2, 3, 4], /at most 4 arguments/],
    [[['a'], 1], /needs fields/],
  ])('rejects %p', (args, re) => {
    expect(() => parseGetDataArgs(args, {}, NOW)).toThrow(re);
  });
});

describe('parseGetDataArgs bounds', () => {
  test('a million field names is refused at once, as are huge names and huge totals', () => {
    const million = Array.from({ length: 1_000_000 }, (_, i) => `f${i}`);
    expect(() => parseGetDataArgs([million, 1, 2], {}, NOW)).toThrow(/at most 10000 fields/);
    expect(() => parseGetDataArgs([['x'.repeat(1025)], 1, 2], {}, NOW)).toThrow(/longer than 1024 characters/);
    const big = Array.from({ length: 2000 }, (_, i) => `${i}`.padEnd(1000, 'x'));
    expect(() => parseGetDataArgs([big, 1, 2], {}, NOW)).toThrow(ArgumentError);
    expect(parseGetDataArgs([Array.from({ length: 10_000 }, (_, i) => `f${i}`), 1, 2], {}, NOW).fields.length).toBe(10_000);
  });
});

describe('splitResult / merge', () => {
  const make = (n: number): DataResult => ({
    data: {
      x: Array.from({ length: n }, (_, i) => i * 1.5),
      y: Array.from({ length: n }, (_, i) => `s${i}`),
      z: Array.from({ length: n / 2 }, (_, i) => i % 2 === 0),
      unknown: [],
    },
    timeline: {
      t1: { t: Array.from({ length: n }, (_, i) => 1e9 + i), finalized_until: 1e9 + n },
      t2: { t: Array.from({ length: n / 2 }, (_, i) => 1e9 + 2 * i), finalized_until: null },
    },
  });
  it('returns a result that fits as is', () => {
    const r = make(10);
    expect(splitResult(r, 1e6)).toEqual([r]);
  });
  it('splits into pieces within budget that merge back to the whole', () => {
    const r = make(4000);
    const pieces = splitResult(r, 8000, { x: 't1', y: 't1', z: 't2' });
    expect(pieces.length).toBeGreaterThan(5);
    for (const p of pieces) expect(jsonSize(p)).toBeLessThanOrEqual(8000);
    expect(mergeDataResults(pieces)).toEqual(r);
    expect(mergeDataResults(pieces)).toEqual(r);
  });
  it('works without a field → timeline map', () => {
    const r = make(2000);
    expect(mergeDataResults(splitResult(r, 5000))).toEqual(r);
  });
});

describe('jsonSizeBound', () => {
  const sample = fc.oneof(
    fc.double(),
    fc.integer(),
    fc.constant(null),
    fc.boolean(),
    fc.string(),
    fc.double({ min: -1e-300, max: 1e-300 }),
  );
  it('is never below the real JSON length, for any samples', () => {
    fc.assert(
      fc.property(fc.array(sample, { maxLength: 50 }), fc.array(fc.double(), { maxLength: 50 }), fc.string(), (values, t, name) => {
        const r: DataResult = { data: { [name]: values, x: t }, timeline: { [name + 'tl']: { t, finalized_until: t[0] ?? null } } };
        expect(jsonSizeBound(r)).toBeGreaterThanOrEqual(jsonSize(r));
      }),
      { numRuns: 2000 },
    );
  });
  it('pieces made with it fit the budget', () => {
    const n = 5000;
    const t = Array.from({ length: n }, (_, i) => 1.6e9 + i * 0.1);
    const r: DataResult = {
      data: { v: t.map((x) => Math.sin(x) * 1e-7), s: t.map((_, i) => `é"${i}`) },
      timeline: { tl: { t, finalized_until: null } },
    };
    const pieces = splitResult(r, 20_000, { v: 'tl', s: 'tl' });
    expect(pieces.length).toBeGreaterThan(1);
    for (const p of pieces) expect(jsonSize(p)).toBeLessThanOrEqual(20_000);
    expect(mergeDataResults(pieces)).toEqual(r);
  });
});
