/**
 * The Grafana bridge over a real router, hub and data nodes, all in-process on port 0: every
 * endpoint of both plugins, several nodes and targets, table format, downsampling, errors,
 * authentication and CORS, the field list following the hub, and 503 while the router is down
 * followed by recovery.
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { runHub, type HubHandle } from '../../hub';
import { runSimNode } from '../../data-nodes/sim';
import { runWeatherNode } from '../../data-nodes/weather';
import { runDataNode, type DataNodeHandle, type DataResult, type DataSource, type FieldsResult, type Sample } from '../../data-nodes/sdk';
import { startBridge, type RunningBridge } from '../../consumers/grafana';
import type { RunningRouter } from '../../router/server';
import { closeAll, opts, startTestRouter, waitFor } from './sisock-helpers';

const T0 = 1_700_000_000; // seconds
const iso = (s: number) => new Date(s * 1000).toISOString();

interface Col {
  name: string;
  type: 'number' | 'string' | 'bool';
  units: string | null;
  value: (i: number) => Sample;
}

/** One timeline `tl` of n samples at t0 + i·dt; records every get_data call. */
class TestSource implements DataSource {
  calls: Array<{ fields: string[]; start: number; end: number; minStride: number | null }> = [];
  constructor(
    public cols: Col[],
    readonly n: number,
    readonly t0 = T0,
    readonly dt = 1,
    readonly timeline = 'tl',
  ) {}
  getFields(): FieldsResult {
    const f: FieldsResult[0] = {};
    for (const c of this.cols) f[c.name] = { description: `${c.name} field`, timeline: this.timeline, type: c.type, units: c.units };
    return [f, { [this.timeline]: { interval: this.dt, field: this.cols.map((c) => c.name) } }];
  }
  getData(fields: string[], start: number, end: number, minStride: number | null): DataResult {
    this.calls.push({ fields, start, end, minStride });
    const idx: number[] = [];
    for (let i = 0; i < this.n; i++) {
      const t = this.t0 + i * this.dt;
      if (t >= start && t < end) idx.push(i);
    }
    const out: DataResult = { data: {}, timeline: {} };
    for (const f of fields) {
      const c = this.cols.find((x) => x.name === f);
      out.data[f] = c ? idx.map((i) => c.value(i)) : [];
      if (c && idx.length) out.timeline[this.timeline] = { t: idx.map((i) => this.t0 + i * this.dt), finalized_until: null };
    }
    return out;
  }
}

async function http(
  base: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: any; headers: Headers }> {
  const init: RequestInit =
    body === undefined
      ? { headers }
      : {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', ...headers },
          body: typeof body === 'string' ? body : JSON.stringify(body),
        };
  const res = await fetch(base + path, init);
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json, headers: res.headers };
}

const spikeAt = 5_000;
const alpha = new TestSource(
  [
    { name: 'a', type: 'number', units: 'K', value: (i) => (i === spikeAt ? 1000 : i % 10) },
    { name: 's', type: 'string', units: null, value: (i) => (i < 5 ? 'idle' : i < 8 ? 'scan' : 'idle') },
    { name: 'b', type: 'bool', units: null, value: (i) => i % 2 === 0 },
  ],
  10_000,
);
const beta = new TestSource([{ name: 'x', type: 'number', units: 'V', value: (i) => 0 - i }], 100, T0 + 0.5, 2, 'slow');

describe('Grafana bridge', () => {
  let router: RunningRouter;
  let url: string;
  let hub: HubHandle;
  let nodes: DataNodeHandle[];
  let bridge: RunningBridge;
  let base: string;
  const range = { from: iso(T0), to: iso(T0 + 10) };

  beforeAll(async () => {
    ({ router, url } = await startTestRouter());
    hub = await runHub({ client: opts(url) });
    nodes = [
      await runDataNode({ name: 'alpha', description: 'test node alpha', source: alpha, client: opts(url) }),
      await runDataNode({ name: 'Beta', description: 'test node Beta', source: beta, client: opts(url) }),
    ];
    await Promise.all(nodes.map((n) => n.ready(5000)));
    bridge = await startBridge({ client: opts(url), port: 0, host: '127.0.0.1', page: false, auth: {}, fieldsTtlMs: 200 });
    base = bridge.url;
    await waitFor(async () => (await http(base, '/')).status === 200, 5000, 'bridge healthy');
  });
  afterAll(async () => {
    await closeAll(bridge, ...nodes, hub);
    await router.close();
  });

  it('GET / reports health', async () => {
    const r = await http(base, '/');
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ status: 'ok', nodes: 2 });
  });

  it('/search: everything, substring, glob, node names', async () => {
    expect((await http(base, '/search', { target: '' })).json).toEqual(['alpha::a', 'alpha::b', 'alpha::s', 'Beta::x']);
    expect((await http(base, '/search', { type: 'timeseries', target: 'alpha::*' })).json).toEqual(['alpha::a', 'alpha::b', 'alpha::s']);
    expect((await http(base, '/search', { target: 'beta' })).json).toEqual(['Beta::x']);
    expect((await http(base, '/search', { target: 'nodes()' })).json).toEqual(['alpha', 'Beta']);
    expect((await http(base, '/search', {})).json).toHaveLength(4);
  });

  it('/search: a pathological glob answers at once and the bridge keeps serving', async () => {
    // the review's request, and a deeper one a backtracking regex needs minutes for (jest's timeout is the bound)
    for (const target of ['{*,*}{*,*}{*,*}{*,*}{*,*}{*,*}z', `${'{*,*}'.repeat(14)}z`]) {
      const evil = await http(base, '/search', { target });
      expect(evil.status).toBe(200);
      expect(evil.json).toEqual([]);
    }
    const tooLong = await http(base, '/search', { target: `*${'{a,*}'.repeat(200)}` });
    expect(tooLong.status).toBe(400);
    expect(tooLong.json.message).toMatch(/glob pattern too long/);
    expect((await http(base, '/')).status).toBe(200);
  });

  it('simPod /metrics, /metric-payload-options, /variable', async () => {
    const m = await http(base, '/metrics', {});
    expect(m.status).toBe(200);
    expect(m.json).toContainEqual({ label: 'alpha::a [K]', value: 'alpha::a', payloads: [] });
    expect((await http(base, '/metric-payload-options', { metric: 'alpha::a', payload: {}, name: 'x' })).json).toEqual([]);
    const v = await http(base, '/variable', {
      payload: { target: 'Beta::*' },
      range: { from: range.from, to: range.to, raw: { from: 'now-1h', to: 'now' } },
    });
    expect(v.json).toEqual([{ __text: 'Beta::x', __value: 'Beta::x' }]);
  });

  it('/tag-keys and /tag-values', async () => {
    expect((await http(base, '/tag-keys', {})).json).toEqual([
      { type: 'string', text: 'node' },
      { type: 'string', text: 'field' },
    ]);
    expect((await http(base, '/tag-values', { key: 'node' })).json).toEqual([{ text: 'alpha' }, { text: 'Beta' }]);
    expect((await http(base, '/tag-values', { key: 'field' })).json).toEqual(['a', 'b', 's', 'x'].map((text) => ({ text })));
    expect((await http(base, '/tag-values', { key: 'City' })).json).toEqual([]);
  });

  it('/query: a timeseries in ms, ascending, exact values', async () => {
    const r = await http(base, '/query', { range, maxDataPoints: 100, targets: [{ target: 'alpha::a', refId: 'A', type: 'timeserie' }] });
    expect(r.status).toBe(200);
    expect(r.json).toEqual([{ target: 'alpha::a', refId: 'A', datapoints: Array.from({ length: 10 }, (_, i) => [i, (T0 + i) * 1000]) }]);
  });

  it('/query: several targets on several nodes, one get_data per node', async () => {
    alpha.calls.length = 0;
    beta.calls.length = 0;
    const r = await http(base, '/query', {
      range: { from: iso(T0), to: iso(T0 + 20) },
      maxDataPoints: 1000,
      targets: [
        { target: 'alpha::a', refId: 'A' },
        { target: 'Beta::x', refId: 'B', type: 'timeseries' },
        { target: 'alpha::b', refId: 'C' },
        { target: 'alpha::s', refId: 'D', hide: true },
      ],
    });
    expect(r.status).toBe(200);
    expect(r.json.map((s: { target: string }) => s.target)).toEqual(['alpha::a', 'Beta::x', 'alpha::b']);
    expect(alpha.calls).toHaveLength(1);
    expect(alpha.calls[0]!.fields.sort()).toEqual(['a', 'b']);
    expect(beta.calls).toHaveLength(1);
    expect(r.json[1].datapoints.slice(0, 2)).toEqual([
      [0, (T0 + 0.5) * 1000],
      [-1, (T0 + 2.5) * 1000],
    ]);
    expect(r.json[2].datapoints.slice(0, 2)).toEqual([
      [1, T0 * 1000],
      [0, (T0 + 1) * 1000],
    ]); // bool as 1/0
    // min_stride asked of the nodes: span / maxDataPoints
    expect(alpha.calls[0]!.minStride).toBeCloseTo(20 / 1000, 9);
  });

  it('/query: table format with a time column; a glob target expands', async () => {
    const r = await http(base, '/query', {
      range,
      targets: [
        { target: 'alpha::s', refId: 'A', type: 'table' },
        { target: 'alpha::{a,b}', refId: 'B', payload: { format: 'table' } },
      ],
    });
    expect(r.status).toBe(200);
    expect(r.json).toHaveLength(3);
    expect(r.json[0]).toEqual({
      type: 'table',
      refId: 'A',
      target: 'alpha::s',
      columns: [
        { text: 'Time', type: 'time' },
        { text: 'alpha::s', type: 'string' },
      ],
      rows: Array.from({ length: 10 }, (_, i) => [(T0 + i) * 1000, i < 5 ? 'idle' : i < 8 ? 'scan' : 'idle']),
    });
    expect(r.json[2].columns[1]).toEqual({ text: 'alpha::b', type: 'boolean' });
  });

  it('/query: downsampled to maxDataPoints keeping the spike and the extremes', async () => {
    const r = await http(base, '/query', {
      range: { from: iso(T0), to: iso(T0 + 10_000) },
      maxDataPoints: 100,
      targets: [{ target: 'alpha::a' }],
    });
    const dp = r.json[0].datapoints as Array<[number, number]>;
    expect(dp.length).toBeLessThanOrEqual(100);
    expect(dp.length).toBeGreaterThan(50);
    expect(Math.max(...dp.map((p) => p[0]))).toBe(1000);
    expect(dp).toContainEqual([1000, (T0 + spikeAt) * 1000]);
    expect(Math.min(...dp.map((p) => p[0]))).toBe(0);
    for (let i = 1; i < dp.length; i++) expect(dp[i]![1]).toBeGreaterThan(dp[i - 1]![1]);
  });

  it('/query: ad hoc filters restrict targets; events target is a table', async () => {
    const r = await http(base, '/query', {
      range,
      targets: [{ target: 'alpha::*' }],
      adhocFilters: [{ key: 'field', operator: '!=', value: 's' }],
    });
    expect(r.json.map((s: { target: string }) => s.target)).toEqual(['alpha::a', 'alpha::b']);
    const ev = await http(base, '/query', { range: { from: 'now-1h', to: 'now' }, targets: [{ target: 'events', refId: 'E' }] });
    expect(ev.status).toBe(200);
    expect(ev.json[0].columns.map((c: { text: string }) => c.text)).toEqual(['time', 'title', 'text', 'tags']);
  });

  it('/query: identical targets are answered once; a regex ad hoc filter; the total point cap', async () => {
    alpha.calls.length = 0;
    const twice = await http(base, '/query', {
      range,
      maxDataPoints: 100,
      targets: [
        { target: 'alpha::a', refId: 'A' },
        { target: 'alpha::a', refId: 'A' },
        { target: 'alpha::a', refId: 'B' },
      ],
      adhocFilters: [{ key: 'field', operator: '=~', value: '^(a+)+$' }],
    });
    expect(twice.status).toBe(200);
    expect(twice.json.map((s: { refId: string }) => s.refId)).toEqual(['A', 'B']);
    expect(alpha.calls).toHaveLength(1);
    expect(alpha.calls[0]!.fields).toEqual(['a']);
    const badRx = await http(base, '/query', {
      range,
      targets: [{ target: 'alpha::a' }],
      adhocFilters: [{ key: 'field', operator: '=~', value: '(a)\\1' }],
    });
    expect(badRx.status).toBe(400);
    expect(badRx.json.message).toMatch(/backreferences/);

    const small = await startBridge({ client: opts(url), port: 0, host: '127.0.0.1', page: false, auth: {}, maxTotalPoints: 25 });
    try {
      await waitFor(async () => (await http(small.url, '/')).status === 200, 5000, 'small bridge healthy');
      const ok = await http(small.url, '/query', { range, maxDataPoints: 100, targets: [{ target: 'alpha::a' }, { target: 'alpha::b' }] });
      expect(ok.status).toBe(200); // 2 × 10 points
      const big = await http(small.url, '/query', { range, maxDataPoints: 100, targets: [{ target: 'alpha::*' }] });
      expect(big.status).toBe(400); // 3 × 10 points
      expect(big.json.message).toMatch(/more than 25 points: lower maxDataPoints or query fewer targets/);
      expect((await http(small.url, '/')).status).toBe(200);
    } finally {
      await small.close();
    }
  });

  it('/annotations: value changes of a field, and node events', async () => {
    const r = await http(base, '/annotations', {
      range,
      rangeRaw: { from: 'now-1h', to: 'now' },
      annotation: { name: 'scans', enable: true, query: 'alpha::s' },
    });
    expect(r.status).toBe(200);
    expect(r.json.map((a: { time: number; text: string }) => [a.time, a.text])).toEqual([
      [T0 * 1000, 'idle'],
      [(T0 + 5) * 1000, 'scan'],
      [(T0 + 8) * 1000, 'idle'],
    ]);
    expect(r.json[0].annotation).toMatchObject({ name: 'scans' });
    const ev = await http(base, '/annotations', { range: { from: 'now-1h', to: 'now' }, annotation: { name: 'nodes', query: '' } });
    expect(ev.status).toBe(200);
    expect(Array.isArray(ev.json)).toBe(true);
  });

  it.each([
    ['invalid JSON', '{"range": ', 400, /invalid JSON/],
    ['missing range', { targets: [{ target: 'alpha::a' }] }, 400, /missing range/],
    ['reversed range', { range: { from: range.to, to: range.from }, targets: [] }, 400, /reversed/],
    ['100-year range', { range: { from: '1950-01-01T00:00:00Z', to: '2050-01-01T00:00:00Z' }, targets: [] }, 400, /too long/],
    ['unknown node', { range, targets: [{ target: 'nosuch::a' }] }, 404, /unknown node "nosuch"/],
    ['unknown field', { range, targets: [{ target: 'alpha::nosuch' }] }, 404, /node "alpha" has no field "nosuch"/],
    ['malformed target', { range, targets: [{ target: 'alpha' }] }, 400, /<node>::<field>/],
    ['10,000 targets', { range, targets: Array.from({ length: 10000 }, (_, i) => ({ target: `alpha::a${i}` })) }, 400, /too many targets/],
  ])('bad input: %s → 4xx {message}, and the bridge keeps serving', async (_what, body, status, msg) => {
    const r = await http(base, '/query', body);
    expect(r.status).toBe(status);
    expect(r.json.message).toMatch(msg);
    expect((await http(base, '/')).status).toBe(200);
  });

  it('other bad input: unknown route, tag-values without key, huge body', async () => {
    const r = await http(base, '/nope', {});
    expect(r.status).toBe(404);
    expect(r.json.message).toMatch(/no such route/);
    expect((await http(base, '/tag-values', {})).status).toBe(400);
    const huge = await http(base, '/query', JSON.stringify({ range, pad: 'x'.repeat(3 * 1024 * 1024) }));
    expect(huge.status).toBe(413);
    expect(huge.json.message).toMatch(/too large/);
    expect((await http(base, '/')).status).toBe(200);
  });

  it('the field list follows the hub: a node comes, gets new fields, and goes', async () => {
    const src = new TestSource([{ name: 'g', type: 'number', units: null, value: (i) => i * 2 }], 10);
    const gamma = await runDataNode({ name: 'gamma', description: 'comes and goes', source: src, client: opts(url) });
    try {
      await gamma.ready(5000);
      await waitFor(
        async () => ((await http(base, '/search', { target: 'gamma' })).json as string[]).includes('gamma::g'),
        5000,
        'gamma listed',
      );
      const q = await http(base, '/query', { range, targets: [{ target: 'gamma::g' }] });
      expect(q.json[0].datapoints[1]).toEqual([2, (T0 + 1) * 1000]);
      // a field that appears later is found at once by a query (cache miss → refresh)
      src.cols.push({ name: 'h', type: 'number', units: null, value: (i) => i + 100 });
      const q2 = await http(base, '/query', { range, targets: [{ target: 'gamma::h' }] });
      expect(q2.status).toBe(200);
      expect(q2.json[0].datapoints[0]).toEqual([100, T0 * 1000]);
    } finally {
      await gamma.close();
    }
    await waitFor(async () => !((await http(base, '/search', { target: 'gamma' })).json as string[]).length, 5000, 'gamma gone');
    expect((await http(base, '/query', { range, targets: [{ target: 'gamma::g' }] })).status).toBe(404);
    const ev = await http(base, '/annotations', { range: { from: 'now-1h', to: 'now+1m' }, annotation: { query: 'events' } });
    expect(ev.json.map((a: { title: string }) => a.title)).toEqual(expect.arrayContaining(['gamma online', 'gamma offline']));
  });

  it('CORS preflight and headers', async () => {
    const pre = await fetch(`${base}/query`, {
      method: 'OPTIONS',
      headers: {
        Origin: 'http://grafana.example',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type,authorization',
      },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
    const r = await http(base, '/', undefined, { Origin: 'http://grafana.example' });
    expect(r.headers.get('access-control-allow-origin')).toBe('*');
  });
});

describe('Grafana bridge authentication', () => {
  let router: RunningRouter;
  let bridge: RunningBridge;
  let hub: HubHandle;
  beforeAll(async () => {
    const r = await startTestRouter();
    router = r.router;
    hub = await runHub({ client: opts(r.url) });
    bridge = await startBridge({
      client: opts(r.url),
      port: 0,
      host: '127.0.0.1',
      page: false,
      auth: { basic: { user: 'graf', pass: 's3cret:x' }, token: 'tok123' },
    });
  });
  afterAll(async () => {
    await closeAll(bridge, hub);
    await router.close();
  });

  it('401 {message} without credentials or with wrong ones; preflight is free', async () => {
    const r = await http(bridge.url, '/');
    expect(r.status).toBe(401);
    expect(r.json.message).toMatch(/authentication required/);
    expect(r.headers.get('www-authenticate')).toMatch(/Basic/);
    expect((await http(bridge.url, '/', undefined, { Authorization: `Basic ${Buffer.from('graf:nope').toString('base64')}` })).status).toBe(
      401,
    );
    expect((await http(bridge.url, '/', undefined, { Authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await fetch(`${bridge.url}/query`, { method: 'OPTIONS' })).status).toBe(204);
  });

  it('basic and bearer both work', async () => {
    await waitFor(
      async () =>
        (await http(bridge.url, '/', undefined, { Authorization: `Basic ${Buffer.from('graf:s3cret:x').toString('base64')}` })).status ===
        200,
      5000,
      'basic ok',
    );
    expect((await http(bridge.url, '/search', {}, { Authorization: 'Bearer tok123' })).status).toBe(200);
    expect((await http(bridge.url, '/?access_token=tok123')).status).toBe(200);
  });
});

describe('Grafana bridge without a router', () => {
  it('answers 503 {message} while the router is down, and recovers when it is back', async () => {
    const started = await startTestRouter();
    const { port } = started;
    let { router, url } = started;
    let hub = await runHub({ client: opts(url) });
    const src = new TestSource([{ name: 'v', type: 'number', units: null, value: (i) => i }], 10);
    const node = await runDataNode({ name: 'phoenix', description: 'survives', source: src, client: opts(url) });
    const bridge = await startBridge({ client: opts(url), port: 0, host: '127.0.0.1', page: false, auth: {} });
    const range = { from: iso(T0), to: iso(T0 + 10) };
    try {
      await node.ready(5000);
      await waitFor(async () => (await http(bridge.url, '/')).status === 200, 5000, 'healthy');
      await hub.close();
      await router.close();
      const down = await waitFor(
        async () => {
          const r = await http(bridge.url, '/');
          return r.status === 503 ? r : null;
        },
        5000,
        '503',
      );
      expect(down!.json.message).toMatch(/router unreachable/);
      for (const [path, body] of [
        ['/query', { range, targets: [{ target: 'phoenix::v' }] }],
        ['/search', {}],
        ['/metrics', {}],
        ['/tag-keys', {}],
      ] as const) {
        const r = await http(bridge.url, path, body);
        expect(r.status).toBe(503);
        expect(r.json.message).toMatch(/router unreachable/);
      }
      // back on the same port: the bridge, the node (and a new hub) reconnect by themselves
      ({ router, url } = await startTestRouter(port));
      hub = await runHub({ client: opts(url) });
      await waitFor(async () => (await http(bridge.url, '/')).status === 200, 10000, 'healthy again');
      const q = await waitFor(
        async () => {
          const r = await http(bridge.url, '/query', { range, targets: [{ target: 'phoenix::v' }] });
          return r.status === 200 ? r : null;
        },
        10000,
        'query again',
      );
      expect(q!.json[0].datapoints).toHaveLength(10);
    } finally {
      await closeAll(bridge, node, hub);
      await router.close();
    }
  });

  it('says 503 "no hub" when the router is there but the hub is not', async () => {
    const { router, url } = await startTestRouter();
    const bridge = await startBridge({ client: opts(url), port: 0, host: '127.0.0.1', page: false, auth: {} });
    try {
      const r = await waitFor(
        async () => {
          const x = await http(bridge.url, '/');
          return x.json?.message?.includes('no hub') ? x : null;
        },
        5000,
        'no hub',
      );
      expect(r!.status).toBe(503);
    } finally {
      await bridge.close();
      await router.close();
    }
  });
});

interface InfinityTarget {
  type: string;
  source: string;
  parser: string;
  url: string;
  url_options: { params: Array<{ key: string; value: string }> };
  columns?: Array<{ selector: string }>;
}

describe('Grafana provisioning files against the demo nodes', () => {
  it('every dashboard target resolves on the sim and weather nodes; the datasource uses the simPod plugin', async () => {
    const dir = path.join(__dirname, '../../consumers/grafana/provisioning');
    const ds = YAML.parse(fs.readFileSync(path.join(dir, 'datasources/sisock.yaml'), 'utf8')) as {
      datasources: Array<{ type: string; uid: string; url: string }>;
    };
    expect(ds.datasources[0]).toMatchObject({ type: 'simpod-json-datasource', uid: 'sisock' });
    const provider = YAML.parse(fs.readFileSync(path.join(dir, 'dashboards/sisock.yaml'), 'utf8')) as {
      providers: Array<{ options: { path: string } }>;
    };
    expect(provider.providers[0]!.options.path).toBe('/etc/grafana/provisioning/dashboards/sisock');
    const dash = JSON.parse(fs.readFileSync(path.join(dir, 'dashboards/sisock/sisock-demo.json'), 'utf8')) as {
      panels: Array<{ type: string; targets?: Array<{ target: string; datasource: { uid: string } }> }>;
      annotations: { list: Array<{ target?: { target: string } }> };
    };
    const targets = dash.panels.flatMap((p) => p.targets ?? []);
    expect(targets.length).toBeGreaterThan(10);
    for (const t of targets) expect(t.datasource.uid).toBe('sisock');

    const { router, url } = await startTestRouter();
    const hub = await runHub({ client: opts(url) });
    const sim = await runSimNode({ client: opts(url), rate: 5 });
    const weather = await runWeatherNode({ client: opts(url), replay: true });
    const bridge = await startBridge({ client: opts(url), port: 0, host: '127.0.0.1', page: false, auth: {} });
    try {
      await Promise.all([sim.node.ready(10000), weather.node.ready(10000)]);
      await waitFor(async () => (await http(bridge.url, '/')).json?.nodes === 2, 5000, 'two nodes');
      const body = {
        range: { from: 'now-6h', to: 'now' },
        maxDataPoints: 500,
        targets: [...targets.map((t, i) => ({ ...t, refId: `T${i}` })), { ...dash.annotations.list[1]!.target!, refId: 'Anno' }],
      };
      const r = await http(bridge.url, '/query', body);
      expect(r.status).toBe(200);
      const names = (r.json as Array<{ target: string }>).map((s) => s.target);
      expect(names).toEqual(
        expect.arrayContaining([
          'sim::hv_ch0_voltage',
          'sim::hv_ch3_current',
          'sim::lv_ch2_voltage',
          'sim::lv_ch1_tripped',
          'sim::sensor_humidity',
          'weather::temperature',
          'weather::pressure',
          'events',
        ]),
      );
      const temp = (r.json as Array<{ target: string; datapoints?: unknown[] }>).find((s) => s.target === 'weather::temperature')!;
      expect(temp.datapoints!.length).toBeGreaterThan(3); // replayed archive within the last 6 h

      // The Infinity dashboard: every query (variables, annotations, panels but the tracker's, which
      // needs MQTT) sent as Infinity sends it, its macros expanded as Grafana does, answers 200.
      const inf = JSON.parse(fs.readFileSync(path.join(dir, 'dashboards/sisock/sisock-infinity.json'), 'utf8')) as {
        panels: Array<{ targets?: InfinityTarget[] }>;
        annotations: { list: Array<{ target?: InfinityTarget }> };
        templating: { list: Array<{ query: { infinityQuery: InfinityTarget } }> };
      };
      const infDs = YAML.parse(fs.readFileSync(path.join(dir, 'datasources/infinity.yaml'), 'utf8')) as {
        datasources: Array<{ type: string; uid: string }>;
      };
      expect(infDs.datasources[0]).toMatchObject({ type: 'yesoreyeram-infinity-datasource', uid: 'sisock-infinity' });
      const queries = [
        ...inf.panels.flatMap((p) => p.targets ?? []),
        ...inf.annotations.list.flatMap((a) => (a.target ? [a.target] : [])),
        ...inf.templating.list.map((v) => v.query.infinityQuery),
      ];
      const now = Date.now();
      const macros: Record<string, string> = {
        __from: String(now - 6 * 3600e3),
        __to: String(now),
        __maxDataPoints: '500',
        'node:glob': '*',
        'field:glob': '*',
      };
      let answered = 0;
      for (const q of queries) {
        expect(q).toMatchObject({ type: 'json', source: 'url', parser: 'backend' });
        const params = new URLSearchParams();
        for (const { key, value } of q.url_options.params)
          params.append(
            key,
            value.replace(/\$\{([^}]+)\}/g, (_m, k: string) => macros[k] ?? _m),
          );
        if (params.get('target')?.startsWith('tracker::')) continue;
        const res = await fetch(`${bridge.url}${q.url}?${params}`);
        expect({ url: q.url, params: String(params), status: res.status }).toMatchObject({ status: 200 });
        const rows = (await res.json()) as Array<Record<string, unknown>>;
        for (const c of q.columns ?? []) if (rows.length) expect(rows[0]).toHaveProperty([c.selector]);
        answered++;
      }
      expect(answered).toBeGreaterThanOrEqual(8);
    } finally {
      sim.source.stop();
      await closeAll(bridge, sim.node, weather.node, hub);
      await router.close();
    }
  });
});
