/**
 * The historian in-process over a real router (port 0): OCS feed events (`observatory.<agent>.feeds.<feed>`)
 * are kept as node `feeds` (fields `feeds.<agent>.<feed>.<key>`) and a malformed event changes nothing.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { getData, getFields, type SisockClient } from '../../client';
import { runHistorian, type Historian } from '../../historian/historian';
import { closeAll, newClient, startTestRouter, waitFor } from './sisock-helpers';

describe('historian: OCS feeds', () => {
  let router: Awaited<ReturnType<typeof startTestRouter>>;
  let h: Historian;
  let hc: SisockClient;
  let agent: SisockClient;
  let dir: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sisock-hfeeds-'));
    router = await startTestRouter();
    hc = newClient(router.url);
    await hc.whenReady(10000);
    h = await runHistorian({ client: hc, path: path.join(dir, 'h.sqlite'), feeds: true });
    agent = newClient(router.url);
    await agent.whenReady(10000);
  });
  afterAll(async () => {
    await h?.close();
    await closeAll(hc, agent);
    await router?.router.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('stores feed samples and serves them; ignores malformed events', async () => {
    const now = Date.now() / 1000;
    const t = [now - 2, now - 1];
    const message = { temps: { block_name: 'temps', data: { 'Channel 1': [1.5, 2.5] }, timestamps: t } };
    const feedData = { agent_address: 'observatory.LSA22YG', feed_name: 'temperatures', record: true };
    await agent.publish('observatory.LSA22YG.feeds.temperatures', ['not an OCS event'], {}, { acknowledge: true });
    await agent.publish('observatory.LSA22YG.feeds.temperatures', [[message, feedData]], {}, { acknowledge: true });
    const f = 'feeds.LSA22YG.temperatures.channel_1';
    await waitFor(async () => ((await getData(hc, 'historian', [f], now - 60, now + 1)).data[f]?.length ?? 0) === 2, 5000, 'feed samples');
    const r = await getData(hc, 'historian', [f], now - 60, now + 1);
    expect(r.data[f]).toEqual([1.5, 2.5]);
    expect(r.timeline[f]?.t).toEqual(t);
    const [fields] = await getFields(hc, 'historian', 1, 0);
    expect(Object.keys(fields)).toEqual([f]);
  });
});
