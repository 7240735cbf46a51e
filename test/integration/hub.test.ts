import { listNodes, CallError, type SisockClient } from '../../client';
import { runHub, type HubHandle } from '../../hub';
import { runDataNode, type DataNodeHandle } from '../../data-nodes/sdk';
import type { RunningRouter } from '../../router/server';
import { closeAll, MemorySource, newClient, opts, startTestRouter, waitFor } from './sisock-helpers';

const sorted = <T extends { name: string }>(l: T[]) => [...l].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

describe('hub over a real router', () => {
  let router: RunningRouter;
  let url: string;
  let consumer: SisockClient;
  let hub: HubHandle | null = null;
  const nodes: DataNodeHandle[] = [];
  const events: Array<[string, unknown]> = [];

  beforeAll(async () => {
    ({ router, url } = await startTestRouter());
    consumer = newClient(url);
    await consumer.whenReady(5000);
    await consumer.subscribe(consumer.uri('consumer.data_node_added'), (a) => events.push(['added', a[0]]));
    await consumer.subscribe(consumer.uri('consumer.data_node_subtracted'), (a) => events.push(['subtracted', a[0]]));
  });
  afterAll(async () => {
    await closeAll(...nodes, hub, consumer);
    await router.close();
  });

  it('lists nodes started before the hub, without restarting them', async () => {
    nodes.push(await runDataNode({ name: 'early', description: 'before hub', source: new MemorySource(3), client: opts(url) }));
    await waitFor(() => nodes[0]!.client.isReady, 5000, 'node session');
    const t0 = Date.now();
    hub = await runHub({ client: opts(url) });
    await waitFor(async () => (await listNodes(consumer)).length === 1, 5000, 'early node listed');
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(await listNodes(consumer)).toEqual([{ name: 'early', description: 'before hub' }]);
  });

  it('publishes data_node_added with one positional {name, description}', async () => {
    nodes.push(await runDataNode({ name: 'Second', description: 'upper-case name', source: new MemorySource(3), client: opts(url) }));
    await nodes[1]!.ready(5000);
    await waitFor(() => events.some(([k, v]) => k === 'added' && (v as { name: string }).name === 'Second'), 3000, 'added event');
    expect(events.find(([k, v]) => k === 'added' && (v as { name: string }).name === 'Second')![1]).toEqual({
      name: 'Second',
      description: 'upper-case name',
    });
    expect(sorted(await listNodes(consumer))).toEqual([
      { name: 'Second', description: 'upper-case name' },
      { name: 'early', description: 'before hub' },
    ]);
  });

  it("refuses a name held by a live session; subtract removes only the holder's own name", async () => {
    const add = consumer.uri('data_node.add');
    const sub = consumer.uri('data_node.subtract');
    const other = newClient(url);
    try {
      await other.whenReady(5000);
      expect(await other.call(add, ['ghost', 'first owner', other.sessionId])).toBe(true);
      expect(await consumer.call(add, ['ghost', 'second', consumer.sessionId])).toBe(false);
      expect((await listNodes(consumer)).find((n) => n.name === 'ghost')).toEqual({ name: 'ghost', description: 'first owner' });
      // subtract by another session (its own id) does nothing
      await consumer.call(sub, ['ghost', consumer.sessionId]);
      expect((await listNodes(consumer)).some((n) => n.name === 'ghost')).toBe(true);
      await other.call(sub, ['ghost', other.sessionId]);
      expect((await listNodes(consumer)).some((n) => n.name === 'ghost')).toBe(false);
      // now free: the other session may take it
      expect(await consumer.call(add, ['ghost', 'new owner', consumer.sessionId])).toBe(true);
      await consumer.call(sub, ['ghost', consumer.sessionId]);
    } finally {
      await other.close();
    }
  });

  it('answers bad data_node.add arguments with invalid_argument', async () => {
    const err = await consumer.call(consumer.uri('data_node.add'), [42, 'x', 1]).catch((e) => e);
    expect((err as CallError).uri).toBe('wamp.error.invalid_argument');
  });

  it('removes a node within one second when its session is gone', async () => {
    const victim = nodes[1]!;
    const sid = victim.client.sessionId!;
    events.length = 0;
    const t0 = Date.now();
    await consumer.call('wamp.session.kill', [sid]);
    await waitFor(async () => !(await listNodes(consumer)).some((n) => n.name === 'Second'), 1000, 'Second removed');
    const ms = Date.now() - t0;
    expect(ms).toBeLessThan(1000);
    await waitFor(() => events.some(([k, v]) => k === 'subtracted' && (v as { name: string }).name === 'Second'), 1000, 'subtracted event');
    // the killed node reconnects by itself and comes back
    await waitFor(async () => (await listNodes(consumer)).some((n) => n.name === 'Second'), 5000, 'Second back');
  });

  it('lists every node again within five seconds after a hub restart', async () => {
    await hub!.close();
    hub = null;
    const t0 = Date.now();
    hub = await runHub({ client: opts(url) });
    await waitFor(async () => (await listNodes(consumer)).length === 2, 5000, 'nodes back after hub restart');
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(sorted(await listNodes(consumer)).map((n) => n.name)).toEqual(['Second', 'early']);
    // the hub's metadata procedure covers every node
    const meta = await consumer.call<Array<Record<string, unknown>>>(consumer.uri('consumer.get_data_node_metadata'));
    expect(meta.map((m) => m.available)).toEqual([true, true]);
  });

  it('removes a node that closes cleanly and publishes data_node_subtracted', async () => {
    events.length = 0;
    await nodes[0]!.close();
    await waitFor(() => events.some(([k]) => k === 'subtracted'), 2000, 'subtracted');
    expect(events[0]).toEqual(['subtracted', { name: 'early', description: 'before hub' }]);
    expect((await listNodes(consumer)).map((n) => n.name)).toEqual(['Second']);
  });
});
