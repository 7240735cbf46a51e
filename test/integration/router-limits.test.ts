/**
 * The router's limits over real sockets: ticket guessing is locked out after a few failures
 * (ABORT authentication_failed, a log line, a metric); a large frame before WELCOME drops the
 * connection without buffering it; connections over the per-address cap are closed at once.
 * Other clients keep working throughout.
 */
import { Writable } from 'stream';
import pino from 'pino';
import WebSocket from 'ws';
import { parseConfig } from '../../router/config';
import { startRouter, type RunningRouter } from '../../router/server';
import { registerRouterMetrics } from '../../router/metrics';
import { ErrorUri } from '../../wamp/errors';
import { waitFor } from '../helpers/wait';

const CONFIG = {
  version: 2,
  controller: { extra: { sisock: { max_connections_per_ip: 20, max_pre_auth_bytes: 4096, auth_failures_before_lockout: 3 } } },
  workers: [
    {
      type: 'router',
      realms: [
        { name: 'realm1', roles: [{ name: 'user', permissions: [{ uri: '', match: 'prefix', allow: { call: true, register: true } }] }] },
      ],
      transports: [
        {
          type: 'websocket',
          endpoint: { type: 'tcp', port: 0, interface: '127.0.0.1' },
          serializers: ['json'],
          auth: {
            ticket: {
              type: 'static',
              principals: { alice: { ticket: '${T_ALICE}', role: 'user' }, bob: { ticket: '${T_BOB}', role: 'user' } },
            },
          },
          options: { max_message_size: 1048576 },
        },
      ],
    },
  ],
};

let running: RunningRouter;
let url: string;
const lines: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  const { config } = parseConfig(CONFIG, { env: { T_ALICE: '4711', T_BOB: 'bob-ticket' } });
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(c: Buffer, _e, cb) {
        for (const l of String(c).split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
        cb();
      },
    }),
  );
  running = await startRouter(config, { logger });
  url = running.urls[0]!;
});
afterAll(async () => {
  await running.close();
});

interface Outcome {
  welcome: boolean;
  abort?: { reason: string; message: string };
  closeCode?: number;
}

/** One ticket handshake over a raw WebSocket (JSON). */
function handshake(authid: string, ticket: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ['wamp.2.json']);
    const out: Outcome = { welcome: false };
    ws.on('open', () => ws.send(JSON.stringify([1, 'realm1', { roles: { caller: {} }, authmethods: ['ticket'], authid }])));
    ws.on('message', (d) => {
      const m = JSON.parse(String(d)) as unknown[];
      if (m[0] === 4) ws.send(JSON.stringify([5, ticket, {}]));
      else if (m[0] === 2) {
        out.welcome = true;
        ws.close();
      } else if (m[0] === 3) {
        out.abort = { reason: String(m[2]), message: String((m[1] as { message?: string }).message) };
      }
    });
    ws.on('close', (code) => {
      out.closeCode = code;
      resolve(out);
    });
    ws.on('error', reject);
  });
}

test('ticket guessing is locked out after a few failures; the right owner elsewhere is not', async () => {
  await handshake('bob', 'bob-ticket'); // bob works from here before the attack
  const t0 = Date.now();
  let tries = 0;
  let found = false;
  let lockedOut = 0;
  // a 4-digit ticket: without throttling this loop finds 4711 in seconds
  for (let guess = 0; guess < 10_000 && Date.now() - t0 < 3000; guess++) {
    const r = await handshake('alice', String(guess).padStart(4, '0'));
    tries++;
    if (r.welcome) {
      found = true;
      break;
    }
    expect([ErrorUri.AUTHENTICATION_FAILED, ErrorUri.NOT_AUTHORIZED]).toContain(r.abort?.reason); // ticket refusals are Crossbar's not_authorized
    if (r.abort?.message.startsWith('too many failed attempts')) lockedOut++;
  }
  expect(found).toBe(false);
  expect(lockedOut).toBeGreaterThan(0);
  expect(tries - lockedOut).toBeLessThanOrEqual(6); // 3 free, then 1 s, 2 s locks within 3 s
  // bob authenticated from this address before: not locked out
  expect((await handshake('bob', 'bob-ticket')).welcome).toBe(true);
  expect(lines.some((l) => l.msg === 'authentication failed' && l.authid === 'alice')).toBe(true);
  expect(lines.some((l) => l.msg === 'authentication locked out')).toBe(true);
  const text = await registerRouterMetrics(running.router).metrics();
  expect(Number(/sisock_router_auth_failures_total (\d+)/.exec(text)?.[1])).toBeGreaterThanOrEqual(3);
  expect(Number(/sisock_router_auth_lockouts_total (\d+)/.exec(text)?.[1])).toBe(lockedOut);
  console.log(`ticket guessing: ${tries} tries in ${Date.now() - t0} ms, ${tries - lockedOut} reached the ticket check`);
});

test('a large frame before WELCOME drops the connection before it is buffered', async () => {
  const ws = new WebSocket(url, ['wamp.2.json']);
  await new Promise((r) => ws.on('open', r));
  const hello = JSON.stringify([1, 'realm1', { roles: { caller: {} }, pad: 'x'.repeat(512 * 1024) }]);
  const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
  ws.on('error', () => undefined);
  const got: unknown[] = [];
  ws.on('message', (d) => got.push(String(d)));
  ws.send(hello);
  const code = await closed;
  expect(code).toBe(1006); // dropped, no close handshake
  expect(got).toEqual([]);
  // a normal client still gets in
  expect((await handshake('bob', 'bob-ticket')).welcome).toBe(true);
});

test('connections over the per-address cap are closed at once with 1013; others still connect', async () => {
  const socks: WebSocket[] = [];
  const codes: number[] = [];
  for (let i = 0; i < 25; i++) {
    const ws = new WebSocket(url, ['wamp.2.json']);
    ws.on('error', () => undefined);
    ws.on('close', (c) => codes.push(c));
    socks.push(ws);
  }
  await waitFor(() => codes.length === 5, 3000, 'five refused');
  expect(codes.filter((c) => c === 1013).length).toBe(5);
  expect(running.router.connectionCount).toBe(20);
  for (const s of socks) s.terminate();
  await waitFor(() => running.router.connectionCount === 0, 3000, 'connections released');
  expect((await handshake('bob', 'bob-ticket')).welcome).toBe(true);
  expect(lines.some((l) => l.msg === 'connection refused')).toBe(true);
});
