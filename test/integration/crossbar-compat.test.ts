/**
 * Crossbar.io configs as OCS sites write them: a plain `websocket` transport answers at any path
 * (OCS agents dial ws://host:8001/ws), and a `web` transport's `caller` / `publisher` paths are
 * Crossbar's HTTP bridge, under the path's role, with a body size limit.
 */
import WebSocket from 'ws';
import { parseConfig } from '../../router/config';
import { startRouter, type RunningRouter } from '../../router/server';
import { SisockClient } from '../../client';
import { ErrorUri } from '../../wamp/errors';
import { waitFor } from '../helpers/wait';
import { ALLOW_ALL, oneRouterConfig } from '../helpers/router-setup';

const CONFIG = oneRouterConfig(
  [
    {
      name: 'agent',
      permissions: [{ uri: 'observatory.', match: 'prefix', allow: ALLOW_ALL }],
    },
    { name: 'bridge', permissions: [{ uri: 'observatory.public.', match: 'prefix', allow: { call: true, publish: true } }] },
  ],
  [
    {
      type: 'websocket',
      endpoint: { type: 'tcp', port: 0, interface: '127.0.0.1' },
      serializers: ['json'],
      auth: { anonymous: { type: 'static', role: 'agent' } },
    },
    {
      type: 'web',
      endpoint: { type: 'tcp', port: 0, interface: '127.0.0.1' },
      paths: {
        ws: { type: 'websocket', serializers: ['json'], auth: { anonymous: { type: 'static', role: 'agent' } } },
        call: { type: 'caller', realm: 'test_realm', role: 'bridge', options: { debug: true, post_body_limit: 1024 } },
        publish: { type: 'publisher', realm: 'test_realm', role: 'bridge' },
      },
    },
  ],
);

let running: RunningRouter;
let agent: SisockClient;
let web: string;

beforeAll(async () => {
  const { config, warnings } = parseConfig(CONFIG, { env: {} });
  expect(warnings).toEqual([]);
  running = await startRouter(config);
  const plain = running.urls[0]!;
  web = running.urls[1]!.replace(/^ws/, 'http').replace(/\/ws$/, '');
  // an OCS agent dials /ws on the plain transport
  agent = new SisockClient({
    url: `${plain.replace(/\/$/, '')}/ws`,
    realm: 'test_realm',
    uriBase: 'observatory',
    initialRetryDelay: 0.05,
  }).start();
  await agent.whenReady(5000);
  await agent.register('observatory.public.add2', (args) => (args[0] as number) + (args[1] as number));
  await agent.register('observatory.private.secret', () => 'secret');
});
afterAll(async () => {
  await agent.close();
  await running.close();
});

test('a plain websocket transport answers at any path', async () => {
  const base = running.urls[0]!.replace(/\/$/, '');
  for (const p of ['/', '/ws', '/anything/else']) {
    const ws = new WebSocket(`${base}${p}`, ['wamp.2.json']);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.close();
  }
});

const post = (path: string, body: unknown, raw?: string) =>
  fetch(`${web}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: raw ?? JSON.stringify(body),
  });

test('caller: POST {procedure, args, kwargs} → {args, kwargs}', async () => {
  const r = await post('/call', { procedure: 'observatory.public.add2', args: [2, 3] });
  expect(r.status).toBe(200);
  expect(await r.json()).toEqual({ args: [5], kwargs: {} });
});

test("caller: the path's role decides; errors carry the WAMP URI and an HTTP status", async () => {
  const denied = await post('/call', { procedure: 'observatory.private.secret' });
  expect(denied.status).toBe(403);
  expect(await denied.json()).toMatchObject({ error: ErrorUri.NOT_AUTHORIZED });
  const missing = await post('/call', { procedure: 'observatory.public.nothing' });
  expect(missing.status).toBe(404);
  expect(await missing.json()).toMatchObject({ error: ErrorUri.NO_SUCH_PROCEDURE });
});

test('caller: bad requests are 4xx, never a crash', async () => {
  expect((await fetch(`${web}/call`)).status).toBe(405);
  expect((await post('/call', null, '{not json')).status).toBe(400);
  expect((await post('/call', [1, 2])).status).toBe(400);
  expect((await post('/call', { procedure: 7 })).status).toBe(400);
  expect((await post('/call', { procedure: 'observatory.public.add2', args: 'x' })).status).toBe(400);
  expect((await post('/call', { procedure: 'observatory.public.add2', args: ['x'.repeat(2000)] })).status).toBe(413);
  // still serving
  expect((await post('/call', { procedure: 'observatory.public.add2', args: [1, 1] })).status).toBe(200);
});

test('publisher: POST {topic, args, kwargs} → {id}; subscribers get the event', async () => {
  const got: unknown[] = [];
  await agent.subscribe('observatory.public.news', (args, kwargs) => got.push([args, kwargs]));
  const r = await post('/publish', { topic: 'observatory.public.news', args: ['hello'], kwargs: { n: 1 } });
  expect(r.status).toBe(200);
  expect(typeof ((await r.json()) as { id: unknown }).id).toBe('number');
  await waitFor(() => got.length === 1, 3000, 'event');
  expect(got[0]).toEqual([['hello'], { n: 1 }]);
  expect((await post('/publish', { topic: 'observatory.private.x' })).status).toBe(403);
});

test('other paths of the web transport are 404', async () => {
  expect((await fetch(`${web}/nope`)).status).toBe(404);
});
