/**
 * The web page on the demo, in Debian's Chromium (playwright-core): the time from navigation start
 * to the first plot with data, for a bookmarked view (`#t=sim::hv_ch0_voltage,sim::sensor_temperature`).
 * Goal ≤ 1.5 s. `sisock demo` runs in its own process (the compiled CLI, dist/bin/sisock.js);
 * beside the figure, measured in the same run: DOMContentLoaded, the page's /api/nodes and /query
 * answers (from the browser's resource timing), and the same /query from Node (no browser).
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/page.js [rounds]
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const CHROMIUM = process.env.SISOCK_CHROMIUM ?? '/usr/bin/chromium';
const GOAL_MS = 1500;
const VIEW = '#t=sim::hv_ch0_voltage,sim::sensor_temperature';

interface Round {
  firstPlotMs: number;
  domMs: number;
  nodesMs: number;
  queryMs: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

async function startDemo(): Promise<{ proc: ChildProcessWithoutNullStreams; page: string; grafana: string }> {
  const cli = path.join(__dirname, '..', 'bin', 'sisock.js');
  if (!fs.existsSync(cli)) throw new Error(`${cli} missing: build first (npx tsc -p tsconfig.build.json)`);
  const proc = spawn(process.execPath, [cli, 'demo', '--port', '0', '--grafana-port', '0'], {
    env: { ...process.env, SISOCK_LOG_LEVEL: 'warn' },
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`demo did not start: ${out}`));
    }, 60_000);
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const page = /^page: (\S+)$/m.exec(out)?.[1];
      const grafana = /^grafana: (\S+)$/m.exec(out)?.[1];
      if (page && grafana && /^Try:$/m.test(out)) {
        clearTimeout(t);
        resolve({ proc, page, grafana });
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`demo exited (${code}): ${out}`));
    });
  });
}

export async function runPageBench(rounds = 5, log: (s: string) => void = () => undefined): Promise<string> {
  if (!fs.existsSync(CHROMIUM)) return `page bench skipped: no Chromium at ${CHROMIUM}`;
  const { chromium } = await import('playwright-core');
  const demo = await startDemo();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  try {
    // the bridge has seen the sim node (its catalogue fills in as nodes announce themselves)
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const r = await fetch(`${demo.grafana}/infinity/fields?node=sim`).catch(() => null);
      if (r?.ok && ((await r.json()) as unknown[]).length > 0) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    const results: Round[] = [];
    for (let i = 0; i <= rounds; i++) {
      const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      const page = await context.newPage();
      await page.goto(`${demo.page}${VIEW}`);
      await page.waitForFunction('window.__sisock && window.__sisock.pointCount() > 0', null, { timeout: 20_000, polling: 'raf' });
      const m = (await page.evaluate(`(() => {
        const first = performance.now();
        const nav = performance.getEntriesByType('navigation')[0];
        const res = performance.getEntriesByType('resource');
        const pick = (s) => { const e = res.find((r) => r.name.includes(s)); return e ? e.responseEnd - e.startTime : NaN; };
        return { firstPlotMs: first, domMs: nav ? nav.domContentLoadedEventEnd : NaN, nodesMs: pick('/api/nodes'), queryMs: pick('/query') };
      })()`)) as Round;
      await context.close();
      if (i > 0) results.push(m); // the first round warms the bridge and the browser
      log(`round ${i}: first plot ${m.firstPlotMs.toFixed(0)} ms`);
    }
    const now = Date.now();
    const body = JSON.stringify({
      range: { from: new Date(now - 900e3).toISOString(), to: new Date(now).toISOString() },
      maxDataPoints: 1300,
      targets: [
        { target: 'sim::hv_ch0_voltage', refId: 'A' },
        { target: 'sim::sensor_temperature', refId: 'B' },
      ],
    });
    const nodeQuery: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const t0 = performance.now();
      await (await fetch(`${demo.grafana}/query`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body })).json();
      nodeQuery.push(performance.now() - t0);
    }
    const first = median(results.map((r) => r.firstPlotMs));
    const rows: Array<[string, number, string]> = [
      ['first plot with data after load (Chromium)', first, `≤ ${GOAL_MS} ${first <= GOAL_MS ? 'ok' : 'MISSED'}`],
      ['  DOMContentLoaded', median(results.map((r) => r.domMs)), ''],
      ["  the page's /api/nodes (browser)", median(results.map((r) => r.nodesMs)), ''],
      ["  the page's /query (browser)", median(results.map((r) => r.queryMs)), ''],
      ['  the same /query from Node (no browser)', median(nodeQuery), ''],
    ];
    return [
      `web page on the demo, ${rounds} rounds after a warm-up, medians (${VIEW})`,
      ...rows.map(([what, ms, goal]) => `${what.padEnd(46)} ${ms.toFixed(0).padStart(6)} ms  ${goal}`),
    ].join('\n');
  } finally {
    await browser.close();
    const exited = new Promise((r) => demo.proc.once('exit', r));
    demo.proc.kill('SIGTERM');
    await exited;
  }
}

if (require.main === module) {
  const rounds = Number(process.argv[2] ?? 5) || 5;
  runPageBench(rounds, (s) => process.stderr.write(`${s}\n`)).then(
    (text) => {
      process.stdout.write(`${text}\n`);
      process.exit(0);
    },
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
