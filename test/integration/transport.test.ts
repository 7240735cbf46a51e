/**
 * Transports on real sockets (port 0): WebSocket (+ TLS), RawSocket, universal port, auto-ping,
 * and a HELLO → WELCOME with the real Router. Every wait is on an event; every handle is closed.
 */
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import * as tls from 'tls';
import { Duplex } from 'stream';
import { once } from 'events';
import WebSocket from 'ws';
import { MessageType as T, parseMessage } from '../../wamp';
import {
  handleRawSocket,
  jsonSerializer,
  listen,
  msgpackSerializer,
  cborSerializer,
  PING_TIMEOUT_REASON,
  type Connection,
  type Listener,
  type ListenOptions,
  type RawSocketConnection,
  type TransportOptions,
} from '../../transport';
import { Router } from '../../router/router';
import { anonymousAuth } from '../helpers/fake-peer';
import { selfSignedCert } from '../helpers/router-setup';

const OPTS: TransportOptions = {
  maxMessageSize: 1024 * 1024,
  autoPingInterval: 0,
  autoPingTimeout: 0,
  serializers: ['msgpack', 'cbor', 'json'],
};

// ---------------------------------------------------------------------------------------------
// Helpers

const listeners: Listener[] = [];
const clients: { close(): void }[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(listeners.splice(0).map((l) => l.close()));
});

/** Listener whose connections echo every frame (decoded and re-encoded) and are recorded. */
async function echoListener(
  cfg: Partial<ListenOptions> & { kind: ListenOptions['kind'] },
): Promise<{ l: Listener; conns: Connection[]; closed: Promise<string>[] }> {
  const conns: Connection[] = [];
  const closed: Promise<string>[] = [];
  const l = await listen({ port: 0, options: OPTS, ...cfg }, (conn) => {
    conns.push(conn);
    closed.push(
      new Promise((resolve) => {
        conn.onClose = resolve;
      }),
    );
    conn.onMessage = (f) => conn.send(conn.serializer.encode(conn.serializer.decode(f) as unknown[]));
  });
  listeners.push(l);
  return { l, conns, closed };
}

async function wsOpen(url: string, protocols?: string[], opts: WebSocket.ClientOptions = {}): Promise<WebSocket> {
  const ws = new WebSocket(url, protocols, opts);
  clients.push({ close: () => ws.terminate() });
  await once(ws, 'open');
  return ws;
}

/** The HTTP status of a refused upgrade. */
async function wsRefused(url: string, protocols?: string[]): Promise<number> {
  const ws = new WebSocket(url, protocols);
  clients.push({ close: () => ws.terminate() });
  return new Promise((resolve, reject) => {
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
    });
    ws.on('open', () => reject(new Error('upgrade was accepted')));
    ws.on('error', () => {
      /* follows unexpected-response */
    });
  });
}

async function nextMessage(ws: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> {
  const [data, isBinary] = (await once(ws, 'message')) as [Buffer, boolean];
  return { data, isBinary };
}

/** A raw TCP client that collects every byte it receives. */
class RawClient {
  private buf = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  readonly closed: Promise<void>;
  constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        resolve();
        for (const w of this.waiters.splice(0)) w();
      }),
    );
    clients.push({ close: () => socket.destroy() });
  }
  static async connect(port: number, secure = false, ca?: string): Promise<RawClient> {
    const socket = secure ? tls.connect({ port, host: '127.0.0.1', ca, servername: 'localhost' }) : net.connect(port, '127.0.0.1');
    await once(socket, secure ? 'secureConnect' : 'connect');
    return new RawClient(socket);
  }
  /** Waits for n bytes and removes them. */
  async read(n: number): Promise<Buffer> {
    while (this.buf.length < n) {
      if (this.socket.destroyed) throw new Error(`socket closed with ${this.buf.length}/${n} bytes`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }
  async frame(): Promise<{ type: number; payload: Buffer }> {
    const h = await this.read(4);
    return { type: h.readUInt8(0), payload: await this.read(h.readUIntBE(1, 3)) };
  }
  write(b: Buffer): void {
    this.socket.write(b);
  }
  send(type: number, payload: Buffer): void {
    const h = Buffer.alloc(4);
    h[0] = type;
    h.writeUIntBE(payload.length, 1, 3);
    this.socket.write(Buffer.concat([h, payload]));
  }
  /** Handshake for serializer id `ser` and max length exponent `l`; returns the reply. */
  async handshake(ser: number, l = 15): Promise<Buffer> {
    this.write(Buffer.from([0x7f, (l << 4) | ser, 0, 0]));
    return this.read(4);
  }
}

let tmp = '';
let key = '';
let cert = '';
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sisock-tls-'));
  selfSignedCert(tmp, { key: 'ec', cn: 'localhost', san: 'DNS:localhost,IP:127.0.0.1' });
  key = fs.readFileSync(path.join(tmp, 'key.pem'), 'utf8');
  cert = fs.readFileSync(path.join(tmp, 'cert.pem'), 'utf8');
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

// ---------------------------------------------------------------------------------------------

describe('WebSocket', () => {
  test('subprotocol negotiation: our best among the offered; none offered → json', async () => {
    const { l, conns } = await echoListener({ kind: 'websocket' });
    expect(l.url).toBe(`ws://127.0.0.1:${l.port}/ws`);
    expect((await wsOpen(l.url, ['wamp.2.json', 'wamp.2.cbor', 'wamp.2.msgpack'])).protocol).toBe('wamp.2.msgpack');
    expect((await wsOpen(l.url, ['wamp.2.json', 'wamp.2.cbor'])).protocol).toBe('wamp.2.cbor');
    expect((await wsOpen(l.url)).protocol).toBe('');
    expect(conns.map((c) => c.serializer.name)).toEqual(['msgpack', 'cbor', 'json']);
    const info = conns[0]!.info;
    expect(info).toMatchObject({ type: 'websocket', protocol: 'wamp.2.msgpack', tls: false });
    expect(info.peer).toMatch(/^tcp4:127\.0\.0\.1:\d+$/);
    expect(info.http_headers_received?.['sec-websocket-protocol']).toBe('wamp.2.json,wamp.2.cbor,wamp.2.msgpack');
  });

  test('unknown subprotocols, a disallowed one, or a wrong path are refused at the upgrade', async () => {
    const { l, conns } = await echoListener({ kind: 'websocket', options: { ...OPTS, serializers: ['json'] } });
    expect(await wsRefused(l.url, ['wamp.2.ubjson', 'mqtt'])).toBe(400);
    expect(await wsRefused(l.url, ['wamp.2.msgpack'])).toBe(400);
    expect(await wsRefused(`ws://127.0.0.1:${l.port}/other`, ['wamp.2.json'])).toBe(404);
    expect((await wsOpen(l.url, ['wamp.2.msgpack', 'wamp.2.json'])).protocol).toBe('wamp.2.json');
    expect(conns).toHaveLength(1);
  });

  test('plain HTTP requests get the HTTP handler (default 404)', async () => {
    const { l } = await echoListener({ kind: 'websocket' });
    const res = await new Promise<http.IncomingMessage>((resolve, reject) =>
      http.get(`http://127.0.0.1:${l.port}/`, resolve).on('error', reject),
    );
    res.resume();
    expect(res.statusCode).toBe(404);
  });

  test('JSON binary convention end to end, text frames; msgpack/cbor use binary frames', async () => {
    const { l } = await echoListener({ kind: 'websocket' });
    const json = await wsOpen(l.url, ['wamp.2.json']);
    const reply = nextMessage(json);
    json.send('[50,1,{},["\\u0000AAEC/w=="],{"b":"\\u0000aGk="}]');
    const { data, isBinary } = await reply;
    expect(isBinary).toBe(false);
    expect(data.toString()).toBe('[50,1,{},["\\u0000AAEC/w=="],{"b":"\\u0000aGk="}]');
    const msg = jsonSerializer.decode(data) as unknown[];
    expect(Buffer.from((msg[3] as Uint8Array[])[0]!)).toEqual(Buffer.from([0, 1, 2, 255]));

    for (const s of [msgpackSerializer, cborSerializer]) {
      const ws = await wsOpen(l.url, [s.subprotocol]);
      const r = nextMessage(ws);
      ws.send(s.encode([50, 2 ** 53, {}, [Buffer.from([7, 8])]]));
      const got = await r;
      expect(got.isBinary).toBe(true);
      expect(s.decode(got.data)).toEqual([50, 2 ** 53, {}, [Buffer.from([7, 8])]]);
    }
  });

  test('a frame above maxMessageSize closes with 1009', async () => {
    const { l, closed } = await echoListener({ kind: 'websocket', options: { ...OPTS, maxMessageSize: 1000 } });
    const ws = await wsOpen(l.url, ['wamp.2.json']);
    const echoed = nextMessage(ws);
    ws.send(JSON.stringify([1, 'x'.repeat(900)]));
    await echoed;
    const closing = once(ws, 'close');
    ws.send(JSON.stringify([1, 'x'.repeat(1100)]));
    const [code] = await closing;
    expect(code).toBe(1009);
    await closed[0];
  });

  test('Connection.close sends the code and reason; onClose fires once', async () => {
    const { l, conns, closed } = await echoListener({ kind: 'websocket' });
    const ws = await wsOpen(l.url, ['wamp.2.json']);
    let count = 0;
    const orig = conns[0]!.onClose;
    conns[0]!.onClose = (r) => {
      count++;
      orig(r);
    };
    const closing = once(ws, 'close');
    conns[0]!.close(1001, 'wamp.close.system_shutdown');
    conns[0]!.close(1000, 'again');
    const [code, reason] = await closing;
    expect(code).toBe(1001);
    expect(String(reason)).toBe('wamp.close.system_shutdown');
    expect(await closed[0]).toBe('wamp.close.system_shutdown');
    expect(count).toBe(1);
  });

  test('listener.close() closes open connections with 1001', async () => {
    const { l } = await echoListener({ kind: 'websocket' });
    const ws = await wsOpen(l.url, ['wamp.2.json']);
    const closing = once(ws, 'close');
    await l.close();
    expect((await closing)[0]).toBe(1001);
  });

  test('wss with a throwaway self-signed certificate', async () => {
    const { l, conns } = await echoListener({ kind: 'websocket', tls: { key, cert } });
    expect(l.url).toBe(`wss://127.0.0.1:${l.port}/ws`);
    const ws = await wsOpen(`wss://localhost:${l.port}/ws`, ['wamp.2.cbor'], { ca: cert });
    expect(ws.protocol).toBe('wamp.2.cbor');
    expect(conns[0]!.info.tls).toBe(true);
    const r = nextMessage(ws);
    ws.send(cborSerializer.encode([1, 'realm1', {}]));
    expect(cborSerializer.decode((await r).data)).toEqual([1, 'realm1', {}]);
  });

  test('auto-ping: the server pings an idle client (ws answers, so it stays)', async () => {
    const { l } = await echoListener({ kind: 'websocket', options: { ...OPTS, autoPingInterval: 0.1, autoPingTimeout: 1 } });
    const ws = await wsOpen(l.url, ['wamp.2.json']);
    await once(ws, 'ping');
    await once(ws, 'ping'); // the pong was taken as liveness: a second round
    expect(ws.readyState).toBe(WebSocket.OPEN);
  });

  test('auto-ping: a client that stops reading is dropped after the timeout and the close grace', async () => {
    const { l, closed } = await echoListener({ kind: 'websocket', options: { ...OPTS, autoPingInterval: 0.1, autoPingTimeout: 0.1 } });
    const ws = await wsOpen(l.url, ['wamp.2.json']);
    const sock = (ws as unknown as { _socket: net.Socket })._socket;
    sock.pause(); // neither pongs nor the close handshake get through
    expect(await closed[0]).toBe(PING_TIMEOUT_REASON);
    sock.resume();
    await once(ws, 'close');
  });
});

describe('RawSocket', () => {
  test('handshake: our serializer and max length; messages echo; ping → pong with the payload', async () => {
    const { l, conns } = await echoListener({ kind: 'rawsocket', options: { ...OPTS, maxMessageSize: 65536 } });
    expect(l.url).toBe(`rs://127.0.0.1:${l.port}`);
    const c = await RawClient.connect(l.port);
    expect([...(await c.handshake(2))]).toEqual([0x7f, (7 << 4) | 2, 0, 0]); // 2^(9+7) = 65536
    c.send(1, Buffer.from('hello'));
    expect(await c.frame()).toEqual({ type: 2, payload: Buffer.from('hello') });
    c.send(0, msgpackSerializer.encode([1, 'realm1', { x: 2 ** 53 }]));
    const f = await c.frame();
    expect(f.type).toBe(0);
    expect(msgpackSerializer.decode(f.payload)).toEqual([1, 'realm1', { x: 2 ** 53 }]);
    expect(conns[0]!.info).toMatchObject({ type: 'rawsocket', protocol: 'wamp.2.msgpack', tls: false });
    expect(conns[0]!.info.peer).toMatch(/^tcp4:127\.0\.0\.1:\d+$/);
  });

  test.each([
    ['unsupported serializer', [0x7f, 0xf5, 0, 0], 1],
    ['serializer not allowed on this transport', [0x7f, 0xf3, 0, 0], 1],
    ['reserved bits', [0x7f, 0xf1, 0, 1], 3],
  ])('handshake error: %s', async (_what, hs, code) => {
    const { l, conns } = await echoListener({ kind: 'rawsocket', options: { ...OPTS, serializers: ['json', 'msgpack'] } });
    const c = await RawClient.connect(l.port);
    c.write(Buffer.from(hs));
    expect([...(await c.read(4))]).toEqual([0x7f, code << 4, 0, 0]);
    await c.closed;
    expect(conns).toHaveLength(0);
  });

  test('handshake error 4: maximum connection count', async () => {
    const { l } = await echoListener({ kind: 'rawsocket', maxConnections: 1 });
    const a = await RawClient.connect(l.port);
    expect((await a.handshake(1))[1]! & 0x0f).toBe(1);
    const b = await RawClient.connect(l.port);
    expect([...(await b.handshake(1))]).toEqual([0x7f, 0x40, 0, 0]);
    await b.closed;
  });

  test('a frame longer than our max closes the connection', async () => {
    const { l, closed } = await echoListener({ kind: 'rawsocket', options: { ...OPTS, maxMessageSize: 1024 } });
    const c = await RawClient.connect(l.port);
    await c.handshake(1);
    c.send(0, Buffer.from(JSON.stringify([1, 'x'.repeat(2000)])));
    await c.closed;
    expect(await closed[0]).toBe('sisock.close.message_too_large');
  });

  test('a frame type with reserved bits closes the connection', async () => {
    const { l } = await echoListener({ kind: 'rawsocket' });
    const c = await RawClient.connect(l.port);
    await c.handshake(1);
    c.send(8, Buffer.from('[]'));
    await c.closed;
  });

  test('framing survives one byte at a time', async () => {
    // A socket stand-in so that every byte arrives as its own 'data' event.
    const out: Buffer[] = [];
    class ByteSocket extends Duplex {
      remoteAddress = '127.0.0.1';
      remotePort = 1;
      remoteFamily = 'IPv4';
      setNoDelay(): this {
        return this;
      }
      override _read(): void {}
      override _write(chunk: Buffer, _enc: string, cb: () => void): void {
        out.push(chunk);
        cb();
      }
    }
    const sock = new ByteSocket();
    const got: unknown[] = [];
    let conn: Connection | undefined;
    handleRawSocket(sock as unknown as net.Socket, { options: OPTS, tls: false, connections: new Set<RawSocketConnection>() }, (c) => {
      conn = c;
      c.onMessage = (f) => got.push(c.serializer.decode(f));
    });
    const frame = (type: number, payload: Buffer): Buffer =>
      Buffer.concat([Buffer.from([type, 0, payload.length >> 8, payload.length & 0xff]), payload]);
    const bytes = Buffer.concat([
      Buffer.from([0x7f, 0xf1, 0, 0]),
      frame(0, Buffer.from('[1,"realm1",{}]')),
      frame(1, Buffer.from('pp')),
      frame(0, Buffer.from('[6,{},"wamp.close.normal"]')),
      frame(0, Buffer.from('[16,1,{},"t",["' + 'y'.repeat(300) + '"]]')),
    ]);
    for (const b of bytes) sock.emit('data', Buffer.from([b]));
    expect(conn?.serializer.name).toBe('json');
    expect(got).toEqual([
      [1, 'realm1', {}],
      [6, {}, 'wamp.close.normal'],
      [16, 1, {}, 't', ['y'.repeat(300)]],
    ]);
    await new Promise((r) => process.nextTick(r)); // writes of one turn leave together, on the next tick
    const written = Buffer.concat(out);
    expect([...written.subarray(0, 4)]).toEqual([0x7f, 0xb1, 0, 0]); // our max 1 MiB = 2^(9+11)
    expect([...written.subarray(4)]).toEqual([2, 0, 0, 2, 0x70, 0x70]); // pong 'pp'
    sock.destroy();
  });

  test('auto-ping: a peer that never answers pings is closed (ping_timeout)', async () => {
    const { l, closed } = await echoListener({ kind: 'rawsocket', options: { ...OPTS, autoPingInterval: 0.2, autoPingTimeout: 0.2 } });
    const c = await RawClient.connect(l.port);
    await c.handshake(1);
    expect((await c.frame()).type).toBe(1); // the ping, which we ignore
    expect(await closed[0]).toBe(PING_TIMEOUT_REASON);
    await c.closed;
  });

  test('RawSocket over TLS', async () => {
    const { l } = await echoListener({ kind: 'rawsocket', tls: { key, cert } });
    expect(l.url).toBe(`rss://127.0.0.1:${l.port}`);
    const c = await RawClient.connect(l.port, true, cert);
    expect((await c.handshake(3))[1]! & 0x0f).toBe(3);
    c.send(0, cborSerializer.encode([1, 'r', {}]));
    expect(cborSerializer.decode((await c.frame()).payload)).toEqual([1, 'r', {}]);
  });
});

describe('universal port', () => {
  test.each([[false], [true]])('serves WebSocket, RawSocket and plain HTTP on one port (tls: %p)', async (secure) => {
    const { l, conns } = await echoListener({ kind: 'universal', ...(secure ? { tls: { key, cert } } : {}) });
    expect(l.url).toBe(`${secure ? 'wss' : 'ws'}://127.0.0.1:${l.port}/ws`);
    expect(l.rawsocketUrl).toBe(`${secure ? 'rss' : 'rs'}://127.0.0.1:${l.port}`);

    const ws = await wsOpen(`${secure ? 'wss' : 'ws'}://localhost:${l.port}/ws`, ['wamp.2.json'], secure ? { ca: cert } : {});
    const r = nextMessage(ws);
    ws.send('[1,"realm1",{}]');
    expect((await r).data.toString()).toBe('[1,"realm1",{}]');

    const c = await RawClient.connect(l.port, secure, cert);
    expect((await c.handshake(2))[1]! & 0x0f).toBe(2);
    c.send(0, msgpackSerializer.encode([1, 'realm1', {}]));
    expect(msgpackSerializer.decode((await c.frame()).payload)).toEqual([1, 'realm1', {}]);

    expect(conns.map((x) => [x.info.type, x.info.tls])).toEqual([
      ['websocket', secure],
      ['rawsocket', secure],
    ]);
    expect(l.connectionCount).toBe(2);

    if (!secure) {
      const res = await new Promise<http.IncomingMessage>((resolve, reject) =>
        http.get(`http://127.0.0.1:${l.port}/x`, { agent: false }, resolve).on('error', reject),
      );
      res.resume();
      expect(res.statusCode).toBe(404);
    }
    const wsClosed = once(ws, 'close');
    await l.close();
    await Promise.all([wsClosed, c.closed]);
  });
});

describe('with the real Router', () => {
  test.each([['websocket'], ['rawsocket']] as const)('HELLO → WELCOME over %s', async (kind) => {
    const router = new Router();
    router.addRealm('realm1');
    const l = await listen({ kind, port: 0, options: OPTS }, (conn) => router.accept(conn, { methods: [anonymousAuth] }));
    listeners.push(l);
    const hello = [T.HELLO, 'realm1', { roles: { caller: {}, subscriber: {} } }];
    let welcome: unknown;
    if (kind === 'websocket') {
      const ws = await wsOpen(l.url, ['wamp.2.json']);
      const r = nextMessage(ws);
      ws.send(JSON.stringify(hello));
      welcome = parseMessage(jsonSerializer.decode((await r).data));
    } else {
      const c = await RawClient.connect(l.port);
      await c.handshake(2);
      c.send(0, msgpackSerializer.encode(hello));
      welcome = parseMessage(msgpackSerializer.decode((await c.frame()).payload));
    }
    expect(welcome).toMatchObject({ type: T.WELCOME });
    router.close();
  });
});
