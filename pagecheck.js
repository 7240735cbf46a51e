const { chromium } = require('playwright-core');
(async () => {
  const b = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  const p = await b.newPage({ viewport: { width: 1280, height: 900 } });
  const errs = [];
  p.on('pageerror', (e) => errs.push(String(e)));
  p.on('console', (m) => { if (m.type() === 'error') errs.push(m.text()); });
  await p.goto('http://127.0.0.1:5000/page/', { waitUntil: 'networkidle' });
  await p.waitForTimeout(1500);
  await p.screenshot({ path: '/tmp/prof/page1.png' });
  await p.getByText('hv_ch0_voltage', { exact: true }).first().click();
  await p.waitForTimeout(2500);
  await p.screenshot({ path: '/tmp/prof/page2.png' });
  console.log('errors', JSON.stringify(errs));
  await b.close();
})().catch((e) => { console.error(e); process.exit(1); });
