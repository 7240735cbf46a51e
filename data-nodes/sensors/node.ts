/** The sensors node as a running data node: SensorsSource + SDK, pushing each sample live. */
import * as os from 'os';
import { runDataNode, type DataNodeHandle } from '../sdk';
import type { ClientOptions, SisockClient } from '../../client';
import { silentLogger, type Logger } from '../../common/log';
import { SensorsSource, type SensorsOptions } from './source';

export interface SensorsNodeOptions extends Omit<SensorsOptions, 'onSample' | 'logger'> {
  name?: string;
  description?: string;
  client: ClientOptions | SisockClient;
  logger?: Logger;
}

export async function runSensorsNode(o: SensorsNodeOptions): Promise<{ node: DataNodeHandle; source: SensorsSource }> {
  const logger = o.logger ?? silentLogger;
  const source = await SensorsSource.create({ ...o, logger });
  const name = o.name ?? 'sensors';
  const description =
    o.description ??
    `Telemetry of host ${os.hostname()}: CPU, memory, disk, ` +
      `network${source.fieldNames().some((f) => f.startsWith('temp_')) ? ', temperatures' : ''}`;
  const node = await runDataNode({ name, description, source, client: o.client, logger });
  source.onSample = (s) => void node.push(s).catch((err) => logger.debug({ err: String(err) }, 'push failed'));
  source.start();
  return { node, source };
}
