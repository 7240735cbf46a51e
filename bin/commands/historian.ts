/**
 * `sisock historian`: history that outlives nodes (historian/historian.ts). Follows the hub's nodes,
 * stores every sample in an embedded SQLite store with summary tiers under a retention policy,
 * serves it as the data node `historian`, and optionally exports to a TSDB (--export-url).
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { addClientOptions, clientOptionsFromEnv, logLevelFrom, SisockClient, type CommonFlags } from '../../client';
import { parseDuration } from '../../consumers/cli';
import { addOpsOptions, planOps, startOps, type OpsFlags } from '../../common/ops-http';
import { openExporter, type Exporter } from '../../historian/export';
import { DEFAULT_HISTORIAN_NAME, runHistorian } from '../../historian/historian';
import { DEFAULT_POLICY, type RetentionPolicy } from '../../historian/store';
import { cliLogger, fail, nodeName, nonNegativeNumber, serveUntilSignal } from '../common';
import { addExportOptions, exporterOptionsFrom, type ExportFlags } from './export-options';

type Flags = CommonFlags &
  OpsFlags &
  ExportFlags & {
    store: string;
    name: string;
    raw: string;
    tiers: string;
    initialBackfill: number;
    exclude?: string;
    feeds?: boolean;
    exportUrl?: string;
    exportDir?: string;
  };

const DEFAULT_STORE = path.join(os.homedir(), '.local', 'share', 'sisock', 'history.sqlite');

const keep = (s: string): number | null => (s === 'forever' ? null : parseDuration(s));

/** "60:730d,3600:forever" → tiers; each width must divide the next. */
export function parseTiers(s: string): RetentionPolicy['tiers'] {
  const out: RetentionPolicy['tiers'] = [];
  for (const part of s
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^([^:]+):(.+)$/.exec(part);
    if (!m) throw new InvalidArgumentError(`"${part}" is not width:retention (e.g. 60:730d or 3600:forever)`);
    const width = parseDuration(m[1] ?? '');
    const prev = out[out.length - 1];
    if (prev && (width <= prev.width || width % prev.width !== 0))
      throw new InvalidArgumentError(`tier widths must grow and each divide the next (${prev.width} then ${width})`);
    out.push({ width, keep: keep(m[2] ?? '') });
  }
  return out;
}

export function register(program: Command): void {
  const cmd = addOpsOptions(
    addExportOptions(
      addClientOptions(
        program
          .command('historian')
          .description('keep the history of every node (embedded store with summary tiers and retention) and serve it as a data node')
          .option('--store <file>', `SQLite file of the history (default ${DEFAULT_STORE})`, DEFAULT_STORE)
          .option('--name <name>', 'node name the history is served under', nodeName, DEFAULT_HISTORIAN_NAME)
          .option('--raw <duration>', 'how long raw samples are kept (e.g. 30d, or forever)', '30d')
          .option('--tiers <list>', 'summary tiers width:retention, comma-separated', '1m:730d,1h:forever')
          .option('--initial-backfill <seconds>', 'history read from a node seen for the first time', nonNegativeNumber, 86400)
          .option('--exclude <regex>', 'node names not followed')
          .option('--feeds', 'also keep OCS feeds (observatory.<agent>.feeds.<feed>) as node "feeds"')
          .option(
            '--export-url <url>',
            'also write every sample to this InfluxDB/VictoriaMetrics (see `sisock export --help` for the flags)',
          )
          .option('--export-dir <dir>', "directory of the exporter's disk buffer (default: next to --store)"),
      ),
    ),
  );
  cmd.addHelpText(
    'after',
    `
Fields of the historian node: <node>.<field>. The Grafana bridge asks it for a node that is offline or
for a range the node no longer holds (sisock grafana --history). docs/history.md has the details.`,
  );
  cmd.action(async (f: Flags) => {
    await runHistorianCommand(f);
  });
}

async function runHistorianCommand(f: Flags): Promise<void> {
  const log = cliLogger('historian', logLevelFrom(f));
  let client: SisockClient;
  let exporter: Exporter | undefined;
  let policy: RetentionPolicy;
  let exclude: RegExp | null;
  try {
    policy = { raw: keep(f.raw), tiers: f.tiers === '' ? DEFAULT_POLICY.tiers : parseTiers(f.tiers) };
    exclude = f.exclude ? new RegExp(f.exclude) : null;
    if (f.exportUrl) {
      exporter = openExporter({ ...exporterOptionsFrom(f.exportUrl, f.exportDir ?? `${f.store}.export`, f), logger: log });
    }
    client = new SisockClient({ ...clientOptionsFromEnv(f), logger: log });
  } catch (e) {
    await exporter?.close(0);
    fail(e, log);
    return;
  }
  const h = await runHistorian({
    client,
    path: f.store,
    name: f.name,
    policy,
    exporter,
    initialBackfill: f.initialBackfill,
    feeds: !!f.feeds,
    exclude: (n) => exclude?.test(n) ?? false,
    logger: log,
  });
  const ops = await startOps(
    planOps(f, 'historian'),
    () => ({ ok: client.isReady, nodes: h.follower.followed().length, ...h.store.totals }),
    log,
  );
  void h.node.ready().then(() => process.stdout.write(`node: ${h.node.name}\n`));
  await serveUntilSignal([ops, { close: () => client.close() }, h], log);
}
