/**
 * `sisock grafana`: the Grafana HTTP bridge (simple-json 1.4 and simPod JSON datasource ≤ 0.6) and
 * the web page, on one port (contract sections 3 and 4). See consumers/grafana/.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { addClientOptions, clientOptionsFromEnv, logLevelFrom, type CommonFlags } from '../../client';
import { DEFAULT_GRAFANA_PORT } from '../../common/defaults';
import fs from 'node:fs';
import { startBridge, type LivePushOptions } from '../../consumers/grafana';
import { ErrorCode, SisockError } from '../../common/errors';
import { addOpsOptions, planOps, startOps, type OpsFlags } from '../../common/ops-http';
import { cliLogger, fail, parsePort, positiveInteger, serveUntilSignal } from '../common';

export interface BridgeFlags extends CommonFlags, OpsFlags {
  port: number;
  host: string;
  page: boolean;
  nodeStride: 'auto' | 'off';
  corsOrigin?: string;
  maxTargets?: number;
  queryTimeout?: number;
  grafanaLiveUrl?: string;
  grafanaTokenFile?: string;
  grafanaLiveStream?: string;
  grafanaLiveNodes?: string;
  history?: string | true;
}

function positiveSeconds(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || n > 3600) throw new InvalidArgumentError('give seconds between 0 and 3600, e.g. 10 or 2.5');
  return n;
}

/** --grafana-live-* and the token (env SISOCK_GRAFANA_LIVE_TOKEN, or the file) → live push options. */
function livePushFrom(flags: BridgeFlags): LivePushOptions {
  let token = process.env.SISOCK_GRAFANA_LIVE_TOKEN;
  if (flags.grafanaTokenFile) {
    try {
      token = fs.readFileSync(flags.grafanaTokenFile, 'utf8').trim();
    } catch (err) {
      const why = (err as Error).message;
      throw new SisockError(ErrorCode.CONFIG_UNREADABLE, `cannot read --grafana-token-file ${flags.grafanaTokenFile}: ${why}`);
    }
  }
  if (!token) {
    throw new SisockError(
      ErrorCode.CONFIG_INVALID,
      '--grafana-live-url needs a Grafana service-account token: set SISOCK_GRAFANA_LIVE_TOKEN or give --grafana-token-file',
    );
  }
  return {
    url: flags.grafanaLiveUrl ?? '',
    token,
    streamId: flags.grafanaLiveStream,
    nodes: flags.grafanaLiveNodes
      ? flags.grafanaLiveNodes
          .split(',')
          .map((n) => n.trim())
          .filter((n) => n)
      : undefined,
  };
}

/** The options `sisock grafana` and `sisock web` share. */
export function addBridgeOptions(cmd: Command, defaultPort: number): Command {
  addClientOptions(cmd);
  addOpsOptions(cmd);
  return cmd
    .option('-p, --port <port>', `HTTP port (0: any free port)`, parsePort, defaultPort)
    .option('--host <address>', 'interface to listen on', '0.0.0.0')
    .option('--no-page', 'do not serve the web page (/page/) and its API (/api/)')
    .addOption(
      new Option(
        '--node-stride <mode>',
        'auto: ask nodes for min_stride = span/maxDataPoints (they keep extremes); off: fetch raw data, reduce in the bridge',
      )
        .choices(['auto', 'off'])
        .default('auto'),
    )
    .option('--cors-origin <origin>', 'Access-Control-Allow-Origin (env SISOCK_GRAFANA_CORS_ORIGIN, default *)')
    .option('--max-targets <n>', 'most targets in one /query', positiveInteger)
    .option(
      '--grafana-live-url <url>',
      'push live samples to Grafana Live at this Grafana (POST /api/live/push/<stream>; ' +
        'token: env SISOCK_GRAFANA_LIVE_TOKEN or --grafana-token-file)',
    )
    .option('--grafana-token-file <path>', 'file holding the Grafana service-account token for --grafana-live-url')
    .option('--grafana-live-stream <id>', 'the stream id: channels stream/<id>/<node> (default sisock)')
    .option('--grafana-live-nodes <names>', 'comma-separated nodes to push (default: every online node)')
    .option(
      '--query-timeout <seconds>',
      'how long one node may take to answer get_data before its targets report it (default 30)',
      positiveSeconds,
    )
    .option(
      '--history [node]',
      'ask this historian node (default "historian") for offline nodes and ranges a node no longer holds; the panel gets a notice',
    );
}

export const BRIDGE_HELP = `
Environment:
  SISOCK_GRAFANA_BASIC_AUTH=user:pass (or SISOCK_GRAFANA_BASIC_AUTH_FILE=path)  require HTTP basic auth
  SISOCK_GRAFANA_TOKEN=secret (or SISOCK_GRAFANA_TOKEN_FILE=path)               require a bearer token
  SISOCK_GRAFANA_LIVE_TOKEN=glsa_…   Grafana service-account token for --grafana-live-url (or --grafana-token-file)
Grafana 11/12: an Infinity datasource (yesoreyeram-infinity-datasource) with base URL http://<host>:<port>,
queries GET /infinity/query?target=<node>::<field>&from=\${__from}&to=\${__to} (docs/grafana.md).
Older Grafana: a "JSON" (simpod-json-datasource ≤ 0.6) or "SimpleJson" datasource with that URL.
Targets are <node>::<field>. Ready-made provisioning: consumers/grafana/provisioning/.`;

export async function runBridgeCommand(flags: BridgeFlags, what: 'grafana' | 'page'): Promise<void> {
  const log = cliLogger(what === 'grafana' ? 'grafana' : 'web', logLevelFrom(flags));
  let bridge;
  let ops;
  try {
    const plan = planOps(flags, what === 'grafana' ? 'grafana' : 'web');
    bridge = await startBridge({
      metrics: plan?.registry,
      client: { ...clientOptionsFromEnv(flags), logger: log },
      port: flags.port,
      host: flags.host,
      logger: log,
      page: what === 'page' ? true : flags.page,
      nodeStride: flags.nodeStride,
      corsOrigin: flags.corsOrigin,
      ...(flags.queryTimeout !== undefined ? { callTimeoutMs: flags.queryTimeout * 1000 } : {}),
      ...(flags.grafanaLiveUrl ? { livePush: livePushFrom(flags) } : {}),
      limits: flags.maxTargets ? { maxTargets: flags.maxTargets } : undefined,
      ...(flags.history ? { history: flags.history === true ? 'historian' : flags.history } : {}),
    });
    const b = bridge;
    ops = await startOps(plan, () => ({ ok: b.client.isReady, url: b.url, router: b.client.options.url }), log);
  } catch (e) {
    await bridge?.close();
    fail(e, log);
    return;
  }
  if (what === 'grafana') process.stdout.write(`grafana: ${bridge.url}\n`);
  if (bridge.pageUrl) process.stdout.write(`page: ${bridge.pageUrl}\n`);
  await serveUntilSignal([ops, bridge], log);
}

export function register(program: Command): void {
  const cmd = program
    .command('grafana')
    .description('serve the Grafana JSON datasource API (simple-json 1.4, simPod JSON ≤ 0.6) and the web page over HTTP');
  addBridgeOptions(cmd, DEFAULT_GRAFANA_PORT);
  cmd.addHelpText(
    'after',
    `${BRIDGE_HELP}
Prints "grafana: <url>" and "page: <url>", then serves until Ctrl-C.`,
  );
  cmd.action(async (flags: BridgeFlags) => {
    await runBridgeCommand(flags, 'grafana');
  });
}
