/** `sisock node influx`: an InfluxDB 1.x database as a data node (source.ts has the naming and the queries). */
import { runDataNode, type DataNodeHandle } from '../sdk';
import type { ClientOptions, SisockClient } from '../../client';
import type { Logger } from '../../common/log';
import { InfluxSource, type InfluxSourceOptions } from './source';
import { VictoriaSource, type VictoriaSourceOptions } from './victoria';

export { VictoriaSource, selectorOf, type VictoriaSourceOptions } from './victoria';
export { InfluxSource, parseSeriesKey, quoteIdent, quoteString, timeLiteral, type InfluxSourceOptions } from './source';

export async function runInfluxNode(
  o: InfluxSourceOptions & { name?: string; description?: string; client: ClientOptions | SisockClient; logger?: Logger },
): Promise<{ node: DataNodeHandle; source: InfluxSource }> {
  const source = new InfluxSource(o);
  await source.getFields(); // fail early on a wrong URL, database or credentials
  const node = await runDataNode({
    name: o.name ?? 'influx',
    description: o.description ?? `InfluxDB ${source.label}`,
    source,
    client: o.client,
    logger: o.logger,
  });
  return { node, source };
}

/** `sisock node victoria`: a VictoriaMetrics as a data node (victoria.ts). */
export async function runVictoriaNode(
  o: VictoriaSourceOptions & { name?: string; description?: string; client: ClientOptions | SisockClient; logger?: Logger },
): Promise<{ node: DataNodeHandle; source: VictoriaSource }> {
  const source = new VictoriaSource(o);
  await source.getFields();
  const node = await runDataNode({
    name: o.name ?? 'victoria',
    description: o.description ?? `VictoriaMetrics ${source.label}`,
    source,
    client: o.client,
    logger: o.logger,
  });
  return { node, source };
}
