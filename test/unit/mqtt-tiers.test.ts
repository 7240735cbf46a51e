/**
 * The MQTT store's summary tiers: thinned answers equal a brute-force min/max/mean over the stored samples
 * after batches that arrive out of order and repeat samples, after retention, and for a store opened
 * from before tiers (built from its samples).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { MqttStore } from '../../data-nodes/mqtt/store';
import type { StoreConfig } from '../../data-nodes/mqtt/config';
import { chooseWidth, outputWidth, reduceSamples, type Reduce } from '../../data-nodes/sdk/tiers';

const WIDTHS = [60, 600, 3600, 21600, 86400];
const config = (p: string, extra: Partial<StoreConfig> = {}): StoreConfig =>
  ({
    path: p,
    retention: null,
    batchMs: 50,
    batchSize: 1000,
    maxPayloadBytes: 65536,
    deadLetters: 10,
    maxFieldsPerMessage: 100,
    maxFieldsPerNode: 100,
    maxRows: 10_000_000,
    maxQueue: 1_000_000,
    ...extra,
  }) as StoreConfig;

const put = (s: MqttStore, t: number, a: number, b: number) =>
  s.add({
    ok: true,
    rule: 0,
    node: 'n',
    timeline: 'tl',
    t,
    values: [
      { name: 'a', type: 'number', units: null, description: null, value: a },
      { name: 'b', type: 'number', units: null, description: null, value: b },
    ],
  });
const va = (t: number) => Math.round(Math.sin(t / 97) * 800) / 8;
const vb = (t: number) => Math.round(Math.cos(t / 13) * 80) / 8;

async function check(s: MqttStore, runs: number, lo: number, hi: number): Promise<void> {
  const raw = s.getData('n', ['a', 'b'], 0, 1e12, null);
  const t = raw.timeline.tl?.t ?? [];
  await fc.assert(
    fc.asyncProperty(
      fc.double({ min: lo, max: hi, noNaN: true }),
      fc.double({ min: 10, max: hi - lo, noNaN: true }),
      fc.double({ min: 20, max: 5000, noNaN: true }),
      fc.constantFrom<Reduce>('minmax', 'mean'),
      async (start, span, stride, reduce) => {
        const got = await s.getDataTiered('n', ['a'], start, start + span, stride, reduce);
        const w = chooseWidth(WIDTHS, stride, reduce);
        const W = w === null ? (reduce === 'mean' ? stride : 2 * stride) : outputWidth(w, stride, reduce);
        const want = reduceSamples(t, (raw.data.a ?? []) as number[], start, start + span, reduce === 'mean' ? W : W / 2, reduce);
        if (w === null && reduce === 'minmax') return; // the raw path (downsampleMinMax) has its own tests
        expect(got.timeline.tl?.t ?? []).toEqual(want.t);
        expect(got.data.a).toEqual(want.v);
      },
    ),
    { numRuns: runs },
  );
}

describe('MQTT store tiers', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'sisock-mqtt-tiers-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('equal brute force with batches out of order and repeated samples', async () => {
    const s = new MqttStore(config(path.join(dir, 's.sqlite')));
    const T0 = 1_700_000_000;
    const times = Array.from({ length: 20000 }, (_, i) => T0 + i * 2);
    for (let b = 0; b < 10; b++) {
      const batch = times.filter((_, i) => i % 10 === (b * 7) % 10); // interleaved: every batch out of order against the others
      for (const t of batch.reverse()) put(s, t, va(t), vb(t));
      if (b === 4) for (const t of batch.slice(0, 100)) put(s, t, 999, 999); // repeats: ignored (first value kept)
      s.flush();
    }
    expect(s.count('n', 'a')).toBe(20000);
    await check(s, 60, T0 - 100, T0 + 40100);
    s.close();
  });

  it('after retention and for a store from before tiers', async () => {
    const file = path.join(dir, 'r.sqlite');
    const T0 = 1_700_000_000;
    const old = new MqttStore(config(file, { summaries: false }));
    for (let i = 0; i < 20000; i++) put(old, T0 + i * 2, va(i), vb(i));
    old.close();
    const s = new MqttStore(config(file, { retention: 3600 }));
    await check(s, 30, T0 - 100, T0 + 40100);
    s.prune(T0 + 20_000.5 + 3600); // keeps t >= T0 + 20000.5
    expect(s.count('n', 'a')).toBe(9999);
    await check(s, 30, T0 + 19000, T0 + 40100);
    s.close();
  });
});
