/**
 * The telemetry bridges as `sisock node` subcommands (added to the `node` command by node.ts):
 *
 *   sisock node mqtt --map FILE [--broker mqtt://…|mqtts://…] [--embedded-broker [PORT]] [--store FILE]
 *   sisock node sql  --config FILE
 *   sisock node feed [--agent ID [--feed NAME]] [--pattern URI --match prefix|wildcard] [--buffer-time S]
 *
 * Each takes the common client flags. Once the hub has accepted the node it prints `node: <name>`
 * on stdout and serves until SIGINT/SIGTERM. Also exports the MQTT part of `sisock demo`.
 */
import { Command, InvalidArgumentError } from 'commander';
import { addClientOptions, clientOptionsFromEnv, logLevelFrom, type CommonFlags } from '../../client';
import type { Logger } from '../../common/log';
import { startEmbeddedBroker, loadMqttConfigFile, runMqttNode, startMqttDemo } from '../../data-nodes/mqtt';
import { registerMqttMetrics } from '../../data-nodes/mqtt/metrics';
import type { Registry } from 'prom-client';
import { loadSqlConfigFile, runSqlNode } from '../../data-nodes/sql';
import { runFeedNode } from '../../data-nodes/feed';
import { addOpsOptions, planOps, startOps, type OpsFlags } from '../../common/ops-http';
import { cliLogger, fail, nodeName, parsePort, positiveNumber, serveUntilSignal, type Closable } from '../common';
import type { DemoService } from './demo';

interface Started {
  name: string;
  ready(): Promise<void>;
  closables: Closable[];
  /** For GET /healthz: the node's WAMP client. */
  client?: { readonly isReady: boolean };
  /** Adds the node's own metrics to the ops endpoint's registry. */
  metrics?: (registry: Registry) => void;
}

async function serve(kind: string, flags: CommonFlags & OpsFlags, start: (log: Logger) => Promise<Started>): Promise<void> {
  const log = cliLogger(`node-${kind}`, logLevelFrom(flags));
  let s: Started | undefined;
  let ops;
  let announced = false;
  try {
    s = await start(log);
    const st = s;
    const plan = planOps(flags, `node-${kind}`);
    if (plan) st.metrics?.(plan.registry);
    ops = await startOps(plan, () => ({ ok: st.client ? st.client.isReady : announced, node: st.name }), log);
  } catch (e) {
    for (const c of [...(s?.closables ?? [])].reverse()) await c.close().catch(() => undefined);
    fail(e, log);
    return;
  }
  void s.ready().then(
    () => {
      announced = true;
    },
    () => undefined,
  );
  void s.ready().then(
    () => process.stdout.write(`node: ${s.name}\n`),
    () => undefined,
  );
  await serveUntilSignal([ops, ...s.closables], log);
}

/** Adds `mqtt`, `sql` and `feed` to the `sisock node` command. */
export function registerTelemetryNodes(node: Command): void {
  const mqttCmd = addOpsOptions(
    addClientOptions(
      node
        .command('mqtt')
        .description('bridge MQTT devices: topics → fields (YAML/JSON map), history in SQLite, live push, commands back to MQTT')
        .requiredOption('--map <file>', 'mapping config (YAML or JSON): topics, fields, store, commands')
        .option(
          '--broker <url>',
          'broker URL, mqtt://host:1883 or mqtts://host:8883 (replaces broker.url; ' +
            'user/password: env SISOCK_MQTT_USERNAME, SISOCK_MQTT_PASSWORD)',
        )
        .option('--embedded-broker [port]', 'also run an embedded MQTT broker (aedes) on 127.0.0.1 and use it', parsePort)
        .option('--store <file>', 'SQLite history file (replaces store.path)'),
    ),
  );
  mqttCmd.addHelpText(
    'after',
    `
The map file names the node, the topics (with {placeholders} capturing topic segments), the JSON paths,
types and units of the fields, the timestamp, an optional JSON Schema per topic, the store (retention,
batching) and commands (WAMP procedures that publish to MQTT). See data-nodes/mqtt/examples/.
Extra procedures: <base>.consumer.<name>.get_stats(), .get_dead_letters(limit, reason).`,
  );
  mqttCmd.action(async (o: CommonFlags & { map: string; broker?: string; embeddedBroker?: number | true; store?: string }) => {
    await serve('mqtt', o, async (log) => {
      const closables: Closable[] = [];
      let brokerUrl = o.broker;
      if (o.embeddedBroker !== undefined) {
        if (o.broker) throw new InvalidArgumentError('give --broker or --embedded-broker, not both');
        const b = await startEmbeddedBroker({
          port: o.embeddedBroker === true ? 0 : o.embeddedBroker,
          logger: log.child({ service: 'mqtt-broker' }),
        });
        closables.push(b);
        brokerUrl = b.url;
        process.stdout.write(`mqtt: ${b.url}\n`);
      }
      try {
        const config = loadMqttConfigFile(o.map, { brokerUrl });
        if (o.store) config.store.path = o.store;
        if (!config.broker.url)
          throw new InvalidArgumentError('no broker: pass --broker mqtt://host:port, set broker.url in the map, or use --embedded-broker');
        const h = await runMqttNode({ config, client: { ...clientOptionsFromEnv(o), logger: log }, logger: log });
        closables.push(h);
        return {
          name: config.node.name,
          ready: () => h.ready(),
          closables,
          client: h.client,
          metrics: (r) => registerMqttMetrics(() => h.ingest.statsSnapshot(), r),
        };
      } catch (e) {
        for (const c of closables.reverse()) await c.close().catch(() => undefined);
        throw e;
      }
    });
  });

  const sqlCmd = addOpsOptions(
    addClientOptions(
      node
        .command('sql')
        .description('serve columns of an existing MySQL/MariaDB or PostgreSQL table as fields (read-only)')
        .requiredOption('--config <file>', 'config (YAML or JSON): database URL, table, time column, value columns, optional group column')
        .option('--name <name>', 'node name (replaces node.name)', nodeName),
    ),
  );
  sqlCmd.addHelpText(
    'after',
    `
Identifiers come only from the config and must be plain SQL identifiers; values are bound as parameters.
Password: in the URL, database.password (use \${ENV} placeholders) or env SISOCK_SQL_PASSWORD.
See data-nodes/sql/examples/battery-cycler.yaml.`,
  );
  sqlCmd.action(async (o: CommonFlags & { config: string; name?: string }) => {
    await serve('sql', o, async (log) => {
      const config = loadSqlConfigFile(o.config);
      if (o.name) config.node.name = o.name;
      const { node } = await runSqlNode({ config, client: { ...clientOptionsFromEnv(o), logger: log }, logger: log });
      return { name: node.name, ready: () => node.ready(), closables: [node], client: node.client };
    });
  });

  const feedCmd = addOpsOptions(
    addClientOptions(
      node
        .command('feed')
        .description(
          "cache OCS agents' feeds (observatory.<agent>.feeds.<feed>) and serve them like sisock's data_feed node, with live push",
        )
        .option('--agent <id>', 'OCS agent instance-id (default: every agent)')
        .option('--feed <name>', 'feed name (default: every feed)')
        .option('--pattern <uri>', 'subscribe to this URI pattern instead')
        .option('--match <policy>', 'match policy of --pattern: prefix or wildcard', 'prefix')
        .option('--buffer-time <seconds>', 'seconds of data kept', positiveNumber, 3600)
        .option('--address-root <root>', "agents' address root", 'observatory')
        .option('--name <name>', 'node name (default feed_<agent>[_<feed>], or feeds)', nodeName)
        .option('--description <text>', 'node description'),
    ),
  );
  feedCmd.action(
    async (
      o: CommonFlags & {
        agent?: string;
        feed?: string;
        pattern?: string;
        match: string;
        bufferTime: number;
        addressRoot: string;
        name?: string;
        description?: string;
      },
    ) => {
      await serve('feed', o, async (log) => {
        if (o.match !== 'prefix' && o.match !== 'wildcard') throw new InvalidArgumentError('--match must be prefix or wildcard');
        const f = await runFeedNode({
          client: { ...clientOptionsFromEnv(o), logger: log },
          logger: log,
          agent: o.agent,
          feed: o.feed,
          pattern: o.pattern,
          match: o.match,
          bufferTime: o.bufferTime,
          addressRoot: o.addressRoot,
          name: o.name,
          description: o.description,
        });
        return { name: f.node.name, ready: () => f.node.ready(), closables: [f], client: f.node.client };
      });
    },
  );
}

/**
 * The MQTT path of `sisock demo`: embedded broker + simulated hardware as an MQTT device + the
 * `tracker` bridge node. Must come after the router in DEMO_SERVICES (it needs ctx.routerUrl).
 */
export const mqttDemoService: DemoService = {
  name: 'mqtt',
  async start(ctx) {
    if (!ctx.routerUrl) throw new Error('the mqtt demo service needs the router service before it');
    const demo = await startMqttDemo({
      client: {
        url: ctx.routerUrl,
        realm: ctx.realm,
        uriBase: clientOptionsFromEnv({}, {}).uriBase,
        logger: ctx.log.child({ service: 'mqtt' }),
      },
      logger: ctx.log.child({ service: 'mqtt' }),
    });
    return { lines: demo.lines, close: () => demo.close() };
  },
};
