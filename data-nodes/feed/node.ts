/**
 * `sisock node feed`: caches OCS feeds (source.ts) and serves them as a data node, with each new
 * batch of samples pushed live on `<base>.consumer.<name>.data`.
 *
 * What it subscribes to (on the same router and realm as the node):
 *   agent + feed: `<root>.<agent>.feeds.<feed>`            (exact: one agent's one feed, data_feed's case)
 *   agent only:   prefix `<root>.<agent>.feeds.`           (all feeds of one agent)
 *   neither:      wildcard `<root>..feeds.`                (every agent's every feed)
 *   pattern:      any URI with match "prefix" or "wildcard" (names as for every agent)
 */
import { SisockClient, type ClientOptions, type Handle } from '../../client';
import { silentLogger, type Logger } from '../../common/log';
import { runDataNode, type DataNodeHandle } from '../sdk';
import { RateLimitedLog } from '../../common/config-file';
import { FeedCache, type FeedNaming } from './source';

export interface FeedNodeOptions {
  client: ClientOptions | SisockClient;
  name?: string;
  description?: string;
  agent?: string;
  feed?: string;
  pattern?: string;
  match?: 'exact' | 'prefix' | 'wildcard';
  /** Seconds of data kept (default 3600). */
  bufferTime?: number;
  maxSamples?: number;
  /** Agents' address root (default "observatory"). */
  addressRoot?: string;
  logger?: Logger;
  now?: () => number;
}

const SEGMENT = /^[A-Za-z0-9_-]+$/;

export function feedSubscription(o: Pick<FeedNodeOptions, 'agent' | 'feed' | 'pattern' | 'match' | 'addressRoot'>): {
  topic: string;
  match: 'exact' | 'prefix' | 'wildcard';
  naming: FeedNaming;
} {
  const root = o.addressRoot ?? 'observatory';
  if (o.pattern) {
    if (o.agent || o.feed) throw new Error('give a pattern, or an agent (and feed), not both');
    return { topic: o.pattern, match: o.match ?? 'prefix', naming: 'agent' };
  }
  for (const [what, v] of [
    ['agent', o.agent],
    ['feed', o.feed],
  ] as const) {
    if (v !== undefined && !SEGMENT.test(v)) throw new Error(`${what} ${JSON.stringify(v)} must be letters, digits, _ or -`);
  }
  if (o.feed && !o.agent) return { topic: `${root}..feeds.${o.feed}`, match: 'wildcard', naming: 'agent' };
  if (o.agent && o.feed) return { topic: `${root}.${o.agent}.feeds.${o.feed}`, match: 'exact', naming: 'key' };
  if (o.agent) return { topic: `${root}.${o.agent}.feeds.`, match: 'prefix', naming: 'feed' };
  return { topic: `${root}..feeds.`, match: 'wildcard', naming: 'agent' };
}

export async function runFeedNode(o: FeedNodeOptions): Promise<{ node: DataNodeHandle; cache: FeedCache; close(): Promise<void> }> {
  const log = o.logger ?? silentLogger;
  const sub = feedSubscription(o);
  const cache = new FeedCache({
    bufferTime: o.bufferTime,
    maxSamples: o.maxSamples,
    naming: sub.naming,
    addressRoot: o.addressRoot,
    now: o.now,
  });
  const name = o.name ?? (o.agent ? `feed_${o.agent}${o.feed ? `_${o.feed}` : ''}` : 'feeds');
  const description =
    o.description ?? `OCS feed cache of ${sub.topic}${sub.match !== 'exact' ? ` (${sub.match})` : ''}, last ${cache.bufferTime} s`;
  const node = await runDataNode({ name, description, source: cache, client: o.client, logger: log });
  const bad = new RateLimitedLog((obj, msg) => log.warn(obj, msg));
  const c = node.client;
  // OCS topics are plain URIs, not under the sisock URI base.
  const handle: Handle = await c.subscribe(
    sub.topic,
    (args, _kw, details) => {
      const r = cache.ingest(args, details?.topic ?? (sub.match === 'exact' ? sub.topic : undefined));
      if (r.problems.length) bad.log({ topic: details?.topic, problems: r.problems.slice(0, 5) }, 'feed event (partly) ignored');
      if (r.live) void node.push(r.live).catch((err) => log.debug({ err: String(err) }, 'live push failed'));
    },
    sub.match === 'exact' ? {} : { match: sub.match },
  );
  const timer = setInterval(() => cache.prune(), 10_000);
  timer.unref();
  log.info({ topic: sub.topic, match: sub.match }, 'feed node subscribed');
  let closed = false;
  return {
    node,
    cache,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      await handle.remove().catch(() => {});
      await node.close();
    },
  };
}
