/**
 * Micro-benchmark of the tier bucket builder (`buildTiers`, data-nodes/sdk/tiers/bucket.ts) against the
 * builder as it was before its fast sorted path (test/helpers/buckets-ref.ts), same data, same run,
 * interleaved. Cases: G3 housekeeping as the archive scanner summarises it (hourly files of 1 Hz x 20
 * fields sharing one Float64Array time axis, one field with NaN runs; ladderFor(1)), and one long
 * column (1 day of 10 Hz; ladderFor(0.1)).
 * Prints ns per sample (median of the timed repetitions) for each.
 *
 *   npx tsc -p tsconfig.bench.json && node dist/bench/buckets.js
 *
 * 3 runs on 2 busy cores (2026-12-06, load 1.5-2.5): G3 HK before 6.99-12.31, after 3.35-5.61 ns/sample
 * (2.1-2.2x); 10 Hz before 6.01-11.28, after 2.64-4.91 (2.3x).
 */
import { buildTiers, ladderFor } from '../data-nodes/sdk/tiers';
import { refBuildTiers } from '../test/helpers/buckets-ref';

const DAY0 = 1767225600;

interface File {
  t: Float64Array;
  vs: Float64Array[];
}

/** One file: `seconds` of samples at `rate` Hz from `start`, `fields` columns; field 7 has NaN runs. */
function makeFile(start: number, seconds: number, rate: number, fields: number): File {
  const n = Math.round(seconds * rate);
  const t = new Float64Array(n);
  for (let i = 0; i < n; i++) t[i] = start + 0.123 + i / rate;
  const vs: Float64Array[] = [];
  for (let f = 0; f < fields; f++) {
    const v = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const k = Math.round((start - DAY0) * rate) + i;
      const noise = (Math.imul(k + f * 7919, 2654435761) >>> 0) / 4294967296 - 0.5;
      v[i] = 20 + f + 5 * Math.sin((2 * Math.PI * k) / (3600 * rate)) + noise;
      if (f === 7 && k % 10000 < 300) v[i] = NaN;
    }
    vs.push(v);
  }
  return { t, vs };
}

type Build = (t: ArrayLike<number>, v: ArrayLike<number>, widths: readonly number[]) => Map<number, Float64Array>;

/** ns per sample to build every field's tiers of every file, `rounds` times over the files. */
function time(build: Build, files: File[], widths: number[], rounds: number): number {
  let samples = 0;
  let keep = 0;
  const t0 = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) {
    for (const { t, vs } of files) {
      for (const v of vs) keep += build(t, v, widths).size;
      samples += t.length * vs.length;
    }
  }
  const ns = Number(process.hrtime.bigint() - t0);
  if (keep < 0) console.log(keep);
  return ns / samples;
}

const median = (a: number[]): number => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)] ?? NaN;

function bench(name: string, files: File[], widths: number[], rounds: number, reps: number): void {
  for (let w = 0; w < 2; w++) {
    time(refBuildTiers, files, widths, 1);
    time(buildTiers, files, widths, 1);
  }
  const before: number[] = [];
  const after: number[] = [];
  for (let r = 0; r < reps; r++) {
    before.push(time(refBuildTiers, files, widths, rounds));
    after.push(time(buildTiers, files, widths, rounds));
  }
  const b = median(before);
  const a = median(after);
  console.log(
    `${name}, widths ${widths.join(',')}: before ${b.toFixed(2)} ns/sample, after ${a.toFixed(2)} ns/sample ` +
      `(${(b / a).toFixed(1)}x; medians of ${reps})`,
  );
}

// G3 HK as the scanner's decode workers see it: hourly files of 1 Hz x 20 fields; 24 files, 30 rounds = 30 days.
const hours = Array.from({ length: 24 }, (_, h) => makeFile(DAY0 + h * 3600, 3600, 1, 20));
bench('G3 HK: 30 days of hourly files, 1 Hz x 20 fields', hours, ladderFor(1), 30, 5);
// One long column (a CSV day file, the historian): 1 day of 10 Hz, 4 fields.
bench('1 file of 1 day at 10 Hz x 4 fields', [makeFile(DAY0, 86400, 10, 4)], ladderFor(0.1), 3, 5);
