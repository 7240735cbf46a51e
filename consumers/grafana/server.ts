/**
 * startBridge: the Grafana bridge (and, unless `page: false`, the web page) on one HTTP port.
 *
 *   const bridge = await startBridge({ client: clientOptionsFromEnv(flags), port: 5000 });
 *   bridge.url      // http://127.0.0.1:5000      (Grafana datasource URL)
 *   bridge.pageUrl  // http://127.0.0.1:5000/page/
 *   await bridge.close();
 *
 * Resolves once listening, without waiting for the router: until the router answers, the routes
 * say 503, and the bridge connects (and reconnects) on its own.
 */
import { capConnections, httpServerOptions } from '../../common/http-limits';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SisockClient, type ClientOptions } from '../../client';
import { ErrorCode, SisockError } from '../../common/errors';
import { silentLogger, type Logger } from '../../common/log';
import { LiveRelay } from '../web/live';
import { createBridgeApp } from './app';
import { authEnabled, authFromEnv, type AuthConfig } from './auth';
import { FieldCatalogue } from './catalogue';
import { webRoutes } from './page';
import { GrafanaLivePusher, type LivePushOptions } from './live-push';
import { QueryEngine } from './query';
import { HistoryFallback } from './history';
import { DEFAULT_LIMITS, type RequestLimits } from './request';
import { Registry } from 'prom-client';
import { bridgeMetricsMiddleware } from './metrics';

export interface BridgeOptions {
  /** Connection options (the bridge owns and closes the client) or an existing client. */
  client: ClientOptions | SisockClient;
  /** TCP port, 0 = any free one (default 5000). */
  port?: number;
  /** Interface to bind (default 0.0.0.0: Grafana usually runs in another container). */
  host?: string;
  logger?: Logger;
  /** Default: from the environment (auth.ts). */
  auth?: AuthConfig;
  /** Access-Control-Allow-Origin (default env SISOCK_GRAFANA_CORS_ORIGIN or `*`). */
  corsOrigin?: string;
  /** Serve the web page and its API too (default true). */
  page?: boolean;
  limits?: Partial<RequestLimits>;
  /** See QueryEngine: `auto` (default) asks nodes for min_stride, `off` fetches raw. */
  nodeStride?: 'auto' | 'off';
  /** Field lists older than this are refreshed when asked for (default 5000 ms). */
  fieldsTtlMs?: number;
  /** Timeout of one get_data, ms (default 30000). */
  callTimeoutMs?: number;
  /** Most points in one /query answer (default 5,000,000; more → 400). */
  maxTotalPoints?: number;
  /** Most concurrent live (SSE) streams of the web page (default 256; more → 503). */
  maxLiveStreams?: number;
  /** Prometheus registry for request latency and error metrics (metrics.ts). */
  metrics?: Registry;
  /** Push live samples to Grafana Live (live-push.ts); off unless given. */
  livePush?: Omit<LivePushOptions, 'logger'>;
  /** Name of the historian node to ask for offline nodes and older ranges (history.ts); default: none. */
  history?: string;
}

export interface RunningBridge {
  readonly url: string;
  readonly pageUrl: string | null;
  readonly port: number;
  readonly client: SisockClient;
  readonly catalogue: FieldCatalogue;
  /** The Grafana Live pusher, when `livePush` was given. */
  readonly livePusher: GrafanaLivePusher | null;
  close(): Promise<void>;
}

export async function startBridge(opts: BridgeOptions): Promise<RunningBridge> {
  const log = (opts.logger ?? silentLogger).child({ component: 'grafana' });
  const ownsClient = !(opts.client instanceof SisockClient);
  // Fail fast while the router is away: data routes answer 503 instead of hanging.
  const client = opts.client instanceof SisockClient ? opts.client : new SisockClient({ logger: log, connectWaitMs: 2000, ...opts.client });
  const auth = opts.auth ?? authFromEnv();
  const catalogue = new FieldCatalogue(client, { logger: log, fieldsTtlMs: opts.fieldsTtlMs });
  const history = opts.history ? { history: new HistoryFallback(client, opts.history, log, opts.callTimeoutMs) } : {};
  const engine = new QueryEngine(client, catalogue, {
    nodeStride: opts.nodeStride,
    callTimeoutMs: opts.callTimeoutMs,
    maxTotalPoints: opts.maxTotalPoints,
    ...history,
  });
  const live = new LiveRelay(client);
  // Checked before anything starts (a bad URL or stream id throws here).
  const livePusher = opts.livePush ? new GrafanaLivePusher({ ...opts.livePush, logger: log }, catalogue, live) : null;
  // GET /metrics on the bridge's own port serves this (also --metrics-port's, when given).
  const registry = opts.metrics ?? new Registry();
  const page = opts.page ?? true;
  const app = createBridgeApp({
    client,
    catalogue,
    engine,
    auth,
    logger: log,
    corsOrigin: opts.corsOrigin ?? process.env.SISOCK_GRAFANA_CORS_ORIGIN ?? '*',
    limits: { ...DEFAULT_LIMITS, ...(opts.limits ?? {}) },
    extra: page ? [webRoutes({ client, catalogue, live, maxLiveStreams: opts.maxLiveStreams })] : [],
    metrics: bridgeMetricsMiddleware(registry),
    registry,
    history: history.history,
  });
  await catalogue.start();

  const server = http.createServer(httpServerOptions(), app);
  server.keepAliveTimeout = 65_000; // longer than Grafana's idle connection timeout
  capConnections(server, {}, log, 'grafana bridge');
  const host = opts.host ?? '0.0.0.0';
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) =>
      reject(new SisockError(ErrorCode.LISTEN_FAILED, `cannot listen on ${host}:${opts.port ?? 5000}: ${err.message}`, { cause: err }));
    server.once('error', onError);
    server.listen(opts.port ?? 5000, host, () => {
      server.off('error', onError);
      resolve();
    });
  }).catch(async (err) => {
    await catalogue.close().catch(() => undefined);
    if (ownsClient) await client.close().catch(() => undefined);
    throw err;
  });
  const port = (server.address() as AddressInfo).port;
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const url = `http://${shown}:${port}`;
  log.info({ url, auth: authEnabled(auth) ? Object.keys(auth).join('+') : 'none', page }, 'grafana bridge listening');
  livePusher?.start();

  let closing: Promise<void> | null = null;
  return {
    url,
    pageUrl: page ? `${url}/page/` : null,
    port,
    client,
    catalogue,
    livePusher,
    close() {
      if (closing) return closing;
      closing = (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections(); // SSE streams and keep-alive sockets
        await closed;
        await livePusher?.close();
        await live.close();
        await catalogue.close();
        if (ownsClient) await client.close();
      })();
      return closing;
    },
  };
}
