/**
 * Summary tiers (data-nodes/sdk/tiers): builder, merge, planner, SQLite store. The property test compares
 * tier answers with a brute-force min/max/mean over the raw samples for random ranges and strides, on
 * sources that arrive out of order, grow (merged batches) and are replaced.
 */
import Database from 'better-sqlite3';
import fc from 'fast-check';
import {
  bucketAt,
  buildBuckets,
  buildFieldTiers,
  chooseWidth,
  cover,
  joinFields,
  ladderFor,
  mergePacked,
  nBuckets,
  outputWidth,
  CHUNK,
  chunkOf,
  PACKED_FIELD,
  PACKED_ROW_BYTES,
  packedFieldNames,
  packedRows,
  PackedRowError,
  reduceField,
  STRIDE,
  unpackRow,
  SqliteTierStore,
  type Points,
  type Reduce,
  type TierReader,
  type TierRow,
} from '../../data-nodes/sdk/tiers';

interface S {
  t: number;
  v: number;
}

/** Brute force: per output bucket of width W, min (earliest on ties) and max (latest on ties) at their times, or the mean. */
function brute(samples: S[], start: number, end: number, W: number, reduce: Reduce): Points {
  const by = new Map<number, S[]>();
  for (const s of samples) {
    if (!(s.t >= start && s.t < end) || Number.isNaN(s.v)) continue;
    const k = Math.floor(s.t / W);
    const l = by.get(k) ?? [];
    l.push(s);
    by.set(k, l);
  }
  const t: number[] = [];
  const v: number[] = [];
  for (const k of [...by.keys()].sort((a, b) => a - b)) {
    const l = (by.get(k) ?? []).sort((a, b) => a.t - b.t);
    if (reduce === 'mean') {
      t.push(((l[0]?.t ?? 0) + (l[l.length - 1]?.t ?? 0)) / 2);
      v.push(l.reduce((a, s) => a + s.v, 0) / l.length);
      continue;
    }
    let mn = l[0] as S;
    let mx = l[0] as S;
    for (const s of l) {
      if (s.v < mn.v) mn = s;
      if (s.v >= mx.v) mx = s;
    }
    if (mn.t === mx.t) {
      t.push(mn.t);
      v.push(mn.v);
    } else {
      const [a, b] = mn.t < mx.t ? [mn, mx] : [mx, mn];
      t.push(a.t, b.t);
      v.push(a.v, b.v);
    }
  }
  return { t, v };
}

function memReader(sources: S[][], widths: number[]): TierReader {
  const built = sources.map((src) =>
    buildFieldTiers(
      src.map((s) => s.t),
      { x: src.map((s) => s.v) },
      null,
      widths,
    ).get('x'),
  );
  const all = sources.flat().sort((a, b) => a.t - b.t);
  return {
    widths,
    buckets: (w) => built.flatMap((m) => (m?.get(w) ? [m.get(w) as Float64Array] : [])),
    raw: (a, b) => {
      const r = all.filter((s) => s.t >= a && s.t < b);
      return { t: r.map((s) => s.t), v: r.map((s) => s.v) };
    },
  };
}

const WIDTHS = [1, 10, 60, 600];

/** Raw samples with lo <= t < hi, as a TierReader's `raw` gives them. */
function slice(samples: S[], lo: number, hi: number): { t: number[]; v: number[] } {
  const r = samples.filter((s) => s.t >= lo && s.t < hi);
  return { t: r.map((s) => s.t), v: r.map((s) => s.v) };
}

describe('tier buckets', () => {
  it('builds count, min, max, sum, first/last and times of the extremes; skips NaN; any order', () => {
    const p = buildBuckets([12, 3, 5, 4, 11, 13], [7, 2, NaN, 2, -1, 9], 10);
    expect(nBuckets(p)).toBe(2);
    expect(bucketAt(p, 0)).toEqual({ idx: 0, count: 2, min: 2, max: 2, sum: 4, tFirst: 3, tLast: 4, tMin: 3, tMax: 4 });
    expect(bucketAt(p, 1)).toEqual({ idx: 1, count: 3, min: -1, max: 9, sum: 15, tFirst: 11, tLast: 13, tMin: 11, tMax: 13 });
  });

  it('merges exactly whatever the split', () => {
    const t = Array.from({ length: 200 }, (_, i) => i * 0.5);
    const v = t.map((x) => Math.round(Math.sin(x) * 80) / 8); // sums exact in binary: merge order cannot round
    const whole = buildBuckets(t, v, 10);
    const parts = [buildBuckets(t.slice(0, 77), v.slice(0, 77), 10), buildBuckets(t.slice(77), v.slice(77), 10)];
    expect(Array.from(mergePacked(parts.reverse()))).toEqual(Array.from(whole));
  });

  it('has a ladder up to one day, above the native interval', () => {
    expect(ladderFor(0.1)).toEqual([60, 600, 3600, 21600, 86400]);
    expect(ladderFor(1)).toEqual([600, 3600, 21600, 86400]);
    expect(ladderFor(3600)).toEqual([86400]);
  });

  it('covers a range with whole buckets inside and raw samples at the edges, in order', () => {
    const pieces = cover(5.5, 1295, WIDTHS, 600);
    expect(pieces[0]).toEqual({ kind: 'raw', start: 5.5, end: 6 });
    expect(pieces).toContainEqual({ kind: 'tier', width: 600, idxLo: 1, idxHi: 2 });
    let at = 5.5;
    for (const p of pieces) {
      const [a, b] = p.kind === 'raw' ? [p.start, p.end] : [p.idxLo * p.width, p.idxHi * p.width];
      expect(a).toBe(at);
      at = b;
    }
    expect(at).toBe(1295);
    expect(chooseWidth(WIDTHS, 0.2)).toBeNull();
    expect(chooseWidth(WIDTHS, 400)).toBe(600);
    expect(outputWidth(600, 400)).toBe(1200);
  });

  it('answers a 100-year range from the top tier in bounded work', async () => {
    let fetched = 0;
    const day = buildBuckets([1e9, 1e9 + 5, 2e9], [1, 2, 3], 86400);
    const r: TierReader = {
      widths: [600, 86400],
      buckets: (w) => {
        fetched++;
        return w === 86400 ? [day] : [];
      },
      raw: () => ({ t: [], v: [] }),
    };
    const pts = await reduceField(r, 1, 100 * 365 * 86400 + 1, (100 * 365 * 86400) / 1000);
    expect(pts).toEqual({ t: [1e9, 1e9 + 5, 2e9], v: [1, 2, 3] });
    expect(fetched).toBeLessThan(10);
  });

  it('joins fields of one timeline on the union of their times', () => {
    expect(
      joinFields([
        { t: [1, 3], v: [10, 30] },
        { t: [2, 3], v: [20, 31] },
      ]),
    ).toEqual({
      t: [1, 2, 3],
      columns: [
        [10, null, 30],
        [null, 20, 31],
      ],
    });
  });
});

const sampleSet = fc
  .uniqueArray(fc.integer({ min: 0, max: 40000 }), { minLength: 1, maxLength: 400 })
  .chain((ts) => fc.tuple(fc.constant(ts), fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: ts.length, maxLength: ts.length })))
  .map(([ts, vs]) => ts.map((k, i): S => ({ t: k * 0.25, v: (vs[i] ?? 0) / 8 })));

describe('tier answers equal brute force (property)', () => {
  it('for random sources in any order, ranges and strides, min/max and mean', async () => {
    await fc.assert(
      fc.asyncProperty(
        sampleSet,
        fc.integer({ min: 1, max: 5 }),
        fc.double({ min: 0, max: 10000, noNaN: true }),
        fc.double({ min: 1, max: 10000, noNaN: true }),
        fc.double({ min: 0.6, max: 3000, noNaN: true }),
        fc.constantFrom<Reduce>('minmax', 'mean'),
        async (samples, nSources, start, span, stride, reduce) => {
          // deal samples to sources round-robin after a shuffle by value: every source is out of order
          const sources: S[][] = Array.from({ length: nSources }, () => []);
          samples.forEach((s, i) => sources[i % nSources]?.push(s));
          const r = memReader(sources, WIDTHS);
          const got = await reduceField(r, start, start + span, stride, reduce);
          const w = chooseWidth(WIDTHS, stride, reduce);
          if (w === null) {
            expect(got).toBeNull();
            return;
          }
          expect(got).toEqual(brute(samples, start, start + span, outputWidth(w, stride, reduce), reduce));
          for (const t of got?.t ?? []) {
            expect(t).toBeGreaterThanOrEqual(start);
            expect(t).toBeLessThan(start + span);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('through SQLite, with sources added in batches, replaced and removed', async () => {
    await fc.assert(
      fc.asyncProperty(
        sampleSet,
        sampleSet,
        fc.double({ min: 0, max: 8000, noNaN: true }),
        fc.double({ min: 1, max: 10000, noNaN: true }),
        fc.double({ min: 0.6, max: 3000, noNaN: true }),
        async (a, b, start, span, stride) => {
          const db = new Database(':memory:');
          const store = new SqliteTierStore(db, 't_tiers');
          const tiersOf = (s: S[]) =>
            buildFieldTiers(
              s.map((x) => x.t),
              { x: s.map((x) => x.v) },
              null,
              WIDTHS,
            );
          const bTimes = new Set(b.map((s) => s.t));
          const aOnly = a.filter((s) => !bTimes.has(s.t));
          // "file" f1 first holds b, then is replaced by aOnly; "live" gets b in three out-of-order batches
          store.replaceSource('f1', tiersOf(b));
          store.replaceSource('f1', tiersOf(aOnly));
          for (const part of [b.filter((_, i) => i % 3 === 2), b.filter((_, i) => i % 3 === 0), b.filter((_, i) => i % 3 === 1)]) {
            store.addToSource('live', tiersOf(part));
          }
          store.replaceSource('gone', tiersOf(a));
          store.removeSource('gone');
          const all = [...aOnly, ...b].sort((x, y) => x.t - y.t);
          const raw = (lo: number, hi: number) => slice(all, lo, hi);
          const got = await reduceField(store.reader('x', store.widthsOf('x'), raw), start, start + span, stride);
          const w = chooseWidth(store.widthsOf('x'), stride);
          db.close();
          if (w === null) return;
          expect(got).toEqual(brute(all, start, start + span, outputWidth(w, stride), 'minmax'));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('retention: dropBefore plus rebuilding the straddling bucket keeps answers exact', async () => {
    const db = new Database(':memory:');
    const store = new SqliteTierStore(db, 'r_tiers');
    const s: S[] = Array.from({ length: 5000 }, (_, i) => ({ t: i * 0.5, v: Math.cos(i / 7) * (i % 13) }));
    store.addToSource(
      'live',
      buildFieldTiers(
        s.map((x) => x.t),
        { x: s.map((x) => x.v) },
        null,
        WIDTHS,
      ),
    );
    const cutoff = 1234.5;
    const kept = s.filter((x) => x.t >= cutoff);
    store.dropBefore('live', cutoff);
    for (const w of WIDTHS) {
      const k = Math.floor(cutoff / w);
      const part = kept.filter((x) => Math.floor(x.t / w) === k);
      store.replaceBuckets(
        'live',
        'x',
        w,
        k,
        k + 1,
        buildBuckets(
          part.map((x) => x.t),
          part.map((x) => x.v),
          w,
        ),
      );
    }
    const raw = (lo: number, hi: number) => slice(kept, lo, hi);
    for (const [start, stride] of [
      [0, 7],
      [1000, 31],
      [1200, 400],
      [0, 1000],
    ] as const) {
      const got = await reduceField(store.reader('x', WIDTHS, raw), start, 2600, stride);
      const w = chooseWidth(WIDTHS, stride) as number;
      expect(got).toEqual(brute(kept, start, 2600, outputWidth(w, stride), 'minmax'));
    }
    db.close();
  });
});

describe.each([
  ['raw', false],
  ['compact', true],
])('packed own rows (table.ts packedRows / unpackRow), %s', (_, compact) => {
  const parts = [
    { field: 'x', part: buildBuckets([0, 1, 700, 1300], [1, 2, 3, 4], 600) },
    { field: 'température.ch0', part: buildBuckets([5, 1250], [NaN, 7], 600) },
    { field: '', part: buildBuckets([10], [9], 600) },
  ];

  it('round-trips every field, keyed by field PACKED_FIELD and the negated width', () => {
    const rows = packedRows('src', 600, 0, parts, compact);
    expect(rows).toHaveLength(1);
    const [row] = rows as [TierRow];
    expect(row.slice(0, 6)).toEqual(['src', PACKED_FIELD, -600, 0, 2, 5]); // 3 + 1 (NaN skipped) + 1 buckets
    const back = unpackRow(row[6]);
    expect(back.map((p) => p.field)).toEqual(['x', 'température.ch0', '']);
    expect(packedFieldNames(row[6])).toEqual(['x', 'température.ch0', '']);
    back.forEach((p, i) => expect(Array.from(p.part)).toEqual(Array.from(parts[i]?.part ?? [])));
    // from an unaligned copy, as a database driver may hand it back
    const odd = Buffer.alloc(row[6].length + 1);
    row[6].copy(odd, 1);
    expect(unpackRow(odd.subarray(1)).map((p) => Array.from(p.part))).toEqual(parts.map((p) => Array.from(p.part)));
    expect(packedRows('src', 600, 0, [], compact)).toEqual([]);
  });

  it('splits a chunk of many fields into rows of PACKED_ROW_BYTES at most, part p at idx_lo = chunk + p', () => {
    const lo = 3 * CHUNK;
    const t = Array.from({ length: CHUNK }, (_, k) => (lo + k) * 600 + 1);
    const many = Array.from({ length: 60 }, (_, f) => ({
      field: `f${f}`,
      part: buildBuckets(
        t,
        t.map((x) => x + f),
        600,
      ),
    }));
    const perField = CHUNK * STRIDE * 8; // 36 KiB
    const rows = packedRows('src', 600, lo, many, compact);
    const per = Math.floor(PACKED_ROW_BYTES / perField);
    expect(rows).toHaveLength(Math.ceil(60 / per));
    rows.forEach((r, p) => {
      expect(r[3]).toBe(lo + p);
      expect(chunkOf(r[3])).toBe(lo);
      expect(r[4]).toBe(lo + CHUNK - 1);
      expect(r[6].length).toBeLessThanOrEqual(PACKED_ROW_BYTES + 4096);
    });
    const back = rows.flatMap((r) => unpackRow(r[6]));
    expect(back.map((p) => p.field)).toEqual(many.map((p) => p.field));
    back.forEach((p, i) => expect(Array.from(p.part)).toEqual(Array.from(many[i]?.part ?? [])));
  });

  it('refuses damaged data with a typed error, before reading past it', () => {
    const data = (packedRows('src', 600, 0, parts, compact)[0] as TierRow)[6];
    const damaged: Buffer[] = [
      Buffer.alloc(0),
      data.subarray(0, 3),
      data.subarray(0, data.length - 8), // a bucket number short
      Buffer.concat([data, Buffer.alloc(8)]), // bytes nobody described
    ];
    const huge = Buffer.from(data);
    huge.writeUInt32LE(0xffffffff, 0); // 4 billion fields
    damaged.push(huge);
    const odd = Buffer.from(data);
    odd.writeUInt32LE(STRIDE + 1, 8); // not whole buckets
    damaged.push(odd);
    const longName = Buffer.from(data);
    longName.writeUInt32LE(0xffffffff, 4);
    damaged.push(longName);
    for (const d of damaged)
      for (const read of [unpackRow, packedFieldNames]) {
        let err: unknown;
        try {
          read(d);
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(PackedRowError);
        expect((err as PackedRowError).code).toBe('TIER_ROW_DAMAGED');
        expect((err as Error).message).toMatch(/--rebuild-summaries/);
      }
    expect(() => unpackRow('not bytes')).toThrow(PackedRowError);
  });
});
