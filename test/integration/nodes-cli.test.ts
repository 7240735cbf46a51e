/**
 * The example nodes (sim, weather) and the consumer CLI end to end: an in-process router (port 0),
 * hub and nodes; `sisock nodes | fields | get | tail` run as processes from the compiled CLI
 * (`make test` builds dist/ first). Also: bad input to every procedure gets a WAMP error and the
 * nodes keep serving.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runHub, type HubHandle } from '../../hub';
import { CallError, getData, type SisockClient, type DataResult } from '../../client';
import { runSimNode } from '../../data-nodes/sim';
import { runWeatherNode, exampleDataDir } from '../../data-nodes/weather';
import type { DataNodeHandle } from '../../data-nodes/sdk';
import type { RunningRouter } from '../../router/server';
import { closeAll, newClient, opts, startTestRouter } from './sisock-helpers';

const ROOT = path.join(__dirname, '..', '..');
const DIST = path.join(ROOT, 'dist', 'bin');

let router: RunningRouter;
let url: string;
let hub: HubHandle;
let sim: DataNodeHandle;
let weather: DataNodeHandle;
let client: SisockClient;
let tmp: string;
let cli: string;
const children: ChildProcessWithoutNullStreams[] = [];

beforeAll(async () => {
  for (const f of ['sisock.js', 'commands/node.js', 'commands/consumer.js']) {
    if (!existsSync(path.join(DIST, f)))
      throw new Error(`${path.join(DIST, f)} is missing: build first (npx tsc -p tsconfig.build.json, or make test)`);
  }
  tmp = mkdtempSync(path.join(tmpdir(), 'sisock-nodes-cli-'));
  // The compiled program (as dist/bin/sisock.js runs it)
  cli = path.join(tmp, 'sisock-cli.js');
  writeFileSync(
    cli,
    `
const { buildProgram } = require(${JSON.stringify(path.join(DIST, 'sisock.js'))});
const argv = ['node', 'sisock', ...process.argv.slice(2)];
buildProgram(argv).then((p) => p.parseAsync(argv)).catch((e) => {
  process.stderr.write('sisock: ' + e.message + '\\n');
  process.exitCode = 1;
});
`,
  );
  ({ router, url } = await startTestRouter());
  hub = await runHub({ client: opts(url) });
  sim = (await runSimNode({ client: opts(url), rate: 20, seed: 1 })).node;
  weather = (await runWeatherNode({ client: opts(url) })).node;
  client = newClient(url);
  await Promise.all([hub.ready(10000), sim.ready(10000), weather.ready(10000), client.whenReady(10000)]);
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await closeAll(client, sim, weather, hub, router);
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function start(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcessWithoutNullStreams {
  const child = spawn(process.execPath, [cli, ...args], {
    cwd: ROOT,
    env: { ...process.env, SISOCK_ROUTER: url, SISOCK_REALM: 'test_realm', SISOCK_LOG_LEVEL: 'warn', NO_COLOR: '1', ...env },
  });
  children.push(child);
  return child;
}

function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = start(args, env);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

/** `<unix time> <value>` pairs of a shipped example file. */
function example(field: string): Map<number, string> {
  const m = new Map<number, string>();
  for (const line of readFileSync(path.join(exampleDataDir(), `${field}.dat`), 'utf8').split('\n')) {
    if (line.startsWith('#') || !line.trim()) continue;
    const [t, v = ''] = line.split(/\s+/);
    m.set(Number(t), v);
  }
  return m;
}

const T22 = Date.UTC(2026, 9, 31, 22) / 1000; // 2026-10-31T22:00:00Z

describe('consumer CLI as processes', () => {
  test('sisock nodes: TSV when piped, JSON with --json', async () => {
    const tsv = await run(['nodes']);
    expect(tsv.stderr).toBe('');
    expect(tsv.code).toBe(0);
    const lines = tsv.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('name\tfields\tnewest\thost\tdescription');
    expect(lines.slice(1).map((l) => l.split('\t')[0])).toEqual(['sim', 'weather']);
    expect(lines[1]!.split('\t')[1]).toBe('34');
    const json = await run(['nodes', '--json']);
    const nodes = JSON.parse(json.stdout) as { name: string; description: string }[];
    expect(nodes.map((n) => n.name)).toEqual(['sim', 'weather']);
    expect(nodes[1]!.description).toMatch(/weather/i);
  });

  test('sisock fields <node> as CSV; unknown node → exit 1 with one line', async () => {
    const r = await run(['fields', 'weather', '--csv']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('field,timeline,interval,type,units,description');
    expect(lines).toContain(
      'temperature,hourly,3600,number,C,"Air temperature at the site weather station (simulated, Chajnantor 5200 m)."',
    );
    expect(lines.some((l) => l.startsWith('temperature_1min,minutely,60,number,C,'))).toBe(true);
    const bad = await run(['fields', 'nope']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toBe('sisock: unknown node "nope" (`sisock nodes` lists the nodes online)\n');
  });

  test('sisock get --csv: hourly and minutely fields merged on time (outer join)', async () => {
    const r = await run([
      'get',
      'weather::temperature',
      'weather::temperature_1min',
      '--from',
      '2026-10-31T22:00Z',
      '--to',
      '2026-10-31T22:03Z',
      '--csv',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const hourly = example('temperature');
    const minutely = example('temperature_1min');
    const num = (s: string | undefined) => (s === undefined ? '' : String(Number(s)));
    expect(r.stdout).toBe(
      [
        'time,unix,weather::temperature,weather::temperature_1min',
        `2026-10-31T22:00:00Z,${T22},${num(hourly.get(T22))},${num(minutely.get(T22))}`,
        `2026-10-31T22:01:00Z,${T22 + 60},,${num(minutely.get(T22 + 60))}`,
        `2026-10-31T22:02:00Z,${T22 + 120},,${num(minutely.get(T22 + 120))}`,
        '',
      ].join('\n'),
    );
  });

  test('sisock get --json across two nodes, and --min-stride', async () => {
    const r = await run(['get', 'weather::pressure', 'sim::sensor_temperature', '--from', '2026-10-31T23:00Z', '--to', 'now', '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.fields).toEqual(['weather::pressure', 'sim::sensor_temperature']);
    expect(doc.units).toEqual({ 'weather::pressure': 'hPa', 'sim::sensor_temperature': 'C' });
    expect(doc.unix[0]).toBe(T22 + 3600);
    expect(doc.data['weather::pressure'][0]).toBe(Number(example('pressure').get(T22 + 3600)));
    expect(doc.data['sim::sensor_temperature'][0]).toBeNull();
    expect(doc.data['sim::sensor_temperature'].filter((v: unknown) => typeof v === 'number').length).toBeGreaterThan(0);
    expect(doc.time).toHaveLength(doc.unix.length);

    const s = await run(['get', 'weather::wind_speed_1min', '--from', '2026-10-18', '--to', '2026-11-01', '--min-stride', '1d']);
    expect(s.code).toBe(0);
    const rows = s.stdout
      .trimEnd()
      .split('\n')
      .slice(1)
      .map((l) => l.split('\t'));
    expect(rows.length).toBe(14);
    const values = rows.map((r2) => Number(r2[2]));
    const all = [...example('wind_speed_1min').values()].map(Number);
    expect(Math.max(...values)).toBe(Math.max(...all)); // the extremes survive the thinning
    expect(Math.min(...values)).toBe(Math.min(...all));
  });

  test('sisock get errors: unknown field, bad time, unreachable router — one line, non-zero exit', async () => {
    const unknown = await run(['get', 'weather::nope', 'weather::temperature']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toBe('sisock: unknown field "weather::nope" (`sisock fields weather` lists them)\n');
    const badTime = await run(['get', 'weather::temperature', '--from', 'yesterday']);
    expect(badTime.code).toBe(2);
    expect(badTime.stderr.trimEnd().split('\n')).toHaveLength(1);
    const badNode = await run(['get', 'nope::x']);
    expect(badNode.code).toBe(1);
    expect(badNode.stderr).toMatch(/^sisock: unknown node "nope"/);
    const port = await closedPort();
    const down = await run(['get', 'weather::temperature', '--router', `ws://127.0.0.1:${port}/ws`]);
    expect(down.code).toBe(1);
    expect(down.stderr).toBe(`sisock: router ws://127.0.0.1:${port}/ws unreachable: is \`sisock router\` (or the demo) running there?\n`);
  });

  test('sisock tail: live lines; switching an HV channel on shows in them; SIGINT ends it with exit 0', async () => {
    await client.call(client.uri('consumer.sim.set_channel'), ['hv', 2, { on: true, voltage: 500 }]);
    const child = start(['tail', 'sim::hv_ch2_on', 'sim::hv_ch2_voltage', '--csv']);
    let out = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    // Wait (event-driven) for three data lines after the header.
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString('utf8');
        if (out.split('\n').length >= 5) resolve();
      });
      child.once('close', () => reject(new Error(`tail exited early: ${stderr}`)));
    });
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toBe('time,unix,sim::hv_ch2_on,sim::hv_ch2_voltage');
    const rows = lines.slice(1).map((l) => l.split(','));
    for (const r of rows) {
      expect(r[2]).toBe('true');
      expect(Number(r[3])).toBeGreaterThan(0);
    }
    // voltage ramps up: successive lines are increasing
    expect(Number(rows[rows.length - 1]![3])).toBeGreaterThan(Number(rows[0]![3]));
  });

  test('sisock tail --count N --json stops by itself', async () => {
    const r = await run(['tail', 'sim::sensor_humidity', '-n', '2', '--json']);
    expect(r.code).toBe(0);
    const lines = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(typeof lines[0]['sim::sensor_humidity']).toBe('number');
  });
});

/** A port nothing listens on (bound, then released). */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describe('bad input to the nodes’ procedures gets a WAMP error; the nodes keep serving', () => {
  async function callError(proc: string, args: unknown[], kwargs: Record<string, unknown> = {}): Promise<string> {
    try {
      await client.call(client.uri(proc), args, kwargs, { timeoutMs: 5000 });
    } catch (e) {
      expect(e).toBeInstanceOf(CallError);
      return (e as CallError).uri;
    }
    throw new Error(`${proc}(${JSON.stringify(args)}) did not fail`);
  }

  const badGetData: [string, unknown[], Record<string, unknown>?][] = [
    ['fields not a list', ['temperature', 1, 0]],
    ['a field not a string', [['temperature', 5], 1, 0]],
    ['start a string', [['temperature'], 'a', 0]],
    ['start NaN (null on JSON)', [['temperature'], NaN, 0]],
    ['start after end', [['temperature'], 0, 1]],
    ['negative min_stride', [['temperature'], 1, 0, -5]],
    ['min_stride a string', [['temperature'], 1, 0], { min_stride: 'x' }],
    ['unknown keyword', [['temperature'], 1, 0], { bogus: 1 }],
    ['missing arguments', []],
  ];

  test.each(['weather', 'sim'])('%s.get_data and get_fields reject bad arguments', async (node) => {
    for (const [what, args, kwargs] of badGetData) {
      expect([what, await callError(`consumer.${node}.get_data`, args, kwargs)]).toEqual([what, 'wamp.error.invalid_argument']);
    }
    expect(await callError(`consumer.${node}.get_fields`, ['x', 0])).toBe('wamp.error.invalid_argument');
    expect(await callError(`consumer.${node}.get_fields`, [])).toBe('wamp.error.invalid_argument');
  });

  test('huge ranges and unknown fields are answered, not errors', async () => {
    const r = await getData(client, 'weather', ['temperature', 'nope'], 1, 1e15);
    expect(r.data.temperature).toHaveLength(14 * 24);
    expect(r.data.nope).toEqual([]);
    const s: DataResult = await getData(client, 'sim', ['nope'], -1e9, 0);
    expect(s).toEqual({ data: { nope: [] }, timeline: {} });
  });

  test('sim.set_channel / get_state validation over WAMP', async () => {
    const bad: unknown[][] = [
      ['xv', 0, { on: true }],
      ['hv', 7, { on: true }],
      ['hv', 0, { voltage: -1 }],
      ['hv', 0, { voltage: 1e9 }],
      ['hv', 0, { voltage: 'high' }],
      ['hv', 0, { on: 'yes' }],
      ['lv', 0, { current_limit: 0 }],
      ['lv', 0, 'on'],
      [],
    ];
    for (const args of bad)
      expect([args, await callError('consumer.sim.set_channel', args)]).toEqual([args, 'wamp.error.invalid_argument']);
    expect(await callError('consumer.sim.get_state', [1])).toBe('wamp.error.invalid_argument');
    const ok = await client.call<Record<string, unknown>>(client.uri('consumer.sim.set_channel'), ['lv', 1], { on: true, voltage: 3.3 });
    expect(ok).toMatchObject({ supply: 'lv', channel: 1, on: true, setpoint: 3.3 });
    const st = await client.call<{ lv: { channels: { on: boolean }[] } }>(client.uri('consumer.sim.get_state'));
    expect(st.lv.channels[1]!.on).toBe(true);
  });

  test('after all that, both nodes still serve', async () => {
    const [fields] = await client.call<[Record<string, unknown>, unknown]>(client.uri('consumer.weather.get_fields'), [1, 0]);
    expect(Object.keys(fields)).toContain('temperature');
    const r = await getData(client, 'sim', ['sensor_temperature'], -5, 0);
    expect(r.data.sensor_temperature!.length).toBeGreaterThan(0);
  });
});
