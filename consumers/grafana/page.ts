/**
 * The web page's server side, mounted on the bridge's express app (same auth, same CORS); the
 * page's files are in consumers/web/ (assets.ts says where):
 *
 *   GET /page/                 the page (web/static/index.html, app.js, style.css), no build step
 *   GET /page/vendor/uPlot.*   uPlot from node_modules (no CDN, no network)
 *   GET /api/nodes             {nodes: [{name, description, metadata, fields, timelines, fieldsError}], router, realm, time}
 *   GET /api/live?target=n::f  Server-Sent Events: `event: data` with {series: {"n::f": {t: [ms], v: […]}}}
 *                              relayed from `<base>.consumer.<n>.data` (one WAMP subscription per
 *                              node, shared); `event: ready` once subscribed; comments as heartbeat;
 *                              at most maxLiveStreams at once (then 503), and a reader that lets
 *                              more than maxLiveBufferBytes pile up is disconnected
 *
 * History comes from the bridge's own POST /query (the page sends a Grafana-shaped request).
 */
import path from 'node:path';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { SisockClient } from '../../client';
import { HubUri } from '../../contract';
import type { FieldCatalogue } from './catalogue';
import { badRequest, unavailable } from './errors';
import { columnOf, toMs } from './query';
import { splitTarget } from './request';
import { staticDir, uplotDir } from '../web/assets';
import type { LiveRelay } from '../web/live';
import { redactUrl } from '../../common/redact';

export interface WebDeps {
  client: SisockClient;
  catalogue: FieldCatalogue;
  live: LiveRelay;
  /** Heartbeat comment period on SSE streams, ms (default 15000). */
  heartbeatMs?: number;
  /** Most targets one live stream may watch (default 200). */
  maxLiveTargets?: number;
  /** Most concurrent live streams (default 256; more → 503). */
  maxLiveStreams?: number;
  /** A live stream whose unsent output exceeds this many bytes (a stalled reader) is closed (default 1 MiB). */
  maxLiveBufferBytes?: number;
  /**
   * Told when a live stream is released ('closed') and when its set-up has run to its end, served
   * or abandoned ('settled'): for metrics, and for tests that must know, not guess, when it happened.
   */
  onLiveStream?: (event: 'closed' | 'settled') => void;
}

export function webRoutes(deps: WebDeps): Router {
  const { client, catalogue, live } = deps;
  const r = express.Router();
  const dir = staticDir();
  const vendor = uplotDir();

  r.get('/page', (req, res, next) => {
    // non-strict routing also sends /page/ here: redirect only the bare /page
    if (req.originalUrl.split('?')[0] === '/page') res.redirect(302, '/page/');
    else next();
  });
  r.get('/page/vendor/:file', (req, res, next) => {
    const file = String(req.params.file);
    if (!['uPlot.iife.min.js', 'uPlot.min.css', 'uPlot.iife.js'].includes(file)) {
      next();
      return;
    }
    res.sendFile(path.join(vendor, file), { maxAge: 3600_000 });
  });
  r.use('/page', express.static(dir, { index: 'index.html', maxAge: 0 }));

  r.get('/api/nodes', (_req: Request, res: Response, next: NextFunction) => {
    void (async () => {
      if (!client.isReady) throw unavailable(`sisock router unreachable (${client.options.url})`);
      const nodes = await catalogue.all();
      let meta: Array<Record<string, unknown>> = [];
      try {
        meta = await client.call<Array<Record<string, unknown>>>(client.uri(HubUri.GET_DATA_NODE_METADATA), [], {}, { timeoutMs: 3000 });
      } catch {
        /* an older hub without metadata: names and fields only */
      }
      const metaByName = new Map((Array.isArray(meta) ? meta : []).map((m) => [m.name as string, m]));
      res.json({
        router: redactUrl(client.options.url),
        realm: client.options.realm,
        time: Date.now(),
        nodes: nodes.map((n) => ({
          name: n.name,
          description: n.description,
          metadata: metaByName.get(n.name) ?? null,
          fields: n.fields ?? {},
          timelines: n.timelines ?? {},
          fieldsError: n.fieldsError,
        })),
      });
    })().catch(next);
  });

  /** Open SSE streams (capped by maxLiveStreams). */
  let streams = 0;
  const maxStreams = deps.maxLiveStreams ?? 256;
  const maxBuffer = deps.maxLiveBufferBytes ?? 1024 * 1024;

  r.get('/api/live', (req: Request, res: Response, next: NextFunction) => {
    const q = req.query.target ?? req.query.targets;
    const raw = (Array.isArray(q) ? q : [q])
      .filter((x): x is string => typeof x === 'string')
      .flatMap((s) => s.split(','))
      .map((s) => s.trim())
      .filter(Boolean);
    if (raw.length === 0) {
      next(badRequest('live needs ?target=<node>::<field> (repeatable)'));
      return;
    }
    if (raw.length > (deps.maxLiveTargets ?? 200)) {
      next(badRequest(`too many live targets: ${raw.length}`));
      return;
    }
    if (!client.isReady) {
      next(unavailable(`sisock router unreachable (${client.options.url})`));
      return;
    }
    if (streams >= maxStreams) {
      next(unavailable(`too many live streams open (${maxStreams}); try again later`));
      return;
    }

    // Cleanup is in place before the first await: a client gone while targets resolve or while
    // subscriptions are made leaves nothing behind.
    streams++;
    let closed = false;
    let heartbeat: NodeJS.Timeout | undefined;
    const undos: Array<() => Promise<void>> = [];
    const cleanup = () => {
      if (closed) return;
      closed = true;
      streams--;
      if (heartbeat) clearInterval(heartbeat);
      for (const u of undos.splice(0)) void u();
      deps.onLiveStream?.('closed');
    };
    req.on('close', cleanup);
    res.on('close', cleanup);
    const gone = () => closed || res.destroyed || req.socket.destroyed;
    /** Writes one SSE chunk; a reader that lets more than maxBuffer pile up is cut off. */
    const send = (chunk: string) => {
      if (closed) return;
      res.write(chunk);
      if (res.writableLength > maxBuffer) {
        cleanup();
        res.destroy();
      }
    };

    void (async () => {
      /** node → [field, timeline, target name] */
      const byNode = new Map<string, Array<{ field: string; timeline: string; name: string }>>();
      for (const t of raw) {
        const { node, field } = splitTarget(t);
        for (const rsv of await catalogue.resolve(node, field)) {
          let list = byNode.get(rsv.node);
          if (!list) byNode.set(rsv.node, (list = []));
          list.push({ field: rsv.field, timeline: rsv.info.timeline, name: `${rsv.node}::${rsv.field}` });
        }
        if (gone()) {
          cleanup();
          return;
        }
      }
      if (gone()) {
        cleanup();
        return;
      }
      res.status(200);
      res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
      res.setHeader('Cache-Control', 'no-cache, no-transform');
      res.setHeader('Connection', 'keep-alive');
      res.setHeader('X-Accel-Buffering', 'no');
      res.flushHeaders();
      send('retry: 2000\n\n');
      heartbeat = setInterval(() => send(': keep-alive\n\n'), deps.heartbeatMs ?? 15000);
      heartbeat.unref();
      for (const [node, wants] of byNode) {
        const undo = await live.watch(node, (result) => {
          if (closed) return;
          const series: Record<string, { t: number[]; v: unknown[] }> = {};
          for (const w of wants) {
            if (!result.data || !(w.field in result.data)) continue;
            const { t, v } = columnOf(result, w.field, w.timeline);
            if (t.length) series[w.name] = { t: t.map(toMs), v };
          }
          if (Object.keys(series).length) send(`event: data\ndata: ${JSON.stringify({ series })}\n\n`);
        });
        if (gone()) {
          void undo();
          cleanup();
          return;
        }
        undos.push(undo);
      }
      send(`event: ready\ndata: ${JSON.stringify({ targets: [...byNode.values()].flat().map((w) => w.name) })}\n\n`);
    })()
      .catch((err: unknown) => {
        if (res.headersSent || gone()) {
          cleanup();
          if (!res.writableEnded) res.end();
          return;
        }
        next(err);
      })
      .finally(() => deps.onLiveStream?.('settled'));
  });

  return r;
}
