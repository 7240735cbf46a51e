/**
 * The archive end to end through the router: `sisock node scan --once` indexes a directory,
 * `sisock node archive` serves the index through the SDK, and the client's getData reads it over
 * WAMP (router on port 0, hub in process). The commands run in process through commander; the
 * archive node is stopped with the SIGTERM handler it installed. Also: a second scanner on a held
 * index fails with a clear message.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Command } from 'commander';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { registerArchiveKinds } from '../../bin/commands/node-archive';
import { runHub, type HubHandle } from '../../hub';
import { getData, getFields, listNodes, type SisockClient } from '../../client';
import { openIndexDb, Scanner } from '../../data-nodes/archive';
import type { RunningRouter } from '../../router/server';
import { closeAll, newClient, opts, startTestRouter, waitFor } from './sisock-helpers';

let router: RunningRouter;
let url: string;
let hub: HubHandle;
let client: SisockClient;
let tmp: string;
let dataDir: string;
let db: string;

beforeAll(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'sisock-archive-node-'));
  dataDir = path.join(tmp, 'data');
  mkdirSync(dataDir);
  db = `sqlite:${path.join(tmp, 'index.sqlite')}`;
  // one day of 1-minute CSV files (one per hour) and an Arrow file
  for (let h = 0; h < 24; h++) {
    const rows = Array.from({ length: 60 }, (_, m) => `${86400 + h * 3600 + m * 60},${h + m / 100}`);
    writeFileSync(path.join(dataDir, `cryo_${String(h).padStart(2, '0')}.csv`), `time,temp [K]\n${rows.join('\n')}\n`);
  }
  writeFileSync(
    path.join(dataDir, 'hv.arrow'),
    tableToIPC(tableFromArrays({ time: Float64Array.from([86400, 86460]), volts: Float64Array.from([100, 200]) }), 'file'),
  );
  ({ router, url } = await startTestRouter());
  hub = await runHub({ client: opts(url) });
  client = newClient(url);
  await Promise.all([hub.ready(10000), client.whenReady(10000)]);
});

afterAll(async () => {
  await closeAll(client, hub, router);
  rmSync(tmp, { recursive: true, force: true });
});

/** Runs `sisock <args>` in process, capturing stdout and stderr. */
function sisock(args: string[]): { done: Promise<void>; out: () => string; err: () => string; restore: () => void } {
  let out = '';
  let err = '';
  const so = jest.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => {
    out += String(c);
    return true;
  });
  const se = jest.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => {
    err += String(c);
    return true;
  });
  const program = new Command('sisock').exitOverride();
  registerArchiveKinds(program.command('node'));
  const restore = () => {
    so.mockRestore();
    se.mockRestore();
  };
  const done = program.parseAsync(['node', 'sisock', ...args]).then(() => undefined);
  return { done, out: () => out, err: () => err, restore };
}

test('scan --once, then serve with `node archive` and read through the router', async () => {
  const scan = sisock(['node', 'scan', '--db', db, '--data-dir', dataDir, '--once', '--progress', 'none', '--log-level', 'silent']);
  await scan.done.finally(scan.restore);
  expect(JSON.parse(scan.out())).toMatchObject({ files: 25, added: 25, errors: 0 });

  const before = process.listeners('SIGTERM');
  const node = sisock([
    'node',
    'archive',
    '--db',
    db,
    '--name',
    'Archive1',
    '--router',
    url,
    '--realm',
    'test_realm',
    '--log-level',
    'silent',
  ]);
  try {
    await waitFor(() => node.out().includes('node: Archive1'), 10000, 'the archive node to be announced');
    expect((await listNodes(client)).map((n) => n.name)).toContain('Archive1');

    const [fields, timelines] = await getFields(client, 'Archive1', 1, 0);
    expect(fields.temp).toEqual({ description: null, timeline: 'cryo', type: 'number', units: 'K' });
    expect(timelines.cryo!.interval).toBe(60);
    expect(Object.keys(fields).sort()).toEqual(['temp', 'volts']);

    const d = await getData(client, 'Archive1', ['temp', 'volts', 'missing'], 86400 + 3600, 86400 + 2 * 3600);
    expect(d.timeline.cryo!.t).toHaveLength(60);
    expect(d.timeline.cryo!.t[0]).toBe(86400 + 3600);
    expect(d.data.temp![0]).toBe(1);
    expect(d.data.volts).toEqual([]);
    expect(d.data.missing).toEqual([]);

    const thin = await getData(client, 'Archive1', ['temp'], 86400, 2 * 86400, 3600);
    const t = thin.timeline.cryo!.t;
    // min and max per 2 × min_stride, at real times inside [start, end)
    expect(t.length).toBeLessThanOrEqual(2 * 12);
    for (let i = 1; i < t.length; i++) expect(t[i]).toBeGreaterThan(t[i - 1]!);
    for (const x of t) {
      expect(x).toBeGreaterThanOrEqual(86400);
      expect(x).toBeLessThan(2 * 86400);
    }
    expect(Math.max(...(thin.data.temp as number[]))).toBe(23.59);
  } finally {
    const stop = process.listeners('SIGTERM').filter((l) => !before.includes(l));
    for (const l of stop) (l as (s: NodeJS.Signals) => void)('SIGTERM');
    await node.done.finally(node.restore);
    process.exitCode = undefined;
  }
  await waitFor(async () => !(await listNodes(client)).some((n) => n.name === 'Archive1'), 5000, 'the node to leave');
});

test('a second scanner on a held index exits with a clear error', async () => {
  const idx = openIndexDb(db);
  const holder = await Scanner.open({ db: idx, dataDir });
  try {
    const scan = sisock(['node', 'scan', '--db', db, '--data-dir', dataDir, '--once', '--progress', 'none', '--log-level', 'silent']);
    await scan.done.finally(scan.restore);
    expect(scan.err()).toMatch(/sisock: another scanner \(.*\) holds the index/);
    expect(process.exitCode).toBe(1);
  } finally {
    process.exitCode = undefined;
    await holder.close();
    await idx.close();
  }
});

test('scan --direct-io: auto, always or never; anything else is refused before the index is opened', async () => {
  const bad = sisock(['node', 'scan', '--db', db, '--data-dir', dataDir, '--once', '--direct-io', 'sometimes', '--log-level', 'silent']);
  await expect(bad.done.finally(bad.restore)).rejects.toThrow(/Allowed choices are auto, always, never/);
  const opened = jest.spyOn(Scanner, 'open');
  const fresh = `sqlite:${path.join(tmp, 'direct.sqlite')}`;
  const scan = sisock([
    'node',
    'scan',
    '--db',
    fresh,
    '--data-dir',
    dataDir,
    '--once',
    '--direct-io',
    'always',
    '--progress',
    'none',
    '--log-level',
    'silent',
  ]);
  await scan.done.finally(scan.restore);
  expect(JSON.parse(scan.out())).toMatchObject({ files: 25, added: 25, errors: 0 });
  expect(opened.mock.calls.map((c) => c[0].directIo)).toEqual(['always']);
  opened.mockRestore();
});
