/**
 * A minimal WAMP peer over real sockets for integration tests: WebSocket (via `ws`) or RawSocket
 * (plain TCP), any of our serializers. It speaks raw messages so tests see exactly what the
 * router sends; no client library logic in between.
 */
import * as net from 'node:net';
import WebSocket from 'ws';
import { MessageType as T, parseMessage, toArray, type Message, type Dict } from '../../wamp';
import { serializerByName, type Serializer, type SerializerName } from '../../transport';

export type Kind = 'websocket' | 'rawsocket';

const ROLES = {
  caller: { features: { caller_identification: true, progressive_call_results: true, call_canceling: true } },
  callee: {
    features: {
      caller_identification: true,
      progressive_call_results: true,
      call_canceling: true,
      shared_registration: true,
      pattern_based_registration: true,
    },
  },
  publisher: { features: { publisher_identification: true, publisher_exclusion: true, subscriber_blackwhite_listing: true } },
  subscriber: { features: { publisher_identification: true, pattern_based_subscription: true } },
};

export class RawWampClient {
  private queue: Message[] = [];
  private waiters: Array<(m: Message | null) => void> = [];
  private closedFlag = false;
  private request = 0;
  sessionId = 0;
  readonly closed: Promise<{ code?: number; reason?: string }>;
  private resolveClosed!: (v: { code?: number; reason?: string }) => void;
  private sendFrame!: (frame: Buffer) => void;
  private closeFn!: () => void;
  /** Stops reading from the socket (a stuck consumer): the router's writes back up. */
  pause!: () => void;

  private constructor(readonly serializer: Serializer) {
    this.closed = new Promise((r) => {
      this.resolveClosed = r;
    });
  }

  static async connect(kind: Kind, url: string, ser: SerializerName): Promise<RawWampClient> {
    const serializer = serializerByName(ser)!;
    const c = new RawWampClient(serializer);
    if (kind === 'websocket') await c.openWs(url);
    else await c.openRaw(url);
    return c;
  }

  private onFrame(frame: Buffer): void {
    const m = parseMessage(this.serializer.decode(frame));
    const w = this.waiters.shift();
    if (w) w(m);
    else this.queue.push(m);
  }
  private onClosed(code?: number, reason?: string): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    for (const w of this.waiters.splice(0)) w(null);
    this.resolveClosed({ code, reason });
  }

  private openWs(url: string): Promise<void> {
    const ws = new WebSocket(url, [this.serializer.subprotocol]);
    ws.on('message', (data: Buffer) => this.onFrame(data));
    ws.on('close', (code, reason) => this.onClosed(code, reason.toString()));
    this.sendFrame = (f) => ws.send(f, { binary: this.serializer.binary });
    this.closeFn = () => ws.terminate();
    this.pause = () => (ws as unknown as { _socket: net.Socket })._socket.pause();
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
  }

  private openRaw(url: string): Promise<void> {
    const u = new URL(url.replace(/^rs:/, 'http:'));
    const sock = net.connect({ host: u.hostname, port: Number(u.port) });
    let buf = Buffer.alloc(0);
    let handshaken = false;
    this.sendFrame = (f) => {
      const h = Buffer.alloc(4);
      h.writeUInt32BE(f.length, 0); // type 0 (regular) in the top byte
      sock.write(Buffer.concat([h, f]));
    };
    this.closeFn = () => sock.destroy();
    this.pause = () => sock.pause();
    sock.on('close', () => this.onClosed());
    sock.on('error', () => this.onClosed());
    return new Promise((resolve, reject) => {
      sock.once('connect', () => sock.write(Buffer.from([0x7f, 0xf0 | this.serializer.rawsocketId, 0, 0])));
      sock.once('error', reject);
      sock.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        if (!handshaken) {
          if (buf.length < 4) return;
          if (buf[0] !== 0x7f || (buf[1]! & 0x0f) === 0) {
            reject(new Error(`rawsocket handshake refused: ${buf.subarray(0, 4).toString('hex')}`));
            return;
          }
          handshaken = true;
          buf = buf.subarray(4);
          resolve();
        }
        while (buf.length >= 4) {
          const type = buf[0];
          const len = buf.readUIntBE(1, 3);
          if (buf.length < 4 + len) break;
          const payload = buf.subarray(4, 4 + len);
          buf = buf.subarray(4 + len);
          if (type === 0) this.onFrame(payload);
          else if (type === 1) {
            const h = Buffer.from([2, 0, 0, 0]);
            h.writeUIntBE(len, 1, 3);
            sock.write(Buffer.concat([h, payload]));
          }
        }
      });
    });
  }

  send(m: Message): void {
    this.sendFrame(this.serializer.encode(toArray(m)));
  }
  sendArray(a: unknown[]): void {
    this.sendFrame(this.serializer.encode(a));
  }
  req(): number {
    return ++this.request;
  }

  /** The next message, or null when the connection closed first. Rejects after `ms`. */
  next(ms = 5000): Promise<Message | null> {
    const q = this.queue.shift();
    if (q) return Promise.resolve(q);
    if (this.closedFlag) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(done), 1);
        reject(new Error('timed out waiting for a message'));
      }, ms);
      const done = (m: Message | null): void => {
        clearTimeout(t);
        resolve(m);
      };
      this.waiters.push(done);
    });
  }

  /** Next message, asserting its type. */
  async expect<M extends Message['type']>(type: M): Promise<Extract<Message, { type: M }>> {
    const m = await this.next();
    if (!m || m.type !== type)
      throw new Error(`expected message type ${type}, got ${m ? JSON.stringify(toArray(m)) : 'connection closed'}`);
    return m as Extract<Message, { type: M }>;
  }

  async join(realm: string, details: Dict = {}): Promise<number> {
    this.send({ type: T.HELLO, realm, details: { roles: ROLES, ...details } });
    const w = await this.expect(T.WELCOME);
    this.sessionId = w.session;
    return w.session;
  }

  close(): void {
    this.closeFn();
  }
}
