/**
 * Transports: serializers and listeners. The public API is one call:
 *
 *   const l = await listen({ kind: 'websocket', host: '127.0.0.1', port: 8080, path: '/ws',
 *                            tls: { key, cert }, options }, (conn) => router.accept(conn, auth));
 *   l.port; l.url;        // actual port (port 0 picks one); 'ws://127.0.0.1:8080/ws' | 'wss://…' | 'rs://…' | 'rss://…'
 *   await l.close();      // stops listening, closes every connection (1001 wamp.close.system_shutdown), frees the port
 *
 * kind:
 *  - 'websocket': HTTP(S) server; WAMP-over-WebSocket upgrades on `path` (default '/ws'), other HTTP
 *    requests go to `httpHandler` (default: 404 text). Subprotocols wamp.2.{msgpack,cbor,json}
 *    negotiated by our preference; no subprotocol offered → json; nothing in common → HTTP 400.
 *  - 'rawsocket': WAMP RawSocket over TCP (or TLS when `tls` is given).
 *  - 'universal': both on one port, chosen by the first byte (0x7F → RawSocket); with `tls` both run
 *    inside TLS. `url` is the WebSocket URL, `rawsocketUrl` the RawSocket one.
 * `options` (TransportOptions): maxMessageSize (ws closes with 1009; RawSocket drops the connection),
 * autoPingInterval/autoPingTimeout in seconds (0 = off; a silent peer is closed with reason
 * 'sisock.close.ping_timeout'), serializers allowed on this transport (empty = all).
 * 'universal' may take `rawsocketOptions` for its RawSocket branch; RawSocket may take `maxConnections`
 * (handshake error 4 beyond it). `httpHandler` serves plain HTTP requests on websocket/universal ports.
 * `host` defaults to '127.0.0.1'; pass '0.0.0.0' or '::' to listen on every interface.
 */
import { httpServerOptions } from '../common/http-limits';
import * as http from 'http';
import * as https from 'https';
import * as net from 'net';
import * as tls from 'tls';
import { CLOSE_GRACE_MS, LISTENER_CLOSED_REASON } from './peer';
import { handleRawSocket, type RawSocketConnection } from './rawsocket';
import { sniff } from './universal';
import { attachWebSocket, type AttachedWebSocket } from './websocket';
import type { ConnectionHandler, TransportOptions } from './types';

export * from './types';
export * from './serializers';
export { attachWebSocket, WebSocketConnection } from './websocket';
export { handleRawSocket, RawSocketConnection, RawSocketError, RAWSOCKET_MAGIC, lengthExponent } from './rawsocket';
export { sniff } from './universal';
export { PING_TIMEOUT_REASON, LISTENER_CLOSED_REASON, peerOf } from './peer';

export type ListenerKind = 'websocket' | 'rawsocket' | 'universal';

export interface TlsConfig {
  key: string | Buffer;
  cert: string | Buffer;
  /** Extra CA certificates (PEM), e.g. for client-certificate chains. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** OpenSSL cipher list. */
  ciphers?: string;
  /** Diffie-Hellman parameters (PEM). */
  dhparam?: string | Buffer;
}

export interface ListenOptions {
  kind: ListenerKind;
  /** Interface to bind (default '127.0.0.1'). */
  host?: string;
  /** TCP port; 0 picks a free one (see Listener.port). */
  port: number;
  /** WebSocket path (default '/ws'); 'websocket' and 'universal' only. */
  path?: string;
  /** Serve over TLS (wss / RawSocket over TLS). */
  tls?: TlsConfig;
  options: TransportOptions;
  /** 'universal' only: options for the RawSocket branch (default: `options`). */
  rawsocketOptions?: TransportOptions;
  /** Plain HTTP requests on a 'websocket'/'universal' port (default: 404 text/plain). */
  httpHandler?: http.RequestListener;
  /** RawSocket: refuse with handshake error 4 beyond this many open connections. */
  maxConnections?: number;
}
/** @deprecated alias of ListenOptions */
export type ListenConfig = ListenOptions;

export interface Listener {
  readonly kind: ListenerKind;
  readonly host: string;
  /** The bound port (the real one when 0 was asked). */
  readonly port: number;
  /** How clients reach it: ws://, wss://, rs:// or rss:// (WebSocket URL for 'universal'). */
  readonly url: string;
  /** RawSocket URL for 'rawsocket' and 'universal'. */
  readonly rawsocketUrl?: string;
  /** Open WAMP connections. */
  readonly connectionCount: number;
  /** Stops listening and closes every connection; resolves when all sockets are gone. */
  close(): Promise<void>;
}

const defaultHttpHandler: http.RequestListener = (_req, res) => {
  const body = 'This is a WAMP router (sisock). Nothing to see here.\n';
  res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
};

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/** Opens a listener; `handler` receives every WAMP connection once its transport handshake is done. */
export async function listen(cfg: ListenOptions, handler: ConnectionHandler): Promise<Listener> {
  const host = cfg.host ?? '127.0.0.1';
  const secure = cfg.tls !== undefined;
  const tlsOptions: tls.TlsOptions | undefined = cfg.tls && {
    key: cfg.tls.key,
    cert: cfg.tls.cert,
    ca: cfg.tls.ca,
    ciphers: cfg.tls.ciphers,
    dhparam: cfg.tls.dhparam,
  };
  const rsConnections = new Set<RawSocketConnection>();
  /** every accepted TCP socket, until it closes (for shutdown) */
  const sockets = new Set<net.Socket>();
  let ws: AttachedWebSocket | null = null;
  let server: net.Server;

  const rawsocket = (socket: net.Socket, first?: Buffer): void =>
    handleRawSocket(
      socket,
      { options: cfg.rawsocketOptions ?? cfg.options, tls: secure, maxConnections: cfg.maxConnections, connections: rsConnections },
      handler,
      first,
    );

  if (cfg.kind === 'websocket') {
    const httpServer = tlsOptions
      ? https.createServer({ ...httpServerOptions(), ...tlsOptions }, cfg.httpHandler ?? defaultHttpHandler)
      : http.createServer(httpServerOptions(), cfg.httpHandler ?? defaultHttpHandler);
    ws = attachWebSocket(httpServer, { path: cfg.path, options: cfg.options, tls: secure }, handler);
    server = httpServer;
  } else {
    const httpServer = cfg.kind === 'universal' ? http.createServer(httpServerOptions(), cfg.httpHandler ?? defaultHttpHandler) : null;
    if (httpServer) ws = attachWebSocket(httpServer, { path: cfg.path, options: cfg.options, tls: secure }, handler);
    const onSocket = (socket: net.Socket): void => {
      if (httpServer) sniff(socket, httpServer, rawsocket);
      else rawsocket(socket);
    };
    if (tlsOptions) server = tls.createServer(tlsOptions, onSocket);
    else server = net.createServer(onSocket);
    // A failed TLS handshake must not crash the process.
    server.on('tlsClientError', () => {
      /* the socket is destroyed by tls */
    });
  }
  server.on('connection', (s: net.Socket) => {
    // TCP keepalive finds peers that vanished without a FIN even when auto-ping is off.
    s.setKeepAlive(true, 30_000);
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(cfg.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', () => {
    /* after listening: per-socket errors are handled on the sockets */
  });
  const port = (server.address() as net.AddressInfo).port;
  const base = `${urlHost(host)}:${port}`;
  const wsUrl = `${secure ? 'wss' : 'ws'}://${base}${cfg.path === '*' ? '/' : (cfg.path ?? '/ws')}`;
  const rsUrl = `${secure ? 'rss' : 'rs'}://${base}`;

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      const wamp = [...(ws?.connections ?? []), ...rsConnections];
      ws?.detach();
      for (const c of wamp) c.close(1001, LISTENER_CLOSED_REASON);
      // Each graceful close ends by itself or is cut after CLOSE_GRACE_MS; the rest (idle HTTP,
      // handshakes in progress) has no one to wait for.
      let guard: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(wamp.map((c) => c.gone)),
        new Promise<void>((resolve) => {
          guard = setTimeout(resolve, CLOSE_GRACE_MS + 500);
          guard.unref();
        }),
      ]);
      clearTimeout(guard);
      for (const s of sockets) s.destroy();
      await serverClosed;
    })();
    return closing;
  };

  return {
    kind: cfg.kind,
    host,
    port,
    url: cfg.kind === 'rawsocket' ? rsUrl : wsUrl,
    rawsocketUrl: cfg.kind === 'websocket' ? undefined : rsUrl,
    get connectionCount() {
      return (ws?.connections.size ?? 0) + rsConnections.size;
    },
    close,
  };
}
