import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HistoryStore } from '../../historian/store';

describe('historian store', () => {
  let dir: string;
  let now = 1_700_000_000;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sisock-hist-'));
    now = 1_700_000_000;
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const open = (raw: number | null = 3600) =>
    new HistoryStore({
      path: path.join(dir, 'h.sqlite'),
      now: () => now,
      policy: {
        raw,
        tiers: [
          { width: 60, keep: 86400 },
          { width: 3600, keep: null },
        ],
      },
    });

  /** 2 h of 1 Hz samples: x = i (number), s = "v<i>" (string). */
  function fill(s: HistoryStore, t0: number, n = 7200): void {
    for (let k = 0; k < n; k += 600) {
      const t = Array.from({ length: 600 }, (_, i) => t0 + k + i);
      s.write('sim', { data: { x: t.map((x) => x - t0), s: t.map((x) => `v${x - t0}`) }, timeline: { tl: { t, finalized_until: null } } });
    }
  }

  it('stores raw samples once, serves them as <node>.<field> and keeps the cursor', async () => {
    const s = open(null);
    const t0 = now - 7200;
    fill(s, t0);
    fill(s, t0); // a backfill overlapping live data: no sample twice
    s.write('sim', { data: {}, timeline: {} }, { cursorTo: now - 1 });
    expect(s.cursor('sim')).toBe(now - 1);
    expect(s.totals.inserted).toBe(14400);
    expect(s.totals.duplicates).toBe(14400);
    const [fields] = s.getFields(1, now);
    expect(Object.keys(fields).sort()).toEqual(['sim.s', 'sim.x']);
    expect(fields['sim.x']?.type).toBe('number');
    const r = await s.read('sim.x', t0 + 10, t0 + 20, null);
    expect(r.t).toEqual(Array.from({ length: 10 }, (_, i) => t0 + 10 + i));
    expect(r.v).toEqual(Array.from({ length: 10 }, (_, i) => 10 + i));
    expect((await s.read('sim.s', t0, t0 + 2, null)).v).toEqual(['v0', 'v1']);
    s.close();
  });

  it('answers a thinned read from the tiers: min and max per bucket, the mean with reduce=mean', async () => {
    const s = open(null);
    const t0 = Math.floor((now - 7200) / 3600) * 3600;
    fill(s, t0);
    const mm = await s.read('sim.x', t0, t0 + 7200, 60);
    // 2-minute output buckets from the 1-minute tier: min and max of each at their real times
    expect(mm.t.length).toBe(120);
    expect(mm.v.slice(0, 4)).toEqual([0, 119, 120, 239]);
    const mean = await s.read('sim.x', t0, t0 + 7200, 3600, 'mean');
    expect(mean.v).toEqual([1799.5, 5399.5]);
    s.close();
  });

  it('applies the retention policy and still answers pruned ranges from the finest tier kept', async () => {
    const s = open(3600);
    const t0 = Math.floor((now - 7200) / 3600) * 3600;
    fill(s, t0);
    s.prune();
    expect(s.totals.pruned).toBeGreaterThan(0);
    // raw of the first hour is gone; a raw read of it comes from the 1-minute tier (min/max per 1 min)
    const old = await s.read('sim.x', t0, t0 + 600, null);
    expect(old.t.length).toBe(20);
    expect(old.v.slice(0, 2)).toEqual([0, 59]);
    // the 1-minute tier expires after a day; the hourly one is kept forever
    now += 3 * 86400;
    s.prune();
    const older = await s.read('sim.x', t0, t0 + 7200, null);
    expect(older.v).toEqual([0, 3599, 3600, 7199]);
    // a thinned read finer than the hourly tier still answers from it
    expect((await s.read('sim.x', t0, t0 + 7200, 30)).v).toEqual([0, 3599, 3600, 7199]);
    s.close();
  });

  it('survives a reopen: fields, samples and tiers are on disk', async () => {
    const s = open(null);
    fill(s, now - 7200, 600);
    s.close();
    const s2 = open(null);
    expect(Object.keys(s2.getFields(1, now)[0])).toHaveLength(2);
    expect((await s2.read('sim.x', now - 7200, now, null)).t).toHaveLength(600);
    s2.close();
  });
});

describe('historian store bounds', () => {
  it('refuses fields beyond max_fields_per_node and over-long names, keeps the others, never throws', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sisock-hist-'));
    const s = new HistoryStore({ path: path.join(dir, 'h.sqlite'), maxFieldsPerNode: 3, maxNameLength: 20 });
    const data: Record<string, number[]> = {};
    for (let i = 0; i < 10; i++) data[`f${i}`] = [i];
    data['x'.repeat(50)] = [1];
    s.write('evil', { data, timeline: { tl: { t: [1_700_000_000], finalized_until: null } } });
    s.write('evil', {
      data: { f0: [{ nested: 1 } as never, 'str'] },
      timeline: { tl: { t: [1_700_000_001, 1_700_000_002], finalized_until: null } },
    });
    s.write('good', { data: { a: [1] }, timeline: { tl: { t: [1_700_000_000], finalized_until: null } } });
    const [fields] = s.getFields(1, 2e9);
    expect(Object.keys(fields).sort()).toEqual(['evil.f0', 'evil.f1', 'evil.f2', 'good.a']);
    expect(s.totals.refused).toBeGreaterThan(0);
    expect((await s.read('evil.f0', 0, 2e9, null)).v).toEqual([0]);
    s.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
