/**
 * A broker without MQTT 5 (the embedded aedes broker speaks 3.1.1; it is ESM, so the node runs as a
 * process from dist/, built by faults.test.ts or `npx tsc -p tsconfig.build.json`): the MQTT node
 * falls back to MQTT 3.1.1 by itself, says so in a warning, and ingests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REQUIRED } from './telemetry-helpers';
import { newClient, startTestRouter, waitFor } from './sisock-helpers';

const SISOCK = path.join(__dirname, '..', '..', 'dist', 'bin', 'sisock.js');

test('the MQTT node falls back to MQTT 3.1.1 when the broker refuses MQTT 5', async () => {
  if (!fs.existsSync(SISOCK)) {
    if (REQUIRED) throw new Error('dist/bin/sisock.js missing');
    console.warn('SKIPPED: dist/ missing (npx tsc -p tsconfig.build.json)');
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sisock-fb-'));
  fs.writeFileSync(
    path.join(dir, 'map.json'),
    JSON.stringify({
      node: { name: 'fallback' },
      store: { path: ':memory:' },
      topics: [{ topic: 'fb/dev', timeline: 'dev', fields: [{ name: 'v', path: 'v' }] }],
    }),
  );
  const { router, url } = await startTestRouter();
  const consumer = newClient(url);
  let node: ChildProcess | null = null;
  try {
    node = spawn(process.execPath, [SISOCK, 'node', 'mqtt', '--router', url, '--map', path.join(dir, 'map.json'), '--embedded-broker'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, SISOCK_LOG_LEVEL: 'warn' },
    });
    let err = '';
    node.stderr!.on('data', (d: Buffer) => (err += String(d)));
    const stats = await waitFor(
      async () => {
        const s = await consumer.call<{ protocolVersion: number; connected: boolean }>(consumer.uri('consumer.fallback.get_stats'));
        return s.connected ? s : null;
      },
      15_000,
      'node connected to the embedded broker',
    );
    expect(stats?.protocolVersion).toBe(4);
    expect(err).toContain('the broker refuses MQTT 5; reconnecting with MQTT 3.1.1');
  } finally {
    node?.kill('SIGKILL');
    await consumer.close();
    await router.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
