/**
 * Helpers of the telemetry bridge tests (mqtt, sql, feed): which external services are there, and
 * a private mosquitto process (own port, own persistence directory) that a test may stop and start.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import * as path from 'node:path';
import { waitFor } from '../helpers/wait';
import { servicesRequired } from '../helpers/services';

export const REQUIRED = servicesRequired();

/** Resolves true when a TCP connection to the URL's host:port succeeds within timeoutMs. */
export function reachable(url: string | undefined, defPort: number, timeoutMs = 2000): Promise<boolean> {
  if (!url) return Promise.resolve(false);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return Promise.resolve(false);
  }
  return new Promise((resolve) => {
    const s = net.connect({ host: u.hostname, port: Number(u.port || defPort) });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/**
 * Whether a service is usable: true, or false after printing why the dependent tests are skipped.
 * With SISOCK_REQUIRE_SERVICES=1 a missing service throws (the tests fail).
 */
export async function service(name: string, envVar: string, defPort: number): Promise<boolean> {
  const url = process.env[envVar];
  const ok = await reachable(url, defPort);
  if (ok) return true;
  const why = url ? `${name} at ${url} is unreachable` : `${envVar} is not set`;
  if (REQUIRED) throw new Error(`${why}, and SISOCK_REQUIRE_SERVICES=1 requires it`);
  console.warn(`SKIPPED: ${why}; the ${name} tests are skipped (set ${envVar}, e.g. via .ci/run)`);
  return false;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export const MOSQUITTO = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto'].find((p) => existsSync(p));

/** Our own mosquitto on `port`, persisting sessions and queued QoS 1 messages in `dir`. */
export class PrivateMosquitto {
  proc: ChildProcess | null = null;
  readonly conf: string;
  stderr = '';
  constructor(
    readonly port: number,
    readonly dir: string,
  ) {
    this.conf = path.join(dir, 'mosquitto.conf');
    writeFileSync(
      this.conf,
      [
        `listener ${port} 127.0.0.1`,
        'allow_anonymous true',
        // as root, mosquitto would switch to user "mosquitto", which cannot write the persistence file here
        `user ${os.userInfo().username}`,
        'persistence true',
        `persistence_location ${dir}/`,
        'max_queued_messages 0',
        'max_inflight_messages 100',
        'log_dest stderr',
        'log_type error',
        'log_type warning',
        '',
      ].join('\n'),
    );
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (!MOSQUITTO) throw new Error('mosquitto binary not found');
    const p = spawn(MOSQUITTO, ['-c', this.conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc = p;
    p.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    await waitFor(
      async () => {
        if (p.exitCode !== null) throw new Error(`mosquitto exited (${p.exitCode}): ${this.stderr}`);
        return reachable(this.url, this.port, 500);
      },
      10000,
      `mosquitto on port ${this.port}`,
    );
  }

  /** SIGTERM (mosquitto writes its persistence file) and wait for the exit. */
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGTERM');
    });
    this.proc = null;
  }

  kill(): void {
    if (this.proc && this.proc.exitCode === null) this.proc.kill('SIGKILL');
  }
}
