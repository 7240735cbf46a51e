/**
 * The web page in Debian's Chromium (playwright-core): router + hub + the demo nodes (sim at
 * 10 Hz, weather replayed) + bridge in-process on port 0. The page lists the nodes, the field
 * picker draws a plot with points, live data moves it, and the CSV holds what is shown.
 * Screenshot: test-output/web-page.png. Without /usr/bin/chromium the test is skipped, except on CI
 * (env CI or SISOCK_REQUIRE_SERVICES) where that is a failure.
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { runHub, type HubHandle } from '../../hub';
import { runSimNode } from '../../data-nodes/sim';
import { runWeatherNode } from '../../data-nodes/weather';
import type { DataNodeHandle } from '../../data-nodes/sdk';
import { startBridge, type RunningBridge } from '../../consumers/grafana';
import type { RunningRouter } from '../../router/server';
import { CHROMIUM, chromiumRequired, haveChromium, TEST_OUTPUT } from '../helpers/chromium';
import { closeAll, opts, startTestRouter } from './sisock-helpers';

// Browser globals used inside page.evaluate/waitForFunction callbacks (they run in Chromium).
declare const window: any;
declare const document: any;
declare const location: any;

const required = chromiumRequired;
const OUT = TEST_OUTPUT;

if (!haveChromium && !required) {
  console.warn(`web-page test skipped: no Chromium at ${CHROMIUM} (install: ./scripts/ensure-debian-packages.sh chromium)`);
}

(haveChromium || required ? describe : describe.skip)('web page in Chromium', () => {
  let router: RunningRouter;
  let hub: HubHandle;
  let nodes: DataNodeHandle[] = [];
  let stopSim: (() => void) | null = null;
  let bridge: RunningBridge;
  let browser: Browser | null = null;
  let page: Page;

  beforeAll(async () => {
    if (!haveChromium)
      throw new Error(`Chromium is required on CI but missing at ${CHROMIUM} (./scripts/ensure-debian-packages.sh chromium)`);
    const r = await startTestRouter();
    router = r.router;
    hub = await runHub({ client: opts(r.url) });
    // The sim node with ten minutes of history: its clock starts 600 s behind and is stepped up
    // to now before the live samples (10 Hz) take over.
    let lag = 600;
    const sim = await runSimNode({ client: opts(r.url), rate: 10, capacity: 36000, seed: 7, now: () => Date.now() / 1000 - lag });
    stopSim = () => sim.source.stop();
    sim.source.setChannel(['hv', 0, { on: true, voltage: 600 }], {});
    sim.source.setChannel(['lv', 1, { on: true, voltage: 5 }], {});
    for (; lag > 0.1; lag -= 0.1) {
      if (Math.abs(lag - 300) < 0.05) sim.source.setChannel(['hv', 1, { on: true, voltage: 350 }], {});
      if (Math.abs(lag - 120) < 0.05) sim.source.setChannel(['hv', 0, { voltage: 450 }], {});
      sim.source.stepOnce();
    }
    lag = 0;
    const weather = await runWeatherNode({ client: opts(r.url), replay: true });
    nodes = [sim.node, weather.node];
    await Promise.all(nodes.map((n) => n.ready(10000)));
    bridge = await startBridge({ client: opts(r.url), port: 0, host: '127.0.0.1', auth: {} });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, acceptDownloads: true });
    page = await context.newPage();
    // No network beyond the bridge: the page must not fetch anything from elsewhere.
    await page.route('**/*', (route) => (route.request().url().startsWith(bridge.url) ? route.continue() : route.abort()));
  }, 60000);

  afterAll(async () => {
    if (browser) await browser.close();
    stopSim?.();
    await closeAll(bridge, ...nodes, hub);
    if (router) await router.close();
  });

  it('lists the demo nodes with their metadata and fields', async () => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // an error on the console (a resource that does not load, an error logged by the page) fails it too
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()}`);
    });
    await page.goto(`${bridge.pageUrl}#r=15m`);
    await page.waitForSelector('details.node[data-node="sim"]', { timeout: 10000 });
    await page.waitForSelector('details.node[data-node="weather"]', { timeout: 10000 });
    expect(await page.textContent('#node-count')).toBe('2');
    const simText = await page.textContent('details.node[data-node="sim"]');
    expect(simText).toContain('Simulated lab hardware');
    expect(simText).toContain('sensor_temperature');
    await page.waitForFunction(() => document.querySelector('details.node[data-node="sim"] .meta')?.textContent?.includes('host'), null, {
      timeout: 10000,
    });
    expect(errors).toEqual([]);
  });

  it('draws points for the picked fields and moves with live data', async () => {
    for (const t of ['sim::hv_ch0_voltage', 'sim::hv_ch1_voltage', 'sim::sensor_temperature', 'sim::sensor_humidity']) {
      await page.check(`input[data-target="${t}"]`);
    }
    // three units → three plots
    await page.waitForFunction(() => document.querySelectorAll('.plot-card canvas').length === 3, null, { timeout: 10000 });
    await page.waitForFunction(() => window.__sisock.pointCount() > 0, null, { timeout: 10000 });
    const first = await page.evaluate(() => window.__sisock.pointCount() as number);
    await page.waitForFunction((n) => window.__sisock.state.liveEvents > 3 && window.__sisock.pointCount() > n + 5, first, {
      timeout: 15000,
    });
    // history (10 min, downsampled to the plot width) plus live points
    expect(await page.evaluate(() => window.__sisock.state.series['sim::sensor_temperature'].t.length as number)).toBeGreaterThan(300);
    expect(await page.textContent('#status')).toMatch(/points · live/);
    // the newest point is recent: live, not just history
    const newest = await page.evaluate(() => {
      const s = window.__sisock.state.series['sim::hv_ch0_voltage'];
      return s.t[s.t.length - 1] as number;
    });
    expect(Date.now() - newest).toBeLessThan(5000);
    fs.mkdirSync(OUT, { recursive: true });
    // the screenshot after one more live redraw, so the canvas holds the newest points
    const redraws = await page.evaluate(() => window.__sisock.state.redraws as number);
    await page.waitForFunction((n) => window.__sisock.state.redraws > n, redraws, { timeout: 5000 });
    await page.screenshot({ path: path.join(OUT, 'web-page.png') });
    // Series sampled at different times share one x axis: where only the other one has a sample, a series
    // is not broken there (uPlot: undefined joins over, null is a gap); only its own missing values are gaps.
    const breaks = await page.evaluate(() => {
      const plots = window.__sisock.state.plots as Array<{ targets: string[]; u: { data: unknown[][] } }>;
      const v = plots.find((p) => p.targets.includes('sim::hv_ch0_voltage'))!;
      return v.u.data.slice(1).map((ys) => ys.filter((y) => y === null).length);
    });
    expect(breaks).toEqual([0, 0]);
  });

  it('downloads what is shown as CSV', async () => {
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 10000 }), page.click('#csv')]);
    expect(download.suggestedFilename()).toMatch(/^sisock-.*\.csv$/);
    const file = path.join(OUT, 'web-page.csv');
    await download.saveAs(file);
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
    expect(lines[0]).toBe(
      'time_utc,time_unix_ms,sim::hv_ch0_voltage [V],sim::hv_ch1_voltage ' + '[V],sim::sensor_temperature [C],sim::sensor_humidity [%]',
    );
    expect(lines.length).toBeGreaterThan(20);
    const row = lines[lines.length - 1]!.split(',');
    expect(row).toHaveLength(6);
    expect(new Date(row[0]!).getTime()).toBe(Number(row[1]));
    expect(Number(row[2])).toBeCloseTo(450, -1); // hv_ch0 at its 450 V setpoint
  });

  it('the range presets reload history from /query', async () => {
    await page.click('#presets button[data-range="1h"]');
    await page.waitForFunction(() => location.hash.includes('r=1h'), null, { timeout: 5000 });
    await page.waitForFunction(() => window.__sisock.pointCount() > 0, null, { timeout: 10000 });
    expect(await page.getAttribute('#presets button[data-range="1h"]', 'class')).toContain('active');
  });
});
