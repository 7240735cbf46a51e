/**
 * `sisock demo`: everything in one process on embedded defaults. Each service is one entry of
 * `DEMO_SERVICES`, started in order and stopped in reverse; each prints `<what>: <url>` lines.
 * To add a service (hub, nodes, bridge, page …), append one entry.
 */
import type { Command } from 'commander';
import type { Logger } from '../../common/log';
import { DEFAULT_REALM, devConfig } from '../../router/config';
import { startRouter } from '../../router/server';
import { addLogLevelOption, cliLogger, fail, parsePort, serveUntilSignal, type Closable } from '../common';

export interface DemoContext {
  /** Base port from --port; the router listens on it. */
  port: number;
  realm: string;
  /** WebSocket URL of the router, set by the router service for the services after it. */
  routerUrl?: string;
  log: Logger;
}

export interface StartedService extends Closable {
  /** Lines printed on stdout: [what, url], e.g. ['router', 'ws://127.0.0.1:8080/ws']. */
  lines: Array<[string, string]>;
}

export interface DemoService {
  name: string;
  start(ctx: DemoContext): Promise<StartedService>;
}

const routerService: DemoService = {
  name: 'router',
  async start(ctx) {
    const running = await startRouter(devConfig({ port: ctx.port, realm: ctx.realm }), { logger: ctx.log.child({ service: 'router' }) });
    ctx.routerUrl = running.urls[0];
    return { lines: running.urls.map((u): [string, string] => ['router', u]), close: () => running.close() };
  },
};

/** The services of the demo, in start order. */
export const DEMO_SERVICES: DemoService[] = [
  routerService,
];

export function register(program: Command): void {
  const cmd = program
    .command('demo')
    .description('run router + hub + example nodes + bridge + web page in one process, on embedded defaults')
    .option('-p, --port <port>', 'router port (0: any free port)', parsePort, 8080)
    .option('--realm <realm>', 'realm', DEFAULT_REALM);
  addLogLevelOption(cmd);
  cmd.addHelpText('after', '\nPrints one line per service, `<what>: <url>`, and serves until Ctrl-C.');
  cmd.action(async (opts: { port: number; realm: string; logLevel?: string }) => {
    const log = cliLogger('demo', opts.logLevel);
    const ctx: DemoContext = { port: opts.port, realm: opts.realm, log };
    const started: StartedService[] = [];
    try {
      for (const s of DEMO_SERVICES) {
        const st = await s.start(ctx);
        started.push(st);
        for (const [what, url] of st.lines) process.stdout.write(`${what}: ${url}\n`);
      }
    } catch (e) {
      for (const st of started.reverse()) await st.close().catch(() => undefined);
      fail(e, log);
      return;
    }
    await serveUntilSignal(started, log);
  });
}
