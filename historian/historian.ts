/**
 * `sisock historian`: follows every node (follow.ts), keeps their samples in the embedded store
 * (store.ts) under a retention policy, optionally feeds an exporter, and serves what it holds as the
 * data node `historian` (name configurable):
 *
 *   fields    `<node>.<field>` for every field of every node it has seen (node names have no dot,
 *             so the first dot splits them); each field is its own timeline (the same name)
 *   get_data  raw samples; with min_stride, per bucket min and max (or mean with the `reduce`
 *             keyword) from the summary tiers; ranges whose raw samples were pruned answer from the
 *             finest tier kept
 */
import { silentLogger, type Logger } from '../common/log';
import type { SisockClient } from '../client';
import type { DataResult, FieldsResult } from '../contract';
import { runDataNode, type DataNodeHandle, type DataSource, type DataSourceExtras, type GetDataOptions } from '../data-nodes/sdk';
import type { Exporter } from './export';
import { Follower } from './follow';
import { TeeSink, type Sink } from './sink';
import { HistoryStore, type RetentionPolicy } from './store';

export const DEFAULT_HISTORIAN_NAME = 'historian';

export class HistorySource implements DataSource, DataSourceExtras {
  constructor(private readonly store: HistoryStore) {}

  getFields(start: number, end: number): FieldsResult {
    return this.store.getFields(start, end);
  }

  async getData(fields: string[], start: number, end: number, minStride: number | null, options?: GetDataOptions): Promise<DataResult> {
    const out: DataResult = { data: {}, timeline: {} };
    for (const f of fields) {
      const r = await this.store.read(f, start, end, minStride, options?.reduce ?? 'minmax');
      out.data[f] = r.v;
      if (r.t.length > 0) out.timeline[f] = { t: r.t, finalized_until: null };
    }
    return out;
  }

  newestSample(): number | null {
    return this.store.newest();
  }
}

export interface HistorianOptions {
  client: SisockClient;
  /** SQLite file of the store */
  path: string;
  name?: string;
  policy?: RetentionPolicy;
  exporter?: Exporter;
  initialBackfill?: number;
  feeds?: boolean;
  exclude?: (name: string) => boolean;
  logger?: Logger;
  pruneEveryMs?: number;
}

export interface Historian {
  store: HistoryStore;
  follower: Follower;
  node: DataNodeHandle;
  close(): Promise<void>;
}

export async function runHistorian(o: HistorianOptions): Promise<Historian> {
  const log = o.logger ?? silentLogger;
  const name = o.name ?? DEFAULT_HISTORIAN_NAME;
  const store = new HistoryStore({ path: o.path, policy: o.policy, logger: log });
  const sink: Sink = o.exporter ? new TeeSink([store, o.exporter]) : store;
  const rawText = store.policy.raw === null ? 'raw kept forever' : `raw ${store.policy.raw / 86400} d`;
  const node = await runDataNode({
    name,
    description: `history of every node (${rawText}, tiers ${store.policy.tiers.map((t) => `${t.width} s`).join(', ')})`,
    source: new HistorySource(store),
    client: o.client,
    logger: log,
  });
  const follower = new Follower({
    client: o.client,
    sink,
    logger: log,
    initialBackfill: o.initialBackfill,
    feeds: o.feeds,
    exclude: (n) => n === name || (o.exclude?.(n) ?? false),
  });
  await follower.start();
  const pruneTimer = setInterval(() => {
    try {
      store.prune();
    } catch (e) {
      log.error({ err: (e as Error).message }, 'history prune failed');
    }
  }, o.pruneEveryMs ?? 3600_000);
  pruneTimer.unref();
  let closed = false;
  return {
    store,
    follower,
    node,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(pruneTimer);
      await follower.close();
      await node.close();
      store.close();
      if (o.exporter) await o.exporter.close();
    },
  };
}
