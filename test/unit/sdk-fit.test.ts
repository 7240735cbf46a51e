import { silentLogger } from '../../common/log';
import { mergeDataResults, type DataResult } from '../../contract';
import { jsonSizeBound } from '../../data-nodes/sdk';
import { ResultTooLargeError, TooLargeError } from '../../data-nodes/sdk/errors';
import { budgetFor, extent, ResultFitter } from '../../data-nodes/sdk/fit';

/** `n` rows of two fields at 1 Hz from t0, thinned to one row per `stride` seconds. */
function rows(n: number, stride = 0, t0 = 1000): DataResult {
  const t: number[] = [];
  const a: number[] = [];
  const b: number[] = [];
  let next = -Infinity;
  for (let i = 0; i < n; i++) {
    const ti = t0 + i;
    if (ti < next) continue;
    t.push(ti);
    a.push(i * 1.25);
    b.push(-i * 0.5);
    next = ti + stride;
  }
  return { data: { a, b }, timeline: { tl: { t, finalized_until: t0 + n } } };
}

const fitter = (maxBytes: number, fieldTimeline?: Record<string, string>) =>
  new ResultFitter({ name: 'n1', maxBytes, log: silentLogger, fieldTimeline: async () => fieldTimeline });

describe('ResultFitter', () => {
  test('budget leaves a margin for the envelope', () => {
    expect(budgetFor(1024 * 1024)).toBe(Math.floor(1024 * 1024 * 0.9) - 1024);
    expect(budgetFor(1000)).toBe(2048);
  });

  test('extent: rows and time covered by the longest timeline', () => {
    expect(extent(rows(10))).toEqual({ rows: 10, seconds: 9 });
    expect(extent({ data: {}, timeline: {} })).toEqual({ rows: 0, seconds: 0 });
  });

  test('a result that fits is sent as it is, without asking again', async () => {
    const r = rows(10);
    const query = jest.fn();
    expect(await fitter(64 * 1024).fit(r, { start: 0, end: 2000, minStride: null, query })).toBe(r);
    expect(query).not.toHaveBeenCalled();
  });

  test('with progress: pieces that each fit and merge back to the whole', async () => {
    const r = rows(20000);
    const f = fitter(64 * 1024, { a: 'tl', b: 'tl' });
    const sent: DataResult[] = [];
    const query = jest.fn();
    const last = await f.fit(r, { start: 0, end: 30000, minStride: null, progress: (p) => sent.push(p), query });
    sent.push(last);
    expect(sent.length).toBeGreaterThan(1);
    for (const p of sent) expect(jsonSizeBound(p)).toBeLessThanOrEqual(f.budget);
    expect(mergeDataResults(sent)).toEqual(r);
    expect(query).not.toHaveBeenCalled();
  });

  test('without progress: asks again with a stride that makes it fit, keys unchanged', async () => {
    const r = rows(20000);
    const f = fitter(64 * 1024);
    const strides: number[] = [];
    const out = await f.fit(r, {
      start: 0,
      end: 30000,
      minStride: null,
      query: async (s) => {
        strides.push(s);
        return rows(20000, s);
      },
    });
    expect(strides).toHaveLength(1);
    expect(strides[0]).toBeGreaterThan(1);
    expect(jsonSizeBound(out)).toBeLessThanOrEqual(f.budget);
    expect(Object.keys(out.data)).toEqual(['a', 'b']);
    expect(out.timeline.tl?.t.length).toBeGreaterThan(100);
  });

  test('a source that thins less than asked gets one correction', async () => {
    const f = fitter(64 * 1024);
    const strides: number[] = [];
    // thins to a quarter of what was asked (e.g. several rows per stride)
    const out = await f.fit(rows(20000), {
      start: 0,
      end: 30000,
      minStride: null,
      query: async (s) => {
        strides.push(s);
        return rows(20000, strides.length === 1 ? s / 4 : s);
      },
    });
    expect(strides).toHaveLength(2);
    expect(strides[1] ?? 0).toBeGreaterThan(strides[0] ?? Infinity);
    expect(jsonSizeBound(out)).toBeLessThanOrEqual(f.budget);
  });

  test("the caller's min_stride is a floor", async () => {
    const f = fitter(64 * 1024);
    const strides: number[] = [];
    await f.fit(rows(20000), {
      start: 0,
      end: 30000,
      minStride: 500,
      query: async (s) => {
        strides.push(s);
        return rows(20000, s);
      },
    });
    expect(strides[0]).toBe(500);
  });

  test('still too large after the correction: a TooLargeError that says what to ask for', async () => {
    const f = fitter(64 * 1024);
    const big = rows(20000);
    const err = await f.fit(big, { start: 0, end: 30000, minStride: null, query: async () => big }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResultTooLargeError);
    expect(err).toBeInstanceOf(TooLargeError);
    expect((err as Error).message).toMatch(
      /^n1\.get_data: the result does not fit in 65536 bytes even thinned .*ask for progressive results/,
    );
  });

  test('pieces(): one piece when it fits, else pieces within the budget', () => {
    const f = fitter(64 * 1024);
    const small = rows(10);
    expect(f.pieces(small, undefined)).toEqual([small]);
    const big = rows(20000);
    const ps = f.pieces(big, { a: 'tl', b: 'tl' });
    expect(ps.length).toBeGreaterThan(1);
    expect(mergeDataResults(ps)).toEqual(big);
  });
});
