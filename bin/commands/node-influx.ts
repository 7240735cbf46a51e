/** `sisock node influx`: serve an existing InfluxDB 1.x database (data-nodes/influx). */
import type { Command } from 'commander';
import { addClientOptions, clientOptionsFromEnv, type CommonFlags } from '../../client';
import { addOpsOptions, type OpsFlags } from '../../common/ops-http';
import { runInfluxNode, runVictoriaNode } from '../../data-nodes/influx';
import { nodeName, positiveInteger, serveNode } from '../common';

type Flags = CommonFlags &
  OpsFlags & {
    url: string;
    db: string;
    rp?: string;
    name: string;
    description?: string;
    measurements?: string;
    maxFields: number;
    maxRows: number;
  };

export function registerInfluxNode(node: Command): void {
  const cmd = addOpsOptions(
    addClientOptions(
      node
        .command('influx')
        .description('serve an InfluxDB 1.x database (measurements × tag sets × fields) over InfluxQL')
        .requiredOption(
          '--url <url>',
          'InfluxDB URL, e.g. http://127.0.0.1:8086 (user and password: env SISOCK_INFLUX_USER, SISOCK_INFLUX_PASSWORD)',
        )
        .requiredOption('--db <name>', 'database')
        .option('--rp <name>', "retention policy (default: the database's default)")
        .option('--measurements <regex>', 'only measurements matching this')
        .option('--max-fields <n>', 'most series × fields served', positiveInteger, 20000)
        .option('--max-rows <n>', 'most rows of a raw answer (more: ask with a min_stride)', positiveInteger, 2_000_000)
        .option('--name <name>', 'node name', nodeName, 'influx')
        .option('--description <text>', 'node description'),
    ),
  );
  cmd.addHelpText(
    'after',
    `
Fields: <series key>.<field>, e.g. cpu,cpu=cpu0,host=a.usage_idle (the measurement and its tags as
InfluxDB writes them), or weather.temperature for a measurement without tags. min_stride becomes
GROUP BY time() with min and max (mean with the reduce=mean keyword).`,
  );
  cmd.action(async (o: Flags) => {
    await serveNode('influx', o, async (log) =>
      runInfluxNode({
        url: o.url,
        db: o.db,
        rp: o.rp,
        name: o.name,
        description: o.description,
        measurements: o.measurements ? new RegExp(o.measurements) : undefined,
        maxFields: o.maxFields,
        maxRows: o.maxRows,
        user: process.env.SISOCK_INFLUX_USER,
        password: process.env.SISOCK_INFLUX_PASSWORD,
        client: { ...clientOptionsFromEnv(o), logger: log },
        logger: log,
      }),
    );
  });
}

/** `sisock node victoria`: serve a VictoriaMetrics (data-nodes/influx/victoria.ts). */
export function registerVictoriaNode(node: Command): void {
  const cmd = addOpsOptions(
    addClientOptions(
      node
        .command('victoria')
        .description('serve a VictoriaMetrics (its series) over its Prometheus query API')
        .requiredOption('--url <url>', 'VictoriaMetrics URL, e.g. http://127.0.0.1:8428')
        .option('--match <selector>', 'series served (default every series)', '{__name__=~".+"}')
        .option('--max-fields <n>', 'most series served', positiveInteger, 20000)
        .option('--name <name>', 'node name', nodeName, 'victoria')
        .option('--description <text>', 'node description'),
    ),
  );
  cmd.addHelpText('after', '\nFields: <metric>{label="value",…} (labels sorted). min_stride → min_over_time/max_over_time at a step.');
  cmd.action(async (o: CommonFlags & OpsFlags & { url: string; match: string; maxFields: number; name: string; description?: string }) => {
    await serveNode('victoria', o, async (log) =>
      runVictoriaNode({
        url: o.url,
        match: o.match,
        maxFields: o.maxFields,
        name: o.name,
        description: o.description,
        client: { ...clientOptionsFromEnv(o), logger: log },
        logger: log,
      }),
    );
  });
}
