/** The MQTT bridge's config, topic patterns and message mapping (pure: no broker). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ConfigError } from '../../common/errors';
import {
  mapMessage,
  MqttIngest,
  MqttStore,
  parseMqttConfig,
  TopicPattern,
  toSeconds,
  loadMqttConfigFile,
  mqttExamplesDir,
  type Mapped,
} from '../../data-nodes/mqtt';

const base = {
  node: { name: 'dcs' },
  store: { path: ':memory:' },
  topics: [
    {
      topic: 'dcs/{supply}/ch{channel}/status',
      timeline: '{supply}_ch{channel}',
      time: { path: 'ts', unit: 's' },
      schema: { type: 'object', required: ['ts'], properties: { ts: { type: 'number' } } },
      fields: [
        { name: '{supply}_ch{channel}_voltage', path: 'voltage', units: 'V' },
        { name: '{supply}_ch{channel}_on', path: 'state.on', type: 'bool' },
        { name: '{supply}_ch{channel}_mode', path: 'modes[1]', type: 'string' },
      ],
    },
    { topic: 'bess/{id}/power', format: 'value', node: 'pcs{id}', fields: [{ name: 'power', units: 'kW' }] },
    { topic: 'bms/{id}/status', timeline: 'bms{id}', time: 'timestamp', fields_from: { prefix: 'b{id}_', exclude: ['timestamp'] } },
  ],
};

const cfg = parseMqttConfig(base, { env: {} });
const map = (topic: string, payload: string | Buffer, max = 1024) =>
  mapMessage(cfg.topics, topic, Buffer.isBuffer(payload) ? payload : Buffer.from(payload), 1000.5, max);

describe('topic patterns', () => {
  test('placeholders capture whole and partial segments', () => {
    const p = new TopicPattern('dcs/{supply}/ch{channel}/status', 't');
    expect(p.filter).toBe('dcs/+/+/status');
    expect(p.match('dcs/hv/ch3/status')).toEqual({ supply: 'hv', channel: '3' });
    expect(p.match('dcs/hv/x3/status')).toBeNull();
    expect(p.match('dcs/hv/ch3/status/extra')).toBeNull();
    expect(p.match('dcs/hv/ch3')).toBeNull();
  });
  test('# matches the rest, + does not capture', () => {
    const p = new TopicPattern('a/+/{b}/#', 't');
    expect(p.filter).toBe('a/+/+/#');
    expect(p.match('a/x/y/z/w')).toEqual({ b: 'y' });
  });
  test('bad patterns are config errors', () => {
    expect(() => new TopicPattern('a/#/b', 't')).toThrow(ConfigError);
    expect(() => new TopicPattern('a/b+/c', 't')).toThrow(ConfigError);
    expect(() => new TopicPattern('{x}/{x}', 't')).toThrow(ConfigError);
  });
});

describe('mapping', () => {
  test('JSON paths, templated names, payload timestamp', () => {
    const r = map(
      'dcs/hv/ch2/status',
      JSON.stringify({ ts: 1700000000.25, voltage: 150.5, state: { on: true }, modes: ['a', 'ramp'] }),
    ) as Mapped;
    expect(r.ok).toBe(true);
    expect(r.node).toBe('dcs');
    expect(r.timeline).toBe('hv_ch2');
    expect(r.t).toBe(1700000000.25);
    expect(r.values.map((v) => [v.name, v.value, v.type, v.units])).toEqual([
      ['hv_ch2_voltage', 150.5, 'number', 'V'],
      ['hv_ch2_on', true, 'bool', null],
      ['hv_ch2_mode', 'ramp', 'string', null],
    ]);
  });
  test('absent fields are skipped (partial updates)', () => {
    const r = map('dcs/lv/ch0/status', '{"ts": 5, "voltage": 1}') as Mapped;
    expect(r.values.map((v) => v.name)).toEqual(['lv_ch0_voltage']);
  });
  test('plain value payloads use the arrival time; node from the topic', () => {
    const r = map('bess/7/power', ' 12.5\n') as Mapped;
    expect(r).toMatchObject({ ok: true, node: 'pcs7', t: 1000.5 });
    expect(r.values[0]).toMatchObject({ name: 'power', value: 12.5, units: 'kW' });
  });
  test('fields_from takes every scalar leaf', () => {
    const r = map(
      'bms/3/status',
      JSON.stringify({ timestamp: 1700000000000, soc: 81, cells: { max: 3.41, min: 3.38 }, ok: true, note: null }),
    ) as Mapped;
    expect(r.t).toBe(1700000000); // auto unit: ms
    expect(Object.fromEntries(r.values.map((v) => [v.name, v.value]))).toEqual({
      b3_soc: 81,
      b3_cells_max: 3.41,
      b3_cells_min: 3.38,
      b3_ok: true,
    });
  });
  test.each([
    ['malformed', 'dcs/hv/ch1/status', '{"ts": 1, "voltage": '],
    ['schema', 'dcs/hv/ch1/status', '{"voltage": 3}'],
    ['schema', 'dcs/hv/ch1/status', '{"ts": "soon", "voltage": 3}'],
    ['wrong_type', 'dcs/hv/ch1/status', '{"ts": 1, "voltage": "3"}'],
    ['wrong_type', 'dcs/hv/ch1/status', '{"ts": 1, "state": {"on": 1}}'],
    ['no_fields', 'dcs/hv/ch1/status', '{"ts": 1}'],
    ['wrong_type', 'bess/1/power', 'twelve'],
    ['unknown_topic', 'other/topic', '{}'],
    ['too_large', 'dcs/hv/ch1/status', 'x'.repeat(2000)],
  ])('%s: %s', (reason, topic, payload) => {
    const r = map(topic, payload);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reason).toBe(reason);
      expect(r.detail.length).toBeGreaterThan(5);
    }
  });
  test('too_many_fields: a fields_from payload of 20,000 leaves is refused quickly, 1,000 pass', () => {
    const big = JSON.stringify({ timestamp: 1700000000, v: new Array(20000).fill(0) });
    const r = map('bms/1/status', big, 1 << 20);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reason).toBe('too_many_fields');
      expect(r.detail).toMatch(/max_fields_per_message 1000/);
    }
    const ok = map('bms/1/status', JSON.stringify({ timestamp: 1700000000, v: new Array(999).fill(0) }), 1 << 20) as Mapped;
    expect(ok.values).toHaveLength(999);
    const small = mapMessage(cfg.topics, 'bms/1/status', Buffer.from(JSON.stringify({ timestamp: 1, v: [1, 2, 3] })), 1, 1024, 2);
    expect(small).toMatchObject({ ok: false, reason: 'too_many_fields' });
  });
  test('timestamps in several units', () => {
    expect(toSeconds(1700000000, 'auto')).toBe(1700000000);
    expect(toSeconds(1700000000123, 'auto')).toBeCloseTo(1700000000.123, 6);
    expect(toSeconds(1700000000123456, 'auto')).toBeCloseTo(1700000000.123456, 6);
    expect(toSeconds(1700000000123456800, 'auto')).toBeCloseTo(1700000000.123457, 3);
    expect(toSeconds('2023-11-14T22:13:20Z', 'auto')).toBe(1700000000);
    expect(toSeconds('2023-11-14T22:13:20Z', 's')).toBeNull();
    expect(toSeconds(5000, 'ms')).toBe(5);
  });
});

describe('config', () => {
  test('env placeholders, defaults, unknown keys refused', () => {
    const c = parseMqttConfig(
      { ...base, broker: { url: '${B_URL}', password: '${B_PW:-}' } },
      { env: { B_URL: 'mqtt://h:1883', SISOCK_MQTT_PASSWORD: 'pw' } },
    );
    expect(c.broker.url).toBe('mqtt://h:1883');
    expect(c.broker.password).toBe('pw');
    expect(c.broker.clientId).toBe('sisock-dcs');
    expect(c.filters).toEqual(['dcs/+/+/status', 'bess/+/power', 'bms/+/status']);
    expect(() => parseMqttConfig({ ...base, broker: { url: '${NOPE}' } }, { env: {} })).toThrow(/NOPE/);
    expect(() => parseMqttConfig({ ...base, stroe: {} }, { env: {} })).toThrow(/stroe: unknown key/);
    expect(() => parseMqttConfig({ ...base, topics: [{ topic: 'a/{x}', fields: [{ name: '{y}' }] }] }, { env: {} })).toThrow(
      /\{y\} is not a placeholder/,
    );
    expect(() =>
      parseMqttConfig({ ...base, topics: [{ topic: 'a', schema: { type: 'nonsense' }, fields: [{ name: 'f' }] }] }, { env: {} }),
    ).toThrow(/invalid JSON Schema/);
    expect(() => parseMqttConfig(base, { env: {}, brokerUrl: 'http://x' })).toThrow(/--broker/);
  });
  test('the shipped examples load', () => {
    const dir = mqttExamplesDir();
    const t = loadMqttConfigFile(path.join(dir, 'tracker-sim.yaml'), { env: {} });
    expect(t.node.name).toBe('tracker');
    expect(t.commands.map((c) => c.name)).toEqual(['set_channel']);
    const b = loadMqttConfigFile(path.join(dir, 'bess-telegraf.yaml'), { env: { BESS_MQTT_USER: 'u', BESS_MQTT_PASSWORD: 'p' } });
    expect(b.topics[0]!.validate).not.toBeNull();
  });
});

describe('store', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(path.join(tmpdir(), 'sisock-mqtt-store-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('batched writes, idempotent samples, aligned timelines, retention, survives reopen', () => {
    const file = path.join(dir, 's.sqlite');
    const c = parseMqttConfig({ ...base, store: { path: file, retention: '1h' } }, { env: {} });
    let store = new MqttStore(c.store);
    const now = 1_700_000_000;
    const m = (t: number, payload: object) => map('dcs/hv/ch0/status', JSON.stringify({ ts: t, ...payload })) as Mapped;
    store.add(m(now - 7200, { voltage: 1 }));
    store.add(m(now - 10, { voltage: 2, state: { on: true } }));
    store.add(m(now - 5, { state: { on: false } }));
    store.add(m(now - 5, { state: { on: false } })); // duplicate
    const r = store.flush();
    expect(r.inserted).toBe(4);
    expect(r.duplicates).toBe(1);
    expect(r.live.get('dcs')!.timeline.hv_ch0!.t).toEqual([now - 7200, now - 10, now - 5]);
    const d = store.getData('dcs', ['hv_ch0_voltage', 'hv_ch0_on', 'nope'], now - 20, now, null);
    expect(d.timeline.hv_ch0!.t).toEqual([now - 10, now - 5]);
    expect(d.data).toEqual({ hv_ch0_voltage: [2, null], hv_ch0_on: [true, false], nope: [] });
    expect(store.prune(now)).toBe(1);
    store.addDeadLetter('x/y', 'malformed', 'not JSON', Buffer.from('{'), now);
    store.close();
    store = new MqttStore(c.store);
    const [fields, tls] = store.getFields('dcs', 1, now + 1);
    expect(fields.hv_ch0_voltage).toEqual({ description: null, timeline: 'hv_ch0', type: 'number', units: 'V' });
    expect(tls.hv_ch0!.field.sort()).toEqual(['hv_ch0_on', 'hv_ch0_voltage']);
    expect(store.count('dcs', 'hv_ch0_voltage')).toBe(1);
    expect(store.deadLetters(10)).toEqual([expect.objectContaining({ topic: 'x/y', reason: 'malformed', payload: '{' })]);
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    store.close();
  });

  test('fresh keys: 10,000 new fields stay fast (no rescan per field), the per-node cap dead-letters, ingest goes on', () => {
    const c = parseMqttConfig({ ...base, store: { path: ':memory:', max_fields_per_node: 10_000 } }, { env: {} });
    const store = new MqttStore(c.store);
    const ingest = new MqttIngest(c, store, { now: () => 1_700_000_000 });
    // (No timing assertion — speed belongs in bench/; a rescan per new field would show as a slow test.)
    for (let k = 0; k < 10; k++) {
      const leaves = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`k${k}_${i}`, i]));
      ingest.handle('bms/7/status', Buffer.from(JSON.stringify({ timestamp: 1_700_000_000 + k, ...leaves })));
    }
    expect(store.nodes()).toEqual(['dcs']);
    // the node is full: a message bringing new keys goes to the dead letters, known keys still land
    ingest.handle('bms/7/status', Buffer.from(JSON.stringify({ timestamp: 1_700_000_100, fresh: 1 })));
    ingest.handle('bms/7/status', Buffer.from(JSON.stringify({ timestamp: 1_700_000_100, k0_1: 5 })));
    expect(ingest.stats.byReason.too_many_fields).toBe(1);
    expect(ingest.stats.mapped).toBe(11);
    expect(store.deadLetters(5)).toEqual([
      expect.objectContaining({ reason: 'too_many_fields', detail: expect.stringMatching(/max_fields_per_node 10000/) }),
    ]);
    expect(store.field('dcs', 'b7_fresh')).toBeUndefined();
    expect(store.count('dcs', 'b7_k0_1')).toBe(2);
    store.close();
  });

  test('max_rows: a too-large raw read is a readable error; min_stride reads stay within it', () => {
    const c = parseMqttConfig({ ...base, store: { path: ':memory:', max_rows: 500 } }, { env: {} });
    const store = new MqttStore(c.store);
    for (let i = 0; i < 2000; i++)
      store.add(map('dcs/hv/ch0/status', JSON.stringify({ ts: 1000 + i, voltage: i === 777 ? 1e6 : i % 7 })) as Mapped);
    expect(() => store.getData('dcs', ['hv_ch0_voltage'], 0, 1e10, null)).toThrow(/max_rows \(500\).*use min_stride or a shorter range/);
    expect(store.getData('dcs', ['hv_ch0_voltage'], 1000, 1400, null).data.hv_ch0_voltage).toHaveLength(400);
    const d = store.getData('dcs', ['hv_ch0_voltage'], 0, 1e10, 10);
    expect(Math.max(...(d.data.hv_ch0_voltage as number[]))).toBe(1e6);
    // the thinned read equals thinning everything (same answer as without the bound)
    const wide = new MqttStore({ ...c.store, maxRows: 1e9 });
    for (let i = 0; i < 2000; i++)
      wide.add(map('dcs/hv/ch0/status', JSON.stringify({ ts: 1000 + i, voltage: i === 777 ? 1e6 : i % 7 })) as Mapped);
    expect(wide.getData('dcs', ['hv_ch0_voltage'], 0, 1e10, 10)).toEqual(d);
    store.close();
    wide.close();
  });

  test('store write failures stay inside the ingest: counted, retried with backoff, queue bounded', () => {
    const c = parseMqttConfig({ ...base, store: { path: ':memory:', batch_size: 1, batch_ms: 1000, max_queue: 5 } }, { env: {} });
    const store = new MqttStore(c.store);
    let now = 1_700_000_000;
    const ingest = new MqttIngest(c, store, { now: () => now });
    const realFlush = store.flush.bind(store);
    let failing = true;
    let attempts = 0;
    store.flush = () => {
      attempts++;
      if (failing) throw new Error('SQLITE_BUSY: database is locked');
      return realFlush();
    };
    const msg = (i: number) => Buffer.from(JSON.stringify({ ts: now + i, voltage: i }));
    expect(() => ingest.handle('dcs/hv/ch0/status', msg(0))).not.toThrow();
    expect(ingest.stats.storeErrors).toBe(1);
    // during the backoff, messages are queued without a new attempt each
    for (let i = 1; i < 10; i++) expect(() => ingest.handle('dcs/hv/ch0/status', msg(i))).not.toThrow();
    expect(attempts).toBe(1);
    expect(store.pending).toBe(5);
    expect(ingest.stats.dropped).toBe(5);
    now += 2;
    failing = false;
    ingest.handle('dcs/hv/ch0/status', msg(10));
    expect(store.pending).toBe(0);
    expect(store.count('dcs', 'hv_ch0_voltage')).toBe(6);
    expect(store.getData('dcs', ['hv_ch0_voltage'], 0, 1e10, null).data.hv_ch0_voltage).toEqual([5, 6, 7, 8, 9, 10]);
    expect(ingest.statsSnapshot()).toMatchObject({ storeErrors: 1, dropped: 5, mapped: 11 });
    store.close();
  });
});
