/**
 * The web page's live stream (GET /api/live, Server-Sent Events) against a stand-in router client
 * and catalogue, so the timing of disconnects can be controlled: nothing stays behind when a
 * browser leaves while targets resolve, a reader that stops reading is cut off, and the number of
 * streams is capped.
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { SisockClient } from '../../client';
import { createBridgeApp } from '../../consumers/grafana/app';
import type { FieldCatalogue } from '../../consumers/grafana/catalogue';
import type { QueryEngine } from '../../consumers/grafana/query';
import { LiveRelay } from '../../consumers/web/live';
import { webRoutes, type WebDeps } from '../../consumers/grafana/page';
import { waitFor } from './sisock-helpers';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

type Handler = (args: unknown[]) => void;

/** The router client, as far as the live relay and the routes use it. */
class FakeClient {
  readonly isReady = true;
  readonly options = { url: 'ws://fake-router', realm: 'test' };
  readonly subs = new Set<Handler>();
  uri(s: string): string {
    return `sisock.${s}`;
  }
  async subscribe(_uri: string, h: Handler): Promise<{ remove(): Promise<void> }> {
    this.subs.add(h);
    return {
      remove: async () => {
        this.subs.delete(h);
      },
    };
  }
  push(n: number): void {
    const t = Array.from({ length: n }, (_, i) => 1_700_000_000 + i);
    const result = { data: { f: t.map((x) => x * 1.5) }, timeline: { tl: { t, finalized_until: null } } };
    for (const h of [...this.subs]) h([result]);
  }
}

/** The catalogue: every target resolves to itself, after `gate` when one is set. */
class FakeCatalogue {
  gate: Promise<void> | null = null;
  resolving = deferred();
  async resolve(node: string, field: string) {
    this.resolving.resolve();
    if (this.gate) await this.gate;
    return [{ node, field, info: { timeline: 'tl', type: 'number', units: null, description: '' } }];
  }
}

interface Setup {
  base: string;
  port: number;
  client: FakeClient;
  catalogue: FakeCatalogue;
  live: LiveRelay;
  /** How many live streams the server released ('closed') and finished setting up ('settled'). */
  events: { closed: number; settled: number };
  close(): Promise<void>;
}

async function setup(extra: Partial<WebDeps> = {}): Promise<Setup> {
  const client = new FakeClient();
  const catalogue = new FakeCatalogue();
  const live = new LiveRelay(client as unknown as SisockClient);
  const deps = { client: client as unknown as SisockClient, catalogue: catalogue as unknown as FieldCatalogue, live };
  const events = { closed: 0, settled: 0 };
  const onLiveStream = (e: 'closed' | 'settled') => {
    events[e]++;
  };
  const app = createBridgeApp({ ...deps, engine: {} as QueryEngine, extra: [webRoutes({ ...deps, onLiveStream, ...extra })] });
  const server = http.createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    base: `http://127.0.0.1:${port}`,
    port,
    client,
    catalogue,
    live,
    events,
    close: async () => {
      const closed = new Promise((r) => server.close(r));
      server.closeAllConnections();
      await closed;
      await live.close();
    },
  };
}

/** Opens a live stream and reads it until `until` shows up in the text. */
async function openStream(
  base: string,
  until = 'event: ready',
): Promise<{ ac: AbortController; status: number; text: () => string; next: (s: string) => Promise<void> }> {
  const ac = new AbortController();
  const res = await fetch(`${base}/api/live?target=n::f`, { signal: ac.signal });
  let text = '';
  const waiters: Array<() => void> = [];
  if (res.body) {
    const reader = res.body.getReader();
    void (async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          text += Buffer.from(value).toString('utf8');
          for (const w of waiters.splice(0)) w();
        }
      } catch {
        /* aborted */
      }
    })();
  }
  const next = async (s: string) => {
    while (!text.includes(s)) await new Promise<void>((r) => waiters.push(r));
  };
  if (res.status === 200) await next(until);
  else await next('}');
  return { ac, status: res.status, text: () => text, next };
}

describe('web page live stream', () => {
  let s: Setup | null = null;
  afterEach(async () => {
    await s?.close();
    s = null;
  });

  it('relays live data, and leaves nothing behind when the browser goes', async () => {
    s = await setup();
    const st = await openStream(s.base);
    expect(s.live.listenerCount()).toBe(1);
    s.client.push(3);
    await st.next('event: data');
    expect(st.text()).toContain('"n::f":{"t":[1700000000000,1700000001000,1700000002000]');
    st.ac.abort();
    await waitFor(async () => s!.live.listenerCount() === 0 && s!.client.subs.size === 0, 5000, 'watch released');
    expect(s.live.watched()).toEqual([]);
  });

  it('a browser that leaves while targets resolve leaves no subscription, listener or heartbeat', async () => {
    s = await setup({ heartbeatMs: 20 });
    const gate = deferred();
    s.catalogue.gate = gate.promise;
    const ac = new AbortController();
    const req = fetch(`${s.base}/api/live?target=n::f`, { signal: ac.signal }).catch(() => null);
    await s.catalogue.resolving.promise; // the route is inside resolve
    ac.abort();
    await req;
    await waitFor(() => s!.events.closed === 1, 5000, 'the server to see the socket close');
    gate.resolve();
    await waitFor(() => s!.events.settled === 1, 5000, 'the route to finish what it does after resolve');
    expect(s.live.listenerCount()).toBe(0);
    expect(s.live.watched()).toEqual([]);
    expect(s.client.subs.size).toBe(0);
    // and the stream slot is free again: with a cap of one, a new stream is served
    await s.close();
    s = await setup({ maxLiveStreams: 1 });
    const gate2 = deferred();
    s.catalogue.gate = gate2.promise;
    const ac2 = new AbortController();
    const req2 = fetch(`${s.base}/api/live?target=n::f`, { signal: ac2.signal }).catch(() => null);
    await s.catalogue.resolving.promise;
    ac2.abort();
    await req2;
    await waitFor(() => s!.events.closed === 1, 5000, 'the server to see the socket close');
    gate2.resolve();
    await waitFor(() => s!.events.settled === 1, 5000, 'the abandoned set-up to finish');
    s.catalogue.gate = null;
    const st = await openStream(s.base);
    expect(st.status).toBe(200);
    st.ac.abort();
  });

  it('caps the number of streams: 503 {message} beyond, a slot frees when a stream ends', async () => {
    s = await setup({ maxLiveStreams: 2 });
    const a = await openStream(s.base);
    const b = await openStream(s.base);
    const over = await fetch(`${s.base}/api/live?target=n::f`);
    expect(over.status).toBe(503);
    expect(((await over.json()) as { message: string }).message).toMatch(/too many live streams/);
    a.ac.abort();
    await waitFor(async () => s!.live.listenerCount() === 1, 5000, 'one stream left');
    const c = await openStream(s.base);
    expect(c.status).toBe(200);
    b.ac.abort();
    c.ac.abort();
    await waitFor(async () => s!.live.listenerCount() === 0, 5000, 'all streams closed');
  });

  it('a reader that stops reading is disconnected once its backlog passes the limit', async () => {
    s = await setup({ maxLiveBufferBytes: 256 * 1024 });
    const sock = net.connect(s.port, '127.0.0.1');
    await new Promise<void>((r) => sock.once('connect', () => r()));
    sock.write('GET /api/live?target=n::f HTTP/1.1\r\nHost: x\r\n\r\n');
    let head = '';
    await new Promise<void>((r) => {
      const onData = (d: Buffer) => {
        head += d.toString('utf8');
        if (head.includes('event: ready')) {
          sock.off('data', onData);
          sock.pause();
          r();
        }
      };
      sock.on('data', onData);
    });
    expect(s.live.listenerCount()).toBe(1);
    // ~200 KB per push; without the limit the server would buffer all of it (~60 MB)
    for (let i = 0; i < 300 && s.live.listenerCount() > 0; i++) {
      s.client.push(10_000);
      await new Promise((r) => setImmediate(r));
    }
    expect(s.live.listenerCount()).toBe(0);
    expect(s.client.subs.size).toBe(0);
    sock.destroy();
  });
});
