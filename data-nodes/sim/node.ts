/**
 * The sim node as a running data node: SimSource + SDK, pushing each sample live, plus its control
 * procedures `<base>.consumer.<name>.set_channel` and `.get_state` (see source.ts).
 */
import { runDataNode, type DataNodeHandle } from '../sdk';
import type { ClientOptions, SisockClient } from '../../client';
import { silentLogger, type Logger } from '../../common/log';
import { NodeUri } from '../../contract';
import { SimSource, type SimOptions } from './source';

export interface SimNodeOptions extends Omit<SimOptions, 'onSample' | 'logger'> {
  name?: string;
  description?: string;
  client: ClientOptions | SisockClient;
  logger?: Logger;
}

export async function runSimNode(o: SimNodeOptions): Promise<{ node: DataNodeHandle; source: SimSource }> {
  const logger = o.logger ?? silentLogger;
  const source = new SimSource({ ...o, logger });
  const name = o.name ?? 'sim';
  const description = o.description ?? 'Simulated lab hardware: HV and LV supplies (4 channels each), temperature and humidity sensor';
  const node = await runDataNode({ name, description, source, client: o.client, logger });
  const c = node.client;
  await c.register(c.uri(NodeUri.procedure(name, 'set_channel')), (args, kwargs) => source.setChannel(args, kwargs));
  await c.register(c.uri(NodeUri.procedure(name, 'get_state')), (args, kwargs) => source.getState(args, kwargs));
  source.onSample = (s) => void node.push(s).catch((err) => logger.debug({ err: String(err) }, 'push failed'));
  source.start();
  return { node, source };
}
