/**
 * result-wire.ts: a decode worker's `decoded` result crosses threads as columns and one moved buffer,
 * and comes back the same, bit for bit (-0, NaN, null, every string), whether its tiers were views of
 * one buffer (TierPack) or not; every other result crosses as it is.
 */
import { summariseFile, type SummaryResult } from '../../data-nodes/archive/file-summary';
import { fromWire, toWire } from '../../data-nodes/archive/result-wire';
import type { FieldRow } from '../../data-nodes/archive/index-db/types';
import { dataFrame, sessionFrame, statusFrame } from '../../bench/g3-writer';

/** postMessage's copy: a structured clone, the buffers moved. */
function cross<T>(x: T, transfer: ArrayBuffer[]): T {
  return structuredClone(x, { transfer });
}

function roundTrip(r: SummaryResult): SummaryResult {
  const { wire, transfer } = toWire(r);
  return fromWire(cross(wire, transfer));
}

/** The result's numbers as their bits (-0 and NaN told apart), for comparing. */
const bits = (r: SummaryResult) =>
  JSON.parse(
    JSON.stringify(r, (_k, v: unknown) =>
      typeof v === 'number'
        ? `${Object.is(v, -0) ? '-0' : String(v)}`
        : v instanceof Map
          ? [...v]
          : v instanceof Float64Array
            ? [...v].map((x) => (Object.is(x, -0) ? '-0' : String(x)))
            : v,
    ),
  );

function g3(t0: number): Buffer {
  const sid = BigInt(t0) << 28n;
  const ticks = BigInt64Array.from({ length: 1200 }, (_, i) => BigInt(t0 + i) * 100000000n);
  const fields = ['a', 'b', 'c', 'd'].map((name, f) => ({
    name,
    kind: 'double' as const,
    values: Float64Array.from({ length: 1200 }, (_, i) => (f === 3 ? (i % 7 ? -0 : NaN) : Math.sin((i + f) / 50) * 100)),
  }));
  return Buffer.concat([
    sessionFrame(sid, t0),
    statusFrame(sid, t0, [{ id: 0, description: 'obs.wire' }]),
    dataFrame(sid, 0, t0 + 1200, [{ name: 'main', ticks, fields }], 'obs.wire'),
  ]);
}

describe('decode worker results on the wire', () => {
  test("a decoded G3 file's field rows and tiers come back as they were, the tiers views of the moved buffer", async () => {
    const r = await summariseFile({ key: 'k1', relPath: 'x.g3', format: 'g3', content: g3(1_767_225_600), sameAs: null, summaries: true });
    if (r.kind !== 'decoded') throw new Error(r.kind);
    expect(r.fields.length).toBe(4);
    const expected = bits(r);
    const { wire, transfer } = toWire(r);
    expect(wire.kind).toBe('decoded-wire');
    // the tiers' one buffer is among those moved (TierPack made them views of one array)
    const buffers = new Set([...(r.tiers?.values() ?? [])].flatMap((m) => [...m.values()].map((p) => p.buffer)));
    expect(buffers.size).toBe(1);
    expect(transfer).toContain([...buffers][0]);
    const back = fromWire(cross(wire, transfer));
    expect(bits(back)).toEqual(expected);
    if (back.kind !== 'decoded') throw new Error(back.kind);
    for (const byWidth of back.tiers?.values() ?? []) for (const p of byWidth.values()) expect(p).toBeInstanceOf(Float64Array);
  });

  test('nulls, -0, NaN and repeated strings; tiers that are not views of one buffer are copied into one', () => {
    const row = (field: string, o: Partial<FieldRow>): FieldRow => ({
      key: 'k2',
      field,
      timeline: 'tl',
      type: 'number',
      units: null,
      description: null,
      interval: null,
      tFirst: -0,
      tLast: NaN,
      n: 0,
      tierMin: null,
      ...o,
    });
    const fields = [
      row('x', { units: 'K', description: 'a "quoted"\ndescription', interval: -0, tierMin: 600 }),
      row('y', { units: 'K', timeline: 'other', type: 'string', interval: 1e-9, tFirst: 5, tLast: 7, n: 3 }),
      row('z', { description: '', units: '' }),
    ];
    const tiers = new Map([
      [
        'x',
        new Map([
          [600, Float64Array.from([1, -0, NaN, 4, 5, 6, 7, 8, 9])],
          [3600, new Float64Array(9)],
        ]),
      ],
      ['z', new Map([[86400, new Float64Array(new ArrayBuffer(160), 8, 9).fill(-0)]])],
    ]);
    const r: SummaryResult = {
      kind: 'decoded',
      hash: 'h',
      fields,
      tiers,
      badRows: 2,
      tFirst: null,
      tLast: 7,
      nSamples: 9,
      warnings: ['w'],
    };
    const expected = bits(r);
    expect(bits(roundTrip(r))).toEqual(expected);
    // tiers in another order than the field rows (toWire looks for each field from the last one's place
    // first), and every optional property of a result
    const reordered: SummaryResult = { ...r, tiers: new Map([...tiers].reverse()), warningsDropped: 3 };
    const back = roundTrip(reordered);
    expect(bits(back)).toEqual(bits(reordered));
    expect(Object.keys(back).sort()).toEqual(Object.keys(reordered).sort());
    // and with no tiers, no fields
    const bare: SummaryResult = { kind: 'decoded', hash: 'h', fields: [], badRows: 0, tFirst: null, tLast: null, nSamples: 0 };
    expect(roundTrip(bare)).toEqual(bare);
  });

  test('every other result crosses as it is', () => {
    for (const r of [{ kind: 'same', hash: 'h' }, { kind: 'elsewhere' }, { kind: 'error', error: 'e' }] as SummaryResult[]) {
      const { wire, transfer } = toWire(r);
      expect(wire).toBe(r);
      expect(transfer).toEqual([]);
      expect(fromWire(cross(wire, transfer))).toEqual(r);
    }
  });

  test("tiers of a field with no row are refused (a summary's bug, not sent half)", () => {
    const r: SummaryResult = {
      kind: 'decoded',
      hash: 'h',
      fields: [],
      tiers: new Map([['ghost', new Map([[600, new Float64Array(9)]])]]),
      badRows: 0,
      tFirst: null,
      tLast: null,
      nSamples: 0,
    };
    expect(() => toWire(r)).toThrow(/ghost/);
  });
});
