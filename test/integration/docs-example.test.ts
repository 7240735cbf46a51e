/**
 * docs/examples/my-node.ts, the complete data node of docs/writing-a-data-node.md, compiled
 * (`make test` builds dist/ first) and run against a router and a hub: it announces itself,
 * answers get_fields/get_data, pushes live samples, and stops cleanly on SIGTERM.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { getData, getFields, listNodes, subscribeLive } from '../../client/data';
import { runHub, type HubHandle } from '../../hub';
import type { SisockClient } from '../../client';
import type { RunningRouter } from '../../router/server';
import { newClient, startTestRouter, waitFor } from './sisock-helpers';

const ROOT = path.join(__dirname, '..', '..');
const SOURCE = path.join(ROOT, 'docs', 'examples', 'my-node.ts');
const COMPILED = path.join(ROOT, 'dist', 'docs', 'examples', 'my-node.js');

let router: RunningRouter;
let hub: HubHandle;
let client: SisockClient;
let child: ChildProcessWithoutNullStreams;

beforeAll(async () => {
  let url: string;
  ({ router, url } = await startTestRouter());
  hub = await runHub({ client: { url, realm: 'test_realm', uriBase: 'org.simonsobservatory', initialRetryDelay: 0.05 } });
  await hub.ready(5000);
  client = newClient(url);
  await client.whenReady(5000);
  child = spawn(process.execPath, [COMPILED], {
    env: { ...process.env, SISOCK_ROUTER: url, SISOCK_REALM: 'test_realm', SISOCK_LOG_LEVEL: 'silent' },
  });
});

afterAll(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGKILL');
  }
  await client?.close();
  await hub?.close();
  await router?.close();
});

test('the example is complete and under 50 lines', () => {
  expect(fs.readFileSync(SOURCE, 'utf8').trimEnd().split('\n').length).toBeLessThan(50);
  expect(fs.existsSync(COMPILED)).toBe(true);
  // The guide shows the file verbatim.
  const guide = fs.readFileSync(path.join(ROOT, 'docs', 'writing-a-data-node.md'), 'utf8');
  expect(guide).toContain(fs.readFileSync(SOURCE, 'utf8').trimEnd());
});

test('it announces itself, serves its field, pushes live data, stops on SIGTERM', async () => {
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  await waitFor(() => out.includes('node: tank'), 10000, 'node: tank');
  expect((await listNodes(client)).map((n) => n.name)).toContain('tank');

  const live: number[] = [];
  const h = await subscribeLive(client, 'tank', (r) => {
    live.push(...(r.data.level as number[]));
  });
  await waitFor(() => live.length >= 1, 5000, 'a live sample');
  await h.remove();

  const [fields, timelines] = await getFields(client, 'tank', -60, 0);
  expect(fields.level).toMatchObject({ timeline: 'tank', type: 'number', units: 'm' });
  expect(timelines.tank!.field).toEqual(['level']);
  const r = await getData(client, 'tank', ['level', 'nope'], -60, 0);
  expect(r.data.level!.length).toBeGreaterThanOrEqual(1);
  expect(r.data.nope).toEqual([]);
  expect(r.timeline.tank!.t).toHaveLength(r.data.level!.length);

  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  expect(await exited).toBe(0);
  await waitFor(async () => !(await listNodes(client)).some((n) => n.name === 'tank'), 5000, 'tank gone');
});
