/**
 * The operations endpoint (`--metrics-port`: GET /metrics, GET /healthz; common/ops-http.ts), the
 * router's counters (router/metrics.ts) and the bridge's request metrics
 * (consumers/grafana/metrics.ts). The commands run compiled (`make test` builds dist/ first).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as path from 'node:path';
import { Registry } from 'prom-client';
import { startOpsServer } from '../../common/ops-http';
import { startBridge, type RunningBridge } from '../../consumers/grafana';
import { SisockClient } from '../../client';
import { opts, startTestRouter, waitFor } from './sisock-helpers';
import type { RunningRouter } from '../../router/server';

const ROOT = path.join(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'bin', 'sisock.js');
const children: ChildProcessWithoutNullStreams[] = [];

/** Starts a command; resolves with the child and the URL of its `metrics: …` line. */
function start(args: string[]): Promise<{ child: ChildProcessWithoutNullStreams; metrics: string; out: () => string }> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, SISOCK_LOG_LEVEL: 'silent' } });
  children.push(child);
  return new Promise((resolve, reject) => {
    let buf = '';
    let stderr = '';
    const timer = setTimeout(() => reject(new Error(`no metrics line from ${args.join(' ')}: ${buf} ${stderr}`)), 10000);
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /^metrics: (\S+)\/metrics$/m.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve({ child, metrics: m[1]!, out: () => buf });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code}: ${stderr}`));
    });
  });
}

async function get(url: string): Promise<{ status: number; body: string; type: string | null }> {
  const r = await fetch(url);
  return { status: r.status, body: await r.text(), type: r.headers.get('content-type') };
}

function value(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : NaN;
}

afterAll(async () => {
  for (const c of children) {
    if (c.exitCode === null) {
      const done = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await done;
    }
  }
});

describe('startOpsServer', () => {
  test('GET /healthz is 200 or 503 from the health callback; /metrics is the registry; others 404', async () => {
    let ok = false;
    const registry = new Registry();
    const s = await startOpsServer({ port: 0, registry, health: () => ({ ok, detail: 'x' }) });
    try {
      let r = await get(`${s.url}/healthz`);
      expect(r.status).toBe(503);
      expect(JSON.parse(r.body)).toEqual({ status: 'unavailable', detail: 'x' });
      ok = true;
      r = await get(`${s.url}/healthz`);
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body)).toEqual({ status: 'ok', detail: 'x' });
      r = await get(`${s.url}/metrics`);
      expect(r.status).toBe(200);
      expect(r.type).toContain('text/plain');
      expect((await get(`${s.url}/nope`)).status).toBe(404);
      expect((await fetch(`${s.url}/metrics`, { method: 'POST' })).status).toBe(405);
    } finally {
      await s.close();
    }
  });

  test('a health answer or its error never shows a password of a URL it quotes', async () => {
    const registry = new Registry();
    let fail = false;
    const s = await startOpsServer({
      port: 0,
      registry,
      health: () => {
        if (fail) throw new Error('cannot reach mysql://reader:s3cret@db:3306/x');
        return { ok: true, router: 'wss://hub:s3cret@router.example:8080/ws' };
      },
    });
    try {
      let r = await get(`${s.url}/healthz`);
      expect(r.body).not.toContain('s3cret');
      expect(JSON.parse(r.body)).toMatchObject({ status: 'ok', router: expect.stringContaining('router.example:8080') });
      fail = true;
      r = await get(`${s.url}/healthz`);
      expect(r.status).toBe(503);
      expect(r.body).not.toContain('s3cret');
      expect(r.body).toContain('db:3306');
    } finally {
      await s.close();
    }
  });
});

describe('sisock router --metrics-port', () => {
  test('health, sessions, messages by type, bytes, refusals', async () => {
    const { metrics, out } = await start(['router', '--port', '0', '--metrics-port', '0']);
    const routerUrl = await waitFor(() => /^router: (\S+)$/m.exec(out())?.[1], 5000, 'router line');
    const health = await get(`${metrics}/healthz`);
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toMatchObject({ status: 'ok', sessions: 0 });

    const c = new SisockClient(opts(routerUrl!)).start();
    await c.whenReady(5000);
    await c.register('x.echo', (args) => args[0]);
    expect(await c.call('x.echo', [7])).toBe(7);
    const text = (await get(`${metrics}/metrics`)).body;
    await c.close();

    expect(value(text, 'sisock_router_sessions{realm="test_realm",component="router"}')).toBe(1);
    expect(value(text, 'sisock_router_messages_received_total{type="HELLO",component="router"}')).toBe(1);
    expect(value(text, 'sisock_router_messages_received_total{type="CALL",component="router"}')).toBe(1);
    expect(value(text, 'sisock_router_messages_sent_total{type="INVOCATION",component="router"}')).toBe(1);
    expect(value(text, 'sisock_router_messages_sent_total{type="RESULT",component="router"}')).toBe(1);
    expect(value(text, 'sisock_router_bytes_received_total{component="router"}')).toBeGreaterThan(50);
    expect(value(text, 'sisock_router_bytes_sent_total{component="router"}')).toBeGreaterThan(50);
    for (const name of [
      'sisock_router_not_authorized_total',
      'sisock_router_protocol_violations_total',
      'sisock_router_slow_consumer_disconnects_total',
      'sisock_router_outbound_queue_bytes_max',
      'sisock_router_outbound_queue_bytes_sum',
      'sisock_router_connections',
      'sisock_process_cpu_seconds_total',
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
  });
});

describe('client commands: 200 when connected, 503 otherwise', () => {
  let router: RunningRouter;
  let url: string;
  beforeAll(async () => {
    ({ router, url } = await startTestRouter());
  });
  afterAll(async () => {
    await router.close();
  });

  test('sisock hub: 503 while the router is away', async () => {
    const { metrics } = await start(['hub', '--router', 'ws://127.0.0.1:9/ws', '--metrics-port', '0']);
    const r = await get(`${metrics}/healthz`);
    expect(r.status).toBe(503);
    expect(JSON.parse(r.body)).toMatchObject({ status: 'unavailable', router: 'ws://127.0.0.1:9/ws' });
  });

  test('sisock hub and sisock node sim: 200 once connected', async () => {
    const hub = await start(['hub', '--router', url, '--metrics-port', '0']);
    await waitFor(async () => (await get(`${hub.metrics}/healthz`)).status === 200, 5000, 'hub healthy');
    const node = await start(['node', 'sim', '--router', url, '--metrics-port', '0']);
    await waitFor(async () => (await get(`${node.metrics}/healthz`)).status === 200, 5000, 'node healthy');
    expect(JSON.parse((await get(`${node.metrics}/healthz`)).body)).toMatchObject({ node: 'sim' });
    expect((await get(`${node.metrics}/metrics`)).body).toContain('component="node-sim"');
  });
});

describe('Grafana bridge request metrics', () => {
  let router: RunningRouter;
  let bridge: RunningBridge;
  const registry = new Registry();
  beforeAll(async () => {
    ({ router } = await startTestRouter());
    bridge = await startBridge({ client: opts(router.urls[0]!), port: 0, host: '127.0.0.1', metrics: registry, page: false });
  });
  afterAll(async () => {
    await bridge.close();
    await router.close();
  });

  test('latency histogram by route, errors by status', async () => {
    await waitFor(() => bridge.client.isReady, 5000, 'bridge connected');
    await fetch(`${bridge.url}/`);
    const bad = await fetch(`${bridge.url}/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"targets": 5}',
    });
    expect(bad.status).toBeGreaterThanOrEqual(400);
    await fetch(`${bridge.url}/no/such/route`);
    const text = await registry.metrics();
    expect(text).toMatch(/sisock_grafana_request_duration_seconds_count\{route="\/query",method="POST",status="\d+"\} 1/);
    expect(text).toMatch(/sisock_grafana_request_duration_seconds_bucket\{le="0.005",route="\/",method="GET",status="\d+"\}/);
    expect(text).toMatch(new RegExp(`sisock_grafana_errors_total\\{route="/query",status="${bad.status}"\\} 1`));
    expect(text).toMatch(/sisock_grafana_errors_total\{route="other",status="404"\} 1/);
  });
});
