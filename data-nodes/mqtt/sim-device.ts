/**
 * The simulated lab hardware (data-nodes/sim/model.ts) as an MQTT device, like the dummy HV/LV
 * modules of the Tracker DCS demonstrator: it publishes its readings and takes commands over MQTT.
 *
 *   <prefix>/<supply>/ch<n>/status  ← every tick, JSON
 *       {"ts": <UNIX s>, "voltage": V, "current": I, "on": bool, "tripped": bool,
 *        "setpoint": V, "current_limit": L}             (supply hv: current in uA, lv: in A)
 *   <prefix>/sensor/status          ← every tick, {"ts", "temperature": °C, "humidity": %}
 *   <prefix>/<supply>/ch<n>/set     → command, JSON {on?, voltage?, current_limit?}
 *   <prefix>/<supply>/ch<n>/ack     ← answer to each command: {"ok": true, "state": {…}} or
 *                                     {"ok": false, "error": "…"}; a status follows at once.
 *
 * data-nodes/mqtt/examples/tracker-sim.yaml maps these topics to fields and adds the WAMP command
 * `set_channel(supply, channel, {on?, voltage?, current_limit?})` that publishes to `…/set`.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { silentLogger, type Logger } from '../../common/log';
import { SimModel, SUPPLIES, type ChannelSettings, type SupplyName } from '../sim/model';

export interface SimDeviceOptions {
  /** Broker URL, e.g. mqtt://127.0.0.1:1883. */
  url: string;
  /** Topic prefix (default "sim"). */
  prefix?: string;
  /** Ticks per second (default 1). */
  rate?: number;
  seed?: number;
  qos?: 0 | 1;
  clientId?: string;
  username?: string;
  password?: string;
  logger?: Logger;
  now?: () => number;
}

export interface SimDevice {
  readonly model: SimModel;
  readonly client: MqttClient;
  /** Resolves once connected and subscribed to the command topics. */
  ready(): Promise<void>;
  /** Steps the model and publishes one round of readings now. */
  tick(): void;
  close(): Promise<void>;
}

function round(v: number, d: number): number {
  const f = 10 ** d;
  return Math.round(v * f) / f;
}

/** Checks a command payload against the supply's limits; returns settings or an error message. */
export function parseSettings(model: SimModel, supply: SupplyName, raw: unknown): ChannelSettings | string {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return 'payload must be a JSON object {on?, voltage?, current_limit?}';
  const spec = model.specs[supply];
  const o = raw as Record<string, unknown>;
  const s: ChannelSettings = {};
  for (const k of Object.keys(o)) if (!['on', 'voltage', 'current_limit'].includes(k)) return `unknown setting ${JSON.stringify(k)}`;
  if (o.on !== undefined) {
    if (typeof o.on !== 'boolean') return 'on must be true or false';
    s.on = o.on;
  }
  if (o.voltage !== undefined) {
    if (typeof o.voltage !== 'number' || !Number.isFinite(o.voltage) || o.voltage < 0 || o.voltage > spec.maxVoltage)
      return `voltage must be a number 0..${spec.maxVoltage} V`;
    s.voltage = o.voltage;
  }
  if (o.current_limit !== undefined) {
    const l = o.current_limit;
    if (typeof l !== 'number' || !Number.isFinite(l) || l <= 0 || l > spec.maxCurrentLimit)
      return `current_limit must be a number in (0, ${spec.maxCurrentLimit}] ${spec.currentUnits}`;
    s.currentLimit = l;
  }
  return s;
}

export function startSimDevice(o: SimDeviceOptions): SimDevice {
  const log = o.logger ?? silentLogger;
  const prefix = o.prefix ?? 'sim';
  const rate = o.rate ?? 1;
  const qos = o.qos ?? 1;
  const now = o.now ?? (() => Date.now() / 1000);
  const model = new SimModel(o.seed);
  let last: number | null = null;
  const client = mqtt.connect(o.url, {
    clientId: o.clientId ?? `sisock-sim-device-${prefix.replace(/[^A-Za-z0-9_-]/g, '_')}-${process.pid}`,
    clean: true,
    reconnectPeriod: 500,
    username: o.username,
    password: o.password,
  });
  let readyResolve!: () => void;
  const readyP = new Promise<void>((r) => (readyResolve = r));
  client.on('connect', () => {
    client.subscribe(`${prefix}/+/+/set`, { qos: 1 }, (err) => {
      if (err) log.warn({ err: err.message }, 'sim device: subscribe failed');
      else readyResolve();
    });
  });
  client.on('error', (err) => log.debug({ err: err.message }, 'sim device: mqtt error'));

  const publishChannel = (supply: SupplyName, ch: number, t: number) => {
    const c = model.channels[supply][ch];
    if (!c) return;
    client.publish(
      `${prefix}/${supply}/ch${ch}/status`,
      JSON.stringify({
        ts: t,
        voltage: round(c.voltage, 4),
        current: round(c.current, 4),
        on: c.on,
        tripped: c.tripped,
        setpoint: c.setpoint,
        current_limit: c.currentLimit,
      }),
      { qos },
    );
  };

  const tick = () => {
    const t = now();
    const dt = last === null ? 0 : Math.min(Math.max(0, t - last), 10 / rate);
    last = t;
    model.step(dt);
    if (!client.connected) return;
    for (const supply of SUPPLIES) for (let ch = 0; ch < model.specs[supply].channels; ch++) publishChannel(supply, ch, t);
    client.publish(
      `${prefix}/sensor/status`,
      JSON.stringify({ ts: t, temperature: round(model.temperature, 3), humidity: round(model.humidity, 2) }),
      { qos },
    );
  };

  client.on('message', (topic, payload) => {
    const m = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/([^/]+)/ch(\\d+)/set$`).exec(topic);
    if (!m) return;
    const supply = m[1] as SupplyName;
    const ch = Number(m[2]);
    const ack = (body: Record<string, unknown>) => client.publish(`${prefix}/${m[1]}/ch${m[2]}/ack`, JSON.stringify(body), { qos: 1 });
    if (!SUPPLIES.includes(supply) || ch >= model.specs[supply].channels) {
      ack({ ok: false, error: `no such channel ${m[1]}/ch${m[2]}` });
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(payload.toString('utf8'));
    } catch {
      ack({ ok: false, error: 'payload is not JSON' });
      return;
    }
    const s = parseSettings(model, supply, body);
    if (typeof s === 'string') {
      ack({ ok: false, error: s });
      return;
    }
    const state = model.setChannel(supply, ch, s);
    log.info({ supply, channel: ch, settings: s }, 'sim device: command applied');
    ack({ ok: true, state });
    publishChannel(supply, ch, Math.max(now(), (last ?? 0) + 1e-6));
  });

  const timer = setInterval(tick, 1000 / rate);
  tick();
  let closed = false;
  return {
    model,
    client,
    ready: () => readyP,
    tick,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      await new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
    },
  };
}
