/**
 * The compact encoding of stored tier rows (data-nodes/sdk/tiers/codec.ts): exact round trips of what
 * the builders make from real-looking samples, the raw fallback where a number would not survive, the
 * raw rows of older indexes, and damaged rows refused with a typed error before any allocation.
 */
import {
  buildBuckets,
  buildTiers,
  chunkRows,
  decodeBuckets,
  encodeBuckets,
  isCompact,
  ladderFor,
  mergePacked,
  packToBuffer,
  rowBuckets,
  STRIDE,
  TierBlobError,
} from '../../data-nodes/sdk/tiers';

/** A deterministic generator (tests must not depend on Math.random's luck). */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

/** Bit-exact equality of two arrays of doubles (NaN payloads aside: NaN equals NaN, -0 is not 0). */
function sameDoubles(a: Float64Array, b: Float64Array): boolean {
  return a.length === b.length && a.every((x, i) => Object.is(x, b[i]));
}

const roundTrip = (p: Float64Array): Buffer => {
  const b = encodeBuckets(p);
  expect(sameDoubles(decodeBuckets(b), p)).toBe(true);
  // as a driver may hand it back: at an odd offset of a bigger buffer
  const odd = Buffer.alloc(b.length + 3);
  b.copy(odd, 3);
  expect(sameDoubles(decodeBuckets(odd.subarray(3)), p)).toBe(true);
  return b;
};

/** G3 HK times: ticks of 10 ns as doubles of seconds, with a jittered 1 Hz cadence. */
function hkTimes(t0: number, n: number, r: () => number): number[] {
  const t: number[] = [];
  let tick = Math.round(t0 * 1e8);
  for (let i = 0; i < n; i++) {
    t.push(tick / 1e8);
    tick += 1e8 + Math.round((r() - 0.5) * 2e6);
  }
  return t;
}

describe('compact tier rows (codec.ts)', () => {
  it('round-trips the buckets of HK samples at every width of the ladder, in 55-62% of the raw bytes', () => {
    const r = rng(7);
    const t = hkTimes(1767225600.123456, 6 * 3600, r);
    const v = t.map((x, i) => Math.sin(x / 300) * 40 + (i % 17 === 0 ? NaN : r()));
    const tiers = buildTiers(t, v, ladderFor(1));
    expect([...tiers.keys()]).toEqual([600, 3600, 21600, 86400]);
    for (const [w, p] of tiers) {
      const b = roundTrip(p);
      expect(isCompact(b)).toBe(true);
      if (w === 600) expect(b.length / (p.length * 8)).toBeLessThan(0.62);
    }
  });

  it('takes a unit of whole seconds for integer times (under half the raw bytes)', () => {
    const t = Array.from({ length: 86400 }, (_, i) => 1767225600 + i);
    const p = buildBuckets(
      t,
      t.map((x) => x % 97),
      600,
    );
    const b = roundTrip(p);
    expect(b[3]).toBe(2); // a time integer in 2 bytes: 599 s at most
    expect(b.readInt16LE(4)).toBe(0); // unit 2^0 s
    expect(b.length / (p.length * 8)).toBeLessThan(0.5);
  });

  it('round-trips odd but valid buckets: negative and zero times, infinite values, one bucket, big counts and gaps', () => {
    const compact: Float64Array[] = [
      buildBuckets([-3600.5, -1.25, 0, 0.5, 599.5], [1, -Infinity, Infinity, 2, 3], 600),
      buildBuckets([0, 0, 0], [1, 2, 3], 10),
      buildBuckets([42.000001], [-0], 60),
      buildBuckets([1, 1e9, 3e12], [1, 2, 3], 86400), // steps of idx far beyond a byte; whole seconds
    ];
    // merged rollups: counts past 2^32
    const big = buildBuckets([1767225600.5, 1767225700.25], [1, 2], 600);
    big[1] = 2 ** 40 + 3;
    compact.push(big);
    for (const p of compact) expect(isCompact(roundTrip(p))).toBe(true);
    // -0 (-0 === 0, and -0 + 0 is +0: the check is bit for bit), and a time whose bits lie below a unit
    // the encoder's quick test missed (2^-1040 × 2^0 underflows to 0): exact, raw where need be
    const negZero = buildBuckets([-0, 0.5], [1, 2], 1);
    expect(Object.is(negZero[5], -0)).toBe(true);
    for (const p of [
      negZero,
      Float64Array.from([-1, 1, 1, 1, 1, -1, -1, -1, -1, -0, 1, 2, 2, 2, -0, -0, -0, -0]),
      Float64Array.from([0, -0, 0, 0, 0, 5, 5, 5, 5]),
      Float64Array.from([0, 3, 1, 2, 3, 0, 2 ** 47, 2 ** -1040, 1]),
    ])
      roundTrip(p);
    // a unit too fine for the span (2^-40 s over 599 s, 2^-20 s over 2^30 s: 50 bits): raw
    for (const p of [buildBuckets([2 ** -40, 599], [1, 2], 600), buildBuckets([2 ** -20, 2 ** 30], [1, 2], 2 ** 31)])
      expect(isCompact(roundTrip(p))).toBe(false);
  });

  it('round-trips random buckets built and merged from random samples, whatever the width', () => {
    const r = rng(11);
    let compact = 0;
    const N = 120;
    for (let k = 0; k < N; k++) {
      const n = 1 + Math.floor(r() * 1500);
      const t0 = (r() - 0.3) * 4e9;
      // a third: any double; the others on a clock of 10 ns ticks or of whole milliseconds
      const tick = [0, 1e8, 1e3][k % 3] as number;
      const t = Array.from({ length: n }, () => {
        const x = t0 + r() * 1e6 * r();
        return tick ? Math.round(x * tick) / tick : x;
      });
      const v = t.map(() => (r() < 0.05 ? NaN : (r() - 0.5) * 10 ** Math.floor(r() * 12)));
      const w = [1, 10, 60, 600, 3600, 21600, 86400][k % 7] as number;
      if (isCompact(roundTrip(buildBuckets(t, v, w)))) compact++;
      const half = buildBuckets(t.slice(0, n >> 1), v.slice(0, n >> 1), w);
      roundTrip(mergePacked([half, buildBuckets(t.slice(n >> 1), v.slice(n >> 1), w)], -Infinity, Infinity));
    }
    expect(compact).toBeGreaterThan(N / 2);
  });

  it('stores raw, exactly as before, what would not survive the encoding', () => {
    const p = buildBuckets([1767225600.5, 1767226300.5], [1, 2], 600);
    const variants: Array<(q: Float64Array) => void> = [
      (q) => (q[5] = NaN), // a time NaN
      (q) => (q[STRIDE + 6] = Infinity),
      (q) => (q[1] = 2.5), // a count not whole (not one a builder makes)
      (q) => (q[STRIDE] = q[0] as number), // an idx repeated
      (q) => (q[STRIDE] = (q[0] as number) + 0.5),
      (q) => (q[STRIDE + 5] = (q[5] as number) - 1), // times out of order
      (q) => (q[7] = (q[5] as number) - 1), // tMin before tFirst
      (q) => (q[STRIDE] = (q[0] as number) + 2 ** 49), // a step past 6 bytes
    ];
    for (const change of variants) {
      const q = Float64Array.from(p);
      change(q);
      const b = roundTrip(q);
      expect(isCompact(b)).toBe(false);
      expect(b.equals(packToBuffer(q))).toBe(true);
    }
    expect(encodeBuckets(new Float64Array(0))).toHaveLength(0);
    expect(decodeBuckets(Buffer.alloc(0))).toHaveLength(0);
  });

  it('reads the raw rows of indexes written before (schema version 4 and earlier) as it did', () => {
    const p = buildBuckets([1767225600.5, 1767226300.5, 1767229300.5], [1, 2, 3], 600);
    const [raw] = chunkRows('f', 'x', 600, p);
    const [compact] = chunkRows('f', 'x', 600, p, true);
    expect(raw?.[6].length).toBe(p.length * 8);
    expect(raw?.[6].length ?? 0).toBeGreaterThan(compact?.[6].length ?? Infinity);
    expect(compact?.slice(0, 6)).toEqual(raw?.slice(0, 6));
    for (const row of [raw, compact]) expect(sameDoubles(rowBuckets(row?.[6]), p)).toBe(true);
  });

  it('refuses damaged compact rows with a typed error, before allocating what they claim', () => {
    const p = buildBuckets(
      hkTimes(1767225600, 7200, rng(3)),
      Array.from({ length: 7200 }, (_, i) => i),
      600,
    );
    const good = encodeBuckets(p);
    const damaged: Buffer[] = [Buffer.from([0xb7, 1, 1, 1])]; // ≡ 4 mod 8, shorter than its header
    const magic = Buffer.from(good);
    magic[0] = 0;
    damaged.push(magic);
    const width = Buffer.from(good);
    width[3] = 9; // 9-byte integers
    damaged.push(width);
    const many = Buffer.from(good);
    many.writeUInt32LE(0xffffffff, 8); // 4 billion buckets
    damaged.push(many);
    const none = Buffer.from(good);
    none.writeUInt32LE(0, 8);
    damaged.push(none);
    damaged.push(Buffer.concat([good, Buffer.alloc(8)])); // 8 bytes nobody described
    const cut = good.subarray(0, good.length - 8);
    damaged.push(cut);
    // a unit no double has, reserved bytes or padding not zero
    for (const [at, bytes] of [
      [4, [0xff, 0x7f]], // e = 32767
      [4, [0x30, 0xf8]], // e = -2000
      [6, [1, 0]],
      [12, [0, 0, 0, 1]],
      [good.length - 1, [1]], // this row ends in padding (its length: 4 more than its body's)
    ] as Array<[number, number[]]>) {
      const d = Buffer.from(good);
      d.set(bytes, at);
      damaged.push(d);
    }
    // cut or grown by a few bytes: no longer of a compact row's length, and not whole raw buckets either
    const odd = [1, 2, 3, 4, 5].flatMap((k) => [good.subarray(0, good.length - k), Buffer.concat([good, Buffer.alloc(k)])]);
    for (const d of [...damaged, ...odd]) {
      let err: unknown;
      try {
        decodeBuckets(d);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(TierBlobError);
      expect((err as TierBlobError).code).toBe('TIER_ROW_DAMAGED');
      expect((err as Error).message).toMatch(/--rebuild-summaries/);
    }
  });
});
