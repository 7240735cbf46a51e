/**
 * The MQTT bridge end to end: a real broker (the system Mosquitto from SISOCK_TEST_MQTT_URL, and a
 * private mosquitto process for the restart test), our router on port 0, the hub, the node, and a
 * WAMP consumer. Topic prefixes, client ids and files are unique per run.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import YAML from 'yaml';
import { runHub, type HubHandle } from '../../hub';
import { CallError, getData, getFields, subscribeLive, type SisockClient, type DataResult } from '../../client';
import { mqttExamplesDir, parseMqttConfig, runMqttNode, startSimDevice, type MqttNodeHandle, type SimDevice } from '../../data-nodes/mqtt';
import type { RunningRouter } from '../../router/server';
import { closeAll, newClient, opts, startTestRouter } from './sisock-helpers';
import { freePort, MOSQUITTO, PrivateMosquitto, REQUIRED, service } from './telemetry-helpers';
import { waitFor } from '../helpers/wait';

const RUN = `t${process.pid}_${Date.now().toString(36)}`;
let router: RunningRouter;
let url: string;
let hub: HubHandle;
let consumer: SisockClient;
let tmp: string;
let haveMqtt = false;
const cleanup: Array<{ close(): Promise<void> }> = [];
const privates: PrivateMosquitto[] = [];

function connectMqtt(brokerUrl: string, o: mqtt.IClientOptions = {}): Promise<MqttClient> {
  const c = mqtt.connect(brokerUrl, { reconnectPeriod: 100, ...o });
  cleanup.push({ close: () => new Promise<void>((r) => c.end(true, {}, () => r())) });
  return new Promise((resolve, reject) => {
    c.once('connect', () => resolve(c));
    c.once('error', reject);
  });
}

function pub(c: MqttClient, topic: string, payload: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) => c.publish(topic, payload, { qos: 1 }, (err) => (err ? reject(err) : resolve())));
}

beforeAll(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'sisock-mqtt-node-'));
  ({ router, url } = await startTestRouter());
  hub = await runHub({ client: opts(url) });
  consumer = newClient(url);
  await Promise.all([hub.ready(10000), consumer.whenReady(10000)]);
  haveMqtt = await service('Mosquitto', 'SISOCK_TEST_MQTT_URL', 1883);
});

afterAll(async () => {
  for (const c of cleanup.reverse()) await c.close().catch(() => {});
  for (const p of privates) p.kill();
  await closeAll(consumer, hub, router);
  rmSync(tmp, { recursive: true, force: true });
});

function baseConfig(name: string, prefix: string, brokerUrl: string, extra: Record<string, unknown> = {}) {
  return parseMqttConfig(
    {
      node: { name, description: 'test bridge' },
      broker: { url: brokerUrl, client_id: `sisock-${name}`, reconnect_period: 0.1 },
      store: { path: path.join(tmp, `${name}.sqlite`), batch_ms: 20, max_payload_bytes: 2048 },
      topics: [
        {
          topic: `${prefix}/{dev}/status`,
          timeline: '{dev}',
          time: { path: 'ts', unit: 's' },
          schema: { type: 'object', required: ['ts'], properties: { ts: { type: 'number' } } },
          fields: [
            { name: '{dev}_temp', path: 'temp', units: 'K' },
            { name: '{dev}_on', path: 'on', type: 'bool' },
          ],
        },
        {
          topic: `${prefix}/seq/{dev}`,
          timeline: 'seq_{dev}',
          time: { path: 'ts', unit: 's' },
          fields: [{ name: 'seq_{dev}', path: 'seq' }],
        },
      ],
      ...extra,
    },
    { env: {} },
  );
}

test('messages become fields: get_fields/get_data over WAMP, live push, bad messages counted and dead-lettered', async () => {
  if (!haveMqtt) return;
  const brokerUrl = process.env.SISOCK_TEST_MQTT_URL!;
  const prefix = `sisock-test/${RUN}/a`;
  const name = `mq_${RUN}_a`;
  const cfg = baseConfig(name, prefix, brokerUrl);
  // A wildcard rule that is wider than the mapped topics, so unknown topics reach the bridge.
  cfg.filters = [`${prefix}/#`];
  const node = await runMqttNode({ config: cfg, client: opts(url) });
  cleanup.push(node);
  await node.ready(10000);

  const live: DataResult[] = [];
  const sub = await subscribeLive(consumer, name, (r) => live.push(r));
  cleanup.push({ close: () => sub.remove() });

  const pubc = await connectMqtt(brokerUrl, { clientId: `pub-${RUN}-a` });
  const t0 = Math.floor(Date.now() / 1000) - 100;
  for (let i = 0; i < 20; i++) await pub(pubc, `${prefix}/cryo/status`, JSON.stringify({ ts: t0 + i, temp: 4 + i / 10, on: i % 2 === 0 }));
  // The bad ones, interleaved with good ones: none of them may stop the stream.
  const bad: Array<[string, string | Buffer]> = [
    [`${prefix}/cryo/status`, '{"ts": 1, "temp": '], // malformed JSON
    [`${prefix}/cryo/status`, '{"temp": 3}'], // schema: no ts
    [`${prefix}/cryo/status`, JSON.stringify({ ts: t0 + 50, temp: 'warm' })], // wrong type
    [`${prefix}/cryo/status`, Buffer.alloc(5000, 0x20)], // oversized
    [`${prefix}/unknown/thing/here`, '{}'], // unknown topic
  ];
  for (const [topic, payload] of bad) {
    await pub(pubc, topic, payload);
    await pub(pubc, `${prefix}/pump/status`, JSON.stringify({ ts: t0 + bad.findIndex((b) => b[1] === payload), temp: 300 }));
  }

  await waitFor(() => node.ingest.stats.received >= 30, 10000, 'all 30 messages received');
  const stats = await consumer.call<Record<string, any>>(consumer.uri(`consumer.${name}.get_stats`));
  expect(stats.received).toBe(30);
  expect(stats.rejected).toBe(5);
  expect(stats.byReason).toMatchObject({ malformed: 1, schema: 1, wrong_type: 1, too_large: 1, unknown_topic: 1 });
  // the node's metadata carries its loss figures too (get_metadata().status)
  const meta = await consumer.call<Record<string, any>>(consumer.uri(`consumer.${name}.get_metadata`));
  expect(meta.status).toEqual({
    mqtt_connected: true,
    broker_dropped: stats.brokerDropped,
    sequence_gaps: stats.seqGaps,
    sequence_missing: stats.seqMissing,
    store_dropped: stats.dropped,
  });

  const [fields, timelines] = await getFields(consumer, name, 1, 0);
  expect(fields[`cryo_temp`]).toEqual({ description: null, timeline: 'cryo', type: 'number', units: 'K' });
  expect(fields[`cryo_on`]).toMatchObject({ type: 'bool', timeline: 'cryo' });
  expect(timelines.pump!.field).toEqual(['pump_temp']);

  const d = await getData(consumer, name, ['cryo_temp', 'cryo_on', 'pump_temp', 'nope'], t0, t0 + 100);
  expect(d.timeline.cryo!.t).toEqual(Array.from({ length: 20 }, (_, i) => t0 + i));
  expect(d.data.cryo_temp![3]).toBeCloseTo(4.3);
  expect(d.data.cryo_on!.slice(0, 3)).toEqual([true, false, true]);
  expect(d.data.pump_temp).toEqual([300, 300, 300, 300, 300]);
  expect(d.data.nope).toEqual([]);

  const dead = await consumer.call<Array<Record<string, unknown>>>(consumer.uri(`consumer.${name}.get_dead_letters`), [10]);
  expect(dead.map((x) => x.reason).sort()).toEqual(['malformed', 'schema', 'too_large', 'unknown_topic', 'wrong_type']);
  expect(dead.find((x) => x.reason === 'wrong_type')!.detail).toMatch(/temp: expected number/);
  await expect(consumer.call(consumer.uri(`consumer.${name}.get_dead_letters`), ['ten'])).rejects.toThrow(CallError);

  await waitFor(() => live.reduce((n, r) => n + (r.data.cryo_temp?.length ?? 0), 0) >= 20, 5000, 'live samples of cryo_temp');
  const pushed = live.flatMap((r) => r.timeline.cryo?.t ?? []);
  expect(new Set(pushed).size).toBe(20);
});

test('history survives a restart of the node (same store file, persistent session)', async () => {
  if (!haveMqtt) return;
  const brokerUrl = process.env.SISOCK_TEST_MQTT_URL!;
  const prefix = `sisock-test/${RUN}/b`;
  const name = `mq_${RUN}_b`;
  let node: MqttNodeHandle = await runMqttNode({ config: baseConfig(name, prefix, brokerUrl), client: opts(url) });
  await node.ready(10000);
  const pubc = await connectMqtt(brokerUrl, { clientId: `pub-${RUN}-b` });
  const t0 = Math.floor(Date.now() / 1000) - 3600;
  for (let i = 0; i < 5; i++) await pub(pubc, `${prefix}/seq/x`, JSON.stringify({ ts: t0 + i, seq: i }));
  await waitFor(() => node.store.count(name, 'seq_x') === 5, 5000, '5 stored');
  await node.close();
  // While the node is away, the broker queues QoS 1 messages for its persistent session.
  for (let i = 5; i < 10; i++) await pub(pubc, `${prefix}/seq/x`, JSON.stringify({ ts: t0 + i, seq: i }));
  node = await runMqttNode({ config: baseConfig(name, prefix, brokerUrl), client: opts(url) });
  cleanup.push(node);
  await node.ready(10000);
  await waitFor(() => node.store.count(name, 'seq_x') === 10, 10000, 'queued messages delivered after the restart');
  const d = await getData(consumer, name, ['seq_x'], t0, t0 + 100);
  expect(d.data.seq_x).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

if (!MOSQUITTO && !REQUIRED)
  console.warn('skipped: no mosquitto binary, so the broker restart test (install: ./scripts/ensure-debian-packages.sh mosquitto)');
(MOSQUITTO || REQUIRED ? test : test.skip)(
  'broker restarted in the middle of a QoS 1 stream: every message stored exactly once',
  async () => {
    if (!MOSQUITTO) throw new Error('mosquitto binary not found, and CI or SISOCK_REQUIRE_SERVICES=1 requires this test');
    const dir = mkdtempSync(path.join(tmp, 'mosq-'));
    const broker = new PrivateMosquitto(await freePort(), dir);
    privates.push(broker);
    await broker.start();
    const prefix = `restart/${RUN}`;
    const name = `mq_${RUN}_r`;
    const node = await runMqttNode({ config: baseConfig(name, prefix, broker.url), client: opts(url) });
    cleanup.push(node);
    await node.ready(10000);

    const N = 3000;
    const t0 = Math.floor(Date.now() / 1000) - 3600;
    const pubc = await connectMqtt(broker.url, { clientId: `pub-${RUN}-r`, clean: false });
    let published = 0;
    const publishing = (async () => {
      for (let i = 0; i < N; i += 50) {
        const batch: Array<Promise<void>> = [];
        for (let j = i; j < Math.min(N, i + 50); j++)
          batch.push(pub(pubc, `${prefix}/seq/s`, JSON.stringify({ ts: t0 + j / 1000, seq: j })));
        published = i + 50;
        await Promise.all(batch);
      }
    })();
    await waitFor(() => node.ingest.stats.received >= 600, 10000, 'the stream under way');
    await broker.stop();
    const atStop = published;
    await broker.start();
    await publishing;
    await waitFor(() => node.store.count(name, 'seq_s') >= N, 20000, `all ${N} messages stored`).catch(async (e) => {
      const d = await getData(consumer, name, ['seq_s'], t0, t0 + 10);
      const have = new Set(d.data.seq_s as number[]);
      const missing = Array.from({ length: N }, (_, i) => i).filter((i) => !have.has(i));
      console.log({
        atStop: published,
        stats: node.ingest.statsSnapshot(),
        missing: missing.length,
        first: missing.slice(0, 10),
        last: missing.slice(-5),
        mosq: broker.stderr,
      });
      throw e;
    });
    await waitFor(() => node.ingest.stats.connected, 5000, 'node reconnected');
    expect(atStop).toBeLessThan(N); // the restart really happened mid-stream
    expect(node.ingest.stats.connects).toBeGreaterThanOrEqual(2);
    expect(node.store.count(name, 'seq_s')).toBe(N);
    const d = await getData(consumer, name, ['seq_s'], t0, t0 + 10);
    expect(d.data.seq_s).toHaveLength(N);
    expect(d.data.seq_s).toEqual(Array.from({ length: N }, (_, i) => i));
    // Anything the broker delivered twice was recognised, not stored twice.
    expect(node.store.totals.inserted).toBe(N);
    expect(node.ingest.stats.received).toBe(N + node.store.totals.duplicates);
  },
  60000,
);

test('supplies switched from WAMP: the command travels over MQTT to the simulated device', async () => {
  if (!haveMqtt) return;
  const brokerUrl = process.env.SISOCK_TEST_MQTT_URL!;
  const prefix = `sisock-test-${RUN}-sim`;
  // The demo's map with this run's topic prefix.
  const text = readFileSync(path.join(mqttExamplesDir(), 'tracker-sim.yaml'), 'utf8').replace(/"sim\//g, `"${prefix}/`);
  const raw = YAML.parse(text);
  raw.node.name = `tracker_${RUN}`;
  raw.broker = { url: brokerUrl, client_id: `sisock-tracker-${RUN}`, reconnect_period: 0.1 };
  raw.store = { path: path.join(tmp, 'tracker.sqlite'), batch_ms: 20 };
  const cfg = parseMqttConfig(raw, { env: {} });
  const device: SimDevice = startSimDevice({ url: brokerUrl, prefix, rate: 20, seed: 3 });
  cleanup.push(device);
  await device.ready();
  const node = await runMqttNode({ config: cfg, client: opts(url) });
  cleanup.push(node);
  await node.ready(10000);
  const name = cfg.node.name;
  const uri = consumer.uri(`consumer.${name}.set_channel`);
  await expect(consumer.call(uri, ['xv', 0, { on: true }])).rejects.toThrow(/supply must be one of/);
  await expect(consumer.call(uri, ['lv', 0, { voltage: 'high' }])).rejects.toThrow(/voltage must be number/);
  await expect(consumer.call(uri, ['lv', 9, { on: true }])).rejects.toThrow(/channel must be one of/);
  const res = await consumer.call<{ topic: string }>(uri, ['lv', 1, { on: true, voltage: 5 }]);
  expect(res.topic).toBe(`${prefix}/lv/ch1/set`);
  await waitFor(
    async () => {
      const d = await getData(consumer, name, ['lv_ch1_on', 'lv_ch1_voltage'], -30, 0);
      const v = d.data.lv_ch1_voltage ?? [];
      return d.data.lv_ch1_on?.at(-1) === true && (v.at(-1) as number) > 1;
    },
    10000,
    'lv ch1 switched on and ramping (seen through MQTT)',
  );
  expect(device.model.channels.lv[1]!.on).toBe(true);
  expect(device.model.channels.lv[1]!.setpoint).toBe(5);
}, 30000);

test('get_data over more than store.max_rows samples: a readable WAMP error; min_stride still answers', async () => {
  const name = `mq_${RUN}_rows`;
  const cfg = baseConfig(name, `sisock-test/${RUN}/rows`, 'mqtt://127.0.0.1:1', {
    store: { path: path.join(tmp, `${name}.sqlite`), max_rows: 50 },
  });
  const node = await runMqttNode({ config: cfg, client: opts(url), connect: false });
  cleanup.push(node);
  await node.ready(10000);
  const t0 = Math.floor(Date.now() / 1000) - 1000;
  for (let i = 0; i < 200; i++) node.ingest.handle(`sisock-test/${RUN}/rows/seq/a`, Buffer.from(JSON.stringify({ ts: t0 + i, seq: i })));
  await expect(getData(consumer, name, ['seq_a'], t0, t0 + 1000)).rejects.toThrow(/max_rows \(50\).*use min_stride or a shorter range/);
  expect((await getData(consumer, name, ['seq_a'], t0, t0 + 40)).data.seq_a).toHaveLength(40);
  const d = await getData(consumer, name, ['seq_a'], t0, t0 + 1000, 20);
  expect(Math.max(...(d.data.seq_a as number[]))).toBe(199);
});
