/**
 * The web page as a daily tool, in Debian's Chromium (playwright-core), over a real router, hub,
 * nodes and bridge on port 0: the time zone shown and switchable (UTC by default); a default range
 * that widens until the picked fields show data; string and bool fields as state timelines; one
 * cursor across plots and timelines; an offline node marked on its plots; failures in words; units
 * in legends; a filter opens the nodes it matches; node metadata collapsible; a series the bridge took
 * from the historian marked on its plot.
 * Screenshots: test-output/web-page-daily-*.png.
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { runHub, type HubHandle } from '../../hub';
import { runDataNode, type DataNodeHandle, type DataResult, type DataSource, type FieldsResult } from '../../data-nodes/sdk';
import { startBridge, type RunningBridge } from '../../consumers/grafana';
import type { RunningRouter } from '../../router/server';
import { CHROMIUM, chromiumRequired, haveChromium, TEST_OUTPUT } from '../helpers/chromium';
import { closeAll, opts, startTestRouter, waitFor } from './sisock-helpers';

declare const window: any;
declare const document: any;
declare const location: any;

const required = chromiumRequired;
const OUT = TEST_OUTPUT;

/** Samples every 10 s between 4 h and 3 h ago (nothing in the last 15 min or hour). */
class PastSource implements DataSource {
  constructor(
    private readonly cols: Array<{
      name: string;
      type: 'number' | 'string' | 'bool';
      units: string | null;
      v: (i: number) => number | string | boolean;
    }>,
  ) {}
  getFields(): FieldsResult {
    const f: FieldsResult[0] = {};
    for (const c of this.cols) f[c.name] = { description: `${c.name} of the test`, timeline: 'tl', type: c.type, units: c.units };
    return [f, { tl: { interval: 10, field: this.cols.map((c) => c.name) } }];
  }
  getData(fields: string[], start: number, end: number): DataResult {
    const now = Math.floor(Date.now() / 1000 / 10) * 10;
    const t: number[] = [];
    for (let x = now - 4 * 3600; x < now - 3 * 3600; x += 10) if (x >= start && x < end) t.push(x);
    const data: DataResult['data'] = {};
    for (const f of fields) {
      const c = this.cols.find((k) => k.name === f);
      data[f] = c ? t.map((_, i) => c.v(i)) : [];
    }
    return { data, timeline: t.length ? { tl: { t, finalized_until: null } } : {} };
  }
}

/**
 * What the historian serves (fields `<node>.<field>`, one timeline each): a copy of PastSource's
 * columns of one node, so a node that goes away still answers from here.
 */
class HistorianCopy implements DataSource {
  constructor(
    private readonly node: string,
    private readonly past: PastSource,
  ) {}
  getFields(): FieldsResult {
    const [f] = this.past.getFields();
    const out: FieldsResult = [{}, {}];
    for (const [name, info] of Object.entries(f)) {
      const q = `${this.node}.${name}`;
      out[0][q] = { ...info, timeline: q };
      out[1][q] = { interval: 10, field: [q] };
    }
    return out;
  }
  getData(fields: string[], start: number, end: number): DataResult {
    const out: DataResult = { data: {}, timeline: {} };
    for (const q of fields) {
      const own = q.startsWith(`${this.node}.`) ? q.slice(this.node.length + 1) : null;
      const r = own ? this.past.getData([own], start, end) : null;
      out.data[q] = (own && r?.data[own]) || [];
      const tl = r?.timeline.tl;
      if (tl && out.data[q].length) out.timeline[q] = tl;
    }
    return out;
  }
}

(haveChromium || required ? describe : describe.skip)('web page as a daily tool (Chromium)', () => {
  let router: RunningRouter;
  let hub: HubHandle;
  let lab: DataNodeHandle;
  let aux: DataNodeHandle | null;
  let historian: DataNodeHandle;
  let bridge: RunningBridge;
  let browser: Browser | null = null;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    if (!haveChromium) throw new Error(`Chromium is required on CI but missing at ${CHROMIUM}`);
    const r = await startTestRouter();
    router = r.router;
    hub = await runHub({ client: opts(r.url) });
    lab = await runDataNode({
      name: 'lab',
      description: 'the lab',
      client: opts(r.url),
      source: Object.assign(
        new PastSource([
          { name: 'temp', type: 'number', units: '°C', v: (i) => 20 + Math.sin(i / 20) },
          { name: 'mode', type: 'string', units: null, v: (i) => (Math.floor(i / 90) % 2 ? 'scan' : 'idle') },
          { name: 'heater_on', type: 'bool', units: null, v: (i) => Math.floor(i / 60) % 2 === 0 },
        ]),
        { status: () => ({ broker_dropped: 3, mqtt_connected: true }) },
      ),
    });
    const auxPast = new PastSource([{ name: 'level', type: 'number', units: 'm', v: (i) => 2 + (i % 30) / 30 }]);
    aux = await runDataNode({
      name: 'aux',
      description: 'an auxiliary node',
      client: opts(r.url),
      source: auxPast,
    });
    historian = await runDataNode({
      name: 'historian',
      description: 'history',
      client: opts(r.url),
      source: new HistorianCopy('aux', auxPast),
    });
    await Promise.all([lab.ready(10000), aux.ready(10000), historian.ready(10000)]);
    bridge = await startBridge({ client: opts(r.url), port: 0, host: '127.0.0.1', auth: {}, history: 'historian' });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, timezoneId: 'America/Santiago' });
    page = await context.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    await page.route('**/*', (route) => (route.request().url().startsWith(bridge.url) ? route.continue() : route.abort()));
    fs.mkdirSync(OUT, { recursive: true });
  }, 60000);

  afterAll(async () => {
    if (browser) await browser.close();
    await closeAll(bridge, lab, aux, historian, hub);
    if (router) await router.close();
  });

  it('the default range widens until the picked fields show data; UTC by default, switchable', async () => {
    await page.goto(`${bridge.pageUrl}#t=lab::temp,aux::level,lab::mode,lab::heater_on`);
    await page.waitForFunction(() => window.__sisock.pointCount() > 0, null, { timeout: 15000 });
    expect(await page.evaluate(() => window.__sisock.state.range)).toBe('6h');
    expect(await page.textContent('#status')).toMatch(/^nothing in the last 1h: showing 6h · \d+ points/);
    expect(await page.inputValue('#tz')).toBe('UTC');
    expect(await page.textContent('#tz-local')).toBe('Local (America/Santiago)');
    expect(await page.textContent('.plot-card .u-legend')).toContain('time (UTC)');
    await page.selectOption('#tz', 'local');
    await page.waitForFunction(() => location.hash.includes('tz=local'), null, { timeout: 5000 });
    expect(await page.textContent('.plot-card .u-legend')).toContain('time (America/Santiago)');
    await page.selectOption('#tz', 'UTC');
  });

  it('units in legends, string and bool fields as a state timeline, one cursor across all', async () => {
    await page.waitForSelector('.plot-card.states .state-seg', { timeout: 10000 });
    const cards = await page.$$eval('.plot-card', (els: any[]) => els.map((e) => e.dataset.unit));
    expect(cards).toEqual(['°C', 'm', 'states']);
    expect(await page.textContent('.plot-card[data-unit="°C"] .u-legend')).toContain('lab::temp [°C]');
    const segs = await page.$$eval('.state-row[data-target="lab::mode"] .state-seg', (els: any[]) => els.map((e) => e.textContent));
    expect(new Set(segs)).toEqual(new Set(['idle', 'scan']));
    const heater = await page.$$eval('.state-row[data-target="lab::heater_on"] .state-seg', (els: any[]) => els.map((e) => e.textContent));
    expect(new Set(heater)).toEqual(new Set(['on', 'off']));
    // the mouse over the first plot moves the second plot's cursor and the timelines' to the same time
    const over = await page.$('.plot-card[data-unit="°C"] .u-over');
    const box = await over!.boundingBox();
    await page.mouse.move(box!.x + box!.width * 0.9, box!.y + box!.height / 2);
    await page.waitForFunction(
      () => {
        const [a, b] = window.__sisock.state.plots;
        return a && b && a.u.cursor.left > 0 && Math.abs(a.u.posToVal(a.u.cursor.left, 'x') - b.u.posToVal(b.u.cursor.left, 'x')) < 1;
      },
      null,
      { timeout: 5000 },
    );
    expect(await page.$eval('.state-cursor', (e: any) => e.style.display)).toBe('');
    await page.screenshot({ path: path.join(OUT, 'web-page-daily-states.png') });
    await page.$eval('.plot-card.states', (e: any) => e.scrollIntoView());
    await (await page.$('.plot-card.states'))!.screenshot({ path: path.join(OUT, 'web-page-daily-timeline.png') });
  });

  it('a filter opens the nodes it matches; metadata is collapsible, closed at first', async () => {
    expect(await page.$eval('details.node[data-node="lab"]', (e: any) => e.open)).toBe(false); // aux is first
    await page.fill('#filter', 'mode');
    await page.waitForFunction(() => document.querySelector('details.node[data-node="lab"]')?.open === true, null, { timeout: 5000 });
    expect(await page.$('details.node[data-node="aux"]')).toBeNull();
    const meta = await page.$('details.node[data-node="lab"] details.meta-box');
    expect(meta).not.toBeNull();
    expect(await meta!.evaluate((e: any) => e.open)).toBe(false);
    await page.click('details.node[data-node="lab"] details.meta-box > summary');
    expect(await meta!.evaluate((e: any) => e.open)).toBe(true);
    // the node's status figures (get_metadata().status, through the hub) are listed with the rest
    const metaText = await page.textContent('details.node[data-node="lab"] details.meta-box .meta');
    expect(metaText).toContain('broker_dropped3');
    expect(metaText).toContain('mqtt_connectedtrue');
    await page.fill('#filter', '');
  });

  it('an offline node is marked on its plots, in words', async () => {
    await aux!.close();
    aux = null;
    await waitFor(() => !bridge.catalogue.nodes().some((n) => n.name === 'aux'), 10000, 'aux gone');
    await page.waitForSelector('.plot-card[data-unit="m"].troubled', { timeout: 15000 });
    expect(await page.textContent('.plot-card[data-unit="m"] .notice')).toMatch(/^node aux is offline/);
    expect(await page.textContent('.plot-card[data-unit="m"] h3 .warn')).toBe('⚠ node aux is offline');
    expect(await page.$('.plot-card[data-unit="°C"].troubled')).toBeNull();
    // its plot still shows its past, from the historian, and says so (the bridge's meta.notices)
    await page.click('#presets button[data-range="6h"]');
    await page.waitForSelector('.plot-card[data-unit="m"].from-history', { timeout: 15000 });
    expect(await page.textContent('.plot-card[data-unit="m"] h3 .hist')).toBe('⟲ from the historian');
    expect(await page.textContent('.plot-card[data-unit="m"] .notice.history')).toMatch(/^aux::level: from the historian: /);
    expect(await page.evaluate(() => window.__sisock.state.series['aux::level'].t.length)).toBeGreaterThan(0);
    expect(await page.$('.plot-card[data-unit="°C"].from-history')).toBeNull();
    await page.screenshot({ path: path.join(OUT, 'web-page-daily-offline.png') });
  });

  it('a bridge that does not answer is said in words, not "Failed to fetch"', async () => {
    await page.route('**/query', (route) => route.abort('connectionrefused'));
    await page.click('#presets button[data-range="24h"]');
    await page.waitForSelector('#plots .error', { timeout: 10000 });
    const text = await page.textContent('#plots .error');
    expect(text).toMatch(/^the bridge at 127\.0\.0\.1:\d+ does not answer: is `sisock grafana` \(or `sisock demo`\) still running\?$/);
    expect(text).not.toMatch(/Failed to fetch/);
    await page.screenshot({ path: path.join(OUT, 'web-page-daily-error.png') });
    await page.unroute('**/query');
    expect(errors).toEqual([]);
  });
});
