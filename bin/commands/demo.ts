/**
 * `sisock demo`: everything in one process on embedded defaults. Each service is one entry of
 * `DEMO_SERVICES`, started in order and stopped in reverse; each prints `<what>: <url>` lines.
 * To add a service (hub, nodes, bridge, page …), append one entry.
 */
import type { Command } from 'commander';
import type { Logger } from '../../common/log';
import { DEFAULT_REALM, devConfig } from '../../router/config';
import { startRouter } from '../../router/server';
import { DEFAULT_GRAFANA_PORT, DEFAULT_URI_BASE } from '../../common/defaults';
import { startBridge } from '../../consumers/grafana';
import { runHub } from '../../hub';
import { runSimNode } from '../../data-nodes/sim';
import { runWeatherNode } from '../../data-nodes/weather';
import type { ClientOptions } from '../../client';
import { mqttDemoService } from './node-telemetry';
import { cliLogger, parseLogLevel, fail, parsePort, serveUntilSignal, type Closable } from '../common';

export interface DemoContext {
  /** Base port from --port; the router listens on it. */
  port: number;
  /** The bridge's port (--grafana-port; default 5000, or any free one with --port 0). */
  grafanaPort?: number;
  /** The interface the bridge listens on (--host; 0.0.0.0 lets Grafana in Docker reach it). */
  host?: string;
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

/** Client options for a demo service on the demo's router. */
function clientFor(ctx: DemoContext, service: string): ClientOptions {
  return { url: ctx.routerUrl!, realm: ctx.realm, uriBase: DEFAULT_URI_BASE, logger: ctx.log.child({ service }) };
}

/** The hub registry. */
const hubService: DemoService = {
  name: 'hub',
  async start(ctx) {
    const hub = await runHub({ client: clientFor(ctx, 'hub'), logger: ctx.log.child({ service: 'hub' }) });
    await hub.ready(10_000);
    return { lines: [], close: () => hub.close() };
  },
};

/** Simulated lab hardware (HV/LV supplies and a sensor), sampled at 1 Hz. */
const simService: DemoService = {
  name: 'sim',
  async start(ctx) {
    const { node, source } = await runSimNode({ client: clientFor(ctx, 'sim'), logger: ctx.log.child({ service: 'sim' }) });
    await node.ready(10_000);
    // Moving data from the first second: HV channel 0 on at 1000 V (the README's examples graph it).
    source.setChannel(['hv', 0, { on: true, voltage: 1000 }], {});
    return {
      lines: [['node', node.name]],
      close: async () => {
        source.stop();
        await node.close();
      },
    };
  },
};

/** The shipped weather archive, replayed onto the last two weeks so relative ranges show it. */
const weatherService: DemoService = {
  name: 'weather',
  async start(ctx) {
    const { node } = await runWeatherNode({
      client: clientFor(ctx, 'weather'),
      replay: true,
      logger: ctx.log.child({ service: 'weather' }),
    });
    await node.ready(10_000);
    return { lines: [['node', node.name]], close: () => node.close() };
  },
};

/**
 * The Grafana bridge and the web page (one HTTP server): port 5000, or any free port with --port 0.
 * Needs the hub and the nodes (entries before it) for data; without them it serves 503 "no hub".
 */
const grafanaService: DemoService = {
  name: 'grafana',
  async start(ctx) {
    const bridge = await startBridge({
      client: clientFor(ctx, 'grafana'),
      port: ctx.grafanaPort ?? (ctx.port === 0 ? 0 : DEFAULT_GRAFANA_PORT),
      host: ctx.host ?? '127.0.0.1',
      logger: ctx.log.child({ service: 'grafana' }),
    });
    return {
      lines: [
        ['grafana', bridge.url],
        ['page', bridge.pageUrl!],
      ],
      close: () => bridge.close(),
    };
  },
};

/** The services of the demo, in start order. */
export const DEMO_SERVICES: DemoService[] = [
  routerService,
  hubService,
  simService,
  weatherService,
  mqttDemoService, // embedded MQTT broker + the simulated supplies as an MQTT device + the `tracker` node
  grafanaService, // keep last: after the hub and the nodes
];

/** The URL block printed once everything is up: `<what>: <url>` lines, then what to try. */
export function urlBlock(lines: Array<[string, string]>): string {
  const router = lines.find(([w]) => w === 'router')?.[1];
  const grafana = lines.find(([w]) => w === 'grafana')?.[1];
  const out = lines.map(([what, url]) => `${what}: ${url}`);
  const url = router && router !== 'ws://127.0.0.1:8080/ws' ? ` --router ${router}` : '';
  out.push('', 'Try:', `  npx sisock nodes${url}`, `  npx sisock tail sim::hv_ch0_voltage${url}`);
  out.push(`  npx sisock call sim.set_channel hv 1 '{"on": true}'${url}`);
  if (grafana) out.push(`  Grafana 11/12: an Infinity datasource with base URL ${grafana} (docs/grafana.md)`);
  return `${out.join('\n')}\n`;
}

export function register(program: Command): void {
  const cmd = program
    .command('demo')
    .description('run router + hub + example nodes + bridge + web page in one process, on embedded defaults')
    .option('-p, --port <port>', 'router port (0: any free port, for the bridge too)', parsePort, 8080)
    .option(
      '--grafana-port <port>',
      `the bridge's and the page's port (default ${DEFAULT_GRAFANA_PORT}; any free one with --port 0)`,
      parsePort,
    )
    .option('--host <address>', 'interface the bridge listens on: 0.0.0.0 lets Grafana in Docker reach it', '127.0.0.1')
    .option('--realm <realm>', 'realm', DEFAULT_REALM)
    .option(
      '--log-level <level>',
      'log level of the JSON lines on stderr (default warn: a quiet start; env SISOCK_LOG_LEVEL)',
      parseLogLevel,
    );
  cmd.addHelpText(
    'after',
    `
Starts quietly, then prints one block: one line per service, \`<what>: <url>\`, and what to try.
Serves until Ctrl-C. The sim node's HV channel 0 is switched on at the start, so its data move.`,
  );
  cmd.action(async (opts: { port: number; grafanaPort?: number; host: string; realm: string; logLevel?: string }) => {
    const log = cliLogger('demo', opts.logLevel ?? process.env.SISOCK_LOG_LEVEL ?? 'warn');
    const ctx: DemoContext = { port: opts.port, grafanaPort: opts.grafanaPort, host: opts.host, realm: opts.realm, log };
    const started: StartedService[] = [];
    try {
      for (const s of DEMO_SERVICES) {
        const st = await s.start(ctx);
        started.push(st);
      }
    } catch (e) {
      for (const st of started.reverse()) await st.close().catch(() => undefined);
      fail(e, log);
      return;
    }
    process.stdout.write(urlBlock(started.flatMap((st) => st.lines)));
    await serveUntilSignal(started, log);
  });
}
