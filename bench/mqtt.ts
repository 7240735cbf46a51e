/**
 * `make bench` — MQTT ingest: how fast the MQTT bridge takes QoS 1 messages from Mosquitto into its
 * history (mapping + SQLite WAL, batched), beside a bare `mqtt` client that only counts the same
 * messages (what the broker and the client library give on this machine). The publisher runs in
 * its own process; every message carries a sequence number and the run checks that all of them
 * arrived (bare) and were stored (sisock), none lost.
 *
 *   import { benchMqtt } from './mqtt';  const rows = await benchMqtt();   // in bench/run.ts
 *   node dist/bench/mqtt.js [--messages=N] [--broker=mqtt://127.0.0.1:1883]
 *
 * Broker: --broker URL; else a private mosquitto process on a free port, configured for throughput
 * (`max_inflight_messages 0`, `max_queued_messages 0`, `set_tcp_nodelay true`: with the packaged
 * defaults — 20 in flight, 1000 queued, Nagle on — mosquitto itself delivers a few hundred QoS 1
 * messages a second to one subscriber and drops the rest); else (no mosquitto binary) env
 * SISOCK_TEST_MQTT_URL or mqtt://127.0.0.1:1883.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import mqtt from 'mqtt';
import { MqttIngest, MqttStore, parseMqttConfig } from '../data-nodes/mqtt';
import type { BenchRow } from './common';

export type { BenchRow };

export interface MqttBenchOptions {
  broker?: string;
  messages?: number;
  log?: (line: string) => void;
}

const GOAL_RATE = 50_000;

/** The publisher process: connects, publishes N QoS 1 messages on `topic`, waits for every PUBACK. */
const PUBLISHER = `
const [mqttPath, url, topic, n] = [process.argv[1], process.argv[2], process.argv[3], Number(process.argv[4])];
const mqtt = require(mqttPath);
const c = mqtt.connect(url, { clientId: 'sisock-bench-pub-' + process.pid, clean: true });
c.on('connect', () => {
  if (c.stream.setNoDelay) c.stream.setNoDelay(true);
  // At most WINDOW messages awaiting PUBACK (MQTT has 65535 packet ids).
  const WINDOW = 20000;
  let acked = 0;
  let i = 0;
  const t0 = Date.now() / 1000;
  const send = () => {
    const end = Math.min(n, acked + WINDOW, i + 2000);
    for (; i < end; i++) {
      const body = '{"ts":' + (t0 + i * 1e-6).toFixed(6) + ',"seq":' + i + ',"v":' + (i % 1000) / 10 + '}';
      c.publish(topic, body, { qos: 1 }, onAck);
    }
    if (i < n && i < acked + WINDOW) setImmediate(send);
  };
  const onAck = (err) => {
    if (err) { console.error(err.message); process.exit(1); }
    acked++;
    if (acked === n) c.end(false, {}, () => process.exit(0));
    else if (i < n && i === acked + WINDOW - 1) setImmediate(send);
  };
  send();
});
c.on('error', (e) => { console.error(e.message); process.exit(1); });
`;

function runPublisher(url: string, topic: string, n: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['-e', PUBLISHER, require.resolve('mqtt'), url, topic, String(n)], {
      stdio: ['ignore', 'inherit', 'pipe'],
    });
    let err = '';
    p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    p.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`publisher exited ${code}: ${err}`))));
  });
}

async function connect(url: string, clientId: string): Promise<mqtt.MqttClient> {
  const c = mqtt.connect(url, { clientId, clean: true, reconnectPeriod: 0 });
  await new Promise<void>((resolve, reject) => {
    c.once('connect', () => resolve());
    c.once('error', reject);
  });
  // as the bridge does (ingest.ts): without it PUBACKs wait on Nagle + delayed ACK
  (c.stream as { setNoDelay?: (v: boolean) => void }).setNoDelay?.(true);
  return c;
}

/** Bare client: counts messages and distinct sequence numbers. Returns msg/s and how many were missing. */
async function bare(url: string, topic: string, n: number, timeoutMs: number): Promise<{ rate: number; lost: number }> {
  const c = await connect(url, `sisock-bench-bare-${process.pid}`);
  await new Promise<void>((r, j) => c.subscribe(topic, { qos: 1 }, (e) => (e ? j(e) : r())));
  const seen = new Uint8Array(n);
  let count = 0;
  let first = 0;
  let last = 0;
  const done = new Promise<void>((resolve) => {
    c.on('message', (_t, payload) => {
      if (count === 0) first = performance.now();
      // the sequence number, without a full JSON parse (the bridge parses; the baseline only counts)
      const s = payload.toString('latin1');
      const k = s.indexOf('"seq":');
      const seq = parseInt(s.slice(k + 6), 10);
      if (seq >= 0 && seq < n && !seen[seq]) {
        seen[seq] = 1;
        count++;
      }
      if (count === n) {
        last = performance.now();
        resolve();
      }
    });
  });
  const pub = runPublisher(url, topic, n);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([done, new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
  clearTimeout(timer);
  await pub.catch(() => undefined);
  if (!last) last = performance.now();
  await new Promise<void>((r) => c.end(true, {}, () => r()));
  return { rate: (count / (last - first)) * 1000, lost: n - count };
}

/** The bridge's ingest into SQLite. Returns msg/s (first message → last one committed) and how many were not stored. */
async function sisock(url: string, topic: string, n: number, timeoutMs: number): Promise<{ rate: number; lost: number }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sisock-bench-mqtt-'));
  const config = parseMqttConfig(
    {
      node: { name: 'bench' },
      broker: { url, client_id: `sisock-bench-ingest-${process.pid}` },
      store: { path: path.join(dir, 'bench.sqlite'), batch_ms: 50, batch_size: 20000, retention: '1d' },
      topics: [{ topic, timeline: 'bench', time: { path: 'ts', unit: 's' }, fields: [{ name: 'seq', path: 'seq' }] }],
    },
    { env: {} },
  );
  const store = new MqttStore(config.store);
  const ingest = new MqttIngest(config, store, { mqttOptions: { clean: true } }).start();
  try {
    await ingest.whenSubscribed(10000);
    let first = 0;
    const client = ingest.client!;
    client.once('message', () => (first = performance.now()));
    const pub = runPublisher(url, topic, n);
    const deadline = Date.now() + timeoutMs;
    while (ingest.stats.received < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    ingest.flush();
    const last = performance.now();
    await pub.catch(() => undefined);
    const stored = store.count('bench', 'seq');
    return { rate: (stored / (last - first)) * 1000, lost: n - stored };
  } finally {
    await ingest.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const MOSQUITTO = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto'].find((p) => existsSync(p));

async function startMosquitto(): Promise<{ url: string; stop(): void }> {
  const port = await new Promise<number>((resolve, reject) => {
    const srv = net.createServer().once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const p = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(p));
    });
  });
  const dir = mkdtempSync(path.join(tmpdir(), 'sisock-bench-mosquitto-'));
  const conf = path.join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    `listener ${port} 127.0.0.1\nallow_anonymous true\nmax_inflight_messages ` + `0\nmax_queued_messages 0\nset_tcp_nodelay true\n`,
  );
  const proc: ChildProcess = spawn(MOSQUITTO!, ['-c', conf], { stdio: 'ignore' });
  const stop = () => {
    if (proc.exitCode === null) proc.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', stop);
  const deadline = Date.now() + 10000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) break;
    if (Date.now() > deadline || proc.exitCode !== null) {
      stop();
      throw new Error('mosquitto did not start');
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return { url: `mqtt://127.0.0.1:${port}`, stop };
}

export async function benchMqtt(o: MqttBenchOptions = {}): Promise<BenchRow[]> {
  let own: { url: string; stop(): void } | null = null;
  if (!o.broker && MOSQUITTO) own = await startMosquitto();
  try {
    return await benchWith(own?.url ?? o.broker ?? process.env.SISOCK_TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883', o);
  } finally {
    own?.stop();
  }
}

async function benchWith(url: string, o: MqttBenchOptions): Promise<BenchRow[]> {
  const n = o.messages ?? 200_000;
  const log = o.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const topic = `sisock-bench/${process.pid}/${Date.now().toString(36)}/dev`;
  const timeoutMs = Math.max(20_000, n / 5);
  log(`mqtt: ${n} QoS 1 messages through ${url}, publisher in its own process`);
  const b = await bare(url, `${topic}/bare`, n, timeoutMs);
  log(`mqtt: bare client ${Math.round(b.rate)} msg/s, ${b.lost} lost`);
  const s = await sisock(url, `${topic}/ingest`, n, timeoutMs);
  log(`mqtt: sisock ingest → SQLite ${Math.round(s.rate)} msg/s, ${s.lost} lost`);
  return [
    {
      scenario: 'mqtt ingest → history, QoS 1 (msg/s)',
      value: Math.round(s.rate),
      baseline: Math.round(b.rate),
      ratio: b.rate ? s.rate / b.rate : 0,
      goal: `≥ ${GOAL_RATE} msg/s`,
    },
    {
      scenario: 'mqtt ingest, messages lost',
      value: s.lost,
      baseline: b.lost,
      ratio: s.lost === 0 && b.lost === 0 ? 1 : 0,
      goal: '0 lost',
    },
  ];
}

if (require.main === module) {
  const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
  benchMqtt({ broker: args.broker, messages: args.messages ? Number(args.messages) : undefined }).then(
    (rows) => {
      for (const r of rows)
        console.log(
          `${r.scenario.padEnd(40)} ${String(r.value).padStart(9)}   bare mqtt ` +
            `${String(r.baseline).padStart(9)}   ratio ${r.ratio.toFixed(2)}   goal ${r.goal}`,
        );
    },
    (e) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
