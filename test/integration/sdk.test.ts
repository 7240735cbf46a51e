import { getData, getFields, listNodes, subscribeLive, CallError, HandlerError, type SisockClient } from '../../client';
import { ErrorCode, SisockError } from '../../common/errors';
import { STATUS_TIMEOUT_MS } from '../../contract';
import { runHub, type HubHandle } from '../../hub';
import { runDataNode, type DataNodeHandle, type DataResult } from '../../data-nodes/sdk';
import type { RunningRouter } from '../../router/server';
import { closeAll, MemorySource, newClient, opts, startTestRouter, waitFor } from './sisock-helpers';

describe('data-node SDK over a real router', () => {
  let router: RunningRouter;
  let url: string;
  let hub: HubHandle;
  let node: DataNodeHandle;
  let consumer: SisockClient;
  const source = new MemorySource(5000, 1000, 1);

  beforeAll(async () => {
    ({ router, url } = await startTestRouter());
    hub = await runHub({ client: opts(url) });
    node = await runDataNode({ name: 'Mem', description: 'memory node', source, client: opts(url), maxMessageBytes: 16 * 1024 });
    consumer = newClient(url);
    await node.ready(5000);
  });
  afterAll(async () => {
    await closeAll(consumer, node, hub);
    await router.close();
  });

  it('is listed by the hub with the contract shape', async () => {
    expect(await listNodes(consumer)).toEqual([{ name: 'Mem', description: 'memory node' }]);
  });

  it('serves get_fields and get_data per contract', async () => {
    const [fields, timelines] = await getFields(consumer, 'Mem', 1, 0);
    expect(Object.keys(fields).sort()).toEqual(['a', 's']);
    expect(timelines.tl!.field).toEqual(['a', 's']);
    const r = await consumer.call<DataResult>(consumer.uri('consumer.Mem.get_data'), [['a', 'nope'], 1000, 1003]);
    expect(r).toEqual({ data: { a: [0, 1, 2], nope: [] }, timeline: { tl: { t: [1000, 1001, 1002], finalized_until: 1002 } } });
  });

  it('accepts min_stride positional or keyword', async () => {
    const pos = await consumer.call<DataResult>(consumer.uri('consumer.Mem.get_data'), [['a'], 1000, 1010, 3]);
    const kw = await consumer.call<DataResult>(consumer.uri('consumer.Mem.get_data'), [['a'], 1000, 1010], { min_stride: 3 });
    expect(pos.data.a).toEqual([0, 3, 6, 9]);
    expect(kw).toEqual(pos);
  });

  it('turns relative times into absolute ones', async () => {
    source.calls.length = 0;
    const before = Date.now() / 1000;
    await consumer.call(consumer.uri('consumer.Mem.get_data'), [['a'], -3600, 0]);
    const c = source.calls[0]!;
    expect(c.end).toBeGreaterThanOrEqual(before - 1);
    expect(c.end - c.start).toBeCloseTo(3600, 3);
  });

  it.each([
    [['a', 'b'], 'fields'],
    [[['a'], 'x', 10], 'start'],
    [[['a'], 10, 5], 'start must be before end'],
    [[['a'], 1, 5, -1], 'min_stride'],
    [[['a'], 1, 5, 0], 'min_stride'],
    [[[3], 1, 5], 'fields[0]'],
  ])('rejects bad arguments %j with invalid_argument', async (args, msg) => {
    const err = await consumer.call(consumer.uri('consumer.Mem.get_data'), args as unknown[]).catch((e) => e);
    expect(err).toBeInstanceOf(CallError);
    expect((err as CallError).uri).toBe('wamp.error.invalid_argument');
    expect(String((err as CallError).args[0])).toContain(msg);
  });

  it('delivers a large result whole in progressive pieces', async () => {
    const pieces: unknown[] = [];
    const whole = await getData(consumer, 'Mem', ['a', 's', 'zzz'], 1000, 6000);
    expect(whole.data.a!.length).toBe(5000);
    expect(whole.data.s![4999]).toBe('v4999');
    expect(whole.data.zzz).toEqual([]);
    expect(whole.timeline.tl!.t.length).toBe(5000);
    expect(whole.timeline.tl!.t[4999]).toBe(5999);
    // and it did come in several pieces
    await consumer.call(consumer.uri('consumer.Mem.get_data'), [['a', 's'], 1000, 6000], {}, { onProgress: (p) => pieces.push(p) });
    expect(pieces.length).toBeGreaterThan(2);
  });

  it('gives a caller without progress a bounded, thinned answer with keys intact', async () => {
    const r = await consumer.call<DataResult>(consumer.uri('consumer.Mem.get_data'), [['a', 's', 'zzz'], 1000, 6000]);
    expect(Object.keys(r.data).sort()).toEqual(['a', 's', 'zzz']);
    expect(JSON.stringify(r).length).toBeLessThanOrEqual(16 * 1024);
    expect(r.data.a!.length).toBeGreaterThan(10);
    expect(r.data.a!.length).toBeLessThan(5000);
    expect(r.data.a!.length).toBe(r.timeline.tl!.t.length);
  });

  it('publishes live data and serves metadata', async () => {
    const got: DataResult[] = [];
    const sub = await subscribeLive(consumer, 'Mem', (r) => got.push(r));
    const sample: DataResult = { data: { a: [42] }, timeline: { tl: { t: [9000], finalized_until: 9000 } } };
    await waitFor(
      async () => {
        await node.push(sample);
        return got.length > 0;
      },
      5000,
      'live sample',
    );
    expect(got[0]).toEqual(sample);
    await sub.remove();
    const meta = await consumer.call<Record<string, unknown>>(consumer.uri('consumer.Mem.get_metadata'));
    expect(meta).toMatchObject({ name: 'Mem', description: 'memory node', pid: process.pid, n_fields: 2, newest_sample: 9000 });
    const list = await consumer.call<Array<Record<string, unknown>>>(consumer.uri('consumer.get_data_node_metadata'));
    expect(list).toEqual([expect.objectContaining({ name: 'Mem', description: 'memory node', available: true, n_fields: 2 })]);
  });

  it('newest_sample comes only from raw answers, never from the times of a thinned one', async () => {
    const fut = await runDataNode({
      name: 'Fut',
      description: 'thins onto a grid past its data',
      client: opts(url),
      source: {
        getFields: () => [{}, {}],
        getData: (_f: string[], _s: number, _e: number, stride: number | null) => ({
          data: { a: [1] },
          timeline: { tl: { t: [stride === null ? 100 : 5e9], finalized_until: null } },
        }),
      },
    });
    try {
      await fut.ready(5000);
      const meta = () => consumer.call<Record<string, unknown>>(consumer.uri('consumer.Fut.get_metadata'));
      await consumer.call(consumer.uri('consumer.Fut.get_data'), [['a'], 1, 6e9, 60]);
      expect((await meta()).newest_sample).toBeNull();
      await consumer.call(consumer.uri('consumer.Fut.get_data'), [['a'], 1, 6e9]);
      expect((await meta()).newest_sample).toBe(100);
    } finally {
      await fut.close();
    }
  });

  it("serves the source's status in get_metadata, bounded, and the hub lists it; a failing status() is left out", async () => {
    let dropped = 0;
    const mk = (name: string, status: () => Record<string, unknown> | Promise<Record<string, unknown>>) =>
      runDataNode({
        name,
        description: name,
        client: opts(url),
        source: { getFields: () => [{}, {}], getData: () => ({ data: {}, timeline: {} }), status },
      });
    const stat = await mk('Stat', () => ({ broker_dropped: dropped, connected: true, deep: { no: 1 }, long: 'x'.repeat(5000) }));
    const sick = await mk('Sick', () => {
      throw new Error('no figures');
    });
    // a hook that never answers: get_metadata answers without status after STATUS_TIMEOUT_MS
    const hung = await mk('Hung', () => new Promise<Record<string, unknown>>(() => {}));
    try {
      await stat.ready(5000);
      await sick.ready(5000);
      await hung.ready(5000);
      const t0 = Date.now();
      const hungMeta = await consumer.call<Record<string, unknown>>(consumer.uri('consumer.Hung.get_metadata'));
      expect(hungMeta).not.toHaveProperty('status');
      expect(hungMeta.name).toBe('Hung');
      expect(Date.now() - t0).toBeGreaterThanOrEqual(STATUS_TIMEOUT_MS - 50);
      dropped = 7;
      const meta = await consumer.call<Record<string, unknown>>(consumer.uri('consumer.Stat.get_metadata'));
      expect(meta.status).toEqual({ broker_dropped: 7, connected: true, long: 'x'.repeat(256) });
      expect(await consumer.call<Record<string, unknown>>(consumer.uri('consumer.Sick.get_metadata'))).not.toHaveProperty('status');
      const list = await consumer.call<Array<Record<string, unknown>>>(consumer.uri('consumer.get_data_node_metadata'));
      expect(list.find((e) => e.name === 'Stat')?.status).toEqual({ broker_dropped: 7, connected: true, long: 'x'.repeat(256) });
      expect(list.find((e) => e.name === 'Sick')?.status).toBeNull();
      expect(list.find((e) => e.name === 'Mem')?.status).toBeNull();
      // the hub (2 s call timeout) still gets the hung node's answer: available, without status
      expect(list.find((e) => e.name === 'Hung')).toMatchObject({ available: true, status: null });
    } finally {
      await stat.close();
      await sick.close();
      await hung.close();
    }
  });

  it('a source failure is a runtime_error, not a crash', async () => {
    const bad = await runDataNode({
      name: 'bad',
      description: 'fails',
      client: opts(url),
      source: {
        getFields: () => {
          throw new Error('disk gone');
        },
        getData: async () => {
          throw new Error('disk gone');
        },
      },
    });
    try {
      await bad.ready(5000);
      const err = await consumer.call(consumer.uri('consumer.bad.get_data'), [['x'], 1, 2]).catch((e) => e);
      expect((err as CallError).uri).toBe('wamp.error.runtime_error');
      // the detail stays in the node's log: the caller learns where, not what
      expect((err as CallError).args).toEqual(["internal error in bad.get_data; see the node's log"]);
    } finally {
      await bad.close();
    }
    await waitFor(async () => (await listNodes(consumer)).length === 1, 3000, 'bad removed');
  });

  it('keeps secrets of a source failure out of the answer; deliberate errors stay readable', async () => {
    let fail: () => never = () => {
      throw new Error('SQLITE_CANTOPEN: /srv/secret/index.db (password=hunter2)');
    };
    const src = new MemorySource(10, 1000, 1);
    const node2 = await runDataNode({
      name: 'leaky',
      description: 'fails',
      client: opts(url),
      source: { getFields: (s, e) => src.getFields(s, e), getData: () => fail() },
    });
    const call = (): Promise<CallError> =>
      consumer.call(consumer.uri('consumer.leaky.get_data'), [['a'], 1, 2]).then(
        () => {
          throw new Error('expected an error');
        },
        (e: unknown) => e as CallError,
      );
    try {
      await node2.ready(5000);
      const leak = await call();
      expect([leak.uri, leak.args]).toEqual(['wamp.error.runtime_error', ["internal error in leaky.get_data; see the node's log"]]);
      fail = () => {
        throw new HandlerError('wamp.error.runtime_error', 'table gone (dropped or renamed?)');
      };
      expect((await call()).args).toEqual(['table gone (dropped or renamed?)']);
      fail = () => {
        throw new SisockError(ErrorCode.INVALID_ARGUMENT, 'field a is write-only');
      };
      const bad = await call();
      expect([bad.uri, bad.args]).toEqual(['wamp.error.invalid_argument', ['leaky.get_data: field a is write-only']]);
    } finally {
      await node2.close();
    }
  });

  it('thins a too large result for a caller without progress in at most two more source queries', async () => {
    // A source that keeps 4 rows per min_stride (as min/max downsampling keeps 2): stride doubling
    // needs three more queries, a stride computed from the measured size one correction; and a
    // source that ignores min_stride is given up on after that correction, not after 12 tries.
    const calls: Array<number | null> = [];
    const dense = new MemorySource(5000, 1000, 1);
    const thinning = {
      getFields: (s: number, e: number) => dense.getFields(s, e),
      getData: (fields: string[], s: number, e: number, minStride: number | null) => {
        calls.push(minStride);
        return dense.getData(fields, s, e, minStride ? minStride / 4 : null);
      },
    };
    const ignoring = {
      getFields: (s: number, e: number) => dense.getFields(s, e),
      getData: (fields: string[], s: number, e: number, minStride: number | null) => {
        calls.push(minStride);
        return dense.getData(fields, s, e, null);
      },
    };
    for (const [nodeName, src] of [
      ['thinning', thinning],
      ['ignoring', ignoring],
    ] as const) {
      const n = await runDataNode({ name: nodeName, description: '', source: src, client: opts(url), maxMessageBytes: 16 * 1024 });
      try {
        await n.ready(5000);
        calls.length = 0;
        const r = await consumer.call<DataResult>(consumer.uri(`consumer.${nodeName}.get_data`), [['a', 's'], 1000, 6000]).catch((e) => e);
        expect(calls.length).toBeLessThanOrEqual(3);
        if (nodeName === 'thinning') {
          expect(JSON.stringify(r).length).toBeLessThanOrEqual(16 * 1024);
          expect((r as DataResult).data.a!.length).toBeGreaterThan(100);
        } else {
          expect((r as CallError).uri).toBe('wamp.error.runtime_error');
          expect(String((r as CallError).args[0])).toMatch(/does not fit .* ask for progressive results/);
        }
      } finally {
        await n.close();
      }
    }
  });
});
