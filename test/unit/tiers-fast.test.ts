/**
 * The tier bucket builder (data-nodes/sdk/tiers/bucket.ts) against the builder before its fast sorted
 * path (test/helpers/buckets-ref.ts), byte for byte (so -0 and NaN payloads count), on random inputs:
 * sorted and not, regular and irregular times, duplicates, NaN runs and all-NaN buckets, negative times,
 * -0/+0, ±Infinity in times and values, ties, tiny and huge widths, plain arrays and Float64Arrays.
 */
import { summarise } from '../../data-nodes/archive/file-summary';
import type { DecodedColumn } from '../../data-nodes/archive/formats/types';
import {
  axisRuns,
  bucketsOnRuns,
  buildBuckets,
  buildTiers,
  coarsen,
  ladderFor,
  mergePacked,
  STRIDE,
  type ValueSpan,
} from '../../data-nodes/sdk/tiers';
import { quadStats } from '../../data-nodes/sdk/tiers/run-stats-wasm';
import { refBuildBuckets, refBuildTiers } from '../helpers/buckets-ref';

/** mulberry32: a seeded PRNG, so a failure names its case. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const bytes = (p: Float64Array): Buffer => Buffer.from(p.buffer, p.byteOffset, p.byteLength);

function expectSame(got: Float64Array, want: Float64Array, what: string): void {
  if (!bytes(got).equals(bytes(want))) {
    throw new Error(`${what}\n got ${JSON.stringify(Array.from(got).map(String))}\nwant ${JSON.stringify(Array.from(want).map(String))}`);
  }
}

const WIDTHS = [1e-3, 0.1, 1, 7, 10, 600, 86400, 1e12, 5e-324, 1.7976931348623157e308];

interface Case {
  t: number[];
  v: number[];
  width: number;
  note: string;
}

/** One random case; `sorted` keeps the times non-decreasing (the fast path's input). */
function randomCase(seed: number, sorted: boolean): Case {
  const r = rng(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)] as T;
  const n = pick([0, 1, 2, 3, 5, 17, 100, 1000, 3600]);
  const width = pick(WIDTHS);
  const step = pick([width / 10, width / 3, width, width * 2.5, 0.5, 1, 0]);
  const origin = pick([0, -5 * width, 1767225600.123, -1e-300, 1e15, -width / 2]);
  const t: number[] = [];
  let x = origin;
  for (let i = 0; i < n; i++) {
    const u = r();
    if (u < 0.1)
      x += 0; // a duplicate time
    else if (u < 0.15)
      x += step * 50; // a gap
    else x += step * (r() < 0.5 ? 1 : 0.5 + r());
    t.push(x);
  }
  const specialT = r() < 0.1;
  if (specialT && n > 0) {
    if (r() < 0.5) t[0] = -Infinity;
    if (r() < 0.5) t[n - 1] = Infinity;
    if (r() < 0.3) t[Math.floor(n / 2)] = -0;
  }
  const ties = r() < 0.4;
  const pool = [0, -0, 1, -1, 2.5, Infinity, -Infinity, NaN];
  const v: number[] = [];
  let nanRun = 0;
  for (let i = 0; i < n; i++) {
    if (nanRun > 0) {
      v.push(NaN);
      nanRun--;
      continue;
    }
    const u = r();
    if (u < 0.03) nanRun = Math.floor(r() * 40); // NaN runs, often a whole bucket
    if (u < 0.1) v.push(NaN);
    else if (u < 0.15) v.push(pick(pool));
    else v.push(ties ? Math.floor(r() * 4) - 1 : Math.sin(i) * 100 + (r() - 0.5));
  }
  if (r() < 0.05) v.fill(NaN);
  let note = `seed ${seed}, n ${n}, width ${width}, step ${step}, origin ${origin}`;
  if (!sorted && n > 1) {
    const k = 1 + Math.floor(r() * 3);
    for (let j = 0; j < k; j++) {
      const a = Math.floor(r() * n);
      const b = Math.floor(r() * n);
      [t[a], t[b]] = [t[b] as number, t[a] as number];
    }
    if (r() < 0.3) t[Math.floor(r() * n)] = NaN;
    note += ', shuffled';
  }
  return { t, v, width, note };
}

describe('tier buckets: fast sorted path', () => {
  it('gives the bytes of the builder before it, sorted input', () => {
    for (let seed = 1; seed <= 1500; seed++) {
      const c = randomCase(seed, true);
      expectSame(buildBuckets(c.t, c.v, c.width), refBuildBuckets(c.t, c.v, c.width), c.note);
      const t64 = Float64Array.from(c.t);
      const v64 = Float64Array.from(c.v);
      expectSame(buildBuckets(t64, v64, c.width), refBuildBuckets(t64, v64, c.width), `${c.note}, Float64Array`);
    }
  });

  it('gives the bytes of the builder before it, unsorted input and NaN times', () => {
    for (let seed = 10001; seed <= 12000; seed++) {
      const c = randomCase(seed, false);
      expectSame(buildBuckets(c.t, c.v, c.width), refBuildBuckets(c.t, c.v, c.width), c.note);
    }
  });

  it('gives the bytes of the builder before it for every tier (buildTiers, coarsen)', () => {
    for (let seed = 20001; seed <= 21000; seed++) {
      const c = randomCase(seed, seed % 4 !== 0);
      const r = rng(seed);
      const widths = r() < 0.5 ? ladderFor(c.width) : [c.width, c.width * 3, c.width * 7, c.width * 60];
      const got = buildTiers(Float64Array.from(c.t), Float64Array.from(c.v), widths);
      const want = refBuildTiers(Float64Array.from(c.t), Float64Array.from(c.v), widths);
      expect([...got.keys()]).toEqual([...want.keys()]);
      for (const [w, p] of want) expectSame(got.get(w) ?? new Float64Array(0), p, `${c.note}, width ${w}`);
    }
  });

  it('keeps the general path for widths that are not finite and > 0, and for unequal lengths', () => {
    const t = [-3, -0, 0, 0, 2, 5, Infinity];
    const v = [1, -0, 0, NaN, -Infinity, Infinity, 4];
    for (const w of [0, -1, -Infinity, Infinity, NaN, 2]) {
      expectSame(buildBuckets(t, v, w), refBuildBuckets(t, v, w), `width ${w}`);
      expectSame(buildBuckets(t, v.slice(0, 4), w), refBuildBuckets(t, v.slice(0, 4), w), `width ${w}, v shorter`);
      expectSame(buildBuckets(t.slice(0, 3), v, w), refBuildBuckets(t.slice(0, 3), v, w), `width ${w}, t shorter`);
    }
  });

  it('keeps what the builder did with -0, ties and infinities', () => {
    // bucket idx from the first value's time: -0 stays -0; the min's earliest time, the max's latest
    const p = buildBuckets([-0, 0, 1, 2, 3], [NaN, 1, 1, 5, 5], 10);
    expect(Array.from(p).map(String)).toEqual(['0', '4', '1', '5', '12', '0', '3', '0', '3']);
    // -0 and +0 are equal: the min stays the first (-0), the max moves to the latest (-0); -0 + 0 = +0
    const q = Array.from(buildBuckets([-0, 1, 2], [-0, 0, -0], 10));
    expect(q.map((x) => (Object.is(x, -0) ? '-0' : String(x)))).toEqual(['-0', '3', '-0', '-0', '0', '-0', '2', '-0', '2']);
    // +Infinity + -Infinity: the sum is NaN, count and extremes stay
    const r = buildBuckets([1, 2, 3], [Infinity, -Infinity, 3], 10);
    expect(Array.from(r).slice(0, 5)).toEqual([0, 3, -Infinity, Infinity, NaN]);
    // all values +Infinity: the min is the first one
    expect(Array.from(buildBuckets([1, 2], [Infinity, Infinity], 10))).toEqual([0, 2, Infinity, Infinity, Infinity, 1, 2, 1, 2]);
    // infinite times are their own buckets (idx ±Infinity)
    expect(Array.from(buildBuckets([-Infinity, 0, Infinity], [1, 2, 3], 10)).filter((_, i) => i % STRIDE === 0)).toEqual([
      -Infinity,
      0,
      Infinity,
    ]);
  });

  it('finds one descent anywhere: first, second or last sample of a bucket, first or last sample', () => {
    const n = 400;
    const base = Array.from({ length: n }, (_, i) => 1000 + i); // width 10: buckets of 10
    const v = base.map((x) => Math.round(Math.sin(x) * 4));
    for (const i of [0, 1, 9, 10, 11, 19, 20, 21, 200, 201, 209, n - 2]) {
      const t = base.slice();
      t[i] = (t[i + 1] as number) + 0.5; // t[i] > t[i + 1]: the only descent
      expectSame(buildBuckets(t, v, 10), refBuildBuckets(t, v, 10), `descent after ${i}`);
      expectSame(buildBuckets(Float64Array.from(t), Float64Array.from(v), 10), refBuildBuckets(t, v, 10), `descent after ${i}, f64`);
    }
  });

  it('builds long regular inputs with buckets of unequal lengths (the run-length guess misses)', () => {
    const n = 20000;
    const t = new Float64Array(n);
    const v = new Float64Array(n);
    let x = 1767225600.5;
    for (let i = 0; i < n; i++) {
      x += i % 997 === 0 ? 900 : 0.1 + ((i * 7) % 3) * 0.05;
      t[i] = x;
      v[i] = i % 501 < 30 ? NaN : Math.round(Math.sin(i) * 8);
    }
    for (const w of [0.3, 1, 60, 600, 3600]) expectSame(buildBuckets(t, v, w), refBuildBuckets(t, v, w), `width ${w}`);
    for (const w of [60, 600])
      expectSame(
        coarsen(buildBuckets(t, v, w), w, w * 6),
        refBuildTiers(t, v, [w, w * 6]).get(w * 6) ?? new Float64Array(0),
        `coarsen ${w}`,
      );
  });
});

describe('tier buckets: columns sharing a time axis (axisRuns, bucketsOnRuns)', () => {
  /** The span the archive's field rows take: first and last index with a value, and how many. */
  const refSpan = (v: ArrayLike<number>): ValueSpan => {
    let first = -1;
    let last = -1;
    let n = 0;
    for (let i = 0; i < v.length; i++)
      if (v[i] === v[i]) {
        if (first < 0) first = i;
        last = i;
        n++;
      }
    return { first, last, n };
  };

  it('gives the bytes of buildBuckets and the span of the values, or null where the sorted path does not apply', () => {
    let used = 0;
    for (let seed = 30001; seed <= 32000; seed++) {
      const c = randomCase(seed, seed % 5 !== 0);
      const t = Float64Array.from(c.t);
      const runs = axisRuns(t, c.width);
      if (runs === null) continue;
      used++;
      // several columns on the one axis, the runs found once
      for (let k = 0; k < 3; k++) {
        const v = Float64Array.from(k === 0 ? c.v : randomCase(seed * 7 + k, true).v.slice(0, t.length));
        if (v.length !== t.length) continue;
        const span: ValueSpan = { first: 7, last: 7, n: 7 };
        expectSame(bucketsOnRuns(t, runs, v, c.width, span), refBuildBuckets(t, v, c.width), `${c.note}, column ${k}`);
        expect(span).toEqual(refSpan(v));
      }
    }
    expect(used).toBeGreaterThan(150);
  });

  it('is null for a descent, a NaN time, infinite end times and sparse times', () => {
    const t = Float64Array.from({ length: 100 }, (_, i) => 1000 + i);
    expect(axisRuns(t, 10)).toEqual(Int32Array.from([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]));
    for (const [i, x] of [
      [0, 1002],
      [50, 1048],
      [99, NaN],
      [0, NaN],
      [99, Infinity],
    ] as const) {
      const u = t.slice();
      u[i] = x;
      expect(axisRuns(u, 10)).toBeNull();
    }
    expect(axisRuns(t, 50)).toEqual(Int32Array.from([0, 50, 100]));
    expect(axisRuns(t, 20)).not.toBeNull(); // 8 samples a bucket and more
    expect(axisRuns(t, 5)).toBeNull(); // 5: `buildBuckets` goes the general way
    expect(axisRuns(t, 0)).toBeNull();
  });

  it('makes summarise give the field rows and tiers of one column at a time', () => {
    let shared = 0; // cases on the shared-axis path
    for (let seed = 40001; seed <= 40400; seed++) {
      const c = randomCase(seed, seed % 3 !== 0);
      const r = rng(seed);
      const t = Float64Array.from(c.t);
      const columns: DecodedColumn[] = [];
      for (let k = 0; k < 4; k++) {
        const v = k === 0 ? c.v : randomCase(seed * 5 + k, true).v;
        const values = Float64Array.from({ length: r() < 0.9 ? t.length : Math.max(0, t.length - 1) }, (_, i) => v[i] ?? NaN);
        columns.push({ name: `c${k % 3}`, type: 'number', units: null, description: null, values });
      }
      const d = { badRows: 0, timelines: [{ name: 'a', t, interval: c.width / 300, columns }] };
      const got = summarise('k', d, true);
      if (axisRuns(t, Math.min(...ladderFor(c.width / 300)))) shared++;
      // the reference: each column on its own (span, then buildTiers), as summarise did before
      const seen = new Set<string>();
      const fields: unknown[] = [];
      for (const col of columns) {
        const v = col.values as Float64Array;
        const s = refSpan(v);
        if (seen.has(col.name) || s.n === 0 || t[s.first] === undefined || t[s.last] === undefined) continue;
        seen.add(col.name);
        const tiers = refBuildTiers(t, v, ladderFor(c.width / 300));
        fields.push({
          field: col.name,
          tFirst: t[s.first],
          tLast: t[s.last],
          n: s.n,
          tierMin: tiers.size ? Math.min(...tiers.keys()) : null,
        });
        const mine = got.tiers?.get(col.name);
        expect([...(mine?.keys() ?? [])]).toEqual([...tiers.keys()]);
        for (const [w, p] of tiers) expectSame(mine?.get(w) ?? new Float64Array(0), p, `${c.note}, ${col.name}, width ${w}`);
      }
      expect(got.fields.map((f) => ({ field: f.field, tFirst: f.tFirst, tLast: f.tLast, n: f.n, tierMin: f.tierMin }))).toEqual(fields);
      // every array a view of one buffer (one copy to the scanner's thread)
      expect(new Set([...(got.tiers?.values() ?? [])].flatMap((m) => [...m.values()].map((p) => p.buffer))).size).toBeLessThanOrEqual(1);
      expect(summarise('k', d, false).fields).toEqual(got.fields.map((f) => ({ ...f, tierMin: null })));
    }
    expect(shared).toBeGreaterThan(40);
  });
});

describe('mergePacked over a chunk (slots by idx, no map)', () => {
  /** The buckets of p with lo <= idx < hi, in order. */
  const within = (p: Float64Array, lo: number, hi: number): Float64Array => {
    const keep: number[] = [];
    for (let o = 0; o < p.length; o += STRIDE) {
      const idx = p[o] as number;
      if (idx >= lo && idx < hi) keep.push(...p.subarray(o, o + STRIDE));
    }
    return Float64Array.from(keep);
  };

  it('gives the bytes of the merge over all indexes, restricted to the chunk', () => {
    for (let seed = 50001; seed <= 50300; seed++) {
      const r = rng(seed);
      const parts: Float64Array[] = [];
      const k = 1 + Math.floor(r() * 6);
      for (let j = 0; j < k; j++) {
        const c = randomCase(seed * 11 + j, r() < 0.8);
        parts.push(
          buildBuckets(
            c.t.map(() => Math.round(r() * 3000) - 1000),
            c.v,
            1,
          ),
        ); // overlapping, some idx < 0
      }
      const lo = [0, 512, -512, -1024, 1536][seed % 5] as number;
      const want = within(mergePacked(parts), lo, lo + 512);
      expectSame(mergePacked(parts, lo, lo + 512), want, `seed ${seed}`);
      expectSame(mergePacked(new Set(parts), lo, lo + 512), want, `seed ${seed}, an iterable`);
    }
  });

  it('copies runs of buckets whole only where every slot is free, the bucket counted and inside the chunk', () => {
    // runs of consecutive idx (copied at once) broken by a filled slot, an empty bucket, the chunk's end
    // and a gap; single buckets and pairs (copied one by one) between them
    const part = (idx: number[], count = (_: number) => 1): Float64Array =>
      Float64Array.from(idx.flatMap((i, k) => [i, count(i), i - k, i + k, i * count(i), i, i + 0.5, i + 0.25, i + 0.75]));
    const cases: Float64Array[][] = [
      [part([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]), part([5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15])],
      [part([500, 501, 502, 503, 504, 505, 506, 507, 508, 509, 510, 511, 512, 513, 514]), part([510, 511])],
      [part([20, 21, 22, 23, 24, 25, 26], (i) => (i === 23 ? 0 : 2)), part([23, 24, 40, 41, 42, 44, 45, 46, 47])],
      [part([3]), part([2, 3, 4]), part([1, 2, 3, 4, 5, 6]), part([0, 7])],
      [part([-5, -4, -3, -2, -1, 0, 1, 2])],
    ];
    for (const [i, parts] of cases.entries()) expectSame(mergePacked(parts, 0, 512), within(mergePacked(parts), 0, 512), `case ${i}`);
    // past 2^53 idx + 1 rounds: a run must follow the slots (the second part merges into bucket 2^53 + 4)
    const big = 2 ** 53;
    const far = [part([big + 2, big + 4]), part([big + 4])];
    expectSame(mergePacked(far, big, big + 512), within(mergePacked(far), big, big + 512), 'past 2^53');
  });

  it('keeps -0 and +0 one bucket and leaves a NaN idx to the merge by map', () => {
    const a = Float64Array.from([-0, 1, 5, 5, 5, 1, 1, 1, 1]);
    const b = Float64Array.from([0, 2, 3, 7, 10, 2, 3, 2, 3]);
    const got = mergePacked([a, b], 0, 512);
    expect(Object.is(got[0], -0)).toBe(true);
    expect(Array.from(got.subarray(1))).toEqual([3, 3, 7, 15, 1, 3, 2, 3]);
    const n = Float64Array.from([NaN, 1, 5, 5, 5, 1, 1, 1, 1]);
    expect(nBucketsOf(mergePacked([a, n], 0, 512))).toBe(nBucketsOf(mergePacked([a, n])));
  });
});

const nBucketsOf = (p: Float64Array): number => p.length / STRIDE;

describe('tier buckets: four runs at once in WebAssembly SIMD (quadStats)', () => {
  /** Values of one kind over n samples (ties, ±0, ±Infinity, NaN, monotone stretches, huge and tiny magnitudes). */
  const values = (r: () => number, n: number, kind: number): Float64Array =>
    Float64Array.from({ length: n }, (_, i) => {
      const u = r();
      switch (kind) {
        case 0:
          return Math.floor(u * 4); // many ties
        case 1:
          return u < 0.5 ? 0 : -0; // only zeros, both signs
        case 2:
          return u < 0.02 ? Infinity : u < 0.04 ? -Infinity : u - 0.5; // infinities (and their NaN sums)
        case 3:
          return u < 0.01 ? NaN : Math.sin(i / 37) * 1e3; // a NaN here and there
        case 4:
          return i % 97; // rising, then a drop
        case 5:
          return -i; // falling: a new min at every value
        case 6:
          return (u - 0.5) * 10 ** Math.floor(r() * 600 - 300); // magnitudes whose sum depends on the order
        default:
          return 5; // constant
      }
    });

  it('gives the bytes of buildBuckets on long runs of every kind, equal and unequal, and the span', () => {
    expect(quadStats()).not.toBeNull(); // Node 20 has WebAssembly SIMD: the path under test is taken
    for (let seed = 50001; seed <= 50240; seed++) {
      const r = rng(seed);
      const kind = seed % 8;
      // 1 s samples with gaps: runs of 32..600 values at width 600 (or 60), some shorter (those go to runPair)
      const width = r() < 0.5 ? 600 : 60;
      const n = 200 + Math.floor(r() * 6000);
      const t = new Float64Array(n);
      let x = Math.floor(r() * 1e6);
      for (let i = 0; i < n; i++) {
        x += r() < 0.01 ? Math.floor(r() * 2000) : 1;
        t[i] = x;
      }
      const runs = axisRuns(t, width);
      if (runs === null) continue;
      const v = values(r, n, kind);
      const span: ValueSpan = { first: 7, last: 7, n: 7 };
      expectSame(bucketsOnRuns(t, runs, v, width, span), refBuildBuckets(t, v, width), `seed ${seed}, kind ${kind}, width ${width}`);
      let first = -1;
      let last = -1;
      let count = 0;
      v.forEach((y, i) => {
        if (y !== y) return;
        if (first < 0) first = i;
        last = i;
        count++;
      });
      expect(span).toEqual({ first, last, n: count });
    }
  });

  it('each run as runPair gives it over the length of the shortest run: min, max, sum in order, first min and last max, on every lane and length, one to four runs', () => {
    const quad = quadStats();
    if (quad === null) throw new Error('no WebAssembly SIMD here');
    const run = new Float64Array(32);
    for (let seed = 60001; seed <= 62000; seed++) {
      const r = rng(seed);
      const m = 1 + (seed % 4); // runs given (the lanes left over repeat the last)
      const lens = Array.from({ length: m }, () => 1 + Math.floor(r() * (r() < 0.5 ? 40 : 700)));
      const s = [0];
      for (const l of lens) s.push((s[s.length - 1] as number) + l);
      const v = values(r, s[m] as number, seed % 7);
      run.fill(-1);
      const len = quad(v, Int32Array.from(s), 0, m, run);
      expect(len).toBe(Math.min(...lens));
      expect(Array.from(run.subarray(8 * m))).toEqual(Array<number>(32 - 8 * m).fill(-1)); // nothing past the runs given
      for (let q = 0; q < m; q++) {
        const a = s[q] as number;
        const e = s[q + 1] as number;
        // runOne's loop, written out, over the first len values (the caller goes on with the rest)
        let mn = v[a] as number;
        let mx = mn;
        let sum = mn;
        let iMin = a;
        let iMax = a;
        for (let j = a + 1; j < a + len; j++) {
          const y = v[j] as number;
          sum += y;
          if (y < mn) {
            mn = y;
            iMin = j;
          }
          if (y >= mx) {
            mx = y;
            iMax = j;
          }
        }
        const got = Array.from(run.subarray(8 * q, 8 * q + 8));
        expect(got[0]).toBe(a);
        expect(got[1]).toBe(e - a);
        expect(got[7]).toBe(e - 1);
        if (sum !== sum) {
          expect(got[4]).toBeNaN(); // the caller redoes it
          continue;
        }
        const want = [a, e - a, mn, mx, sum, iMin, iMax, e - 1];
        for (let i = 0; i < 8; i++)
          if (!Object.is(got[i], want[i]))
            throw new Error(`seed ${seed}, run ${q} (${lens.join(',')}), number ${i}: ${got[i]} against ${want[i]}`);
      }
    }
  });
});
