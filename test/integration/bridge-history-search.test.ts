/**
 * The bridge with a history fallback (`sisock grafana --history`) lists a stopped node's fields from
 * the historian: /search and /infinity/fields keep offering them, so a dashboard's variables and
 * field pickers survive the node. Router, hub, a node and a historian-shaped node (fields
 * `<node>.<field>`) on port 0.
 */
import { runHub, type HubHandle } from '../../hub';
import { runDataNode, type DataNodeHandle, type DataResult, type DataSource, type FieldsResult } from '../../data-nodes/sdk';
import { startBridge, type RunningBridge } from '../../consumers/grafana';
import type { RunningRouter } from '../../router/server';
import { closeAll, opts, startTestRouter, waitFor } from './sisock-helpers';

const FIELD = { description: 'water level', type: 'number' as const, units: 'm' };

/** A node with one field `level`. */
const aux: DataSource = {
  getFields: (): FieldsResult => [{ level: { ...FIELD, timeline: 'tl' } }, { tl: { interval: 1, field: ['level'] } }],
  getData: (): DataResult => ({ data: { level: [] }, timeline: {} }),
};

/** The historian's view: `aux.level` and `gone.temp` (a node that is not running at all). */
const historian: DataSource = {
  getFields: (): FieldsResult => [
    {
      'aux.level': { ...FIELD, timeline: 'aux.level' },
      'gone.temp': { description: null, type: 'number', units: '°C', timeline: 'gone.temp' },
    },
    { 'aux.level': { interval: 1, field: ['aux.level'] }, 'gone.temp': { interval: 1, field: ['gone.temp'] } },
  ],
  getData: (): DataResult => ({ data: {}, timeline: {} }),
};

describe('bridge --history: offline nodes stay listed', () => {
  let router: RunningRouter;
  let hub: HubHandle;
  let node: DataNodeHandle | null;
  let hist: DataNodeHandle;
  let withHistory: RunningBridge;
  let without: RunningBridge;

  beforeAll(async () => {
    const r = await startTestRouter();
    router = r.router;
    hub = await runHub({ client: opts(r.url) });
    node = await runDataNode({ name: 'aux', description: 'aux', client: opts(r.url), source: aux });
    hist = await runDataNode({ name: 'historian', description: 'history', client: opts(r.url), source: historian });
    await Promise.all([node.ready(10000), hist.ready(10000)]);
    const common = { client: opts(r.url), port: 0, host: '127.0.0.1', auth: {}, page: false, fieldsTtlMs: 0 };
    withHistory = await startBridge({ ...common, history: 'historian' });
    without = await startBridge(common);
    for (const b of [withHistory, without]) await waitFor(async () => (await fetch(`${b.url}/`)).status === 200, 10000, 'bridge healthy');
  });
  afterAll(async () => {
    await closeAll(withHistory, without, node, hist, hub);
    await router.close();
  });

  const search = async (b: RunningBridge, target: string): Promise<string[]> => {
    const res = await fetch(`${b.url}/search`, {
      method: 'POST',
      body: JSON.stringify({ target }),
      headers: { 'Content-Type': 'application/json' },
    });
    expect(res.status).toBe(200);
    return (await res.json()) as string[];
  };
  const fields = async (b: RunningBridge, node: string): Promise<Array<Record<string, unknown>>> => {
    const res = await fetch(`${b.url}/infinity/fields?node=${encodeURIComponent(node)}`);
    expect(res.status).toBe(200);
    return (await res.json()) as Array<Record<string, unknown>>;
  };

  it('lists an online node once, and a node only the historian knows', async () => {
    const names = await search(withHistory, 'level');
    expect(names.filter((n) => n === 'aux::level')).toHaveLength(1);
    expect(await search(withHistory, 'gone::*')).toEqual(['gone::temp']);
    expect(await search(without, 'gone::*')).toEqual([]);
    expect((await fields(withHistory, 'gone')).map((r) => [r.target, r.units])).toEqual([['gone::temp', '°C']]);
    expect(await fields(without, 'gone')).toEqual([]);
  });

  it('a node that stops keeps its fields in /search and /infinity/fields, from the historian', async () => {
    await node!.close();
    node = null;
    await waitFor(() => !withHistory.catalogue.nodes().some((n) => n.name === 'aux'), 10000, 'aux gone');
    await waitFor(() => !without.catalogue.nodes().some((n) => n.name === 'aux'), 10000, 'aux gone (no history)');
    expect(await search(withHistory, 'aux::*')).toEqual(['aux::level']);
    expect(await search(without, 'aux::*')).toEqual([]);
    const rows = await fields(withHistory, '{aux,nothing}');
    expect(rows).toEqual([{ node: 'aux', field: 'level', target: 'aux::level', type: 'number', units: 'm', description: 'water level' }]);
    // the historian's own node is not listed as an offline node
    expect((await fields(withHistory, '*')).filter((r) => r.node === 'historian').map((r) => r.field)).toEqual(['aux.level', 'gone.temp']);
  });
});
