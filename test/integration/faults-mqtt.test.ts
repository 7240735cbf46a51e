/**
 * Fault test over real processes: a private mosquitto (the packaged defaults, persistence on, as
 * Debian ships it) feeding `sisock node mqtt` (dist/, built by faults.test.ts or
 * `npx tsc -p tsconfig.build.json`) under a steady QoS 1 stream (one message per 10 ms) with sequence numbers; mosquitto is
 * killed with -9 and restarted mid-stream. Counted: samples the publisher had acknowledged that
 * never reached the node's history (lost), and the time from the broker's restart to the first new
 * sample stored. Figures in the test output.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { getData } from '../../client';
import { runHub } from '../../hub';
import { newClient, opts, startTestRouter, waitFor } from './sisock-helpers';
import { freePort, MOSQUITTO, REQUIRED } from './telemetry-helpers';

const ROOT = path.join(__dirname, '..', '..');
const SISOCK = path.join(ROOT, 'dist', 'bin', 'sisock.js');
jest.setTimeout(60_000);

test('kill -9 the MQTT broker mid-stream: the node reconnects and stores again; losses counted', async () => {
  const mosquittoBin = MOSQUITTO;
  if (mosquittoBin === undefined || !fs.existsSync(SISOCK)) {
    if (REQUIRED) throw new Error('mosquitto binary or dist/bin/sisock.js missing');
    console.warn('SKIPPED: mosquitto binary or dist/ missing');
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sisock-fault-mqtt-'));
  const port = await freePort();
  const conf = path.join(dir, 'mosquitto.conf');
  const lines = [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    'persistence true',
    `persistence_location ${dir}/`,
    `user ${os.userInfo().username}`,
  ];
  fs.writeFileSync(conf, `${lines.join('\n')}\n`);
  const brokerUrl = `mqtt://127.0.0.1:${port}`;
  const procs = new Set<ChildProcess>();
  const startBroker = (): ChildProcess => {
    const p = spawn(mosquittoBin, ['-c', conf], { stdio: 'ignore' });
    procs.add(p);
    return p;
  };
  const { router, url } = await startTestRouter();
  const consumer = newClient(url);
  const hub = await runHub({ client: opts(url) });
  let pub: mqtt.MqttClient | null = null;
  let timer: NodeJS.Timeout | null = null;
  try {
    let broker: ChildProcess = startBroker();
    const topic = `fault/${process.pid}/dev`;
    fs.writeFileSync(
      path.join(dir, 'map.json'),
      JSON.stringify({
        node: { name: 'faultmq' },
        broker: { client_id: `sisock-fault-${process.pid}`, reconnect_period: 0.2 },
        store: { path: path.join(dir, 'h.sqlite'), batch_ms: 20 },
        topics: [{ topic, timeline: 'dev', time: { path: 'ts', unit: 's' }, sequence: 'seq', fields: [{ name: 'seq', path: 'seq' }] }],
      }),
    );
    const node = spawn(
      process.execPath,
      [SISOCK, 'node', 'mqtt', '--router', url, '--map', path.join(dir, 'map.json'), '--broker', brokerUrl, '--metrics-port', '0'],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SISOCK_LOG_LEVEL: 'warn' } },
    );
    node.stderr!.on('data', () => undefined);
    procs.add(node);
    let out = '';
    node.stdout!.on('data', (d: Buffer) => (out += String(d)));
    await waitFor(() => out.includes('node: faultmq'), 15_000, 'mqtt node up');
    await consumer.whenReady(5000);

    const t0 = 1_000_000;
    const acked = new Set<number>();
    let seq = 0;
    const p = mqtt.connect(brokerUrl, { clientId: `fault-pub-${process.pid}`, clean: false, reconnectPeriod: 100 });
    pub = p;
    p.on('error', () => undefined); // connection refused while the broker is down: it retries
    await waitFor(() => p.connected, 10_000, 'publisher connected');
    timer = setInterval(() => {
      const s = seq++;
      p.publish(topic, JSON.stringify({ ts: t0 + s, seq: s }), { qos: 1 }, (err) => {
        if (!err) acked.add(s);
      });
    }, 10);
    const stored = async () => {
      const r = await getData(consumer, 'faultmq', ['seq'], t0, t0 + 1e6, null, { timeoutMs: 3000 });
      return new Set((r.data.seq ?? []) as number[]);
    };
    await waitFor(async () => (await stored()).size > 50, 10_000, 'samples flowing');

    broker.kill('SIGKILL');
    await new Promise((r) => broker.once('exit', r));
    const seqAtKill = seq;
    await waitFor(() => seq > seqAtKill + 50, 5000, 'publishing on while the broker is down');
    broker = startBroker();
    const restarted = Date.now();
    const seqAtRestart = seq;
    await waitFor(async () => [...(await stored())].some((s) => s >= seqAtRestart), 15_000, 'new samples stored after the broker restart');
    const recoveryMs = Date.now() - restarted;
    await waitFor(() => seq > seqAtRestart + 100, 5000, 'stream after restart');
    clearInterval(timer);
    timer = null;
    const last = seq;
    await waitFor(() => [...Array(last).keys()].slice(-20).every((s) => acked.has(s)), 10_000, 'last messages acknowledged');
    await waitFor(async () => (await stored()).has(last - 1), 10_000, 'last message stored');
    const have = await stored();
    const lost = [...acked].filter((s) => !have.has(s));
    const stats = await consumer.call<{ seqMissing: number; seqGaps: number }>(consumer.uri('consumer.faultmq.get_stats'));
    console.log(
      `kill -9 mosquitto (packaged defaults, persistence on) mid-stream, one message per 10 ms: ${acked.size} acknowledged to the publisher, ` +
        `${have.size} stored, ${lost.length} lost (acknowledged, never stored: ${lost.length ? `${Math.min(...lost)}..${Math.max(...lost)}` : 'none'}); ` +
        `node storing again ${recoveryMs} ms after the broker restart; the node detected ${stats.seqMissing} missing in ${stats.seqGaps} sequence jumps`,
    );
    expect(recoveryMs).toBeLessThan(10_000);
    expect(have.size).toBeGreaterThan(acked.size / 2);
    const metricsUrl = /metrics: (\S+)/.exec(out)?.[1];
    const text = await (await fetch(metricsUrl ?? 'http://127.0.0.1:1/metrics')).text();
    expect(Number(/^sisock_mqtt_sequence_missing_total(?:\{[^}]*\})? (\d+)/m.exec(text)?.[1])).toBe(stats.seqMissing);
    // every loss in the middle of the stream is detected (never silent)
    expect(stats.seqMissing).toBeGreaterThanOrEqual(lost.filter((s) => s < last - 1).length);
  } finally {
    if (timer) clearInterval(timer);
    if (pub) await new Promise<void>((r) => pub!.end(true, {}, () => r()));
    await consumer.close();
    await hub.close();
    for (const c of procs) c.kill('SIGKILL');
    await router.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
