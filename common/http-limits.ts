/**
 * Limits every sisock HTTP server applies (Grafana bridge and web page, metrics/health endpoint,
 * the router's web transport): a request's headers must arrive within `headersTimeoutMs` and the
 * whole request (body included) within `requestTimeoutMs` (a trickled body is cut, HTTP 408);
 * idle keep-alive sockets are closed; at most `maxConnections` sockets in all and
 * `maxConnectionsPerIp` from one address (more are destroyed at once, logged a few times per window).
 * Environment overrides: SISOCK_HTTP_HEADERS_TIMEOUT_MS (default 10 000), SISOCK_HTTP_REQUEST_TIMEOUT_MS
 * (30 000), SISOCK_HTTP_MAX_CONNECTIONS (2 000), SISOCK_HTTP_MAX_CONNECTIONS_PER_IP (200).
 */
import type * as http from 'node:http';
import type { Server as NetServer, Socket } from 'node:net';
import { RateLimitedLog } from './config-file';
import { silentLogger, type Logger } from './log';

export interface HttpLimits {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  maxConnections: number;
  maxConnectionsPerIp: number;
}

/** A positive integer from the environment, else `fallback`. */
export function envInt(name: string, fallback: number): number {
  const v = Number(process.env[name]);
  return Number.isSafeInteger(v) && v > 0 ? v : fallback;
}

export function defaultHttpLimits(): HttpLimits {
  return {
    headersTimeoutMs: envInt('SISOCK_HTTP_HEADERS_TIMEOUT_MS', 10_000),
    requestTimeoutMs: envInt('SISOCK_HTTP_REQUEST_TIMEOUT_MS', 30_000),
    maxConnections: envInt('SISOCK_HTTP_MAX_CONNECTIONS', 2_000),
    maxConnectionsPerIp: envInt('SISOCK_HTTP_MAX_CONNECTIONS_PER_IP', 200),
  };
}

/** Options for http.createServer / https.createServer: the timeouts, checked every second. */
export function httpServerOptions(limits: Partial<HttpLimits> = {}): http.ServerOptions {
  const l = { ...defaultHttpLimits(), ...limits };
  return {
    headersTimeout: Math.min(l.headersTimeoutMs, l.requestTimeoutMs),
    requestTimeout: l.requestTimeoutMs,
    connectionsCheckingInterval: 1000,
    maxHeaderSize: 16 * 1024,
  };
}

/** Counts sockets per address on `server` (or on all of several, together) and destroys those over the caps. Returns a refused-count reader. */
export function capConnections(
  server: NetServer | NetServer[],
  limits: Partial<HttpLimits> = {},
  logger: Logger = silentLogger,
  what = 'http',
): () => number {
  const l = { ...defaultHttpLimits(), ...limits };
  const perIp = new Map<string, number>();
  const log = new RateLimitedLog((obj, msg) => logger.warn(obj, msg), 10, 10_000);
  let open = 0;
  let refused = 0;
  const onConnection = (s: Socket) => {
    const ip = s.remoteAddress ?? 'unknown';
    const n = perIp.get(ip) ?? 0;
    if (open >= l.maxConnections || n >= l.maxConnectionsPerIp) {
      refused++;
      log.log({ server: what, peer: ip, open, fromPeer: n }, 'connection refused: over the connection cap');
      s.destroy();
      return;
    }
    open++;
    perIp.set(ip, n + 1);
    s.once('close', () => {
      open--;
      const m = (perIp.get(ip) ?? 1) - 1;
      if (m <= 0) perIp.delete(ip);
      else perIp.set(ip, m);
    });
  };
  // several listeners of one service (every address of a host name) share the caps
  for (const srv of Array.isArray(server) ? server : [server]) srv.on('connection', onConnection);
  return () => refused;
}
