/** consumers/grpc: chunking of get_data results and the window planner. */
import { chunkGroup, groupByTimeline, makeColumn, WindowPlanner } from '../../consumers/grpc';
import type { DataResult } from '../../client';
import { chunkBytes } from '../../consumers/grpc/chunks';
import { peerIp } from '../../consumers/grpc/bridge';

describe('chunks', () => {
  const result: DataResult = {
    data: { a: [1, 2, 3, 4, 5], s: ['x', 'yy', null, 'zzz', 'w'], b: [true, false, true, null, false], gone: [], odd: [1, 2] },
    timeline: { tl: { t: [10, 11, 12, 13, 14], finalized_until: 12 } },
  };

  it('groups fields by timeline and leaves out empty and mismatched ones', () => {
    const { groups, skipped } = groupByTimeline(result, new Map([['a', 'tl']]));
    expect(groups).toEqual([{ timeline: 'tl', t: [10, 11, 12, 13, 14], finalizedUntil: 12, fields: ['a', 's', 'b'] }]);
    expect(skipped).toEqual(['odd']);
  });

  it('cuts within the sample limit, in order, with typed columns and nulls', () => {
    const { groups } = groupByTimeline(result, new Map(), new Set(['a', 's', 'b']));
    const chunks = [...chunkGroup(result, groups[0]!, { maxPoints: 6, maxBytes: 1e6 }, new Map())];
    expect(chunks.map((c) => c.t)).toEqual([[10, 11], [12, 13], [14]]);
    expect(chunks[1]!.columns).toEqual([
      { field: 'a', doubles: { values: [3, 4] }, null_indices: [] },
      { field: 's', strings: { values: ['', 'zzz'] }, null_indices: [0] },
      { field: 'b', bools: { values: [true, false] }, null_indices: [1] },
    ]);
    expect(chunks[0]!.finalized_until).toBe(12);
  });

  it('cuts within the byte limit (strings measured in UTF-8)', () => {
    const big: DataResult = {
      data: { s: ['é'.repeat(100), 'a', 'b', 'é'.repeat(100)] },
      timeline: { tl: { t: [1, 2, 3, 4], finalized_until: null } },
    };
    const { groups } = groupByTimeline(big, new Map());
    const chunks = [...chunkGroup(big, groups[0]!, { maxPoints: 100, maxBytes: 240 }, new Map())];
    expect(chunks.map((c) => c.t.length)).toEqual([3, 1]);
  });

  it('mixed values become strings; all-null uses the declared type', () => {
    expect(makeColumn('m', [1, 'a', true], 0, 3)).toEqual({ field: 'm', strings: { values: ['1', 'a', 'true'] }, null_indices: [] });
    expect(makeColumn('n', [null, null], 0, 2, 'bool')).toEqual({ field: 'n', bools: { values: [false, false] }, null_indices: [0, 1] });
    const d = makeColumn('d', [null, 2], 0, 2);
    expect(Number.isNaN(d.doubles!.values[0])).toBe(true);
  });
});

describe('WindowPlanner', () => {
  it('tiles [start, end) exactly and adapts to the density seen', () => {
    const p = new WindowPlanner({ start: 100, end: 10100, targetPoints: 1000, rate: 10, nFields: 1, minStride: null });
    const windows: Array<[number, number]> = [];
    while (!p.done) {
      const w = p.next();
      windows.push(w);
      p.observe((w[1] - w[0]) * 10);
    }
    expect(windows[0]).toEqual([100, 112.5]); // an eighth of the target first
    for (let i = 1; i < windows.length; i++) expect(windows[i]![0]).toBe(windows[i - 1]![1]);
    expect(windows[windows.length - 1]![1]).toBe(10100);
    expect(windows[3]![1] - windows[3]![0]).toBeCloseTo(100, 6);
  });

  it('crosses empty stretches quickly and aligns on min_stride', () => {
    const p = new WindowPlanner({ start: 0, end: 1e9, targetPoints: 1000, rate: null, nFields: 1, minStride: 7 });
    let calls = 0;
    while (!p.done) {
      const [a, b] = p.next();
      expect((b - a) % 7 === 0 || b === 1e9).toBe(true);
      p.observe(0);
      calls++;
    }
    expect(calls).toBeLessThan(12);
  });
});

describe('chunkBytes and peerIp (the gRPC server bounds)', () => {
  test('a chunk costs its times, numbers, flags, and strings by their UTF-8', () => {
    const c = {
      t: [1, 2],
      columns: [
        { field: 'x', doubles: { values: [1, 2] }, null_indices: [] },
        { field: 's', strings: { values: ['é'.repeat(1000), 'a'] }, null_indices: [] },
        { field: 'b', bools: { values: [true] }, null_indices: [1] },
      ],
    };
    expect(chunkBytes(c)).toBe(16 + 16 + (2000 + 2) + (1 + 2) + 1 + 4);
  });

  test.each([
    ['127.0.0.1:5000', '127.0.0.1'],
    ['[::1]:5000', '0:0:0:0::/64'],
    ['::1:5000', '0:0:0:0::/64'],
    ['::ffff:10.1.2.3:5000', '10.1.2.3'],
    ['2001:db8:1:2:a:b:c:d:443', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::7:443', '2001:db8:1:2::/64'],
    ['2001:db8::1:443', '2001:db8:0:0::/64'],
  ])('%s counts against %s', (peer, key) => {
    expect(peerIp(peer)).toBe(key);
  });
});
