/**
 * Prometheus metrics of the bridge's HTTP side (served by `--metrics-port`, common/ops-http.ts):
 *
 *   sisock_grafana_request_duration_seconds{route, method, status}   histogram
 *   sisock_grafana_errors_total{route, status}                         responses with status >= 400
 *
 * `route` is the matched route pattern (`/query`, `/search`, …), `other` for anything unmatched,
 * so that arbitrary URLs cannot grow the label set.
 */
import type { NextFunction, Request, Response } from 'express';
import { Counter, Histogram, type Registry } from 'prom-client';

export type MetricsMiddleware = (req: Request, res: Response, next: NextFunction) => void;

export function bridgeMetricsMiddleware(registry: Registry): MetricsMiddleware {
  const registers = [registry];
  const latency = new Histogram({
    name: 'sisock_grafana_request_duration_seconds',
    help: 'Time to answer one HTTP request of the Grafana bridge, by route',
    labelNames: ['route', 'method', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  const errors = new Counter({
    name: 'sisock_grafana_errors_total',
    help: 'HTTP responses of the Grafana bridge with a 4xx/5xx status, by route and status',
    labelNames: ['route', 'status'],
    registers,
  });
  return (req, res, next) => {
    const t0 = process.hrtime.bigint();
    res.once('finish', () => {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const matched = (req.route as { path?: unknown } | undefined)?.path;
      const route = typeof matched === 'string' ? `${req.baseUrl ?? ''}${matched}` : 'other';
      const status = String(res.statusCode);
      latency.observe({ route, method: req.method, status }, seconds);
      if (res.statusCode >= 400) errors.inc({ route, status });
    });
    next();
  };
}
