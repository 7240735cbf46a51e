/**
 * The MQTT path of `sisock demo`: an embedded broker (aedes, any free port), the simulated Tracker
 * DCS hardware publishing to it (sim-device.ts), and the bridge node `tracker` (examples/
 * tracker-sim.yaml) with its history in a temporary SQLite file. `set_channel` on the node travels
 * over MQTT to the device. With `brokerUrl`, an existing broker is used instead of aedes.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { ClientOptions } from '../../client';
import { silentLogger, type Logger } from '../../common/log';
import { startEmbeddedBroker, type EmbeddedBroker } from './broker';
import { loadMqttConfigFile } from './config';
import { runMqttNode, type MqttNodeHandle } from './node';
import { startSimDevice, type SimDevice } from './sim-device';

export function mqttExamplesDir(): string {
  const candidates = [path.join(__dirname, 'examples'), path.join(__dirname, '..', '..', '..', 'data-nodes', 'mqtt', 'examples')];
  return candidates.find((c) => existsSync(c)) ?? path.join(__dirname, 'examples');
}

export interface MqttDemoOptions {
  /** WAMP connection of the bridge node. */
  client: ClientOptions;
  logger?: Logger;
  /** Use this broker instead of starting aedes. */
  brokerUrl?: string;
  /** Device ticks per second (default 1). */
  rate?: number;
}

export interface MqttDemo {
  brokerUrl: string;
  node: MqttNodeHandle;
  device: SimDevice;
  /** `[what, url]` lines for the demo's output. */
  lines: Array<[string, string]>;
  close(): Promise<void>;
}

export async function startMqttDemo(o: MqttDemoOptions): Promise<MqttDemo> {
  const log = o.logger ?? silentLogger;
  let broker: EmbeddedBroker | null = null;
  const dir = mkdtempSync(path.join(tmpdir(), 'sisock-mqtt-demo-'));
  let device: SimDevice | null = null;
  try {
    let url = o.brokerUrl;
    if (!url) {
      broker = await startEmbeddedBroker({ logger: log.child({ service: 'mqtt-broker' }) });
      url = broker.url;
    }
    const config = loadMqttConfigFile(path.join(mqttExamplesDir(), 'tracker-sim.yaml'), {
      brokerUrl: url,
      env: { ...process.env, SISOCK_MQTT_STORE: path.join(dir, 'tracker.sqlite') },
    });
    config.broker.reconnectPeriodMs = 500;
    // aedes (the embedded broker) speaks MQTT 3.1.1 only: connect with it rather than be refused MQTT 5 and fall back
    if (broker) config.broker.protocolVersion = 4;
    device = startSimDevice({ url, rate: o.rate ?? 1, logger: log.child({ service: 'sim-device' }) });
    const node = await runMqttNode({ config, client: o.client, logger: log.child({ service: 'mqtt-node' }) });
    const dev = device;
    const b = broker;
    return {
      brokerUrl: url,
      node,
      device: dev,
      lines: [
        ['mqtt', url],
        ['node', config.node.name],
      ],
      async close() {
        await node.close().catch(() => {});
        await dev.close().catch(() => {});
        if (b) await b.close().catch(() => {});
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    if (device) await device.close().catch(() => {});
    if (broker) await broker.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
