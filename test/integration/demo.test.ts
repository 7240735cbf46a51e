/**
 * `sisock demo` as a process, the way `make demo` runs it: every service prints its line, the
 * MQTT path works end to end (a WAMP call travels over the embedded aedes broker to the simulated
 * supply and the change comes back as data), the bridge and the page answer, and SIGTERM stops
 * everything with exit code 0. Runs the compiled CLI (`make test` builds dist/ first).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { SisockClient, getData } from '../../client';
import { waitFor } from '../helpers/wait';

const ROOT = path.join(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'bin', 'sisock.js');
const BASE = 'org.simonsobservatory';

let child: ChildProcessWithoutNullStreams | null = null;
let client: SisockClient | null = null;
afterEach(async () => {
  await client?.close();
  client = null;
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

test('sisock demo: all services up, the MQTT command path works, SIGTERM exits 0', async () => {
  expect(existsSync(CLI)).toBe(true);
  child = spawn(process.execPath, [CLI, 'demo', '--port', '0', '--grafana-port', '0', '--host', '127.0.0.1'], {
    cwd: ROOT,
    env: { ...process.env, SISOCK_LOG_LEVEL: 'warn' },
  });
  const proc = child;
  let out = '';
  let err = '';
  proc.stdout.on('data', (d: Buffer) => {
    out += d.toString('utf8');
  });
  proc.stderr.on('data', (d: Buffer) => {
    err += d.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));

  await waitFor(() => /^Try:$/m.test(out) || proc.exitCode !== null, 30_000, 'the demo to print its URL block');
  // a quiet start: nothing on stdout but the one block, nothing on stderr at the default level
  expect(out).toMatch(/^router: .*\n(?:.*: .*\n)+\nTry:\n(?: {2}.*\n)+$/);
  expect(err).toBe('');
  const lines = Object.fromEntries(
    out
      .trim()
      .split('\n')
      .map((l) => l.split(/: (.*)/s).slice(0, 2))
      .map(([k, v]) => [k, v]),
  );
  expect(out).toMatch(/^router: ws:\/\/127\.0\.0\.1:\d+\/ws$/m);
  expect(out).toMatch(/^node: sim$/m);
  expect(out).toMatch(/^node: weather$/m);
  expect(out).toMatch(/^node: tracker$/m);
  expect(out).toMatch(/^mqtt: mqtt:\/\/127\.0\.0\.1:\d+$/m);
  expect(out).toMatch(/^grafana: http:\/\//m);
  expect(out).toMatch(/^ {2}npx sisock nodes --router ws:\/\/127\.0\.0\.1:\d+\/ws$/m);

  // The bridge is healthy and lists the demo nodes' fields.
  const grafana = lines.grafana!;
  await waitFor(async () => (await fetch(`${grafana}/`)).status === 200, 10_000, 'the bridge to be healthy');
  const wanted = ['sim::hv_ch0_voltage', 'weather::temperature', 'tracker::sensor_temperature'];
  // The bridge's field catalogue fills in as it hears of each node.
  await waitFor(
    async () => {
      const search = (await (
        await fetch(`${grafana}/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"target":""}' })
      ).json()) as string[];
      return wanted.every((w) => search.includes(w));
    },
    15_000,
    `the bridge to list ${wanted.join(', ')}`,
  );
  expect((await fetch(lines.page!)).status).toBe(200);

  // `sisock call` as printed in the block, as a process: exit 0, the answer as JSON on stdout
  const call = spawn(process.execPath, [
    CLI,
    'call',
    'sim.set_channel',
    'hv',
    '1',
    '{"on": true, "voltage": 200}',
    '--router',
    lines.router!,
  ]);
  let callOut = '';
  call.stdout.on('data', (d: Buffer) => {
    callOut += d.toString('utf8');
  });
  expect(await new Promise((resolve) => call.once('exit', resolve))).toBe(0);
  expect(() => JSON.parse(callOut)).not.toThrow();

  // WAMP → MQTT → simulated device → MQTT → history: switch HV channel 2 on at 300 V.
  client = new SisockClient({ url: lines.router!, realm: 'test_realm', uriBase: BASE, initialRetryDelay: 0.05 });
  client.start();
  await client.whenReady(10_000);
  // The sim's HV channel 0 is on from the start: its voltage moves (the README's examples).
  await waitFor(
    async () => {
      const r = await getData(client!, 'sim', ['hv_ch0_on', 'hv_ch0_voltage'], -60, 0);
      const v = r.data.hv_ch0_voltage ?? [];
      return (r.data.hv_ch0_on ?? []).at(-1) === true && Number(v.at(-1)) > 100;
    },
    15_000,
    'sim HV channel 0 on and ramping',
  );

  await client.call(`${BASE}.consumer.tracker.set_channel`, ['hv', 2, { on: true, voltage: 300 }]);
  await waitFor(
    async () => {
      const r = await getData(client!, 'tracker', ['hv_ch2_setpoint', 'hv_ch2_on'], -60, 0);
      const sp = r.data.hv_ch2_setpoint ?? [];
      const on = r.data.hv_ch2_on ?? [];
      return sp[sp.length - 1] === 300 && on[on.length - 1] === true;
    },
    15_000,
    'the command to come back as data over MQTT',
  );
  await client.close();
  client = null;

  proc.kill('SIGTERM');
  expect(await exited).toBe(0);
  expect(err).not.toMatch(/"level":(50|60)/); // no error or fatal log lines
}, 60_000);
