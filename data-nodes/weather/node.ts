/** The weather node as a running data node: WeatherSource + SDK. Used by `sisock node weather` and the demo. */
import { existsSync } from 'fs';
import * as path from 'path';
import { runDataNode, type DataNodeHandle } from '../sdk';
import type { ClientOptions, SisockClient } from '../../client';
import { silentLogger, type Logger } from '../../common/log';
import { ErrorCode, SisockError } from '../../common/errors';
import { WeatherSource } from './source';

/** The shipped example archive: next to this file in the source tree, or the source tree from dist/. */
export function exampleDataDir(): string {
  const candidates = [
    path.join(__dirname, 'example-data'),
    path.join(__dirname, '..', '..', '..', 'data-nodes', 'weather', 'example-data'),
  ];
  return candidates.find((c) => existsSync(c)) ?? path.join(__dirname, 'example-data');
}

export interface WeatherNodeOptions {
  name?: string;
  description?: string;
  /** Default: the shipped example data. */
  dataDir?: string;
  /** Map the archive onto the last period before now (see source.ts). */
  replay?: boolean;
  client: ClientOptions | SisockClient;
  logger?: Logger;
}

export async function runWeatherNode(o: WeatherNodeOptions): Promise<{ node: DataNodeHandle; source: WeatherSource }> {
  const dataDir = path.resolve(o.dataDir ?? exampleDataDir());
  const logger = o.logger ?? silentLogger;
  const source = new WeatherSource({ dataDir, logger, replay: o.replay });
  try {
    await source.refresh(true); // an unreadable directory is an error at start, not on the first call
  } catch (err) {
    throw new SisockError(ErrorCode.DATA_FILE_INVALID, `cannot read weather data directory ${dataDir}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const name = o.name ?? 'weather';
  const description =
    o.description ??
    `Weather archive ${path.basename(dataDir)}${o.replay ? ' (replayed onto the last two weeks)' : ''}: ` +
      `${source.fieldNames().length} fields`;
  const node = await runDataNode({ name, description, source, client: o.client, logger });
  return { node, source };
}
