import { boundNodeStatus, HUB_CALL_TIMEOUT_MS, MAX_STATUS_KEYS, MAX_STATUS_STRING, STATUS_TIMEOUT_MS } from '../../contract';
import { metadataEntry } from '../../hub/metadata';
import { StoreSource } from '../../data-nodes/mqtt/node';
import { MqttIngest } from '../../data-nodes/mqtt/ingest';
import { MqttStore } from '../../data-nodes/mqtt/store';
import { parseMqttConfig } from '../../data-nodes/mqtt/config';

describe('boundNodeStatus (a node metadata status, bounded)', () => {
  test('keeps flat primitive values, drops nested ones, junk keys and non-finite numbers', () => {
    const s = boundNodeStatus({
      broker_dropped: 3,
      connected: true,
      note: 'ok',
      last: null,
      nested: { a: 1 },
      list: [1],
      inf: Number.POSITIVE_INFINITY,
      nan: Number.NaN,
      'bad key': 1,
      ['k'.repeat(65)]: 1,
      fn: () => 1,
    });
    expect(s).toEqual({ broker_dropped: 3, connected: true, note: 'ok', last: null });
  });

  test('cuts long strings and stops after MAX_STATUS_KEYS entries', () => {
    const big: Record<string, unknown> = { long: 'x'.repeat(10_000) };
    for (let i = 0; i < 1000; i++) big[`k${i}`] = i;
    const s = boundNodeStatus(big);
    expect(Object.keys(s ?? {})).toHaveLength(MAX_STATUS_KEYS);
    expect(s?.long).toHaveLength(MAX_STATUS_STRING);
    expect(JSON.stringify(s).length).toBeLessThan(2048);
  });

  test.each([null, undefined, 3, 'x', [1, 2]])('%p is no status', (v) => {
    expect(boundNodeStatus(v)).toBeNull();
  });
});

test("a node's status hook is given up well before the hub gives up on the node's answer", () => {
  expect(STATUS_TIMEOUT_MS * 1.5).toBeLessThanOrEqual(HUB_CALL_TIMEOUT_MS);
});

describe("the hub's metadata entry passes status through, bounded", () => {
  const rec = { name: 'n', description: 'd', sessionId: 7, added: 1 };
  test('a node that reports status', () => {
    const e = metadataEntry(rec, { host: 'h', status: { broker_dropped: 5, deep: { x: 1 } } });
    expect(e.status).toEqual({ broker_dropped: 5 });
    expect(e.available).toBe(true);
  });
  test('a node that reports none, or something hostile', () => {
    expect(metadataEntry(rec, { host: 'h' }).status).toBeNull();
    expect(metadataEntry(rec, undefined).status).toBeNull();
    const hostile: Record<string, unknown> = {};
    for (let i = 0; i < 100_000; i++) hostile[`k${i}`] = 'y'.repeat(1000);
    const e = metadataEntry(rec, { status: hostile });
    expect(JSON.stringify(e.status).length).toBeLessThan(MAX_STATUS_KEYS * (MAX_STATUS_STRING + 16));
  });
});

describe("the MQTT node's status: its ingest's loss figures", () => {
  test('StoreSource.status reports broker drops and sequence gaps as the ingest counts them', () => {
    const config = parseMqttConfig(
      {
        node: { name: 'm' },
        broker: { url: 'mqtt://127.0.0.1:1' },
        store: { path: ':memory:' },
        topics: [
          {
            topic: 'x/#',
            timeline: 't',
            time: { path: 'ts', unit: 's' },
            sequence: 'seq',
            fields: [{ name: 'v', path: 'v' }],
          },
        ],
      },
      { env: {} },
    );
    const store = new MqttStore(config.store);
    const ingest = new MqttIngest(config, store, { now: () => 1000 });
    const src = new StoreSource(store, 'm', () => ingest.lossStatus());
    try {
      expect(src.status()).toEqual({ mqtt_connected: false, broker_dropped: 0, sequence_gaps: 0, sequence_missing: 0, store_dropped: 0 });
      ingest.handle('x/a', Buffer.from(JSON.stringify({ ts: 999, seq: 1, v: 1 })));
      ingest.handle('x/a', Buffer.from(JSON.stringify({ ts: 999.5, seq: 5, v: 2 })));
      ingest.onSysDropped(Buffer.from('100'));
      ingest.onSysDropped(Buffer.from('104'));
      expect(src.status()).toMatchObject({ sequence_gaps: 1, sequence_missing: 3, broker_dropped: 4 });
      expect(new StoreSource(store, 'm').status()).toEqual({});
    } finally {
      store.close();
    }
  });
});
