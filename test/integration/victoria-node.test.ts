/**
 * `sisock node victoria` against Debian's victoria-metrics (free port, temporary storage): series
 * become fields `<metric>{labels}`; raw reads from /api/v1/export, min/max and mean at a step.
 */
import { getData, getFields, type SisockClient } from '../../client';
import { runVictoriaNode, selectorOf } from '../../data-nodes/influx';
import type { DataNodeHandle } from '../../data-nodes/sdk';
import { available, startVictoriaMetrics, type TsdbProcess } from '../helpers/tsdb';
import { closeAll, newClient, opts, startTestRouter } from './sisock-helpers';

const have = available('victoria-metrics');
jest.setTimeout(60000);

(have ? describe : describe.skip)('sisock node victoria (victoria-metrics)', () => {
  let vm: TsdbProcess;
  let router: Awaited<ReturnType<typeof startTestRouter>>;
  let node: DataNodeHandle;
  let consumer: SisockClient;
  const t0 = Math.floor(Date.now() / 1000 / 600) * 600 - 7200; // 600 s of 1 Hz, two hours ago

  beforeAll(async () => {
    vm = await startVictoriaMetrics();
    const lines: string[] = [];
    for (let i = 0; i < 600; i++) {
      lines.push(`cpu,host=a,cpu=cpu0 usage_idle=${i % 100} ${(t0 + i) * 1e9}`);
      lines.push(`cpu,host=a,cpu=cpu1 usage_idle=${100 - (i % 100)} ${(t0 + i) * 1e9}`);
    }
    const r = await fetch(`${vm.url}/write`, { method: 'POST', body: lines.join('\n') });
    expect(r.status).toBe(204);
    await fetch(`${vm.url}/internal/force_flush`);
    router = await startTestRouter();
    ({ node } = await runVictoriaNode({ url: vm.url, client: opts(router.url) }));
    consumer = newClient(router.url);
    await consumer.whenReady(10000);
  });
  afterAll(async () => {
    await closeAll(consumer, node);
    await router?.router.close();
    await vm?.close();
  });

  it('names series by their selector, labels sorted', async () => {
    expect(selectorOf({ __name__: 'm', b: '2', a: 'x"y' })).toBe('m{a="x\\"y",b="2"}');
    const [fields] = await getFields(consumer, 'victoria', 1, 0);
    expect(Object.keys(fields).sort()).toEqual(['cpu_usage_idle{cpu="cpu0",host="a"}', 'cpu_usage_idle{cpu="cpu1",host="a"}']);
  });

  it('serves raw samples, and min and max per 2 × min_stride window', async () => {
    const f0 = 'cpu_usage_idle{cpu="cpu0",host="a"}';
    const f1 = 'cpu_usage_idle{cpu="cpu1",host="a"}';
    const r = await getData(consumer, 'victoria', [f0, f1, 'nope'], t0 + 10, t0 + 13);
    expect(r.timeline[f0]?.t).toEqual([t0 + 10, t0 + 11, t0 + 12]);
    expect(r.data[f0]).toEqual([10, 11, 12]);
    expect(r.data[f1]).toEqual([90, 89, 88]);
    expect(r.data.nope).toEqual([]);
    const m = await getData(consumer, 'victoria', [f0], t0, t0 + 600, 100);
    const t = m.timeline[f0]?.t ?? [];
    for (let i = 1; i < t.length; i++) expect((t[i] ?? 0) - (t[i - 1] ?? 0)).toBeGreaterThanOrEqual(100 - 1e-6);
    for (const x of t) {
      expect(x).toBeGreaterThanOrEqual(t0);
      expect(x).toBeLessThan(t0 + 600);
    }
    expect(Math.max(...(m.data[f0] as number[]))).toBe(99);
    expect(Math.min(...(m.data[f0] as number[]))).toBeLessThanOrEqual(1);
  });
});
