/**
 * Starts Debian's InfluxDB 1.x (`influxd`) and VictoriaMetrics (`victoria-metrics`) the way a user
 * runs them, but on free ports with their own temporary data directories, for tests and benches.
 *
 *   const db = await startInfluxd();      // db.url = http://127.0.0.1:<port>
 *   await db.stop(); await db.start();    // an outage: same data dir, same port
 *   await db.close();                     // stop and remove the data dir
 *
 * `available()` says whether the binary is installed (tests skip with a message otherwise, and fail
 * under CI or SISOCK_REQUIRE_SERVICES; `make test-deps` installs both packages).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { servicesRequired } from './services';

export interface TsdbProcess {
  readonly kind: 'influxd' | 'victoria-metrics';
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** Starts the server again after `stop` (same port, same data). Resolves when it answers /ping or /health. */
  start(): Promise<void>;
  /** SIGTERM, waits for the exit. */
  stop(): Promise<void>;
  /** stop + remove the data directory. */
  close(): Promise<void>;
  /** The last lines the server wrote (for failure messages). */
  output(): string;
}

export function available(kind: 'influxd' | 'victoria-metrics'): boolean {
  const ok = spawnSync('sh', ['-c', `command -v ${kind}`]).status === 0;
  // where the services are required (CI), a missing database fails instead of skipping
  if (!ok && servicesRequired()) {
    throw new Error(`${kind} is required here (CI/SISOCK_REQUIRE_SERVICES): run \`make test-deps\``);
  }
  return ok;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

async function waitHttp(url: string, proc: () => ChildProcess | null, out: () => string, timeoutMs = 30000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const p = proc();
    if (!p || p.exitCode !== null) throw new Error(`${url}: server exited before answering:\n${out()}`);
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (r.status < 500) return;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error(`${url}: no answer after ${timeoutMs} ms:\n${out()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function managed(kind: TsdbProcess['kind'], port: number, dir: string, args: string[], readyPath: string): TsdbProcess {
  let child: ChildProcess | null = null;
  let log = '';
  const url = `http://127.0.0.1:${port}`;
  const keep = (b: Buffer) => {
    log = (log + b.toString()).slice(-8000);
  };
  const t: TsdbProcess = {
    kind,
    url,
    port,
    dir,
    async start() {
      if (child && child.exitCode === null) return;
      child = spawn(kind, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      // not installed (ENOENT): said in the log, and waitHttp sees it exited (an 'error' without a listener killed the process)
      child.on('error', (e) => keep(Buffer.from(`${kind} could not start: ${e.message} (installed by \`make test-deps\`)\n`)));
      child.stdout?.on('data', keep);
      child.stderr?.on('data', keep);
      await waitHttp(
        url + readyPath,
        () => child,
        () => log,
      );
    },
    async stop() {
      const c = child;
      child = null;
      if (!c || c.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        c.once('exit', () => resolve());
        c.kill('SIGTERM');
        setTimeout(() => c.kill('SIGKILL'), 10000).unref();
      });
    },
    async close() {
      await t.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
    output: () => log,
  };
  return t;
}

/** influxd 1.x with a config of its own: HTTP on a free port, everything else off, data in a temp dir. */
export async function startInfluxd(): Promise<TsdbProcess> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sisock-influxd-'));
  const port = await freePort();
  const rpc = await freePort();
  const conf = `reporting-disabled = true
bind-address = "127.0.0.1:${rpc}"
[meta]
  dir = "${dir}/meta"
[data]
  dir = "${dir}/data"
  wal-dir = "${dir}/wal"
  query-log-enabled = false
[monitor]
  store-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:${port}"
  log-enabled = false
[ifql]
  enabled = false
[logging]
  level = "warn"
`;
  fs.writeFileSync(path.join(dir, 'influxdb.conf'), conf);
  const t = managed('influxd', port, dir, ['-config', path.join(dir, 'influxdb.conf')], '/ping');
  await t.start();
  return t;
}

/** victoria-metrics single-node on a free port with its own storage dir; queries see new data at once. */
export async function startVictoriaMetrics(): Promise<TsdbProcess> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sisock-vm-'));
  const port = await freePort();
  const t = managed(
    'victoria-metrics',
    port,
    dir,
    [
      `-storageDataPath=${dir}`,
      `-httpListenAddr=127.0.0.1:${port}`,
      '-retentionPeriod=100y',
      '-search.latencyOffset=0s',
      '-search.disableCache',
      '-loggerLevel=ERROR',
      '-selfScrapeInterval=0',
    ],
    '/health',
  );
  await t.start();
  return t;
}

/** Runs an InfluxQL statement against influxd 1.x; returns the JSON `results`. */
export async function influxQuery(
  url: string,
  q: string,
  db?: string,
): Promise<
  Array<{ series?: Array<{ name: string; columns: string[]; values: unknown[][]; tags?: Record<string, string> }>; error?: string }>
> {
  const u = new URL('/query', url);
  u.searchParams.set('q', q);
  u.searchParams.set('epoch', 'ms');
  if (db) u.searchParams.set('db', db);
  const r = await fetch(u, { method: 'POST' });
  const body = (await r.json()) as {
    results?: Array<{ series?: Array<{ name: string; columns: string[]; values: unknown[][] }>; error?: string }>;
    error?: string;
  };
  if (!r.ok || body.error) throw new Error(`influx query ${q}: ${r.status} ${body.error ?? ''}`);
  return body.results ?? [];
}
