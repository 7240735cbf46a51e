/**
 * `sisock node feed`: OCS-shaped feed events published through our router (port 0) are cached and
 * read back with get_fields/get_data, one agent's feed (data_feed's names) or every agent's
 * (wildcard subscription), with live push; malformed events are ignored.
 */
import { runHub, type HubHandle } from '../../hub';
import { getData, getFields, subscribeLive, type SisockClient, type DataResult } from '../../client';
import { FeedCache, feedSubscription, runFeedNode } from '../../data-nodes/feed';
import type { RunningRouter } from '../../router/server';
import { closeAll, newClient, opts, startTestRouter } from './sisock-helpers';
import { waitFor } from '../helpers/wait';

let router: RunningRouter;
let url: string;
let hub: HubHandle;
let consumer: SisockClient;
let agentA: SisockClient;
const closers: Array<{ close(): Promise<void> }> = [];

beforeAll(async () => {
  ({ router, url } = await startTestRouter());
  hub = await runHub({ client: opts(url) });
  consumer = newClient(url);
  agentA = newClient(url);
  await Promise.all([hub.ready(10000), consumer.whenReady(10000), agentA.whenReady(10000)]);
});

afterAll(async () => {
  for (const c of closers.reverse()) await c.close().catch(() => {});
  await closeAll(agentA, consumer, hub, router);
});

/** What an OCS agent publishes: one positional argument [message, feed_data]. */
function feedEvent(agent: string, feed: string, t: number[], data: Record<string, unknown[]>, block = 'temps') {
  const message = { [block]: { block_name: block, data, timestamps: t } };
  const feedData = {
    agent_address: `observatory.${agent}`,
    agg_params: {},
    feed_name: feed,
    address: `observatory.${agent}.feeds.${feed}`,
    record: true,
    session_id: '1',
  };
  return [[message, feedData]];
}

function publish(agent: string, feed: string, t: number[], data: Record<string, unknown[]>): Promise<void> {
  return agentA.publish(`observatory.${agent}.feeds.${feed}`, feedEvent(agent, feed, t, data), {}, { acknowledge: true });
}

test('subscriptions: exact for one feed, prefix for one agent, wildcard for all', () => {
  expect(feedSubscription({ agent: 'LSA22YG', feed: 'temperatures' })).toEqual({
    topic: 'observatory.LSA22YG.feeds.temperatures',
    match: 'exact',
    naming: 'key',
  });
  expect(feedSubscription({ agent: 'LSA22YG' })).toEqual({ topic: 'observatory.LSA22YG.feeds.', match: 'prefix', naming: 'feed' });
  expect(feedSubscription({})).toEqual({ topic: 'observatory..feeds.', match: 'wildcard', naming: 'agent' });
  expect(() => feedSubscription({ agent: 'a.b' })).toThrow();
});

test('one agent, one feed: cached, served with data_feed names, pushed live', async () => {
  const f = await runFeedNode({ client: opts(url), agent: 'LSA22YG', feed: 'temperatures', name: 'feed_lsa', bufferTime: 3600 });
  closers.push(f);
  await f.node.ready(10000);
  const live: DataResult[] = [];
  const sub = await subscribeLive(consumer, 'feed_lsa', (r) => live.push(r));
  closers.push({ close: () => sub.remove() });

  const now = Date.now() / 1000;
  await publish('LSA22YG', 'temperatures', [now - 3, now - 2], { 'Channel 01': [0.1, 0.2], Channel_02: [1.1, 1.2] });
  await publish('LSA22YG', 'temperatures', [now - 1], { 'Channel 01': [0.3], Channel_02: [1.3] });
  await publish('LSA22YG', 'other_feed', [now - 1], { x: [9] }); // not ours
  await publish('LSA22YG', 'temperatures', [now - 1], { bad: [1, 2] }); // length mismatch: ignored
  await agentA.publish('observatory.LSA22YG.feeds.temperatures', ['not an OCS event'], {}, { acknowledge: true });

  await waitFor(() => f.cache.stats.events >= 4, 5000, 'feed events');
  const [fields, timelines] = await getFields(consumer, 'feed_lsa', -3600, 0);
  expect(Object.keys(fields).sort()).toEqual(['channel_01', 'channel_02']);
  expect(fields.channel_01).toEqual({ description: null, timeline: 'observatory.LSA22YG.channel_01', type: 'number', units: null });
  expect(timelines['observatory.LSA22YG.channel_02']!.field).toEqual(['channel_02']);
  const d = await getData(consumer, 'feed_lsa', ['channel_01', 'channel_02', 'x', 'bad'], -60, 0);
  expect(d.data).toEqual({ channel_01: [0.1, 0.2, 0.3], channel_02: [1.1, 1.2, 1.3], x: [], bad: [] });
  expect(d.timeline['observatory.LSA22YG.channel_01']!.t).toEqual([now - 3, now - 2, now - 1]);
  await waitFor(() => live.reduce((n, r) => n + (r.data.channel_01?.length ?? 0), 0) === 3, 5000, 'live samples');
});

test('every agent (wildcard): names carry agent and feed; old samples leave the buffer', async () => {
  let clock = Date.now() / 1000;
  const f = await runFeedNode({ client: opts(url), name: 'feeds_all', bufferTime: 60, now: () => clock });
  closers.push(f);
  await f.node.ready(10000);
  await publish('bluefors', 'temps', [clock - 30, clock - 10], { mxc: [0.01, 0.011] });
  await publish('pysmurf1', 'stats', [clock - 5], { rms: [3], state: ['tuning'] });
  await waitFor(() => f.cache.stats.events >= 2, 5000, 'feed events');
  const [fields] = await getFields(consumer, 'feeds_all', 1, 0);
  expect(Object.keys(fields).sort()).toEqual(['bluefors.temps.mxc', 'pysmurf1.stats.rms', 'pysmurf1.stats.state']);
  expect(fields['pysmurf1.stats.state']!.type).toBe('string');
  const d = await getData(consumer, 'feeds_all', ['bluefors.temps.mxc', 'pysmurf1.stats.state'], 1, 0);
  expect(d.data).toEqual({ 'bluefors.temps.mxc': [0.01, 0.011], 'pysmurf1.stats.state': ['tuning'] });
  clock += 40; // the sample at clock-30 is now 70 s old: out of the 60 s buffer
  const later = await getData(consumer, 'feeds_all', ['bluefors.temps.mxc'], 1, clock);
  expect(later.data['bluefors.temps.mxc']).toEqual([0.011]);
});

test('cache: out-of-order samples are sorted, a repeated timestamp replaces', () => {
  const c = new FeedCache({ now: () => 1000 });
  c.ingest(feedEvent('a', 'f', [990, 995], { v: [1, 2] }), 'observatory.a.feeds.f');
  c.ingest(feedEvent('a', 'f', [992, 995], { v: [9, 3] }), 'observatory.a.feeds.f');
  expect(c.getData(['v'], 0, 2000, null).data.v).toEqual([1, 9, 3]);
});

test('cache: a sample far in the future is refused as a problem; later samples still append', () => {
  const c = new FeedCache({ now: () => 1000 });
  const r = c.ingest(feedEvent('a', 'f', [990, 1e12, 1200, 1400], { v: [1, 2, 3, 4] }), 'observatory.a.feeds.f');
  expect(r.samples).toBe(2);
  expect(r.problems).toEqual([expect.stringMatching(/2 samples more than 300 s in the future/)]);
  expect(c.stats.rejected).toBe(1);
  c.ingest(feedEvent('a', 'f', [995], { v: [5] }), 'observatory.a.feeds.f');
  const d = c.getData(['v'], 0, 1e13, null);
  expect(d.data.v).toEqual([1, 5, 3]);
  expect(d.timeline['observatory.a.v']!.finalized_until).toBe(1200);
  expect(c.newestSample()).toBe(1200);
});

test('cache: a block in descending time order is sorted once, equal times keep the last value', () => {
  const n = 200_000;
  const c = new FeedCache({ now: () => 1e6, bufferTime: 1e6, maxSamples: 1e7 });
  const ts = Array.from({ length: n }, (_, i) => 1e6 - i);
  // (No timing assertion; the O(n^2) splice path this replaced took seconds here: a slow test.)
  const r = c.ingest(feedEvent('a', 'f', ts, { v: ts.map((t) => t) }), 'observatory.a.feeds.f');
  expect(r.live!.timeline['observatory.a.v']!.t.slice(0, 3)).toEqual([1e6 - n + 1, 1e6 - n + 2, 1e6 - n + 3]);
  const d = c.getData(['v'], 0, 2e6, null);
  expect(d.timeline['observatory.a.v']!.t).toHaveLength(n);
  expect(d.data.v![0]).toBe(1e6 - n + 1);
  // merged into existing samples: one overlap merge, duplicates within the block: last wins
  c.ingest(feedEvent('a', 'f', [1e6 - 5, 1e6 - 5.5, 1e6 - 5], { v: [-1, -2, -3] }), 'observatory.a.feeds.f');
  const e = c.getData(['v'], 1e6 - 6, 1e6 - 4, null);
  expect(e.timeline['observatory.a.v']!.t).toEqual([1e6 - 6, 1e6 - 5.5, 1e6 - 5]);
  expect(e.data.v).toEqual([1e6 - 6, -2, -3]);
});
