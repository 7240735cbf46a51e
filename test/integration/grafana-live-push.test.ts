/**
 * Grafana Live push against a local HTTP server that checks each request as Grafana's docs define
 * the push API: `POST /api/live/push/:streamId`, `Authorization: Bearer <token>`, a body of InfluxDB
 * line protocol (measurement, comma-separated field set, nanosecond timestamp; strings quoted with
 * `"` and `\` escaped; bools true/false), over a real router, hub and data node on port 0.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { runHub, type HubHandle } from '../../hub';
import { runDataNode, type DataNodeHandle, type DataResult, type DataSource, type FieldsResult } from '../../data-nodes/sdk';
import { startBridge, type RunningBridge } from '../../consumers/grafana';
import { escapeKey, escapeMeasurement, fieldValue, toLines, toNs } from '../../consumers/grafana/live-push';
import type { RunningRouter } from '../../router/server';
import { closeAll, opts, startTestRouter, waitFor } from './sisock-helpers';

const T0 = 1_700_000_000;

class LiveSource implements DataSource {
  getFields(): FieldsResult {
    return [
      {
        temp: { description: 't', timeline: 'tl', type: 'number', units: 'K' },
        mode: { description: 'm', timeline: 'tl', type: 'string', units: null },
        on: { description: 'o', timeline: 'tl', type: 'bool', units: null },
        slow: { description: 's', timeline: 'sl', type: 'number', units: null },
      },
      { tl: { interval: null, field: ['temp', 'mode', 'on'] }, sl: { interval: null, field: ['slow'] } },
    ];
  }
  getData(): DataResult {
    return { data: {}, timeline: {} };
  }
}

interface Seen {
  method: string;
  url: string;
  auth: string;
  type: string;
  body: string;
}

/** One line of line protocol, parsed strictly (what Grafana's converter accepts). */
function parseLine(line: string): { measurement: string; fields: Record<string, string | number | boolean>; ns: bigint } {
  const m =
    /^((?:[^\\, ]|\\.)+) ((?:(?:[^\\,= ]|\\.)+=(?:"(?:[^"\\]|\\.)*"|true|false|-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)(?:,|(?= )))+) (\d+)$/.exec(
      line,
    );
  if (!m) throw new Error(`not line protocol: ${line}`);
  const fields: Record<string, string | number | boolean> = {};
  for (const kv of (m[2] ?? '').match(/(?:[^\\,= ]|\\.)+=(?:"(?:[^"\\]|\\.)*"|[^,]+)/g) ?? []) {
    const i = kv.search(/(?<!\\)=/);
    const k = kv.slice(0, i).replace(/\\(.)/g, '$1');
    const v = kv.slice(i + 1);
    fields[k] = v.startsWith('"') ? v.slice(1, -1).replace(/\\(.)/g, '$1') : v === 'true' ? true : v === 'false' ? false : Number(v);
  }
  return { measurement: (m[1] ?? '').replace(/\\(.)/g, '$1'), fields, ns: BigInt(m[3] ?? '0') };
}

describe('Grafana Live push', () => {
  let router: RunningRouter;
  let hub: HubHandle;
  let node: DataNodeHandle;
  let bridge: RunningBridge;
  let grafana: http.Server;
  let status = 200;
  const seen: Seen[] = [];

  beforeAll(async () => {
    grafana = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({
          method: req.method ?? '',
          url: req.url ?? '',
          auth: req.headers.authorization ?? '',
          type: req.headers['content-type'] ?? '',
          body: Buffer.concat(chunks).toString('utf8'),
        });
        res.writeHead(status, { 'content-type': 'application/json' }).end(status === 200 ? '{}' : '{"message":"invalid API key"}');
      });
    });
    await new Promise<void>((resolve) => grafana.listen(0, '127.0.0.1', () => resolve()));
    const grafanaUrl = `http://127.0.0.1:${(grafana.address() as AddressInfo).port}/grafana/`;
    const started = await startTestRouter();
    router = started.router;
    hub = await runHub({ client: opts(started.url) });
    node = await runDataNode({ name: 'lab', description: 'live test node', source: new LiveSource(), client: opts(started.url) });
    await node.ready(5000);
    bridge = await startBridge({
      client: opts(started.url),
      port: 0,
      host: '127.0.0.1',
      page: false,
      auth: {},
      livePush: { url: grafanaUrl, token: 'glsa_test_token', streamId: 'sisock', batchMs: 20 },
    });
    // the pusher follows the catalogue: probe until a pushed sample arrives
    await waitFor(
      async () => {
        await node.push({ data: { temp: [0] }, timeline: { tl: { t: [T0 - 1], finalized_until: null } } });
        return seen.length > 0;
      },
      10000,
      'first push',
    );
    await bridge.livePusher?.close().then(() => undefined);
  });
  afterAll(async () => {
    await closeAll(bridge, node, hub);
    await router.close();
    await new Promise<void>((resolve) => grafana.close(() => resolve()));
  });

  it('line protocol pieces: escapes, values, nanoseconds', () => {
    expect(escapeMeasurement('a b,c')).toBe('a\\ b\\,c');
    expect(escapeKey('x=y z,w')).toBe('x\\=y\\ z\\,w');
    expect(fieldValue('say "hi" \\ bye')).toBe('"say \\"hi\\" \\\\ bye"');
    expect(fieldValue(true)).toBe('true');
    expect(fieldValue(null)).toBeUndefined();
    expect(fieldValue(NaN)).toBeUndefined();
    expect(fieldValue(-1.5e-7)).toBe('-1.5e-7');
    expect(toNs(1_700_000_000.123456)).toBe('1700000000123456000');
    expect(toNs(0)).toBe('0');
  });

  it('every request: POST /api/live/push/<stream> under the Grafana URL, Bearer token, text/plain line protocol', () => {
    expect(seen.length).toBeGreaterThan(0);
    for (const r of seen) {
      expect(r).toMatchObject({ method: 'POST', url: '/grafana/api/live/push/sisock', auth: 'Bearer glsa_test_token' });
      expect(r.type).toMatch(/^text\/plain/);
      expect(r.body.endsWith('\n')).toBe(true);
      for (const line of r.body.trimEnd().split('\n')) expect(parseLine(line).measurement).toBe('lab');
    }
  });

  it('samples become one line per timestamp with every field sampled then, exactly', () => {
    const result: DataResult = {
      data: { temp: [1.5, 2], mode: ['a "q"', 'b'], on: [true, null], slow: [7] },
      timeline: { tl: { t: [T0, T0 + 0.25], finalized_until: null }, sl: { t: [T0 + 0.25], finalized_until: null } },
    };
    const timelines: Record<string, string> = { temp: 'tl', mode: 'tl', on: 'tl', slow: 'sl' };
    const lines = toLines('lab', result, (f) => timelines[f]);
    expect(lines).toEqual(['lab temp=1.5,mode="a \\"q\\"",on=true 1700000000000000000', 'lab temp=2,mode="b",slow=7 1700000000250000000']);
    expect(parseLine(lines[0] ?? '')).toEqual({
      measurement: 'lab',
      fields: { temp: 1.5, mode: 'a "q"', on: true },
      ns: 1700000000000000000n,
    });
  });

  it('live samples published by a node arrive batched, in order, and a refused push is counted, not fatal', async () => {
    // a fresh bridge whose pusher we watch from the start
    const b2 = await startBridge({
      client: bridge.client.options,
      port: 0,
      host: '127.0.0.1',
      page: false,
      auth: {},
      livePush: {
        url: `http://127.0.0.1:${(grafana.address() as AddressInfo).port}`,
        token: 'glsa_test_token',
        streamId: 'lab-stream',
        batchMs: 30,
      },
    });
    try {
      await waitFor(
        async () => {
          await node.push({ data: { temp: [-1] }, timeline: { tl: { t: [T0 - 1], finalized_until: null } } });
          return seen.some((r) => r.url === '/api/live/push/lab-stream');
        },
        10000,
        'b2 pushing',
      );
      const before = seen.length;
      for (let i = 0; i < 20; i++)
        await node.push({ data: { temp: [i], mode: [`m${i}`] }, timeline: { tl: { t: [T0 + i], finalized_until: null } } });
      await waitFor(
        () =>
          seen
            .slice(before)
            .flatMap((r) => r.body.trimEnd().split('\n'))
            .filter((l) => !l.includes('temp=-1 ')).length >= 20,
        10000,
        '20 lines',
      );
      const lines = seen
        .slice(before)
        .flatMap((r) => r.body.trimEnd().split('\n'))
        .filter((l) => !l.includes('temp=-1 '));
      expect(lines).toEqual(Array.from({ length: 20 }, (_, i) => `lab temp=${i},mode="m${i}" ${toNs(T0 + i)}`));
      expect(seen.length - before).toBeLessThan(20); // batched

      status = 401;
      const failedBefore = b2.livePusher?.stats.failedRequests ?? 0;
      await waitFor(
        async () => {
          await node.push({ data: { temp: [99] }, timeline: { tl: { t: [T0 + 99], finalized_until: null } } });
          return (b2.livePusher?.stats.failedRequests ?? 0) > failedBefore;
        },
        10000,
        'a refused push counted',
      );
      expect((await fetch(`${b2.url}/healthz`)).status).toBe(200);
    } finally {
      status = 200;
      await b2.close();
    }
  });

  it('a bad Grafana URL or stream id is refused before anything starts', async () => {
    await expect(
      startBridge({ client: bridge.client.options, port: 0, page: false, auth: {}, livePush: { url: 'ftp://x', token: 't' } }),
    ).rejects.toThrow(/use http/);
    await expect(
      startBridge({
        client: bridge.client.options,
        port: 0,
        page: false,
        auth: {},
        livePush: { url: 'http://x', token: 't', streamId: 'a/b' },
      }),
    ).rejects.toThrow(/stream id/);
  });
});
