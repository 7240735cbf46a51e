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
import * as grpc from '@grpc/grpc-js';
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
  close(): Promise<void>;
}

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
  };
  const events = new EventEmitter();
  const bridge = new GrpcBridge(client, limits, log, events);
  const live = new LiveHub(client);
  const { service } = loadSisockProto();

  const server = new grpc.Server({
    'grpc.max_send_message_length': Math.max(4 * 1024 * 1024, limits.chunks.maxBytes * 2),
    // requests are small; bound what one connection may ask for at once and how long it may idle
    'grpc.max_receive_message_length': 1024 * 1024,
    'grpc.max_concurrent_streams': 100,
    'grpc.max_connection_idle_ms': 5 * 60_000,
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
  const bindHost = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(`${bindHost}:${opts.port ?? DEFAULT_GRPC_PORT}`, creds, (err, p) => (err ? reject(err) : resolve(p)));
    });
  } catch (err) {
    if (ownsClient) await client.close();
    throw err;
  }
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
    close() {
      if (closing) return closing;
      closing = (async () => {
        for (const ctx of [...bridge.contexts]) ctx.cancel('shutdown');
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
        await live.close();
        if (ownsClient) await client.close();
      })();
      return closing;
    },
  };
}
