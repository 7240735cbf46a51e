/** `sisock router`: the WAMP router, from a Crossbar.io config file or from flags (dev router). */
import { Command } from 'commander';
import { loadConfigFile, devConfig, DEFAULT_HOST, DEFAULT_PORT, DEFAULT_REALM, type RouterConfig } from '../../router/config';
import { startRouter } from '../../router/server';
import { registerRouterMetrics } from '../../router/metrics';
import { addOpsOptions, planOps, startOps, type OpsFlags } from '../../common/ops-http';
import { addLogLevelOption, cliLogger, fail, parsePort, serveUntilSignal } from '../common';

export interface RouterCommandOptions extends OpsFlags {
  config?: string;
  port: number;
  realm: string;
  rawsocketPort?: number;
  host: string;
  strictUris?: boolean;
  logLevel?: string;
}

export function register(program: Command): void {
  const cmd = program
    .command('router')
    .description('run the WAMP router: from a Crossbar.io config.json (--config), or a dev router (anonymous, every permission)')
    .option('-c, --config <file>', 'Crossbar.io config.json (version 2); replaces the flags below')
    .option('-p, --port <port>', 'WebSocket port of the dev router (0: any free port)', parsePort, DEFAULT_PORT)
    .option('--realm <realm>', 'realm of the dev router', DEFAULT_REALM)
    .option('--rawsocket-port <port>', 'also serve RawSocket on this port', parsePort)
    .option('--host <host>', 'interface to listen on', DEFAULT_HOST)
    .option('--strict-uris', 'strict URI rules ([0-9a-z_] components) instead of loose ones');
  addLogLevelOption(cmd);
  addOpsOptions(cmd);
  cmd.addHelpText(
    'after',
    `
Prints one line per listener on stdout, e.g.
  router: ws://127.0.0.1:8080/ws
Logs JSON lines on stderr. Stops cleanly on SIGINT/SIGTERM (GOODBYE to every session, exit 0).
A config error prints its JSON path and exits with code 2.
Secrets in a config file are read from the environment: "secret": "\${SISOCK_SERVER_SECRET}".`,
  );
  cmd.action(async (opts: RouterCommandOptions) => {
    await runRouter(opts);
  });
}

export async function runRouter(opts: RouterCommandOptions): Promise<void> {
  const log = cliLogger('router', opts.logLevel);
  let config: RouterConfig;
  try {
    if (opts.config !== undefined) {
      const { config: c, warnings } = loadConfigFile(opts.config);
      for (const w of warnings) log.warn({ config: opts.config }, w);
      config = c;
      if (opts.strictUris) for (const r of config.realms) r.strictUris = true;
    } else {
      config = devConfig({
        port: opts.port,
        realm: opts.realm,
        rawsocketPort: opts.rawsocketPort,
        host: opts.host,
        strictUris: opts.strictUris,
      });
    }
  } catch (e) {
    fail(e, log);
    return;
  }
  let running;
  let ops;
  try {
    const plan = planOps(opts, 'router');
    running = await startRouter(config, { logger: log });
    if (plan) registerRouterMetrics(running.router, plan.registry);
    const r = running.router;
    ops = await startOps(plan, () => ({ ok: true, sessions: r.sessions.size, connections: r.connectionCount, urls: running!.urls }), log);
  } catch (e) {
    await running?.close();
    fail(e, log);
    return;
  }
  for (const url of running.urls) process.stdout.write(`router: ${url}\n`);
  log.info({ realms: config.realms.map((r) => r.name), urls: running.urls }, 'router ready');
  await serveUntilSignal([ops, running], log);
}
