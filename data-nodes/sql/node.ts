/** `sisock node sql` as a running data node: SqlSource + SDK. */
import type { ClientOptions, SisockClient } from '../../client';
import { silentLogger, type Logger } from '../../common/log';
import { runDataNode, type DataNodeHandle } from '../sdk';
import type { SqlConfig } from './config';
import { SqlSource } from './source';

export interface SqlNodeOptions {
  config: SqlConfig;
  client: ClientOptions | SisockClient;
  logger?: Logger;
}

export async function runSqlNode(o: SqlNodeOptions): Promise<{ node: DataNodeHandle; source: SqlSource }> {
  const log = o.logger ?? silentLogger;
  const source = new SqlSource(o.config, { logger: log });
  // A table that is missing or a database that is down is not fatal: the node serves errors until it is back.
  await source.introspect().then(
    () => log.info({ table: o.config.table }, 'sql: table found'),
    (err: Error) =>
      log.warn({ err: err.message, table: o.config.table }, 'sql: table not usable yet; get_fields/get_data fail until it is'),
  );
  const node = await runDataNode({
    name: o.config.node.name,
    description: o.config.node.description,
    source,
    client: o.client,
    logger: log,
  });
  return { node, source };
}
