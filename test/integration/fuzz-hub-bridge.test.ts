/**
 * Property-based fuzzing (fast-check) of the hub's procedures and the Grafana bridge's HTTP routes
 * over a real router: random and hostile arguments, bodies, methods and paths. Properties: every
 * answer is a result or a standard refusal (WAMP error URI / HTTP 4xx, or 503 while data is not
 * there), never a 500 or a crash; a real node stays listed with its description; both servers keep
 * answering normal requests afterwards.
 */
import fc from 'fast-check';
import { listNodes, CallError, type SisockClient } from '../../client';
import { runHub, type HubHandle } from '../../hub';
import { runDataNode, type DataNodeHandle } from '../../data-nodes/sdk';
import { startBridge, type RunningBridge } from '../../consumers/grafana';
import type { RunningRouter } from '../../router/server';
import { HubUri } from '../../contract';
import { ErrorUri } from '../../wamp/errors';
import { closeAll, MemorySource, newClient, opts, startTestRouter, waitFor } from './sisock-helpers';

jest.setTimeout(120_000);

let router: RunningRouter;
let hub: HubHandle;
let victim: DataNodeHandle;
let attacker: SisockClient;
let bridge: RunningBridge;

beforeAll(async () => {
  let url: string;
  ({ router, url } = await startTestRouter());
  hub = await runHub({ client: opts(url) });
  await hub.ready(5000);
  victim = await runDataNode({ name: 'victim', description: 'real', source: new MemorySource(20), client: opts(url) });
  await victim.ready(5000);
  attacker = newClient(url);
  await attacker.whenReady(5000);
  bridge = await startBridge({ client: opts(url), port: 0, host: '127.0.0.1', auth: {} });
});
afterAll(async () => {
  await closeAll(bridge, victim, attacker, hub);
  await router.close();
});

const hostile: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 2, arbitrary: fc.string({ maxLength: 80 }) },
  { weight: 1, arbitrary: fc.constantFrom('victim', 'a.b', 'x'.repeat(70), '', '\u0000', 'wamp.x', 2 ** 53, -1, 1.5, null, true, [], {}) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 2 ** 53 }) },
  { weight: 1, arbitrary: fc.string({ minLength: 5000, maxLength: 9000 }) },
);

const HUB_ERRORS = new Set<string>([ErrorUri.INVALID_ARGUMENT, ErrorUri.NOT_AUTHORIZED, ErrorUri.LIMIT_EXCEEDED]);

test('hub procedures under random arguments: a result or a standard refusal; the real node stays', async () => {
  const procs = [HubUri.DATA_NODE_ADD, HubUri.DATA_NODE_SUBTRACT, HubUri.GET_DATA_NODE, HubUri.GET_DATA_NODE_METADATA];
  const victimSid = victim.client.sessionId;
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...procs),
      fc.array(fc.oneof(hostile, fc.constant(victimSid), fc.constant(attacker.sessionId)), { maxLength: 4 }),
      async (proc, args) => {
        try {
          const r = await attacker.call(attacker.uri(proc), args, {}, { timeoutMs: 5000 });
          if (proc === HubUri.DATA_NODE_ADD) expect(typeof r).toBe('boolean');
          if (proc === HubUri.DATA_NODE_SUBTRACT) expect(r).toBeNull();
          if (proc === HubUri.GET_DATA_NODE || proc === HubUri.GET_DATA_NODE_METADATA) expect(Array.isArray(r)).toBe(true);
        } catch (e) {
          expect(e).toBeInstanceOf(CallError);
          expect([...HUB_ERRORS]).toContain((e as CallError).uri);
        }
      },
    ),
    { numRuns: 300 },
  );
  const list = await listNodes(attacker);
  expect(list.find((n) => n.name === 'victim')).toEqual({ name: 'victim', description: 'real' });
  expect(JSON.stringify(list).length).toBeLessThan(1024 * 1024 + 10_000);
});

const ROUTES = [
  '/',
  '/query',
  '/search',
  '/variable',
  '/annotations',
  '/tag-keys',
  '/tag-values',
  '/metrics',
  '/metric-payload-options',
  '/api/nodes',
  '/api/live',
  '/page',
  '/page/vendor/x.js',
  '/page/vendor/../../etc/passwd',
  '/nope',
  '//',
  '/query?x=1',
];

test('bridge HTTP routes under random methods, paths and bodies: never 500; it keeps answering', async () => {
  await waitFor(async () => (await fetch(`${bridge.url}/`)).status === 200, 5000, 'bridge ready');
  const body = fc.oneof(
    fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
    fc
      .record(
        {
          range: fc.oneof(fc.record({ from: fc.string(), to: fc.string() }), hostile),
          targets: fc.oneof(
            fc.array(
              fc.record({ target: fc.oneof(fc.constant('victim::a'), fc.string({ maxLength: 40 })), type: fc.string({ maxLength: 10 }) }),
              { maxLength: 5 },
            ),
            hostile,
          ),
          maxDataPoints: hostile,
          intervalMs: hostile,
          target: hostile,
        },
        { requiredKeys: [] },
      )
      .map((v) => JSON.stringify(v)),
    fc.string({ maxLength: 200 }),
  );
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'),
      fc.oneof(fc.constantFrom(...ROUTES), fc.webPath()),
      body,
      async (method, path, text) => {
        const ac = new AbortController();
        const timer = setTimeout(() => ac.abort(), 10_000);
        try {
          const r = await fetch(`${bridge.url}${path.startsWith('/') ? path : `/${path}`}`, {
            method,
            signal: ac.signal,
            headers: { 'content-type': 'application/json' },
            ...(method === 'GET' || method === 'OPTIONS' ? {} : { body: text }),
          });
          if (path.startsWith('/api/live')) await r.body?.cancel();
          else await r.arrayBuffer();
          expect([path, r.status]).toEqual([path, expect.any(Number)]);
          expect(r.status).not.toBe(500);
          expect(r.status).toBeLessThan(600);
        } finally {
          clearTimeout(timer);
        }
      },
    ),
    { numRuns: 300 },
  );
  const ok = await fetch(`${bridge.url}/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      range: { from: new Date(1000e3).toISOString(), to: new Date(1020e3).toISOString() },
      targets: [{ target: 'victim::a', refId: 'A' }],
      maxDataPoints: 100,
    }),
  });
  expect(ok.status).toBe(200);
});
