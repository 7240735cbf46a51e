/**
 * The gRPC data API (`sisock grpc`, sisock.proto package sisock.v1): a bridge to WAMP through the
 * client wrapper.
 *
 *   const srv = await startGrpcServer({ client: clientOptionsFromEnv(flags), port: 50051 });
 *   srv.address  // "127.0.0.1:50051"
 *   await srv.close();
 *
 * This module wires the pieces: one module per method (list-nodes.ts, get-fields.ts, get-data.ts,
 * subscribe.ts), the state they share (bridge.ts: client, limits, calls in progress), per-call
 * state (call-context.ts), request checks (requests.ts), status codes (errors.ts). Deadlines: every
 * WAMP call made for a gRPC call gets the time left before the deadline as its timeout (and
 * `callTimeoutMs` at most).
 */
import { EventEmitter } from 'node:events';
import { promises as dns } from 'node:dns';
import * as net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { RateLimitedLog } from '../../common/config-file';
import { capConnections, defaultHttpLimits, envInt, type HttpLimits } from '../../common/http-limits';
import { silentLogger, type Logger } from '../../common/log';
import { SisockClient, type ClientOptions } from '../../client';
import { GrpcBridge, type BridgeLimits } from './bridge';
import { getDataMethod } from './get-data';
import { getFieldsMethod } from './get-fields';
import { listNodesMethod } from './list-nodes';
import { loadSisockProto } from './proto';
import { LiveHub, subscribeMethod } from './subscribe';

export type { CallRecord } from './bridge';

export const DEFAULT_GRPC_PORT = 50051;

export interface GrpcServerOptions {
  /** Connection options (the server creates, owns and closes the client) or an existing client. */
  client: ClientOptions | SisockClient;
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  /** Port (default 50051; 0: any free port, see `port` of the result). */
  port?: number;
  /** PEM certificate chain and key: serve TLS instead of plaintext. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  logger?: Logger;
  /** Most samples in one DataChunk (all fields together; default 65536). */
  chunkPoints?: number;
  /** About the most payload bytes in one DataChunk (default 1 MiB). */
  chunkBytes?: number;
  /** Samples the bridge aims at per get_data window it asks a node for (default 200000). */
  windowPoints?: number;
  /** Timeout of one WAMP call when the gRPC call has no (earlier) deadline, ms (default 60000). */
  callTimeoutMs?: number;
  /** How long a call waits for the WAMP session when the router is unreachable, ms (default 5000). */
  connectWaitMs?: number;
  /** Chunks a Subscribe reader may lag behind before it is dropped (RESOURCE_EXHAUSTED; default 1000). */
  maxLiveBacklog?: number;
  /** Bytes (about) a Subscribe reader may lag behind before it is dropped (default 16 MiB). */
  maxLiveBacklogBytes?: number;
  /**
   * Connection caps, as every sisock HTTP server's (common/http-limits.ts; env SISOCK_HTTP_MAX_CONNECTIONS,
   * SISOCK_HTTP_MAX_CONNECTIONS_PER_IP): sockets over them are closed at once and logged. A connection
   * must have sent its HTTP/2 greeting within `headersTimeoutMs` (SISOCK_HTTP_HEADERS_TIMEOUT_MS, 10 s), and
   * each request whole within `requestTimeoutMs` (SISOCK_HTTP_REQUEST_TIMEOUT_MS, 30 s), or is closed.
   */
  connectionLimits?: Partial<Pick<HttpLimits, 'maxConnections' | 'maxConnectionsPerIp' | 'headersTimeoutMs' | 'requestTimeoutMs'>>;
  /**
   * GetData and Subscribe calls open at once, in all (env SISOCK_GRPC_MAX_STREAMS, default 128) and from
   * one address or IPv6 /64 (SISOCK_GRPC_MAX_STREAMS_PER_IP, 32), more are
   * RESOURCE_EXHAUSTED; a GetData call whose connection sends nothing for `stallMs` (30 000) is dropped with its
   * connection (as is a Subscribe reader `maxLiveBacklog` chunks or `maxLiveBacklogBytes` behind).
   */
  streamLimits?: Partial<Pick<BridgeLimits, 'maxStreams' | 'maxStreamsPerIp' | 'stallMs'>>;
  /**
   * The server pings each connection every `timeMs` (default 60 000) and closes one that has not answered
   * within `timeoutMs` (20 000).
   */
  keepalive?: { timeMs?: number; timeoutMs?: number };
}

export interface RunningGrpcServer {
  readonly host: string;
  readonly port: number;
  /** `host:port` */
  readonly address: string;
  readonly tls: boolean;
  readonly client: SisockClient;
  /** Emits 'callEnd' (CallRecord) when a call is over, after the last WAMP call it made settled. */
  readonly events: EventEmitter;
  /** get_data calls made to nodes since the start (all calls together). */
  readonly stats: { nodeGetDataCalls: number; activeCalls: number };
  /** Connections closed at once for being over the connection caps, since the start. */
  refusedConnections(): number;
  /** Connections closed for not having sent their HTTP/2 greeting in time, since the start. */
  silentConnections(): number;
  close(): Promise<void>;
}

/** An HTTP/2 client's first bytes: the 24-byte connection preface and the 9-byte header of its SETTINGS frame. */
const GREETING_BYTES = 24 + 9;

export async function startGrpcServer(opts: GrpcServerOptions): Promise<RunningGrpcServer> {
  const log = (opts.logger ?? silentLogger).child({ component: 'grpc' });
  const ownsClient = !(opts.client instanceof SisockClient);
  const client =
    opts.client instanceof SisockClient
      ? opts.client
      : // JSON first: for large get_data answers autobahn's msgpack decoder is several times slower
        new SisockClient({ logger: log, connectWaitMs: opts.connectWaitMs ?? 5000, serializers: ['json'], ...opts.client });
  client.start();
  const host = opts.host ?? '127.0.0.1';
  const limits: BridgeLimits = {
    callTimeoutMs: opts.callTimeoutMs ?? 60000,
    connectWaitMs: opts.connectWaitMs ?? client.options.connectWaitMs ?? 5000,
    chunks: { maxPoints: Math.max(1, opts.chunkPoints ?? 65536), maxBytes: Math.max(1024, opts.chunkBytes ?? 1024 * 1024) },
    windowPoints: Math.max(1000, opts.windowPoints ?? 200000),
    maxLiveBacklog: opts.maxLiveBacklog ?? 1000,
    maxLiveBacklogBytes: opts.maxLiveBacklogBytes ?? 16 * 2 ** 20,
    maxStreams: opts.streamLimits?.maxStreams ?? envInt('SISOCK_GRPC_MAX_STREAMS', 128),
    maxStreamsPerIp: opts.streamLimits?.maxStreamsPerIp ?? envInt('SISOCK_GRPC_MAX_STREAMS_PER_IP', 32),
    stallMs: opts.streamLimits?.stallMs ?? 30_000,
  };
  const events = new EventEmitter();
  const bridge = new GrpcBridge(client, limits, log, events);
  const live = new LiveHub(client);
  const { service } = loadSisockProto();

  // A request must arrive whole within the HTTP servers' request timeout (SISOCK_HTTP_REQUEST_TIMEOUT_MS,
  // 30 s): grpc-js holds what a slow sender has sent of its message (up to 1 MiB a stream) for as long as
  // it keeps sending (measured: server memory growing 1:1 with 100 streams' trickled bodies) and nothing
  // times that out. The sender's connection is closed (the only way its streams' buffers are let go).
  const requestMs = opts.connectionLimits?.requestTimeoutMs ?? defaultHttpLimits().requestTimeoutMs;
  const requestDeadline: grpc.ServerInterceptor = (_method, call) => {
    let timer: NodeJS.Timeout | undefined;
    const stop = () => clearTimeout(timer);
    return new grpc.ServerInterceptingCall(call, {
      start: (next) => {
        timer = setTimeout(() => bridge.dropPeer(call.getPeer(), `its request did not arrive within ${requestMs} ms`), requestMs);
        timer.unref();
        // every method takes one request message: it has arrived when the client half-closes (grpc-js runs
        // the handler then; a whole message followed by more bytes, or by nothing, is not an arrival)
        next({
          onReceiveHalfClose: (nextHalfClose) => {
            stop();
            nextHalfClose();
          },
          onCancel: stop,
        });
      },
      sendStatus: (status, nextStatus) => {
        stop();
        nextStatus(status);
      },
    });
  };
  const server = new grpc.Server({
    interceptors: [requestDeadline],
    'grpc.max_send_message_length': Math.max(4 * 1024 * 1024, limits.chunks.maxBytes * 2),
    // requests are small; bound what one connection may ask for at once and how long it may idle. A
    // stream holds up to a request being received (1 MiB, which a slow sender keeps as long as it sends)
    // and ~5 MB of response not yet read: 32 streams a connection (grpc-js clients queue calls beyond).
    'grpc.max_receive_message_length': 1024 * 1024,
    'grpc.max_concurrent_streams': 32,
    'grpc.max_connection_idle_ms': 5 * 60_000,
    // After a protocol error (a DATA frame on stream 0, a rapid-reset trip, oversized headers) Node's HTTP/2
    // sends GOAWAY and stops reading the socket: a peer that then closes its end left the server's socket
    // in CLOSE_WAIT, holding a connection slot and ~200-450 KB, for 5-10 min without a stream and possibly
    // for good with one (measured: 300 such sockets took every slot of a server capped at 300). A ping
    // nobody answers ends the session, and its socket with it.
    'grpc.keepalive_time_ms': opts.keepalive?.timeMs ?? 60_000,
    'grpc.keepalive_timeout_ms': opts.keepalive?.timeoutMs ?? 20_000,
  });
  server.addService(service, {
    ListNodes: bridge.unary('ListNodes', listNodesMethod(bridge)),
    GetFields: bridge.unary('GetFields', getFieldsMethod(bridge)),
    GetData: getDataMethod(bridge),
    Subscribe: subscribeMethod(bridge, live),
  } as grpc.UntypedServiceImplementation);

  const creds = opts.tls
    ? grpc.ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(opts.tls.cert), private_key: Buffer.from(opts.tls.key) }], false)
    : grpc.ServerCredentials.createInsecure();
  // Our own listener hands grpc-js the sockets it accepts: grpc-js has no per-address cap, so the one of
  // the HTTP servers counts them first (a peer opening thousands of connections is refused, not served).
  const injector = server.createConnectionInjector(creds);
  // One listener per address of the host ('localhost' is 127.0.0.1 and ::1, as grpc-js's own bind
  // took both); '[::1]' as grpc-js's bind address took it: net.listen wants the bare address.
  let addresses: string[];
  try {
    addresses = await bindAddresses(host.replace(/^\[(.*)\]$/, '$1'));
  } catch (err) {
    injector.destroy();
    if (ownsClient) await client.close();
    throw err;
  }
  const listeners = addresses.map(() => net.createServer());
  const refused = capConnections(listeners, opts.connectionLimits ?? {}, log, 'grpc');
  // Every socket handed over, so close() can end those grpc-js never took up (a peer that connected and
  // said nothing keeps no HTTP/2 session that forceShutdown would end, and the listener waits for it);
  // keyed as grpc-js's call.getPeer() names its connection.
  const sockets = new Map<string, net.Socket>();
  // A peer that connects and says nothing (or a few bytes) has no HTTP/2 session for grpc-js to idle out:
  // it held its connection slot for good (a silent socket was still open after 40 s, measured), and enough
  // of them from enough addresses took every slot of the server. So, as the HTTP servers' headers
  // timeout: a connection that has not sent its greeting (the client preface and a SETTINGS frame header,
  // GREETING_BYTES; over TLS its handshake's first flight is more) within the deadline is closed.
  const greetingMs = opts.connectionLimits?.headersTimeoutMs ?? defaultHttpLimits().headersTimeoutMs;
  let silent = 0;
  // A reader that stopped reading: its calls' data cannot leave, and neither can a status; closing the
  // connection frees them (the peer's other calls end with it).
  // connections the server closes, logged a few times per window (a flood of them must not flood the log)
  const closedLog = new RateLimitedLog((obj, msg) => log.warn(obj, msg), 10, 10_000);
  bridge.peerBytesWritten = (peer) => sockets.get(peer)?.bytesWritten ?? 0;
  bridge.dropPeer = (peer, why) => {
    const s = sockets.get(peer);
    if (!s) return;
    closedLog.log({ peer, why }, 'gRPC: connection closed');
    s.destroy();
  };
  for (const listener of listeners)
    listener.on('connection', (s: net.Socket) => {
      if (s.destroyed) return;
      const peer = `${s.remoteAddress}:${s.remotePort}`;
      sockets.set(peer, s);
      const greeting = setTimeout(() => {
        if (s.bytesRead >= GREETING_BYTES || s.destroyed) return;
        silent++;
        closedLog.log({ peer: s.remoteAddress, bytes: s.bytesRead, ms: greetingMs }, 'gRPC: connection closed: no HTTP/2 greeting in time');
        s.destroy();
      }, greetingMs);
      greeting.unref();
      s.once('close', () => {
        clearTimeout(greeting);
        if (sockets.get(peer) === s) sockets.delete(peer);
      });
      injector.injectConnection(s);
    });
  let port = opts.port ?? DEFAULT_GRPC_PORT;
  // The first address that binds picks the port (0: any free one), the others take the same. An address
  // that cannot be bound (::1 where IPv6 is off) is left out with a warning, as grpc-js's own bind did;
  // the server fails only when none binds.
  const failures: Error[] = [];
  for (const [i, listener] of listeners.entries()) {
    try {
      port = await new Promise<number>((resolve, reject) => {
        listener.once('error', reject);
        listener.listen({ host: addresses[i], port }, () => {
          listener.off('error', reject);
          const a = listener.address();
          resolve(typeof a === 'object' && a ? a.port : 0);
        });
      });
    } catch (err) {
      failures.push(err as Error);
      log.warn({ host, address: addresses[i], err: (err as Error).message }, 'gRPC: cannot listen on this address; left out');
    }
  }
  if (failures.length === listeners.length) {
    injector.destroy();
    if (ownsClient) await client.close();
    throw failures[0] ?? new Error(`gRPC: cannot listen on ${host}`);
  }
  for (let i = listeners.length - 1; i >= 0; i--) if (!listeners[i]?.listening) listeners.splice(i, 1);
  for (const listener of listeners) listener.on('error', (err) => log.warn({ err: err.message }, 'gRPC listener error'));
  log.info({ host, port, tls: !!opts.tls }, 'gRPC server listening');

  let closing: Promise<void> | null = null;
  return {
    host,
    port,
    address: `${host}:${port}`,
    tls: !!opts.tls,
    client,
    events,
    stats: bridge.stats,
    refusedConnections: refused,
    silentConnections: () => silent,
    close() {
      if (closing) return closing;
      closing = (async () => {
        for (const ctx of [...bridge.contexts]) ctx.cancel('shutdown');
        const stopped = Promise.all(listeners.map((l) => new Promise<void>((resolve) => l.close(() => resolve()))));
        await new Promise<void>((resolve) => {
          const force = setTimeout(() => {
            server.forceShutdown();
            resolve();
          }, 2000);
          server.tryShutdown(() => {
            clearTimeout(force);
            resolve();
          });
        });
        injector.destroy();
        for (const s of sockets.values()) s.destroy();
        await stopped;
        await live.close();
        if (ownsClient) await client.close();
      })();
      return closing;
    },
  };
}

/**
 * The addresses to listen on for `host`: an IP address (or '' / '0.0.0.0' / '::', every interface) as
 * given; a name, every address it resolves to (each once).
 */
export async function bindAddresses(host: string): Promise<string[]> {
  if (host === '' || net.isIP(host)) return [host];
  const found = await dns.lookup(host, { all: true });
  const out = [...new Set(found.map((a) => a.address))];
  if (out.length === 0) throw new Error(`${host} resolves to no address`);
  return out;
}
