/**
 * The bridge's min/max downsampling against an independent reference: LTTB from the `downsample`
 * package, on spiky data. Ours must keep every spike LTTB keeps (in fact every spike), the raw
 * extremes exactly, ascending time, and at most maxDataPoints points; a plain stride does not.
 */
import { LTTB } from 'downsample';
import { minMaxDownsample, minMaxIndices } from '../../consumers/grafana/downsample';
import { mulberry32 } from '../../data-nodes/sim/model';

/** n samples at 10 Hz: slow sine + noise, with one-sample spikes (up and down) at random places. */
function spiky(n: number, spikes: number, seed = 1): { t: number[]; v: number[]; spikeAt: Set<number> } {
  const r = mulberry32(seed);
  const t: number[] = [];
  const v: number[] = [];
  for (let i = 0; i < n; i++) {
    t.push(1_700_000_000 + i / 10);
    v.push(10 * Math.sin((2 * Math.PI * i) / (n / 3)) + (r() - 0.5));
  }
  const spikeAt = new Set<number>();
  while (spikeAt.size < spikes) {
    const i = 1 + Math.floor(r() * (n - 2));
    if ([...spikeAt].some((j) => Math.abs(j - i) < n / spikes / 2)) continue; // one per bucket region
    spikeAt.add(i);
    v[i] = v[i]! + (spikeAt.size % 2 ? 1 : -1) * (40 + 20 * r());
  }
  return { t, v, spikeAt };
}

describe('min/max downsampling', () => {
  const N = 100_000;
  const MAX = 1000;
  const { t, v, spikeAt } = spiky(N, 25);
  const ours = minMaxDownsample(t, v, MAX, t[0]!, t[N - 1]! + 0.1);
  const oursT = new Set(ours.t);

  it('gives at most maxDataPoints points in ascending time', () => {
    expect(ours.t.length).toBeLessThanOrEqual(MAX);
    expect(ours.t.length).toBeGreaterThan(MAX * 0.9);
    for (let i = 1; i < ours.t.length; i++) expect(ours.t[i]!).toBeGreaterThan(ours.t[i - 1]!);
  });

  it('keeps the raw extremes exactly', () => {
    expect(Math.max(...ours.v)).toBe(Math.max(...v));
    expect(Math.min(...ours.v)).toBe(Math.min(...v));
  });

  it('keeps every spike that LTTB keeps (and every spike at all)', () => {
    const lttb = LTTB(
      t.map((x, i) => [x, v[i]!] as [number, number]),
      MAX,
    ) as Array<[number, number]>;
    expect(lttb.length).toBe(MAX);
    const lttbSpikes = [...spikeAt].filter((i) => lttb.some(([x]) => x === t[i]));
    expect(lttbSpikes.length).toBeGreaterThan(0);
    for (const i of lttbSpikes) expect(oursT.has(t[i]!)).toBe(true);
    for (const i of spikeAt) expect(oursT.has(t[i]!)).toBe(true);
    // Per-point values are the raw ones (no averaging): every kept point is a real sample.
    const byT = new Map(t.map((x, i) => [x, v[i]]));
    for (let k = 0; k < ours.t.length; k++) expect(ours.v[k]).toBe(byT.get(ours.t[k]!));
  });

  it('tracks the envelope at least as well as LTTB (max error of the upper envelope per bucket)', () => {
    // For each of 100 windows, the largest value shown must equal the raw largest value.
    const lttb = LTTB(
      t.map((x, i) => [x, v[i]!] as [number, number]),
      MAX,
    ) as Array<[number, number]>;
    const W = 100;
    const span = t[N - 1]! - t[0]! + 0.1;
    let oursExact = 0;
    let lttbExact = 0;
    for (let w = 0; w < W; w++) {
      const lo = t[0]! + (w * span) / W;
      const hi = t[0]! + ((w + 1) * span) / W;
      const rawMax = Math.max(...v.filter((_, i) => t[i]! >= lo && t[i]! < hi));
      const oMax = Math.max(...ours.v.filter((_, i) => ours.t[i]! >= lo && ours.t[i]! < hi));
      const lMax = Math.max(...lttb.filter(([x]) => x >= lo && x < hi).map(([, y]) => y));
      if (oMax === rawMax) oursExact++;
      if (lMax === rawMax) lttbExact++;
    }
    expect(oursExact).toBe(W);
    expect(oursExact).toBeGreaterThanOrEqual(lttbExact);
  });

  it('a plain stride (the thing we must not do) loses spikes on the same data', () => {
    const stride = Math.ceil(N / MAX);
    const kept = new Set<number>();
    for (let i = 0; i < N; i += stride) kept.add(i);
    const lost = [...spikeAt].filter((i) => !kept.has(i));
    expect(lost.length).toBeGreaterThan(0);
  });

  it('returns everything when under the budget, and handles edge cases', () => {
    expect(minMaxIndices([1, 2, 3], [1, 2, 3], 10)).toEqual([0, 1, 2]);
    expect(minMaxIndices([], [], 10)).toEqual([]);
    expect(minMaxIndices([1, 2, 3, 4], [5, 9, 1, 2], 1)).toEqual([1]);
    // nulls: an all-null bucket keeps one null (a gap stays a gap), numbers ignore nulls
    const r = minMaxDownsample([0, 1, 2, 3, 4, 5, 6, 7], [1, null, 3, 2, null, null, null, null], 4, 0, 8);
    expect(r.t).toEqual([0, 2, 4]);
    expect(r.v).toEqual([1, 3, null]);
    // booleans compare as 0/1; strings keep first and last of a bucket
    expect(minMaxDownsample([0, 1, 2, 3], [true, false, false, true], 2, 0, 4).v).toEqual([true, false]);
    expect(minMaxDownsample([0, 1, 2, 3], ['a', 'b', 'c', 'd'], 2, 0, 4).v).toEqual(['a', 'd']);
  });

  // Speed is measured by bench/grafana.ts in plain node (jest's VM makes tight loops ~20x slower).
});
