/**
 * Conformance of the bridge's Infinity endpoints with Grafana's Infinity datasource
 * (yesoreyeram-infinity-datasource, backend parser), over a real router, hub and data nodes on
 * port 0: we request /infinity/query as Infinity's backend does (URL + params for GET, a raw JSON
 * body for POST, its Accept headers) and read the answer the way its backend parser does — a GJSON
 * root selector, then one column per selector with a type (timestamp_epoch, timestamp, number,
 * string, boolean); CSV through a header row whose names are the selectors — and check that what it
 * accepts is what we send, and that it equals what /query answers on the same data.
 *
 * Also here: /query answering the fields it can with per-target notices (a hung node named within
 * --query-timeout), and free-text SimpleJSON annotations.
 */
import { runHub, type HubHandle } from '../../hub';
import { runDataNode, type DataNodeHandle, type DataResult, type DataSource, type FieldsResult } from '../../data-nodes/sdk';
import { startBridge, type RunningBridge } from '../../consumers/grafana';
import type { RunningRouter } from '../../router/server';
import { closeAll, opts, startTestRouter, waitFor } from './sisock-helpers';

const T0 = 1_700_000_000; // seconds
const N = 3600;

/** One node `tl` timeline of N samples every second: `temp` (number, °C), `state` (string), `on` (bool). */
class Source implements DataSource {
  hang: Promise<void> | null = null;
  constructor(readonly prefix: number) {}
  getFields(): FieldsResult {
    return [
      {
        temp: { description: 'temperature', timeline: 'tl', type: 'number', units: '°C' },
        state: { description: 'mode', timeline: 'tl', type: 'string', units: null },
        on: { description: 'switch', timeline: 'tl', type: 'bool', units: null },
      },
      { tl: { interval: 1, field: ['temp', 'state', 'on'] } },
    ];
  }
  async getData(fields: string[], start: number, end: number): Promise<DataResult> {
    if (this.hang) await this.hang;
    const t: number[] = [];
    for (let i = 0; i < N; i++) if (T0 + i >= start && T0 + i < end) t.push(T0 + i);
    const data: DataResult['data'] = {};
    for (const f of fields) {
      data[f] = t.map((x) => {
        const i = x - T0;
        return f === 'temp'
          ? this.prefix + (i % 60) + (i === 1234 ? 500 : 0)
          : f === 'state'
            ? i % 600 < 300
              ? 'idle'
              : 'scan'
            : i % 2 === 0;
      });
    }
    return { data, timeline: t.length ? { tl: { t, finalized_until: null } } : {} };
  }
}

// ---- Infinity's backend parser, from its documentation and source (jsonframer + gframer, csvframer) ----

interface Column {
  selector: string;
  text?: string;
  type: 'string' | 'number' | 'boolean' | 'timestamp' | 'timestamp_epoch' | 'timestamp_epoch_s';
}
type Cell = string | number | boolean | Date | null;
type Frame = Record<string, Cell[]>;

/** GJSON path: keys separated by `.`, `\.` escapes a dot, a number indexes an array; a missing key is undefined. */
function gjsonGet(doc: unknown, path: string): unknown {
  if (path === '') return doc;
  const keys = path.split(/(?<!\\)\./).map((k) => k.replace(/\\\./g, '.'));
  let cur: unknown = doc;
  for (const k of keys) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = Array.isArray(cur) ? (/^\d+$/.test(k) ? cur[Number(k)] : undefined) : (cur as Record<string, unknown>)[k];
  }
  return cur;
}

/** gframer's conversion of one value to a column type (null for what it cannot convert). */
function convert(v: unknown, type: Column['type']): Cell {
  if (v === undefined || v === null) return null;
  switch (type) {
    case 'number': {
      const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
      return Number.isFinite(n) ? n : null;
    }
    case 'boolean':
      return typeof v === 'boolean' ? v : v === 'true' ? true : v === 'false' ? false : null;
    case 'string':
      return typeof v === 'string' ? v : JSON.stringify(v);
    case 'timestamp': {
      // RFC 3339 by default
      if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(v)) return null;
      return new Date(v);
    }
    case 'timestamp_epoch':
    case 'timestamp_epoch_s': {
      const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
      if (!Number.isFinite(n)) return null;
      return new Date(type === 'timestamp_epoch' ? n : n * 1000);
    }
  }
}

/** The JSON backend parser: root selector, then per row of the (array) root each column's selector. */
function parseJson(body: string, rootSelector: string, columns: Column[]): Frame {
  const root = gjsonGet(JSON.parse(body), rootSelector);
  if (!Array.isArray(root)) throw new Error(`root ${rootSelector || '(document)'} is not an array`);
  const frame: Frame = {};
  for (const c of columns) frame[c.text ?? c.selector] = root.map((row) => convert(gjsonGet(row, c.selector), c.type));
  return frame;
}

/** The CSV backend parser: a header row names the columns; RFC 4180 quoting; empty cell = null. */
function parseCsv(body: string, columns: Column[]): Frame {
  const records: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < body.length; i++) {
    const ch = body[i];
    if (quoted) {
      if (ch === '"' && body[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\n') {
      row.push(cell);
      records.push(row);
      row = [];
      cell = '';
    } else if (ch !== '\r') cell += ch;
  }
  if (cell !== '' || row.length) {
    row.push(cell);
    records.push(row);
  }
  const [header, ...rows] = records;
  if (!header) throw new Error('no header row');
  for (const r of rows) if (r.length !== header.length) throw new Error(`a row has ${r.length} cells, the header ${header.length}`);
  const frame: Frame = {};
  for (const c of columns) {
    const k = header.indexOf(c.selector);
    if (k < 0) throw new Error(`no column ${c.selector}`);
    frame[c.text ?? c.selector] = rows.map((r) => convert(r[k] === '' ? null : r[k], c.type));
  }
  return frame;
}

/** Grafana's LongToWide (what a time series panel does with the long form) needs ascending time. */
function ascending(ts: Cell[]): boolean {
  return ts.every((t, i) => i === 0 || (t as Date).getTime() >= (ts[i - 1] as Date).getTime());
}

describe('Grafana Infinity endpoints', () => {
  let router: RunningRouter;
  let hub: HubHandle;
  let nodes: DataNodeHandle[];
  let bridge: RunningBridge;
  let base: string;
  let routerUrl: string;
  const alpha = new Source(0);
  const slow = new Source(100);
  const from = T0 * 1000;
  const to = (T0 + N) * 1000;

  /** GET as Infinity's backend sends it (URL with the expanded macros as params). */
  const get = async (path: string, params: Record<string, string | string[]>, accept = 'application/json;q=0.9,text/plain') => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) for (const x of Array.isArray(v) ? v : [v]) q.append(k, x);
    const res = await fetch(`${base}${path}?${q}`, { headers: { Accept: accept, 'User-Agent': 'Grafana' } });
    return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
  };
  const post = async (path: string, body: unknown) => {
    const res = await fetch(base + path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json;q=0.9,text/plain' },
      body: JSON.stringify(body),
    });
    return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
  };

  beforeAll(async () => {
    const started = await startTestRouter();
    router = started.router;
    const url = (routerUrl = started.url);
    hub = await runHub({ client: opts(url) });
    nodes = [
      await runDataNode({ name: 'alpha', description: 'test node alpha', source: alpha, client: opts(url) }),
      await runDataNode({ name: 'slow', description: 'a node that can hang', source: slow, client: opts(url) }),
    ];
    await Promise.all(nodes.map((n) => n.ready(5000)));
    bridge = await startBridge({ client: opts(url), port: 0, host: '127.0.0.1', page: false, auth: {}, callTimeoutMs: 700 });
    base = bridge.url;
    await waitFor(async () => (await fetch(`${base}/`)).status === 200, 5000, 'bridge healthy');
  });
  afterAll(async () => {
    await closeAll(bridge, ...nodes, hub);
    await router.close();
  });

  it('wide JSON (GET) parses with Infinity columns and equals /query on the same data', async () => {
    const r = await get('/infinity/query', { target: 'alpha::temp', from: String(from), to: String(to), maxDataPoints: '100' });
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/^application\/json/);
    const frame = parseJson(r.text, '', [
      { selector: 'time', type: 'timestamp_epoch' },
      { selector: 'alpha::temp', text: 'temp', type: 'number' },
    ]);
    const q = await post('/query', {
      range: { from: new Date(from).toISOString(), to: new Date(to).toISOString() },
      maxDataPoints: 100,
      targets: [{ target: 'alpha::temp', refId: 'A' }],
    });
    const series = JSON.parse(q.text) as Array<{ datapoints: Array<[number, number]> }>;
    const dp = series[0]?.datapoints ?? [];
    expect(dp.length).toBeGreaterThan(10);
    expect(dp.length).toBeLessThanOrEqual(100);
    expect(frame.time?.map((d) => (d as Date).getTime())).toEqual(dp.map((p) => p[1]));
    expect(frame.temp).toEqual(dp.map((p) => p[0]));
    expect(frame.temp).toContain(500 + (1234 % 60)); // the spike survives downsampling
  });

  it('wide JSON: several targets (repeated, comma-separated, glob) aligned by time, null where a field has none', async () => {
    const r = await get('/infinity/query', { target: ['alpha::{temp,on}', 'alpha::state'], from: String(from), to: String(from + 10_000) });
    expect(r.status).toBe(200);
    const cols: Column[] = [
      { selector: 'time', type: 'timestamp_epoch' },
      { selector: 'alpha::temp', type: 'number' },
      { selector: 'alpha::on', type: 'number' },
      { selector: 'alpha::state', type: 'string' },
    ];
    const frame = parseJson(r.text, '', cols);
    expect(frame.time?.map((d) => (d as Date).getTime())).toEqual(Array.from({ length: 10 }, (_, i) => from + i * 1000));
    expect(frame['alpha::temp']).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(frame['alpha::on']).toEqual(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? 1 : 0)));
    expect(frame['alpha::state']).toEqual(Array(10).fill('idle'));
    const comma = await get('/infinity/query', {
      target: 'alpha::temp,alpha::on,alpha::state',
      from: String(from),
      to: String(from + 10_000),
    });
    expect(parseJson(comma.text, '', cols)).toEqual(frame);
  });

  it('POST with a JSON body, ISO times, interval_ms; long form sorted by time with node and field labels', async () => {
    const r = await post('/infinity/query', {
      target: ['alpha::temp', 'slow::temp'],
      from: new Date(from).toISOString(),
      to: new Date(from + 60_000).toISOString(),
      interval_ms: 10_000,
      shape: 'long',
    });
    expect(r.status).toBe(200);
    const frame = parseJson(r.text, '', [
      { selector: 'time', type: 'timestamp_epoch' },
      { selector: 'node', type: 'string' },
      { selector: 'field', type: 'string' },
      { selector: 'value', type: 'number' },
    ]);
    expect(ascending(frame.time ?? [])).toBe(true);
    expect(new Set(frame.node)).toEqual(new Set(['alpha', 'slow']));
    expect(new Set(frame.field)).toEqual(new Set(['temp']));
    // 60 s at 10 s intervals: 6 buckets, each at most its min and max sample, per series
    const perNode = (n: string) => (frame.node ?? []).filter((x) => x === n).length;
    expect(perNode('alpha')).toBeGreaterThanOrEqual(6);
    expect(perNode('alpha')).toBeLessThanOrEqual(12);
    const slowValues = (frame.value ?? []).filter((_, i) => frame.node?.[i] === 'slow') as number[];
    expect(Math.min(...slowValues)).toBe(100);
    expect(Math.max(...slowValues)).toBe(159);
  });

  it('CSV (format=csv): header row, ISO times with time=iso, parses with Infinity CSV columns', async () => {
    const r = await get(
      '/infinity/query',
      { target: 'alpha::state', from: String(from), to: String(from + 5000), format: 'csv', time: 'iso' },
      'text/csv; charset=utf-8',
    );
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/^text\/csv/);
    expect(r.text.split('\n')[0]).toBe('time,alpha::state');
    const frame = parseCsv(r.text, [
      { selector: 'time', type: 'timestamp' },
      { selector: 'alpha::state', text: 'state', type: 'string' },
    ]);
    expect(frame.time?.map((d) => (d as Date).toISOString())).toEqual(
      Array.from({ length: 5 }, (_, i) => new Date(from + i * 1000).toISOString()),
    );
    expect(frame.state).toEqual(Array(5).fill('idle'));
    const long = await get('/infinity/query', {
      target: 'alpha::temp',
      from: String(from),
      to: String(from + 3000),
      format: 'csv',
      shape: 'long',
    });
    expect(long.text).toBe(`time,node,field,value\n${from},alpha,temp,0\n${from + 1000},alpha,temp,1\n${from + 2000},alpha,temp,2\n`);
  });

  /** A node that comes and goes while the bridge watches: its events are what annotations show. */
  const gammaComesAndGoes = async () => {
    const gamma = await runDataNode({ name: 'gamma', description: 'a short-lived node', source: new Source(0), client: opts(routerUrl) });
    await gamma.ready(5000);
    await waitFor(() => bridge.catalogue.nodes().some((n) => n.name === 'gamma'), 5000, 'gamma seen');
    await gamma.close();
    await waitFor(() => !bridge.catalogue.nodes().some((n) => n.name === 'gamma'), 5000, 'gamma gone');
  };

  it('lists for variables and annotations: nodes, fields (with units), events', async () => {
    await gammaComesAndGoes();
    const n = await get('/infinity/nodes', {});
    expect(parseJson(n.text, '', [{ selector: 'node', type: 'string' }])).toEqual({ node: ['alpha', 'slow'] });
    const f = await get('/infinity/fields', { node: 'alpha' });
    const fields = parseJson(f.text, '', [
      { selector: 'field', type: 'string' },
      { selector: 'units', type: 'string' },
      { selector: 'target', type: 'string' },
    ]);
    expect(fields).toEqual({ field: ['on', 'state', 'temp'], units: ['', '', '°C'], target: ['alpha::on', 'alpha::state', 'alpha::temp'] });
    const multi = await get('/infinity/fields', { node: '{alpha,slow}' });
    expect(JSON.parse(multi.text)).toHaveLength(6);
    const e = await get('/infinity/events', { from: String(Date.now() - 3600e3), to: String(Date.now() + 1000) });
    expect(e.status).toBe(200);
    const events = parseJson(e.text, '', [
      { selector: 'time', type: 'timestamp_epoch' },
      { selector: 'title', type: 'string' },
    ]);
    expect(events.title).toEqual(['gamma online', 'gamma offline']);
    const [on, off] = (events.time ?? []) as Date[];
    expect(on?.getTime()).toBeLessThanOrEqual(off?.getTime() ?? 0);
  });

  const bad: Array<[string, Record<string, string>, number, RegExp]> = [
    ['a literal, unexpanded ${__from}', { target: 'alpha::temp', from: '${__from}', to: '${__to}' }, 400, /macro nobody expanded/],
    ['no target', { from: String(from), to: String(to) }, 400, /missing target: send target=<node>::<field>/],
    ['a malformed target', { target: 'temp', from: String(from), to: String(to) }, 400, /not <node>::<field>/],
    ['an unknown node', { target: 'nosuch::temp', from: String(from), to: String(to) }, 404, /unknown node "nosuch"/],
    ['an unknown field', { target: 'alpha::nosuch', from: String(from), to: String(to) }, 404, /has no field "nosuch"/],
    [
      'epoch seconds instead of ms',
      { target: 'alpha::temp', from: String(T0), to: String(T0 + 3600) },
      400,
      /look like epoch seconds: send milliseconds/,
    ],
    ['a reversed range', { target: 'alpha::temp', from: String(to), to: String(from) }, 400, /empty or reversed/],
    ['a garbage time', { target: 'alpha::temp', from: 'yesterday', to: String(to) }, 400, /ISO 8601 time, epoch milliseconds/],
    [
      'a huge maxDataPoints',
      { target: 'alpha::temp', from: String(from), to: String(to), maxDataPoints: '1e12' },
      400,
      /send at most 1000000/,
    ],
    ['a zero interval', { target: 'alpha::temp', from: String(from), to: String(to), interval_ms: '0' }, 400, /positive duration/],
    [
      'an unexpanded interval',
      { target: 'alpha::temp', from: String(from), to: String(to), interval_ms: '$__interval_ms' },
      400,
      /macro nobody expanded/,
    ],
    [
      'a tiny interval over a long range',
      { target: 'alpha::temp', from: String(to - 10 * 86400e3), to: String(to), interval_ms: '1' },
      400,
      /send a longer interval/,
    ],
    ['an unknown shape', { target: 'alpha::temp', from: String(from), to: String(to), shape: 'tall' }, 400, /shape must be wide/],
    ['an unknown format', { target: 'alpha::temp', from: String(from), to: String(to), format: 'xml' }, 400, /format must be json or csv/],
  ];
  it.each(bad)('bad input: %s → 4xx {message} saying what to send', async (_what, params, status, message) => {
    const r = await get('/infinity/query', params);
    expect(r.status).toBe(status);
    expect(JSON.parse(r.text).message).toMatch(message);
  });

  it('/query answers every field it can; a hung node is named in its target notice within --query-timeout', async () => {
    let release = () => undefined as void;
    slow.hang = new Promise<void>((resolve) => {
      release = resolve;
    });
    try {
      const t0 = Date.now();
      const r = await post('/query', {
        range: { from: new Date(from).toISOString(), to: new Date(from + 5000).toISOString() },
        targets: [
          { target: 'alpha::temp', refId: 'A' },
          { target: 'slow::temp', refId: 'B' },
          { target: 'ghost::x', refId: 'C' },
        ],
      });
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(r.status).toBe(200);
      const out = JSON.parse(r.text) as Array<{
        target: string;
        refId: string;
        datapoints: unknown[];
        error?: string;
        meta?: { notices: Array<{ severity: string; text: string }> };
      }>;
      expect(out[0]).toEqual({
        target: 'alpha::temp',
        refId: 'A',
        datapoints: [
          [0, from],
          [1, from + 1000],
          [2, from + 2000],
          [3, from + 3000],
          [4, from + 4000],
        ],
      });
      expect(out[1]).toMatchObject({
        target: 'slow::temp',
        refId: 'B',
        datapoints: [],
        error: 'node slow did not answer in 700 ms (is it hung? the wait is --query-timeout)',
      });
      expect(out[1]?.meta?.notices).toEqual([{ severity: 'error', text: out[1]?.error }]);
      expect(out[2]).toMatchObject({
        target: 'ghost::x',
        refId: 'C',
        datapoints: [],
        error: expect.stringMatching(/unknown node "ghost"/),
      });
      // alone, the hung node's target is the answer's status (Infinity too): 504 naming it
      const alone = await get('/infinity/query', { target: 'slow::temp', from: String(from), to: String(from + 5000) });
      expect(alone.status).toBe(504);
      expect(JSON.parse(alone.text).message).toMatch(/^node slow did not answer in 700 ms/);
    } finally {
      release();
      slow.hang = null;
    }
  });

  it("GET /metrics (Prometheus text) and /healthz on the bridge's own port; POST /metrics stays simPod's", async () => {
    await get('/infinity/query', { target: 'alpha::temp', from: String(from), to: String(from + 1000) });
    const m = await fetch(`${base}/metrics`);
    expect(m.status).toBe(200);
    expect(m.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await m.text()).toMatch(
      /sisock_grafana_request_duration_seconds_count\{route="\/infinity\/query",method="GET",status="200"\} \d+/,
    );
    const h = await fetch(`${base}/healthz`);
    expect(h.status).toBe(200);
    expect(await h.json()).toMatchObject({ status: 'ok', nodes: 2 });
    const simpod = await post('/metrics', {});
    expect(JSON.parse(simpod.text)).toContainEqual({ label: 'alpha::temp [°C]', value: 'alpha::temp', payloads: [] });
  });

  it('SimpleJSON annotations: free text matches node events, never a 400', async () => {
    const range = { from: new Date(Date.now() - 3600e3).toISOString(), to: new Date(Date.now() + 1000).toISOString() };
    const hit = await post('/annotations', { range, annotation: { name: 'n', query: 'short-lived' } });
    expect(hit.status).toBe(200);
    expect(JSON.parse(hit.text)).toEqual([
      expect.objectContaining({ title: 'gamma online', text: 'a short-lived node', tags: ['sisock', 'node', 'added'] }),
      expect.objectContaining({ title: 'gamma offline', tags: ['sisock', 'node', 'subtracted'] }),
    ]);
    const offline = await post('/annotations', { range, annotation: { name: 'n', query: 'OFFLINE' } });
    expect(JSON.parse(offline.text).map((a: { title: string }) => a.title)).toEqual(['gamma offline']);
    for (const query of ['nothing like this', 'sensor temperature (°C)', '{bad']) {
      const none = await post('/annotations', { range, annotation: { name: 'n', query } });
      expect(none.status).toBe(200);
      expect(JSON.parse(none.text)).toEqual([]);
    }
  });
});
