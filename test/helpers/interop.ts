/**
 * Shared setup of the interop suites (test/interop/*): the router configuration with test-only
 * credentials generated at runtime, detection of AutobahnPython, and child processes that talk
 * JSON lines on stdout.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { parseConfig } from '../../router/config';
import { startRouter, type RunningRouter } from '../../router/server';

export const REALM = 'interop';
/** Everything the limited role may touch starts with this. */
export const ALLOWED_PREFIX = 'com.interop.';

export { servicesRequired } from './services';

export interface Credentials {
  cra: { authid: string; secret: string };
  /** `secret` is the password the client knows; the router stores the PBKDF2-derived key. */
  craSalted: { authid: string; secret: string; salt: string; iterations: number; keylen: number; derived: string };
  ticket: { authid: string; secret: string };
  /** A ticket principal with role `limited`: may call and subscribe under `com.interop.` only. */
  limited: { authid: string; secret: string };
}

const rnd = (n = 18): string => randomBytes(n).toString('base64url');

export function makeCredentials(): Credentials {
  const salt = rnd(12);
  const iterations = 100;
  const keylen = 32;
  const password = rnd();
  return {
    cra: { authid: 'cra-user', secret: rnd() },
    craSalted: {
      authid: 'cra-salted-user',
      secret: password,
      salt,
      iterations,
      keylen,
      // Crossbar.io semantics: a salted user's configured secret is the derived key
      // (base64 of PBKDF2-HMAC-SHA256(password, salt, iterations, keylen)).
      derived: pbkdf2Sync(password, salt, iterations, keylen, 'sha256').toString('base64'),
    },
    ticket: { authid: 'ticket-user', secret: rnd() },
    limited: { authid: 'limited-user', secret: rnd() },
  };
}

const ALL = { call: true, register: true, publish: true, subscribe: true };

/** A Crossbar.io config.json (version 2) for the interop router: WebSocket + RawSocket on port 0. */
export function interopConfig(creds: Credentials, opts: { serializers?: string[] } = {}): Record<string, unknown> {
  const serializers = opts.serializers ?? ['json', 'msgpack', 'cbor'];
  const auth = {
    anonymous: { type: 'static', role: 'anonymous' },
    ticket: {
      type: 'static',
      principals: {
        [creds.ticket.authid]: { ticket: creds.ticket.secret, role: 'full' },
        [creds.limited.authid]: { ticket: creds.limited.secret, role: 'limited' },
      },
    },
    wampcra: {
      type: 'static',
      users: {
        [creds.cra.authid]: { secret: creds.cra.secret, role: 'full' },
        [creds.craSalted.authid]: {
          secret: creds.craSalted.derived,
          role: 'full',
          salt: creds.craSalted.salt,
          iterations: creds.craSalted.iterations,
          keylen: creds.craSalted.keylen,
        },
      },
    },
  };
  const everything = [{ uri: '', match: 'prefix', allow: ALL, disclose: { caller: true, publisher: true }, cache: true }];
  return {
    version: 2,
    workers: [
      {
        type: 'router',
        realms: [
          {
            name: REALM,
            roles: [
              { name: 'anonymous', permissions: everything },
              { name: 'full', permissions: everything },
              {
                name: 'limited',
                permissions: [
                  {
                    uri: ALLOWED_PREFIX,
                    match: 'prefix',
                    allow: { call: true, register: false, publish: false, subscribe: true },
                    disclose: { caller: false, publisher: false },
                    cache: true,
                  },
                ],
              },
            ],
          },
        ],
        transports: [
          {
            type: 'websocket',
            endpoint: { type: 'tcp', port: 0, interface: '127.0.0.1' },
            serializers,
            auth,
            options: { max_message_size: 1048576, auto_ping_interval: 0 },
          },
          {
            type: 'rawsocket',
            endpoint: { type: 'tcp', port: 0, interface: '127.0.0.1' },
            serializers,
            auth,
            options: { max_message_size: 1048576 },
          },
        ],
      },
    ],
  };
}

/**
 * Picks a URL of the running router. Accepts the shapes `urls` may take: a list of URLs, or a
 * record of name → URL(s).
 */
export function pickUrl(urls: unknown, kind: 'ws' | 'rs'): string | undefined {
  const flat: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') flat.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(urls);
  if (kind === 'ws') return flat.find((u) => u.startsWith('ws://'));
  return flat.find((u) => /^(rs|rss|tcp|rawsocket):\/\//.test(u));
}

/** A `rs://host:port` URL for Python from whatever scheme the router reports. */
export function toRsUrl(u: string): string {
  const m = /^[a-z]+:\/\/([^/]+)/.exec(u);
  return `rs://${m ? m[1] : u}`;
}

// ---------------------------------------------------------------------------------------------
// AutobahnPython

/** Debian's interpreter (python3-autobahn lives there, not in a pyenv); SISOCK_PYTHON overrides. */
export const PYTHON = process.env.SISOCK_PYTHON || '/usr/bin/python3';
export const SCENARIOS_PY = path.join(__dirname, '..', 'interop', 'python', 'scenarios.py');

/** `null` when usable, else a message naming what is missing. */
export function pythonAutobahnMissing(): string | null {
  if (!existsSync(PYTHON)) return `${PYTHON} is missing (install Debian python3-autobahn: make test-deps)`;
  const r = spawnSync(PYTHON, ['-c', 'import autobahn, twisted, msgpack; print(autobahn.__version__)'], {
    encoding: 'utf8',
    timeout: 20000,
  });
  if (r.status !== 0) {
    return (
      `${PYTHON} cannot import autobahn/twisted/msgpack (install Debian python3-autobahn python3-twisted ` +
      `python3-msgpack: make test-deps): ${(r.stderr || String(r.error)).trim().split('\n').pop()}`
    );
  }
  return null;
}

/** A child process whose stdout is JSON lines. */
export class JsonLinesProcess {
  readonly child: ChildProcess;
  readonly lines: Record<string, unknown>[] = [];
  stderr = '';
  exitCode: number | null = null;
  private readonly waiters: Array<() => void> = [];
  readonly exited: Promise<number | null>;

  constructor(cmd: string, args: string[]) {
    this.child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, PYTHONUNBUFFERED: '1' } });
    let buf = '';
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (chunk: string) => {
      buf += chunk;
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i).trim();
        buf = buf.slice(i + 1);
        if (!line) continue;
        try {
          this.lines.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          this.lines.push({ unparsed: line });
        }
        this.notify();
      }
    });
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (c: string) => {
      this.stderr += c;
    });
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code) => {
        this.exitCode = code;
        this.notify();
        resolve(code);
      });
      this.child.on('error', (e) => {
        this.stderr += String(e);
        this.exitCode = -1;
        this.notify();
        resolve(-1);
      });
    });
  }

  private notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves with the first line (from index `from`) matching `pred`; rejects on exit or timeout. */
  waitFor(pred: (l: Record<string, unknown>) => boolean, timeoutMs = 15000, from = 0): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timeout waiting for a line; got ${JSON.stringify(this.lines)}; stderr: ${this.stderr.slice(-2000)}`)),
        timeoutMs,
      );
      const check = (): void => {
        const hit = this.lines.slice(from).find(pred);
        if (hit) {
          clearTimeout(timer);
          resolve(hit);
          return;
        }
        if (this.exitCode !== null) {
          clearTimeout(timer);
          reject(
            new Error(`process exited (${this.exitCode}) first; lines ${JSON.stringify(this.lines)}; stderr: ${this.stderr.slice(-2000)}`),
          );
          return;
        }
        this.waiters.push(check);
      };
      check();
    });
  }

  /** Ends the child: closes stdin (a `serve` process exits on it), then SIGKILL if needed. */
  async stop(): Promise<void> {
    if (this.exitCode === null) {
      this.child.stdin?.end();
      const t = setTimeout(() => this.child.kill('SIGKILL'), 3000);
      await this.exited;
      clearTimeout(t);
    }
    this.child.stdin?.destroy();
    this.child.stdout?.destroy();
    this.child.stderr?.destroy();
  }
}

/** Runs scenarios.py with the given arguments until it exits; returns the result lines by scenario. */
export async function runPythonScenarios(
  args: string[],
  timeoutMs = 60000,
): Promise<{ results: Map<string, Record<string, unknown>>; proc: JsonLinesProcess }> {
  const proc = new JsonLinesProcess(PYTHON, [SCENARIOS_PY, ...args]);
  const t = setTimeout(() => proc.child.kill('SIGKILL'), timeoutMs);
  await proc.exited;
  clearTimeout(t);
  const results = new Map<string, Record<string, unknown>>();
  for (const l of proc.lines) if (typeof l.scenario === 'string') results.set(l.scenario, l);
  return { results, proc };
}

/** Python's credential flags for `creds`. */
export function pythonCredentialArgs(creds: Credentials): string[] {
  // `--flag=value`: a random secret may start with '-'.
  return [
    `--authid=${creds.cra.authid}`,
    `--secret=${creds.cra.secret}`,
    `--salted-authid=${creds.craSalted.authid}`,
    `--salted-secret=${creds.craSalted.secret}`,
    `--ticket-authid=${creds.ticket.authid}`,
    `--ticket-secret=${creds.ticket.secret}`,
    `--limited-authid=${creds.limited.authid}`,
    `--limited-secret=${creds.limited.secret}`,
  ];
}

// ---------------------------------------------------------------------------------------------
// The router under test

export interface InteropRouter {
  running: RunningRouter;
  ws: string;
  rs: string;
  /** Lines parseConfig printed for our Crossbar.io config (should be none). */
  warnings: string[];
}

/** Starts the interop router in-process from the Crossbar.io config above, on port 0. */
export async function startInteropRouter(creds: Credentials): Promise<InteropRouter> {
  const { config, warnings } = parseConfig(interopConfig(creds));
  const running = await startRouter(config);
  const ws = pickUrl(running.urls, 'ws');
  const rs = pickUrl(running.urls, 'rs');
  if (!ws || !rs) {
    await running.close();
    throw new Error(`router reports no ws:// or rs:// URL: ${JSON.stringify(running.urls)}`);
  }
  return { running, ws, rs, warnings };
}
