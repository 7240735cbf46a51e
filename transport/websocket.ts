/**
 * WAMP over WebSocket with `ws` in noServer mode: `attachWebSocket(server, …)` hooks the `upgrade`
 * event of an http/https server for one path (default `/ws`), so other HTTP handlers can share the
 * port. The subprotocol is negotiated before the upgrade is accepted:
 *  - the client offers some `wamp.2.*` we allow → our best (msgpack > cbor > json);
 *  - the client offers subprotocols, none ours → HTTP 400, no upgrade;
 *  - the client offers none → wamp.2.json (as Crossbar does), if json is allowed.
 * Inbound frames larger than maxMessageSize close the connection with 1009 (ws `maxPayload`).
 * JSON goes out as text frames, msgpack/cbor as binary frames.
 */
import type { IncomingMessage, Server as HttpServer } from 'http';
import type { Socket } from 'net';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import { BaseConnection } from './connection';
import { peerOf } from './peer';
import { negotiate, serializerByName } from './serializers';
import type { ConnectionHandler, Serializer, TransportInfo, TransportOptions } from './types';

export class WebSocketConnection extends BaseConnection {
  private readonly sendOptions: { binary: boolean };

  constructor(
    private readonly ws: WebSocket,
    serializer: Serializer,
    info: TransportInfo,
    options: TransportOptions,
  ) {
    // ws keeps its net.Socket in `_socket`; ws.send writes to it synchronously.
    super((ws as unknown as { _socket: Socket })._socket, serializer, info, options);
    this.sendOptions = { binary: serializer.binary };
    ws.on('message', (data: RawData) => {
      this.ping.activity();
      if (this.closing) return; // closed or closing: the router is done with this connection
      this.onMessage(Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data));
    });
    ws.on('pong', () => this.ping.activity());
    ws.on('ping', () => this.ping.activity());
    ws.on('error', () => {
      /* 'close' follows; the code (e.g. 1009) goes with it */
    });
    ws.on('close', (code: number, reason: Buffer) =>
      this.finish(reason.length > 0 ? reason.toString('utf8') : `websocket closed (${code})`),
    );
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  protected write(frame: Buffer): void {
    this.batch.hold();
    this.ws.send(frame, this.sendOptions);
  }

  protected startClose(code: number, reason: string): void {
    // Close reasons are limited to 123 bytes by RFC 6455 5.5.
    let r = reason;
    while (Buffer.byteLength(r) > 123) r = r.slice(0, -1);
    const validCode =
      code === 1000 || (code >= 3000 && code <= 4999) || (code >= 1001 && code <= 1014 && ![1004, 1005, 1006].includes(code));
    try {
      this.ws.close(validCode ? code : 1000, r);
    } catch {
      this.ws.terminate();
    }
  }

  protected destroy(): void {
    this.ws.terminate();
  }

  protected sendPing(): void {
    this.ws.ping();
  }
}

export interface WebSocketAttachOptions {
  /** URL path that accepts upgrades (default `/ws`); `*` accepts every path (a Crossbar.io `websocket` transport). */
  path?: string;
  options: TransportOptions;
  /** Whether the server is https (for TransportInfo.tls). */
  tls: boolean;
}

export interface AttachedWebSocket {
  /** Every WAMP connection of this endpoint that is still open. */
  readonly connections: Set<WebSocketConnection>;
  /** Stops accepting upgrades (the http server itself is not closed). */
  detach(): void;
}

/** The pathname of a request URL without the query. */
function pathOf(url: string | undefined): string {
  const u = url ?? '/';
  const q = u.indexOf('?');
  return q < 0 ? u : u.slice(0, q);
}

function refuse(socket: Socket, status: number, text: string, message: string): void {
  if (socket.writable) {
    socket.end(
      `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: ` +
        `text/plain\r\nContent-Length: ${Buffer.byteLength(message)}\r\n\r\n${message}`,
    );
  }
  socket.destroySoon?.();
}

/** Hooks WAMP-over-WebSocket into `server` on `path`; each new WAMP connection goes to `handler`. */
export function attachWebSocket(server: HttpServer, opts: WebSocketAttachOptions, handler: ConnectionHandler): AttachedWebSocket {
  const path = opts.path ?? '/ws';
  const options = opts.options;
  const allowed = options.serializers.length > 0 ? options.serializers : (['msgpack', 'cbor', 'json'] as const).slice();
  /** request → the serializer chosen for it before the upgrade */
  const chosen = new WeakMap<IncomingMessage, Serializer>();
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxMessageSize,
    perMessageDeflate: false,
    clientTracking: false,
    handleProtocols: (_offered, req) => chosen.get(req)?.subprotocol ?? false,
  });
  const connections = new Set<WebSocketConnection>();

  const onUpgrade = (req: IncomingMessage, socket: Socket, head: Buffer): void => {
    if (path !== '*' && pathOf(req.url) !== path) {
      // Another upgrade listener may serve this path; if we are alone, answer 404.
      if (server.listenerCount('upgrade') <= 1) refuse(socket, 404, 'Not Found', `no WebSocket endpoint at ${pathOf(req.url)}\n`);
      return;
    }
    const header = req.headers['sec-websocket-protocol'];
    let serializer: Serializer | undefined;
    if (header === undefined || header.trim() === '') {
      serializer = allowed.includes('json') ? serializerByName('json') : undefined;
    } else {
      serializer = negotiate(
        header
          .split(',')
          .map((p) => p.trim())
          .filter(Boolean),
        allowed,
      );
    }
    if (!serializer) {
      refuse(
        socket,
        400,
        'Bad Request',
        `no supported WAMP subprotocol; this endpoint speaks ` + `${allowed.map((n) => serializerByName(n)!.subprotocol).join(', ')}\n`,
      );
      return;
    }
    chosen.set(req, serializer);
    wss.handleUpgrade(req, socket, head, (ws) => {
      const info: TransportInfo = {
        type: 'websocket',
        protocol: serializer.subprotocol,
        peer: peerOf(socket),
        tls: opts.tls,
        http_headers_received: publicHeaders(req.headers),
      };
      const conn = new WebSocketConnection(ws, serializer, info, options);
      connections.add(conn);
      ws.once('close', () => connections.delete(conn));
      handler(conn);
    });
  };
  server.on('upgrade', onUpgrade);
  return {
    connections,
    detach: () => {
      server.off('upgrade', onUpgrade);
      wss.close();
    },
  };
}

/** Request headers as the meta API may show them: credentials (cookies, authorization) removed. */
const PRIVATE_HEADERS = new Set(['cookie', 'authorization', 'proxy-authorization']);
export function publicHeaders(h: IncomingMessage['headers']): Record<string, string | string[] | undefined> {
  const out: Record<string, string | string[] | undefined> = {};
  for (const k of Object.keys(h)) if (!PRIVATE_HEADERS.has(k)) out[k] = h[k];
  return out;
}
