/** `sisock hub`: the hub registry of data nodes, as a WAMP client (see hub/hub.ts). */
import { Command } from 'commander';
import { addClientOptions, clientOptionsFromEnv, SisockClient, type CommonFlags } from '../../client';
import { runHub } from '../../hub';
import { addOpsOptions, planOps, startOps, type OpsFlags } from '../../common/ops-http';
import { cliLogger, fail, serveUntilSignal } from '../common';

export function register(program: Command): void {
  const cmd = program
    .command('hub')
    .description('run the hub: the registry of data nodes that are online (data_node.add/subtract, consumer.get_data_node)');
  addClientOptions(cmd);
  addOpsOptions(cmd);
  cmd.addHelpText(
    'after',
    `
Connects to the router (retrying forever until it is up) and registers <base>.data_node.add,
<base>.data_node.subtract, <base>.consumer.get_data_node and <base>.consumer.get_data_node_metadata;
publishes <base>.consumer.data_node_added / _subtracted, and <base>.hub.started on every (re)start so
that running nodes announce themselves again. Stops cleanly on SIGINT/SIGTERM (GOODBYE, exit 0).`,
  );
  cmd.action(async (flags: CommonFlags & OpsFlags) => {
    await runHubCommand(flags);
  });
}

export async function runHubCommand(flags: CommonFlags & OpsFlags): Promise<void> {
  const log = cliLogger('hub', flags.logLevel);
  let client: SisockClient;
  try {
    client = new SisockClient({ ...clientOptionsFromEnv(flags), logger: log });
  } catch (e) {
    fail(e, log);
    return;
  }
  let ops;
  try {
    ops = await startOps(planOps(flags, 'hub'), () => ({ ok: client.isReady, router: client.options.url, session: client.sessionId }), log);
  } catch (e) {
    await client.close();
    fail(e, log);
    return;
  }
  const hub = await runHub({ client, logger: log });
  log.info({ router: client.options.url, realm: client.options.realm }, 'hub started');
  await serveUntilSignal([ops, { close: () => client.close() }, hub], log);
}
