/**
 * A deliberately minimal WAMP client over a raw `ws` socket, used as the load generator for every
 * benchmark target (sisock, the bare relay, fox-wamp), so that they all face the same client cost.
 *
 * - JSON frames are pre-encoded by string splicing and decoded by scanning only the head
 *   (`[code,requestId,`), never by JSON.parse on the hot path.
 * - MsgPack frames are encoded/decoded with the router's own msgpack codec (transport/serializers).
 * - In `relay` mode there is no WAMP session: the relay only forwards frames, so HELLO/REGISTER/
 *   SUBSCRIBE are skipped and the callee answers the forwarded CALL frame with a YIELD-like frame.
 * - Outgoing writes issued while handling inbound frames are corked until the next tick, so a burst
 *   of N results produces one write syscall rather than N (optional; off for latency runs).
 */
import WebSocket from 'ws';
import { msgpackEncode, msgpackDecode } from '../transport/serializers';
import { MessageType } from '../wamp/codes';

export type Ser = 'json' | 'msgpack';

/** The WAMP message codes (the router's own table). */
export const CODE = MessageType;

const packr = { pack: (m: unknown[]): Buffer => msgpackEncode(m), unpack: (b: Buffer): unknown => msgpackDecode(b) };

/** The payload every call/event carries: small, like a typical control-plane RPC. */
export const PAYLOAD_JSON = '"bench",42,{"v":1.5}';
export const PAYLOAD: unknown[] = ['bench', 42, { v: 1.5 }];

export interface ClientOptions {
  url: string;
  realm: string;
  serializer: Ser;
  /** false for the relay: no WAMP handshake, frames are only forwarded. */
  wamp: boolean;
  /** Cork writes made from inbound-frame handlers until the next tick. */
  cork?: boolean;
  /** Extra query string (relay roles). */
  query?: string;
  /** Connect timeout in ms. */
  timeoutMs?: number;
}

/** Reads `[code,id` from the head of a JSON text frame without parsing the rest. */
export function jsonHead(buf: Buffer): [number, number] {
  let i = 1; // skip '['
  let code = 0;
  let c = buf[i] ?? 0; // past the end: not a digit
  while (c >= 48 && c <= 57) {
    code = code * 10 + (c - 48);
    c = buf[++i] ?? 0;
  }
  i++; // ','
  let id = 0;
  c = buf[i] ?? 0;
  while (c >= 48 && c <= 57) {
    id = id * 10 + (c - 48);
    c = buf[++i] ?? 0;
  }
  return [code, id];
}

export class RawWampClient {
  readonly ws: WebSocket;
  readonly opts: ClientOptions;
  readonly binary: boolean;
  sessionId = 0;
  /** Hot-path handler: raw frame (Buffer). Set by the scenario. */
  onFrame: (data: Buffer) => void = () => {};
  private waiters: Array<(msg: unknown[]) => boolean> = [];
  private corked = false;
  private readonly sock: { cork(): void; uncork(): void } | undefined;
  private nextReq = 1;

  private constructor(ws: WebSocket, opts: ClientOptions) {
    this.ws = ws;
    this.opts = opts;
    this.binary = opts.serializer !== 'json';
    this.sock = (ws as unknown as { _socket?: { cork(): void; uncork(): void } })._socket;
    ws.on('message', (data: Buffer) => {
      if (this.waiters.length > 0) {
        const msg = this.decode(data);
        const w = this.waiters.findIndex((f) => f(msg));
        if (w >= 0) {
          this.waiters.splice(w, 1);
          return;
        }
      }
      if (this.opts.cork) this.corkTick();
      this.onFrame(data);
    });
  }

  static connect(opts: ClientOptions): Promise<RawWampClient> {
    const proto = opts.serializer === 'json' ? 'wamp.2.json' : 'wamp.2.msgpack';
    const url = opts.query ? `${opts.url}${opts.url.includes('?') ? '&' : '?'}${opts.query}` : opts.url;
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, opts.wamp ? [proto] : [proto], {
        perMessageDeflate: false,
        handshakeTimeout: opts.timeoutMs ?? 10000,
        maxPayload: 16 * 1024 * 1024,
      });
      const fail = (e: unknown) => reject(e instanceof Error ? e : new Error(String(e)));
      ws.once('error', fail);
      ws.once('open', () => {
        ws.off('error', fail);
        ws.on('error', () => {});
        const c = new RawWampClient(ws, opts);
        if (!opts.wamp) {
          resolve(c);
          return;
        }
        c.hello().then(() => resolve(c), fail);
      });
    });
  }

  encode(msg: unknown[]): string | Buffer {
    return this.binary ? packr.pack(msg) : JSON.stringify(msg);
  }

  decode(data: Buffer): unknown[] {
    return (this.binary ? packr.unpack(data) : JSON.parse(data.toString('utf8'))) as unknown[];
  }

  send(frame: string | Buffer): void {
    this.ws.send(frame, { binary: this.binary });
  }

  corkTick(): void {
    if (this.corked || !this.sock) return;
    this.corked = true;
    this.sock.cork();
    process.nextTick(() => {
      this.corked = false;
      this.sock?.uncork();
    });
  }

  /** Sends `msg` and resolves with the first inbound message for which `match` returns true. */
  request(msg: unknown[], match: (m: unknown[]) => boolean, timeoutMs = 10000): Promise<unknown[]> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timeout waiting reply to ${JSON.stringify(msg)}`)), timeoutMs);
      this.waiters.push((m) => {
        if (m[0] === CODE.ABORT || (m[0] === CODE.ERROR && m[2] === msg[1])) {
          clearTimeout(t);
          reject(new Error(`WAMP error: ${JSON.stringify(m)}`));
          return true;
        }
        if (!match(m)) return false;
        clearTimeout(t);
        resolve(m);
        return true;
      });
      this.send(this.encode(msg));
    });
  }

  private async hello(): Promise<void> {
    const roles = { caller: {}, callee: {}, publisher: {}, subscriber: {} };
    const w = await this.request([CODE.HELLO, this.opts.realm, { roles }], (m) => m[0] === CODE.WELCOME);
    this.sessionId = Number(w[1]);
  }

  async register(procedure: string): Promise<number> {
    if (!this.opts.wamp) return 0;
    const id = this.nextReq++;
    const r = await this.request([CODE.REGISTER, id, {}, procedure], (m) => m[0] === CODE.REGISTERED && m[1] === id);
    return Number(r[2]);
  }

  async subscribe(topic: string): Promise<number> {
    if (!this.opts.wamp) return 0;
    const id = this.nextReq++;
    const r = await this.request([CODE.SUBSCRIBE, id, {}, topic], (m) => m[0] === CODE.SUBSCRIBED && m[1] === id);
    return Number(r[2]);
  }

  /** Callee side: answers every INVOCATION (or, via the relay, every CALL) with a YIELD echoing the payload. */
  serveEcho(): void {
    if (this.binary) {
      this.onFrame = (data) => {
        const m = packr.unpack(data) as unknown[];
        const code = m[0];
        if (code === CODE.INVOCATION) this.send(packr.pack([CODE.YIELD, m[1], {}, m[4]]));
        else if (code === CODE.CALL) this.send(packr.pack([CODE.YIELD, m[1], {}, m[4]]));
      };
    } else {
      this.onFrame = (data) => {
        const [code, id] = jsonHead(data);
        if (code === CODE.INVOCATION || code === CODE.CALL) {
          this.send(`[70,${id},{},[${PAYLOAD_JSON}]]`);
        }
      };
    }
  }

  /** Encodes a CALL frame for request `id`. */
  callFrame(id: number, procedure: string): string | Buffer {
    if (this.binary) return packr.pack([CODE.CALL, id, {}, procedure, PAYLOAD]);
    return `[48,${id},{},"${procedure}",[${PAYLOAD_JSON}]]`;
  }

  /** Encodes a PUBLISH frame (no acknowledge). */
  publishFrame(id: number, topic: string): string | Buffer {
    if (this.binary) return packr.pack([CODE.PUBLISH, id, {}, topic, PAYLOAD]);
    return `[16,${id},{},"${topic}",[${PAYLOAD_JSON}]]`;
  }

  /** [code, requestId] of an inbound frame (RESULT/YIELD/EVENT...). */
  head(data: Buffer): [number, number] {
    if (!this.binary) return jsonHead(data);
    const m = packr.unpack(data) as unknown[];
    return [Number(m[0]), Number(m[1])];
  }

  close(): void {
    try {
      this.ws.terminate();
    } catch {
      /* already gone */
    }
  }
}
