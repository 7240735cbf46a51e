/**
 * Orchestration helpers: child processes (server under test, load generator), their cleanup,
 * and formatting.
 */
import { fork, ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

export type Target = 'sisock' | 'relay' | 'relay-cork' | 'fox';
export const TARGET_LABEL: Record<Target, string> = {
  sisock: 'sisock',
  relay: 'relay(ws)',
  'relay-cork': 'relay+cork',
  fox: 'fox-wamp',
};
/** Targets that are the bare relay (no WAMP session). */
export const isRelay = (t: Target): boolean => t === 'relay' || t === 'relay-cork';

const children = new Set<ChildProcess>();

function killAll(): void {
  for (const c of children) {
    try {
      c.kill('SIGKILL');
    } catch {
      /* gone */
    }
  }
  children.clear();
}

let hooksInstalled = false;
/** Makes sure every child dies with the orchestrator (normal exit, error, Ctrl-C, SIGTERM). */
export function installCleanup(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      killAll();
      process.exit(130);
    });
  }
  process.on('uncaughtException', (e) => {
    console.error(e);
    killAll();
    process.exit(1);
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

const SERVER_SCRIPT: Record<Target, string> = {
  sisock: 'router-proc.js',
  relay: 'relay.js',
  'relay-cork': 'relay.js',
  fox: 'foxwamp-proc.js',
};

export interface ServerHandle {
  target: Target;
  proc: ChildProcess;
  url: string;
  pid: number;
  /** process.memoryUsage() after GC, via IPC. */
  mem(): Promise<NodeJS.MemoryUsage>;
  /** VmRSS from /proc, in bytes. */
  rss(): number;
  /** Asks the process to exit (writes --cpu-prof) and waits; SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  stderr(): string;
}

export interface SpawnOptions {
  execArgv?: string[];
  env?: Record<string, string>;
  timeoutMs?: number;
}

export function spawnServer(target: Target, o: SpawnOptions = {}): Promise<ServerHandle> {
  const script = path.join(__dirname, SERVER_SCRIPT[target]);
  const proc = fork(script, [], {
    execArgv: ['--expose-gc', ...(o.execArgv ?? [])],
    env: { ...process.env, BENCH_REALM: 'bench', BENCH_RELAY_CORK: target === 'relay-cork' ? '1' : '0', ...(o.env ?? {}) },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  children.add(proc);
  let errText = '';
  let outText = '';
  proc.stderr?.on('data', (d: Buffer) => {
    if (errText.length < 20000) errText += d.toString();
  });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  proc.once('exit', () => children.delete(proc));

  const handle = (url: string): ServerHandle => ({
    target,
    proc,
    url,
    pid: proc.pid ?? 0,
    stderr: () => errText,
    mem: () =>
      new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`${target}: no memory reply`)), 10000);
        const on = (m: unknown) => {
          const mm = m as { type?: string; mem?: NodeJS.MemoryUsage };
          if (mm?.type === 'mem' && mm.mem) {
            clearTimeout(t);
            proc.off('message', on);
            resolve(mm.mem);
          }
        };
        proc.on('message', on);
        proc.send({ cmd: 'mem' });
      }),
    rss: () => {
      try {
        const s = fs.readFileSync(`/proc/${proc.pid}/status`, 'utf8');
        const m = /VmRSS:\s+(\d+)\s+kB/.exec(s);
        return m ? Number(m[1]) * 1024 : NaN;
      } catch {
        return NaN;
      }
    },
    stop: async (graceMs = 5000) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      try {
        proc.send({ cmd: 'exit' });
      } catch {
        proc.kill('SIGTERM');
      }
      const t = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(t);
    },
  });

  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${target}: did not start within ${o.timeoutMs ?? 15000} ms. ${errText.trim()}`));
    }, o.timeoutMs ?? 15000);
    proc.stdout?.on('data', (d: Buffer) => {
      outText += d.toString();
      const m = /READY (\S+)/.exec(outText);
      if (m && outText !== '') {
        clearTimeout(t);
        outText = '';
        resolve(handle(m[1] ?? ''));
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`${target}: exited with ${code} before ready. ${errText.trim().split('\n').slice(0, 3).join(' | ')}`));
    });
  });
}

export interface LoadParams {
  scenario: 'rpc' | 'latency' | 'pubsub' | 'memory';
  url: string;
  realm: string;
  serializer: 'json' | 'msgpack';
  /** false for the relay (no WAMP handshake). */
  wamp: boolean;
  durationMs: number;
  warmupMs: number;
  window: number;
  calls: number;
  warmupCalls: number;
  subscribers: number;
  sessions: number;
}

export type LoadResult = Record<string, number | string>;

export interface LoadHandle {
  proc: ChildProcess;
  result: Promise<LoadResult>;
  /** Resolves with the first IPC message of the given type. */
  waitMessage(type: string, timeoutMs: number): Promise<Record<string, unknown>>;
  send(msg: unknown): void;
}

/** Starts the load generator process for one scenario. */
/** CPU seconds (user+sys) a process has used so far, from /proc. */
export function cpuSeconds(pid: number): number {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const parts = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(parts[11]) + Number(parts[12])) / 100; // utime, stime in clock ticks (USER_HZ=100)
  } catch {
    return NaN;
  }
}

/**
 * Starts the load generator process for one scenario. When `serverPid` is given, the server's CPU
 * use over the load's measured window (its 'mark' messages) is added to the result as serverCpu.
 */
export function spawnLoad(p: LoadParams, timeoutMs: number, serverPid?: number): LoadHandle {
  const proc = fork(path.join(__dirname, 'load.js'), [JSON.stringify(p)], {
    execArgv: [],
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
  });
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  let errText = '';
  proc.stderr?.on('data', (d: Buffer) => {
    if (errText.length < 20000) errText += d.toString();
  });
  const result = new Promise<LoadResult>((resolve, reject) => {
    const t = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`load ${p.scenario}: timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    let cpu0 = NaN;
    let cpu1 = NaN;
    let w0 = 0n;
    let w1 = 0n;
    proc.on('message', (m: unknown) => {
      const mm = m as { type?: string; result?: LoadResult; error?: string; what?: string };
      if (mm?.type === 'mark' && serverPid) {
        if (mm.what === 'start') {
          cpu0 = cpuSeconds(serverPid);
          w0 = process.hrtime.bigint();
        } else {
          cpu1 = cpuSeconds(serverPid);
          w1 = process.hrtime.bigint();
        }
      } else if (mm?.type === 'result' && mm.result) {
        clearTimeout(t);
        if (serverPid && w1 > w0) {
          const cpu = (cpu1 - cpu0) / (Number(w1 - w0) / 1e9);
          mm.result.serverCpu = cpu;
          // work per CPU-second of the server: far less sensitive to a shared box than the rate
          const rate = mm.result.callsPerSec ?? mm.result.deliveriesPerSec;
          if (typeof rate === 'number' && cpu > 0.05) mm.result.perServerCpuSec = rate / cpu;
        }
        resolve(mm.result);
      } else if (mm?.type === 'error') {
        clearTimeout(t);
        reject(new Error(mm.error));
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`load ${p.scenario}: exited with ${code}. ${errText.trim().split('\n').slice(-3).join(' | ')}`));
    });
  });
  result.catch(() => {});
  return {
    proc,
    result,
    send: (msg) => proc.send(msg as object),
    waitMessage: (type, ms) =>
      new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`load ${p.scenario}: no '${type}' within ${ms} ms`)), ms);
        const on = (m: unknown) => {
          const mm = m as Record<string, unknown>;
          if (mm?.type === type) {
            clearTimeout(t);
            proc.off('message', on);
            resolve(mm);
          } else if (mm?.type === 'error') {
            clearTimeout(t);
            proc.off('message', on);
            reject(new Error(String(mm.error)));
          }
        };
        proc.on('message', on);
        result.catch((e: unknown) => {
          clearTimeout(t);
          reject(e);
        });
      }),
  };
}

export function fmtInt(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '-';
  return Math.round(n).toLocaleString('en-US');
}

export function fmtNum(n: number | undefined, digits = 1): string {
  if (n === undefined || !Number.isFinite(n)) return '-';
  return n.toFixed(digits);
}

export function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] ?? NaN;
}

/**
 * In the load process: marks the start/end of the measured window for the orchestrator (which
 * samples the server's CPU then) and returns this process's CPU use — at 'start' a baseline, at
 * 'end' the fraction of one core used since `since` over `elapsedNs`.
 */
export function mark(what: 'start'): number;
export function mark(what: 'end', since: number, elapsedNs: bigint): number;
export function mark(what: 'start' | 'end', since = 0, elapsedNs = 0n): number {
  process.send?.({ type: 'mark', what });
  const u = process.cpuUsage();
  const s = (u.user + u.system) / 1e6;
  return what === 'start' ? s : (s - since) / (Number(elapsedNs) / 1e9);
}

/**
 * Forks `file` (a bench module) with the argument `node-proc` and `env` added to this environment;
 * resolves when the child prints READY, rejects with its stderr if it exits first or within 60 s.
 */
export function forkReady(file: string, env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const proc = fork(file, ['node-proc'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => {
    if (err.length < 5000) err += d.toString();
  });
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`bench node did not start: ${err}`));
    }, 60000);
    proc.stdout?.on('data', (d: Buffer) => {
      if (d.toString().includes('READY')) {
        clearTimeout(t);
        resolve(proc);
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`bench node exited (${code}): ${err}`));
    });
  });
}

/** POSTs a SimpleJSON `/query` body to the Grafana bridge at `base`; the number of datapoints of the first series. */
export async function bridgeQuery(base: string, body: string): Promise<number> {
  const res = await fetch(`${base}/query`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
  const j = (await res.json()) as Array<{ datapoints: unknown[] }> | { message: string };
  if (!res.ok || !Array.isArray(j) || !j[0]) throw new Error(`/query failed: ${res.status} ${JSON.stringify(j).slice(0, 300)}`);
  return j[0].datapoints.length;
}

/**
 * The child side of `forkReady`: waits for the node, prints READY, and closes it and exits on SIGTERM or when the
 * parent goes away; returns that exit for other triggers.
 */
export async function announceReady(node: { ready(ms: number): Promise<unknown>; close(): Promise<unknown> }): Promise<() => void> {
  await node.ready(30000);
  process.stdout.write('READY\n');
  const exit = () => {
    void node.close().finally(() => process.exit(0));
  };
  process.on('SIGTERM', exit);
  process.on('disconnect', exit);
  return exit;
}

/** A bench table row: the figure beside its baseline from the same run, their ratio and the goal. */
export interface BenchRow {
  scenario: string;
  value: number;
  baseline: number;
  ratio: number;
  goal: string;
}
