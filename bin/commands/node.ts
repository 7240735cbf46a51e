/**
 * `sisock node <kind>`: run one of the example data nodes.
 *
 *   sisock node weather [--data-dir DIR] [--name NAME] [--replay]
 *   sisock node sensors [--interval S] [--capacity N] [--name NAME]
 *   sisock node sim     [--rate HZ] [--capacity N] [--seed N] [--name NAME]
 *
 * Each takes the common client flags (--router, --realm, --uri-base, --authid, --secret-file, --ca,
 * --log-level). Once the hub has accepted the node it prints one line on stdout, `node: <name>`,
 * and serves until SIGINT/SIGTERM (then data_node.subtract, GOODBYE, exit 0).
 */
import { registerArchiveKinds } from './node-archive';
import { registerTelemetryNodes } from './node-telemetry';
import { registerInfluxNode, registerVictoriaNode } from './node-influx';
import { Command } from 'commander';
import { addClientOptions, clientOptionsFromEnv, type CommonFlags } from '../../client';
import { runWeatherNode, exampleDataDir } from '../../data-nodes/weather';
import { runSensorsNode, DEFAULT_SENSORS_CAPACITY, DEFAULT_SENSORS_INTERVAL } from '../../data-nodes/sensors';
import { runSimNode } from '../../data-nodes/sim';
import { addOpsOptions } from '../../common/ops-http';
import { fail, nodeName, positiveInteger, positiveNumber, serveNode } from '../common';
import { ErrorCode, SisockError } from '../../common/errors';

export function register(program: Command): void {
  const node = program
    .command('node')
    .description(
      'run a data node: weather (archive files), sensors (this host), sim ' +
        '(simulated lab hardware), scan/archive (indexed data files), mqtt, sql, feed',
    );
  registerArchiveKinds(node);
  registerTelemetryNodes(node);
  registerInfluxNode(node);
  registerVictoriaNode(node);

  const weather = addOpsOptions(
    addClientOptions(
      node
        .command('weather')
        .description(
          'serve a directory of weather archive files (original sisock format: ' +
            '# description, # timeline, # units, then "<unix time> <value>" lines)',
        )
        .option('--data-dir <dir>', `directory of *.dat files (default: the shipped example data, ${exampleDataDir()})`)
        .option('--name <name>', 'node name', nodeName, 'weather')
        .option('--description <text>', 'node description shown by `sisock nodes`')
        .option('--replay', 'map the archive onto the last two weeks before now (time of day kept), e.g. for a live-looking demo'),
    ),
  );
  weather.addHelpText(
    'after',
    `
The shipped example data covers 2026-10-18 to 2026-11-01 (UTC). View it with absolute times,
  sisock get weather::temperature --from 2026-10-18 --to 2026-11-01
or run the node with --replay and use relative times (sisock get weather::temperature_1min --from -1h).`,
  );
  weather.action(async (o: CommonFlags & { dataDir?: string; name: string; description?: string; replay?: boolean }) => {
    await serveNode('weather', o, async (log) =>
      runWeatherNode({
        name: o.name,
        description: o.description,
        dataDir: o.dataDir,
        replay: !!o.replay,
        client: { ...clientOptionsFromEnv(o), logger: log },
        logger: log,
      }),
    );
  });

  const sensors = addOpsOptions(
    addClientOptions(
      node
        .command('sensors')
        .description("serve this host's telemetry: CPU, load, memory, disk, network rates, hwmon temperatures")
        .option('--interval <seconds>', 'seconds between samples', positiveNumber, DEFAULT_SENSORS_INTERVAL)
        .option('--capacity <samples>', 'samples kept in memory (ring buffer)', positiveInteger, DEFAULT_SENSORS_CAPACITY)
        .option('--name <name>', 'node name', nodeName, 'sensors')
        .option('--description <text>', 'node description shown by `sisock nodes`'),
    ),
  );
  sensors.action(async (o: CommonFlags & { interval: number; capacity: number; name: string; description?: string }) => {
    await serveNode('sensors', o, async (log) =>
      runSensorsNode({
        name: o.name,
        description: o.description,
        interval: o.interval,
        capacity: o.capacity,
        client: { ...clientOptionsFromEnv(o), logger: log },
        logger: log,
      }),
    );
  });

  const sim = addOpsOptions(
    addClientOptions(
      node
        .command('sim')
        .description('simulated lab hardware: HV and LV supplies with 4 channels each, and a temperature/humidity sensor')
        .option('--rate <hz>', 'samples per second', positiveNumber, 1)
        .option('--capacity <samples>', 'samples kept in memory (ring buffer)', positiveInteger, 86400)
        .option('--seed <n>', 'seed of the noise (reproducible runs)', positiveInteger)
        .option('--name <name>', 'node name', nodeName, 'sim')
        .option('--description <text>', 'node description shown by `sisock nodes`'),
    ),
  );
  sim.addHelpText(
    'after',
    `
Control procedures (any WAMP client with the consumer role can call them):
  <base>.consumer.<name>.set_channel(supply, channel, {on?, voltage?, current_limit?})
      supply "hv" (0..1000 V, current limit in uA, default 10) or "lv" (0..12 V, limit in A, default 3),
      channel 0..3; the channel trips (switches off) when its current exceeds the limit.
  <base>.consumer.<name>.get_state()`,
  );
  sim.action(async (o: CommonFlags & { rate: number; capacity: number; seed?: number; name: string; description?: string }) => {
    if (o.rate > 1000) {
      fail(new SisockError(ErrorCode.INVALID_ARGUMENT, '--rate must be at most 1000 samples per second'));
      return;
    }
    await serveNode('sim', o, async (log) =>
      runSimNode({
        name: o.name,
        description: o.description,
        rate: o.rate,
        capacity: o.capacity,
        seed: o.seed,
        client: { ...clientOptionsFromEnv(o), logger: log },
        logger: log,
      }),
    );
  });
}
