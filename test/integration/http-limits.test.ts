/**
 * HTTP servers under slow and many connections: the Grafana bridge cuts a request whose body
 * trickles in (408, before the request timeout's next check) and a request whose headers never
 * end; connections over the per-address cap are closed at once; a normal request still works.
 */
import net from 'node:net';
import { startBridge, type RunningBridge } from '../../consumers/grafana';
import type { RunningRouter } from '../../router/server';
import { opts, startTestRouter, waitFor } from './sisock-helpers';

let router: RunningRouter;
let bridge: RunningBridge;
let port: number;
const saved = { ...process.env };

beforeAll(async () => {
  process.env.SISOCK_HTTP_REQUEST_TIMEOUT_MS = '1500';
  process.env.SISOCK_HTTP_HEADERS_TIMEOUT_MS = '1000';
  process.env.SISOCK_HTTP_MAX_CONNECTIONS_PER_IP = '10';
  let url: string;
  ({ router, url } = await startTestRouter());
  bridge = await startBridge({ client: opts(url), port: 0, host: '127.0.0.1', page: false, auth: {} });
  port = Number(new URL(bridge.url).port);
});
afterAll(async () => {
  process.env = saved;
  await bridge.close();
  await router.close();
});

/** Opens a socket, writes `head`, then one byte every `everyMs`; resolves with what the server said and when it closed. */
function trickle(head: string, everyMs: number): Promise<{ text: string; ms: number }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const s = net.connect(port, '127.0.0.1');
    let text = '';
    let timer: NodeJS.Timeout | null = null;
    s.on('connect', () => {
      s.write(head);
      timer = setInterval(() => {
        if (!s.destroyed) s.write('x');
      }, everyMs);
    });
    s.on('data', (d) => {
      text += String(d);
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      if (timer) clearInterval(timer);
      resolve({ text, ms: Date.now() - t0 });
    });
  });
}

test('a trickled request body is cut with 408 after the request timeout', async () => {
  const r = await trickle('POST /query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{', 100);
  expect(r.text).toMatch(/^HTTP\/1\.1 408/);
  expect(r.ms).toBeLessThan(4000);
});

test('headers that never end are cut after the headers timeout', async () => {
  const r = await trickle('GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ', 100);
  expect(r.text).toMatch(/^HTTP\/1\.1 408/);
  expect(r.ms).toBeLessThan(4000);
});

test('connections over the per-address cap are closed at once; the bridge keeps answering', async () => {
  const socks: net.Socket[] = [];
  let closed = 0;
  for (let i = 0; i < 15; i++) {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => undefined);
    s.on('close', () => {
      closed++;
    });
    socks.push(s);
  }
  await waitFor(() => closed === 5, 3000, 'five connections closed by the cap');
  for (const s of socks) s.destroy();
  await waitFor(() => closed === 15, 3000, 'all closed');
  const res = await waitFor(
    async () => {
      const r = await fetch(`${bridge.url}/`).catch((e: Error) => {
        throw new Error(String((e as { cause?: unknown }).cause ?? e.message));
      });
      return r.status > 0 ? r : null; // any HTTP answer (503 here: no hub runs)
    },
    3000,
    'bridge answers',
  );
  expect(res?.status).toBe(503);
});
