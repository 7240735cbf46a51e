/**
 * The operations endpoint of every long-running command (`--metrics-port P`):
 *
 *   GET /metrics   Prometheus text format (process metrics + what the command registered)
 *   GET /healthz   200 {"status": "ok", …} when connected/serving, 503 {"status": "unavailable", …}
 *
 * A separate port from the service's own (the Grafana bridge's JSON API has a POST /metrics of its
 * own), bound to 127.0.0.1 unless `--metrics-host` says otherwise.
 */
import { capConnections, httpServerOptions } from './http-limits';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { InvalidArgumentError, type Command } from 'commander';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { ErrorCode, SisockError } from './errors';
import { silentLogger, type Logger } from './log';
import { redactObject } from './redact';

export interface Health {
  /** true: 200, false: 503. */
  ok: boolean;
  /** Anything else worth showing (sessions, router URL, node name …). */
  [key: string]: unknown;
}

export interface OpsServerOptions {
  port: number;
  host?: string;
  registry: Registry;
  health: () => Health | Promise<Health>;
  logger?: Logger;
}

export interface OpsServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** A registry with the default process metrics (CPU, memory, event-loop lag, …) under `sisock_`. */
export function processRegistry(labels: Record<string, string> = {}): Registry {
  const registry = new Registry();
  if (Object.keys(labels).length > 0) registry.setDefaultLabels(labels);
  collectDefaultMetrics({ register: registry, prefix: 'sisock_' });
  return registry;
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  // a health answer or an error may quote a URL (router, database): never its user:password@
  const text = JSON.stringify(redactObject(body));
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(text);
}

export async function startOpsServer(opts: OpsServerOptions): Promise<OpsServer> {
  const log = opts.logger ?? silentLogger;
  const server = http.createServer(httpServerOptions(), (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, { message: 'only GET' });
      return;
    }
    if (path === '/metrics') {
      opts.registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': opts.registry.contentType });
          res.end(text);
        },
        (err: Error) => {
          log.error({ err }, 'metrics collection failed');
          sendJson(res, 500, { message: err.message });
        },
      );
      return;
    }
    if (path === '/healthz' || path === '/health') {
      Promise.resolve()
        .then(() => opts.health())
        .then(
          (h) => {
            const { ok, ...rest } = h;
            sendJson(res, ok ? 200 : 503, { status: ok ? 'ok' : 'unavailable', ...rest });
          },
          (err: Error) => sendJson(res, 503, { status: 'unavailable', message: err.message }),
        );
      return;
    }
    sendJson(res, 404, { message: 'not found: GET /metrics or /healthz' });
  });
  capConnections(server, { maxConnections: 200, maxConnectionsPerIp: 50 }, log, 'metrics');
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) =>
      reject(
        new SisockError(ErrorCode.LISTEN_FAILED, `metrics endpoint: cannot listen on ${host}:${opts.port}: ${err.message}`, { cause: err }),
      );
    server.once('error', onError);
    server.listen(opts.port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const url = `http://${shown}:${port}`;
  log.info({ url }, 'metrics and health endpoint listening');
  let closing: Promise<void> | null = null;
  return {
    url,
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** The flags as commander gives them. */
export interface OpsFlags {
  metricsPort?: number;
  metricsHost?: string;
}

function parseOpsPort(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 65535) throw new InvalidArgumentError('must be an integer in 0..65535');
  return Number(value);
}

/** Adds `--metrics-port` (env SISOCK_METRICS_PORT) and `--metrics-host` (env SISOCK_METRICS_HOST). */
export function addOpsOptions(cmd: Command): Command {
  return cmd
    .option(
      '--metrics-port <port>',
      'serve GET /metrics (Prometheus) and GET /healthz on this port (env SISOCK_METRICS_PORT; default: off)',
      parseOpsPort,
    )
    .option('--metrics-host <host>', 'interface of --metrics-port (env SISOCK_METRICS_HOST, default 127.0.0.1)');
}

/** Port and host from flags over the environment; null when the endpoint is off. */
export function opsEndpointFrom(flags: OpsFlags, env: NodeJS.ProcessEnv = process.env): { port: number; host: string } | null {
  let port = flags.metricsPort;
  if (port === undefined && env.SISOCK_METRICS_PORT !== undefined && env.SISOCK_METRICS_PORT !== '') {
    port = parseOpsPort(env.SISOCK_METRICS_PORT);
  }
  if (port === undefined) return null;
  return { port, host: flags.metricsHost ?? env.SISOCK_METRICS_HOST ?? '127.0.0.1' };
}

/** Where to serve, and the registry the command fills; null when the endpoint is off. */
export interface OpsPlan {
  port: number;
  host: string;
  registry: Registry;
}

/** Reads the flags (and environment); creates the registry only when the endpoint is on. */
export function planOps(flags: OpsFlags, component: string, env: NodeJS.ProcessEnv = process.env): OpsPlan | null {
  const where = opsEndpointFrom(flags, env);
  return where ? { ...where, registry: processRegistry({ component }) } : null;
}

/**
 * Starts the endpoint of `plan` (a no-op closable when null) and prints `metrics: <url>/metrics`
 * on stdout.
 */
export async function startOps(
  plan: OpsPlan | null,
  health: () => Health | Promise<Health>,
  logger?: Logger,
): Promise<{ close(): Promise<void> }> {
  if (!plan) return { close: () => Promise.resolve() };
  const server = await startOpsServer({ ...plan, health, logger });
  process.stdout.write(`metrics: ${server.url}/metrics\n`);
  return server;
}
