/**
 * formats/column-pool.ts: number columns recycled between decodes, only those it made, each once, and
 * only when the caller says it is done with the decoded file; the scanner's summaries unchanged by it.
 */
import { clearColumnPool, MAX_POOLED_BYTES, releaseColumns, takeColumn } from '../../data-nodes/archive/formats/column-pool';
import type { DecodedFile } from '../../data-nodes/archive/formats/types';
import { summariseFile } from '../../data-nodes/archive/file-summary';
import { g3Format } from '../../data-nodes/archive/formats/g3';
import { dataFrame, sessionFrame, statusFrame } from '../../bench/g3-writer';

const file = (t: Float64Array, ...cols: Array<Float64Array | string[]>): DecodedFile => ({
  timelines: [
    {
      name: 'tl',
      t,
      interval: 1,
      columns: cols.map((values, i) => ({
        name: `c${i}`,
        type: Array.isArray(values) ? 'string' : 'number',
        units: null,
        description: null,
        values,
      })),
    },
  ],
  badRows: 0,
});

function hk(t0: number, scale: number): Buffer {
  const sid = BigInt(t0) << 28n;
  const ticks = BigInt64Array.from({ length: 600 }, (_, i) => BigInt(t0 + i) * 100000000n);
  const fields = ['a', 'b', 'c'].map((name, f) => ({
    name,
    kind: 'double' as const,
    values: Float64Array.from({ length: 600 }, (_, i) => Math.sin((i + f) / 50) * scale),
  }));
  return Buffer.concat([
    sessionFrame(sid, t0),
    statusFrame(sid, t0, [{ id: 0, description: 'obs.pool' }]),
    dataFrame(sid, 0, t0 + 600, [{ name: 'main', ticks, fields }], 'obs.pool'),
  ]);
}

describe('column pool', () => {
  beforeEach(() => clearColumnPool());

  test('a released column is taken again (same length), once; arrays it did not make are never taken back', () => {
    const t = takeColumn(100);
    const v = takeColumn(100);
    const foreign = new Float64Array(100);
    releaseColumns(file(t, v, v, foreign, ['x'])); // v twice: given back once
    const got = new Set([takeColumn(100), takeColumn(100), takeColumn(100)]);
    expect(got.has(t)).toBe(true);
    expect(got.has(v)).toBe(true);
    expect(got.has(foreign)).toBe(false);
    expect(got.size).toBe(3);
    expect(takeColumn(99)).toHaveLength(99); // another length: a new one
  });

  test('bounded: beyond MAX_POOLED_BYTES columns are let go; clearColumnPool lets all go', () => {
    const n = 1 << 20; // 8 MiB each
    const cols = Array.from({ length: Math.ceil(MAX_POOLED_BYTES / (8 * n)) + 2 }, () => takeColumn(n));
    releaseColumns(file(cols[0]!, ...cols.slice(1)));
    const again = new Set(Array.from({ length: cols.length }, () => takeColumn(n)));
    expect([...again].filter((a) => cols.includes(a))).toHaveLength(Math.floor(MAX_POOLED_BYTES / (8 * n)));
    releaseColumns(file(cols[0]!));
    clearColumnPool();
    expect(takeColumn(n)).not.toBe(cols[0]);
  });

  test('summariseFile gives its columns back, and the next summaries are those of a fresh decode', async () => {
    const job = (content: Buffer) => ({ key: 'k', relPath: 'a.g3', format: 'g3', content, sameAs: null, summaries: true });
    const a = hk(1767225600, 1);
    const b = hk(1767225600, 7);
    const fresh = await summariseFile(job(b));
    clearColumnPool();
    await summariseFile(job(a)); // its columns go back to the pool...
    expect(await summariseFile(job(b))).toEqual(fresh); // ...and serve b's decode, fully rewritten
    // a decode whose result is kept never gives its columns back
    const kept = g3Format.decode(a, { relPath: 'a.g3' });
    const before = Array.from(kept.timelines[0]!.t);
    await summariseFile(job(b));
    await summariseFile(job(b));
    expect(Array.from(kept.timelines[0]!.t)).toEqual(before);
  });

  test("a decoded file that cannot be summarised is that file's error (not a throw out of the scan)", async () => {
    const t = takeColumn(2);
    t.set([1, 2]);
    const decode = jest.spyOn(g3Format, 'decodeAsync').mockResolvedValue({
      badRows: 0,
      // a column without values: a shape a format bug could give
      timelines: [
        { name: 'tl', t, interval: 1, columns: [{ name: 'x', type: 'number', units: null, description: null, values: null as never }] },
      ],
    });
    try {
      const r = await summariseFile({ key: 'k', relPath: 'a.g3', format: 'g3', content: Buffer.alloc(8), sameAs: null, summaries: true });
      expect(r).toEqual({ kind: 'error', error: expect.stringMatching(/^decoded, but could not be summarised: /) });
      expect(takeColumn(2)).toBe(t); // its columns went back all the same
    } finally {
      decode.mockRestore();
    }
  });
});
