/**
 * The bridge's HTTP routes (express 5): every endpoint of grafana-simple-json-datasource 1.4 and of
 * simPod's JSON datasource ≤ 0.6, over the field catalogue and the query engine.
 *
 *   GET  /                        health: 200 {status: "ok", nodes, router}; 503 {message} when the
 *                                 router or the hub is unreachable
 *   GET  /healthz                 the same as {status: "ok"|"unavailable"} (as on --metrics-port)
 *   GET  /metrics                 Prometheus text: request latency and errors by route (metrics.ts)
 *   POST /search                  {target} → ["node::field", …] (filter: substring, glob, `nodes()`)
 *   POST /query                   → [{target, refId, datapoints: [[v, ms], …]} | {type: "table", columns, rows}]
 *   POST /annotations             {range, annotation: {query}} → [{annotation, time, title, text, tags}]
 *   POST /tag-keys                → [{type: "string", text: "node"}, {…"field"}]
 *   POST /tag-values              {key} → [{text}, …]
 *   POST /metrics                 → [{label, value: "node::field", payloads: []}]
 *   POST /metric-payload-options  → []
 *   POST /variable                {payload: {target}} → [{__text, __value}]
 *   GET|POST /infinity/query      the Infinity datasource's shape (infinity.ts): wide or long, JSON or CSV
 *   GET  /infinity/nodes|fields|events   lists for Infinity variables and annotations
 *
 * Every data route answers 503 {message} while the router (or the hub) is unreachable, and every
 * error is `{"message": …}` with a 4xx/5xx status; nothing a client sends stops the bridge.
 */
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { SisockClient } from '../../client';
import { silentLogger, type Logger } from '../../common/log';
import { redactSecrets, redactUrl } from '../../common/redact';
import { authMiddleware, corsMiddleware, type AuthConfig } from './auth';
import type { FieldCatalogue } from './catalogue';
import type { HistoryFallback } from './history';
import { HttpError, unavailable } from './errors';
import { infinityFields, infinityParams, infinityQuery } from './infinity';
import type { MetricsMiddleware } from './metrics';
import type { Registry } from 'prom-client';
import type { QueryEngine } from './query';
import {
  DEFAULT_LIMITS,
  globMatcher,
  parseAnnotationRequest,
  parseRange,
  parseQueryRequest,
  parseSearchTarget,
  parseTagValuesRequest,
  type RequestLimits,
} from './request';

export interface BridgeDeps {
  client: SisockClient;
  catalogue: FieldCatalogue;
  engine: QueryEngine;
  auth?: AuthConfig;
  corsOrigin?: string;
  limits?: RequestLimits;
  logger?: Logger;
  /** Largest request body (default 2 MB). */
  bodyLimit?: string;
  /** Clock for relative times, epoch ms (tests). */
  now?: () => number;
  /** More routes (the web page), mounted after the Grafana ones, behind the same auth. */
  extra?: Router[];
  /** Request metrics (metrics.ts), installed before everything else. */
  metrics?: MetricsMiddleware;
  /** Served as GET /metrics (Prometheus text; POST /metrics stays simPod's metric list). */
  registry?: Registry;
  /** With --history: /search and /infinity/fields also list the fields the historian holds of offline nodes. */
  history?: HistoryFallback;
}

type AsyncRoute = (req: Request, res: Response) => Promise<unknown>;

/** Wraps an async route: its resolved value is sent as JSON, a throw goes to the error handler. */
const route = (f: AsyncRoute) => (req: Request, res: Response, next: NextFunction) => {
  f(req, res).then((body) => {
    if (!res.headersSent) res.json(body);
  }, next);
};

/** All `node::field` names matching a /search or /variable target. */
export function searchNames(names: string[], target: string): string[] {
  if (target === '' || target === '*') return names;
  if (/[*?{]/.test(target)) {
    const m = globMatcher(target);
    return names.filter((n) => m.test(n));
  }
  const needle = target.toLowerCase();
  return names.filter((n) => n.toLowerCase().includes(needle));
}

export function createBridgeApp(deps: BridgeDeps): express.Express {
  const { client, catalogue, engine } = deps;
  const log = (deps.logger ?? silentLogger).child({ part: 'http' });
  const limits = deps.limits ?? DEFAULT_LIMITS;
  const now = deps.now ?? Date.now;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  if (deps.metrics) app.use(deps.metrics);
  app.use(corsMiddleware(deps.corsOrigin));
  app.use(authMiddleware(deps.auth ?? {}));
  // Grafana sends application/json; curl users often forget the header: parse every POST body.
  app.use(express.json({ limit: deps.bodyLimit ?? '2mb', type: () => true, strict: false }));

  /** Data routes answer 503 at once while the router is away (instead of waiting for it). */
  const gate = (_req: Request, _res: Response, next: NextFunction) => {
    if (!client.isReady) next(unavailable(`sisock router unreachable (${client.options.url}, realm ${client.options.realm})`));
    else next();
  };

  const allNames = async (): Promise<string[]> => {
    const nodes = await catalogue.all();
    const names: string[] = [];
    for (const n of nodes) for (const f of Object.keys(n.fields ?? {}).sort()) names.push(`${n.name}::${f}`);
    if (deps.history) {
      const offline = await deps.history.offlineFields(new Set(nodes.map((n) => n.name)));
      for (const x of offline) names.push(`${x.node}::${x.field}`);
    }
    return names;
  };
  const search = async (body: unknown): Promise<string[]> => {
    const target = parseSearchTarget(body);
    if (target === 'nodes()') {
      await catalogue.ensureSynced();
      return catalogue.nodes().map((n) => n.name);
    }
    return searchNames(await allNames(), target);
  };

  app.get('/', async (_req, res) => {
    const problem = await catalogue.problem();
    if (problem) {
      res.status(503).json({ status: 'error', message: problem });
      return;
    }
    const nodes = catalogue.nodes().length;
    res.json({
      status: 'ok',
      message: `sisock bridge: ${nodes} data node${nodes === 1 ? '' : 's'} online`,
      nodes,
      router: redactUrl(client.options.url),
      realm: client.options.realm,
    });
  });

  // Operations on the bridge's own port (as on --metrics-port): Prometheus text and health.
  app.get('/metrics', async (_req, res) => {
    if (!deps.registry) {
      res.status(404).json({ message: 'no metrics registry: start the bridge with one' });
      return;
    }
    res.type(deps.registry.contentType).send(await deps.registry.metrics());
  });
  app.get('/healthz', async (_req, res) => {
    const problem = await catalogue.problem();
    res
      .status(problem ? 503 : 200)
      .json(
        problem
          ? { status: 'unavailable', message: problem, router: redactUrl(client.options.url) }
          : { status: 'ok', nodes: catalogue.nodes().length, router: redactUrl(client.options.url), realm: client.options.realm },
      );
  });

  app.post(
    '/search',
    gate,
    route(async (req) => search(req.body)),
  );
  app.post(
    '/variable',
    gate,
    route(async (req) => (await search(req.body)).map((n) => ({ __text: n, __value: n }))),
  );
  app.post(
    '/query',
    gate,
    route(async (req) => engine.query(parseQueryRequest(req.body, now(), limits))),
  );
  app.post(
    '/annotations',
    gate,
    route(async (req) => {
      const a = parseAnnotationRequest(req.body, now(), limits);
      return engine.annotations(a.range, a.query, a.annotation);
    }),
  );
  app.post(
    '/tag-keys',
    gate,
    route(async () => {
      await catalogue.ensureSynced();
      return [
        { type: 'string', text: 'node' },
        { type: 'string', text: 'field' },
      ];
    }),
  );
  app.post(
    '/tag-values',
    gate,
    route(async (req) => {
      const key = parseTagValuesRequest(req.body);
      const nodes = await catalogue.all();
      if (key === 'node') return nodes.map((n) => ({ text: n.name }));
      if (key === 'field') return [...new Set(nodes.flatMap((n) => Object.keys(n.fields ?? {})))].sort().map((f) => ({ text: f }));
      return [];
    }),
  );
  app.post(
    '/metrics',
    gate,
    route(async () => {
      const nodes = await catalogue.all();
      const out: Array<Record<string, unknown>> = [];
      for (const n of nodes) {
        for (const [f, info] of Object.entries(n.fields ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
          const name = `${n.name}::${f}`;
          out.push({ label: info.units ? `${name} [${info.units}]` : name, value: name, payloads: [] });
        }
      }
      return out;
    }),
  );
  app.post(
    '/metric-payload-options',
    gate,
    route(async () => {
      await catalogue.ensureSynced();
      return [];
    }),
  );

  // Infinity datasource (infinity.ts): GET and POST, JSON or CSV.
  const infinity = async (req: Request, res: Response) => {
    const answer = await infinityQuery(engine, infinityParams(req), now(), limits);
    res.type(answer.contentType).send(answer.body);
  };
  app.get('/infinity/query', gate, route(infinity));
  app.post('/infinity/query', gate, route(infinity));
  app.get(
    '/infinity/nodes',
    gate,
    route(async () => {
      await catalogue.ensureSynced();
      return catalogue.nodes().map((n) => ({ node: n.name, description: n.description }));
    }),
  );
  app.get(
    '/infinity/fields',
    gate,
    route(async (req) => infinityFields(catalogue, infinityParams(req), deps.history)),
  );
  app.get(
    '/infinity/events',
    gate,
    route(async (req) => {
      const p = infinityParams(req);
      const range = parseRange({ range: { from: p.from ?? 'now-7d', to: p.to ?? 'now' } }, now(), limits);
      await catalogue.ensureSynced();
      return catalogue.events(range.from, range.to).map((e) => ({
        time: e.time,
        title: `${e.name} ${e.kind === 'added' ? 'online' : 'offline'}`,
        text: e.description,
        node: e.name,
        kind: e.kind,
        tags: `sisock,node,${e.kind}`,
      }));
    }),
  );

  for (const r of deps.extra ?? []) app.use(r);

  app.use((req: Request, res: Response) => {
    res.status(404).json({ message: `no such route: ${req.method} ${req.path}` });
  });

  // express error handler (4 arguments): every error is {"message"} with a 4xx/5xx status.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = err as { status?: number; statusCode?: number; type?: string; message?: string };
    let status = 500;
    let message = e?.message ?? String(err);
    if (err instanceof HttpError) status = err.status;
    else if (e?.type === 'entity.parse.failed') {
      status = 400;
      message = `invalid JSON body: ${message}`;
    } else if (e?.type === 'entity.too.large') {
      status = 413;
      message = `request body too large (limit ${deps.bodyLimit ?? '2mb'})`;
    } else if (typeof (e?.status ?? e?.statusCode) === 'number' && (e.status ?? e.statusCode)! >= 400) status = (e.status ?? e.statusCode)!;
    // 503 (router or hub away) is said once by the client's own log, not on every panel refresh
    if (status >= 500 && status !== 503) log.warn({ err: message, path: req.path, status }, 'request failed');
    else log.debug({ err: message, path: req.path, status }, 'request refused');
    if (res.headersSent) {
      res.end();
      return;
    }
    // a message may quote the router's URL (or a database's): never its user:password@
    res.status(status).json({ message: redactSecrets(message) });
  });
  return app;
}
