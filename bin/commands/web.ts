/**
 * `sisock web`: the web page (nodes, fields, live plots, CSV) on its own port. The same server as
 * `sisock grafana` (the page's history comes from the bridge's /query), so both are always served.
 */
import type { Command } from 'commander';
import { addBridgeOptions, BRIDGE_HELP, runBridgeCommand, type BridgeFlags } from './grafana';

export const DEFAULT_WEB_PORT = 5080;

export function register(program: Command): void {
  const cmd = program
    .command('web')
    .description('serve the web page: data nodes and their metadata, a field picker, live plots (uPlot), CSV download');
  addBridgeOptions(cmd, DEFAULT_WEB_PORT);
  cmd.addHelpText(
    'after',
    `${BRIDGE_HELP}
Prints "page: <url>" and serves until Ctrl-C (the Grafana API is on the same port).`,
  );
  cmd.action(async (flags: BridgeFlags) => {
    await runBridgeCommand(flags, 'page');
  });
}
