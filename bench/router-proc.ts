/**
 * The system under test: the sisock router in its own process, started through
 * `startRouter(devConfig({ port: 0, realm }))`. Prints `READY <url>`; same IPC hooks as the other
 * server processes (memory after GC, clean exit so --cpu-prof writes its profile).
 *
 * The router modules are loaded at run time so that `bench/` compiles whatever state the router
 * is in; if they are missing, this prints why and exits 1.
 */
import * as path from 'path';
import { WebSocket as WS } from 'ws';
import { installServerProcHooks } from './proc-hooks';

type AnyFn = (...a: unknown[]) => unknown;

function findPort(x: unknown, depth = 0): number | undefined {
  if (!x || typeof x !== 'object' || depth > 3) return undefined;
  const o = x as Record<string, unknown>;
  for (const k of ['port', 'wsPort', 'websocketPort']) {
    if (typeof o[k] === 'number' && (o[k] as number) > 0) return o[k] as number;
  }
  for (const k of ['url', 'wsUrl']) {
    if (typeof o[k] === 'string') {
      const m = /:(\d+)\//.exec(o[k] as string);
      if (m) return Number(m[1]);
    }
  }
  if (typeof o.address === 'function') {
    try {
      const a = (o.address as AnyFn).call(o) as { port?: number } | null;
      if (a && typeof a === 'object' && typeof a.port === 'number') return a.port;
    } catch {
      /* not a server */
    }
  }
  for (const k of Object.keys(o)) {
    const p = findPort(o[k], depth + 1);
    if (p) return p;
  }
  return undefined;
}

/**
 * Experiment only (BENCH_CORK_PATCH=1): patches `ws` so that frames sent on one socket within a
 * tick go out in one writev, to measure what write batching would buy the router. Not the router's
 * own behaviour; never on in `make bench`.
 */
function patchWsCork(): void {
  const proto = WS.prototype as unknown as Record<string, unknown>;
  const orig = proto.send as (this: unknown, ...a: unknown[]) => unknown;
  proto.send = function (this: { _socket?: { cork(): void; uncork(): void }; __corked?: boolean }, ...a: unknown[]) {
    const sock = this._socket;
    if (sock && !this.__corked) {
      this.__corked = true;
      sock.cork();
      process.nextTick(() => {
        this.__corked = false;
        sock.uncork();
      });
    }
    return orig.apply(this, a);
  };
}

async function main(): Promise<void> {
  installServerProcHooks();
  if (process.env.BENCH_CORK_PATCH === '1') patchWsCork();
  const realm = process.env.BENCH_REALM ?? 'bench';
  const root = path.join(__dirname, '..');
  let server: Record<string, unknown>;
  let config: Record<string, unknown>;
  try {
    server = (await import(path.join(root, 'router', 'server.js'))) as Record<string, unknown>;
    config = (await import(path.join(root, 'router', 'config.js'))) as Record<string, unknown>;
  } catch (e) {
    console.error(`sisock router not built: ${(e as Error).message.split('\n')[0]}`);
    process.exit(1);
  }
  const startRouter = server.startRouter as AnyFn | undefined;
  const devConfig = config.devConfig as AnyFn | undefined;
  if (typeof startRouter !== 'function' || typeof devConfig !== 'function') {
    console.error('sisock router: startRouter/devConfig not exported');
    process.exit(1);
  }
  // The load comes from one address (10 000 sessions in the memory scenario): the per-address and total
  // connection caps (1 000 and 10 000 by default) would refuse most of it, and the relay and fox-wamp have none.
  const cfg = devConfig({ port: 0, realm }) as { limits?: Record<string, unknown> };
  cfg.limits = { ...cfg.limits, maxConnections: 1_000_000, maxConnectionsPerIp: 1_000_000 };
  const handle = (await startRouter(cfg)) as { urls?: unknown } | undefined;
  const urls = Array.isArray(handle?.urls) ? (handle.urls as unknown[]).filter((u): u is string => typeof u === 'string') : [];
  const ws = urls.find((u) => u.startsWith('ws://'));
  if (ws) {
    process.stdout.write(`READY ${ws}\n`);
    return;
  }
  const port = findPort(handle);
  if (!port) {
    console.error('sisock router: cannot find the listening port in startRouter() result');
    process.exit(1);
  }
  process.stdout.write(`READY ws://127.0.0.1:${port}/ws\n`);
}

main().catch((e) => {
  console.error(`sisock router failed: ${(e as Error).stack ?? e}`);
  process.exit(1);
});
