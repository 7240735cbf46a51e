/**
 * The MQTT ingest against Mosquitto as users run it: the machine's stock broker on 127.0.0.1:1883
 * (Debian's packaged config: 20 in flight, 1000 queued, Nagle on). A burst of 10,000 QoS 1
 * messages from another process reaches the store complete, beside a bare MQTT 3.1.1 client that
 * loses most of it. And where the broker drops (its `$SYS` counter rises), the ingest reports it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import mqtt from 'mqtt';
import { MqttIngest, MqttStore, parseMqttConfig } from '../../data-nodes/mqtt';
import { freePort, MOSQUITTO, REQUIRED, reachable } from './telemetry-helpers';
import { waitFor } from '../helpers/wait';

const STOCK = process.env.SISOCK_TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883';
const RUN = `stock${process.pid}_${Date.now().toString(36)}`;
const N = 10_000;

/** Publishes N QoS 1 messages `{ts, seq}` on `topic` from its own process, as fast as the broker acks. */
const PUBLISHER = `
const mqtt = require(process.argv[1]); const [url, topic, n] = [process.argv[2], process.argv[3], Number(process.argv[4])];
const c = mqtt.connect(url, { clean: true });
c.on('connect', () => { c.stream.setNoDelay && c.stream.setNoDelay(true); let acked = 0; const t0 = Date.now() / 1000;
  for (let i = 0; i < n; i++) c.publish(topic, '{"ts":' + (t0 + i * 1e-6).toFixed(6) + ',"seq":' + i + '}', { qos: 1 }, (e) => {
    if (e) { console.error(e.message); process.exit(1); } if (++acked === n) c.end(false, {}, () => process.exit(0)); }); });
c.on('error', (e) => { console.error(e.message); process.exit(1); });`;

function publish(url: string, topic: string, n: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['-e', PUBLISHER, require.resolve('mqtt'), url, topic, String(n)], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    p.stderr!.on('data', (d: Buffer) => (err += String(d)));
    p.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`publisher exited ${code}: ${err}`))));
  });
}

function ingestFor(url: string, topic: string, name: string, logger = pino({ level: 'silent' })) {
  const config = parseMqttConfig(
    {
      node: { name },
      broker: { url, client_id: `sisock-${RUN}-${name}` },
      store: { path: ':memory:', batch_ms: 50, batch_size: 20000 },
      topics: [{ topic, timeline: 'burst', time: { path: 'ts', unit: 's' }, fields: [{ name: 'seq', path: 'seq' }] }],
    },
    { env: {} },
  );
  const store = new MqttStore(config.store);
  const ingest = new MqttIngest(config, store, { logger, mqttOptions: { clean: true } }).start();
  return {
    ingest,
    store,
    async close() {
      await ingest.close();
      store.close();
    },
  };
}

/**
 * A bare MQTT 3.1.1 subscriber of `topic` (the baseline): counts distinct sequence numbers.
 * `stalled`: it stops reading its socket once subscribed, so the broker's queue for it (20 in flight,
 * 1000 queued: Debian's defaults) overflows whatever the load of the machine (a client that reads may
 * keep up with a publisher slowed by that load: no drop).
 */
async function bareV4(url: string, topic: string, stalled = false): Promise<{ seen: Set<number>; close(): Promise<void> }> {
  const c = mqtt.connect(url, { clean: true, protocolVersion: 4, reconnectPeriod: 0 });
  await new Promise<void>((r, j) => {
    c.once('connect', () => r());
    c.once('error', j);
  });
  (c.stream as { setNoDelay?: (v: boolean) => void }).setNoDelay?.(true);
  await new Promise<void>((r, j) => c.subscribe(topic, { qos: 1 }, (e) => (e ? j(e) : r())));
  const seen = new Set<number>();
  c.on('message', (_t, p) => {
    seen.add((JSON.parse(String(p)) as { seq: number }).seq);
  });
  if (stalled) c.stream.pause();
  return { seen, close: () => new Promise<void>((r) => c.end(true, {}, () => r())) };
}

test('10,000 QoS 1 messages in a burst through the stock broker: none lost (bare 3.1.1 client beside it)', async () => {
  if (!(await reachable(STOCK, 1883))) {
    if (REQUIRED) throw new Error(`no MQTT broker at ${STOCK}, and SISOCK_REQUIRE_SERVICES=1 requires it`);
    console.warn(`SKIPPED: no MQTT broker at ${STOCK}`);
    return;
  }
  const topic = `sisock-test/${RUN}/burst`;
  const node = ingestFor(STOCK, topic, 'burst');
  const bare = await bareV4(STOCK, topic);
  try {
    await node.ingest.whenSubscribed(10_000);
    const t0 = Date.now();
    await publish(STOCK, topic, N);
    await waitFor(() => node.ingest.stats.received >= N, 20_000, 'every message at the ingest');
    node.ingest.flush();
    const stored = node.store.count('burst', 'seq');
    console.log(
      `stock mosquitto, ${N} QoS 1 in a burst: sisock stored ${stored} (MQTT ${node.ingest.stats.protocolVersion}) in ${Date.now() - t0} ms; ` +
        `bare MQTT 3.1.1 client received ${bare.seen.size}`,
    );
    expect(stored).toBe(N);
    expect(node.ingest.stats.protocolVersion).toBe(5);
  } finally {
    await bare.close();
    await node.close();
  }
}, 60_000);

test('a broker that drops messages is reported: brokerDropped, a warning (private mosquitto, stock limits, sys_interval 1)', async () => {
  if (!MOSQUITTO) {
    if (REQUIRED) throw new Error('mosquitto binary not found');
    return;
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sisock-mq-'));
  const port = await freePort();
  // Debian's packaged limits (defaults), $SYS every second instead of 10 s
  writeFileSync(
    path.join(dir, 'm.conf'),
    `listener ${port} 127.0.0.1\nallow_anonymous true\nsys_interval 1\nuser ${os.userInfo().username}\n`,
  );
  const proc = spawn(MOSQUITTO, ['-c', path.join(dir, 'm.conf')], { stdio: 'ignore' });
  const url = `mqtt://127.0.0.1:${port}`;
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino(
    { level: 'warn' },
    new Writable({
      write(c: Buffer, _e, cb) {
        for (const l of String(c).split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
        cb();
      },
    }),
  );
  const topic = `sisock-test/${RUN}/drop`;
  let node: ReturnType<typeof ingestFor> | null = null;
  let bare: Awaited<ReturnType<typeof bareV4>> | null = null;
  try {
    bare = await waitFor(() => bareV4(url, topic, true).catch(() => null), 5000, 'private mosquitto up');
    node = ingestFor(url, `sisock-test/${RUN}/other`, 'watch', logger);
    await node.ingest.whenSubscribed(10_000);
    await publish(url, topic, N); // the stalled 3.1.1 client takes none: the broker drops for it
    await waitFor(() => node!.ingest.stats.brokerDropped > 0, 10_000, 'brokerDropped reported');
    // the node's metadata reports it too (get_metadata().status, from the same counter)
    expect(node.ingest.lossStatus().broker_dropped).toBe(node.ingest.stats.brokerDropped);
    expect(bare?.seen.size).toBeLessThan(N);
    expect(lines.some((l) => String(l.msg).startsWith('the MQTT broker reports dropped messages') && Number(l.dropped) > 0)).toBe(true);
  } finally {
    await bare?.close();
    await node?.close();
    proc.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
