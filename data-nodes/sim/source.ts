/**
 * The sim node's DataSource and control procedures. The model (model.ts) is stepped `rate` times a
 * second; each step is one sample on the `sim` timeline, kept in a ring buffer (served by get_data)
 * and handed to `onSample` (the SDK's live push).
 *
 * Procedures, registered by the node next to get_fields/get_data:
 *   <base>.consumer.<name>.set_channel(supply, channel, {on?, voltage?, current_limit?})
 *       supply "hv" | "lv", channel an integer 0..3; the settings may also come as keyword
 *       arguments. Returns the channel's state after the change.
 *   <base>.consumer.<name>.get_state()
 *       → {time, hv: {…, channels: [...]}, lv: {…}, sensor: {temperature, humidity}}
 * Bad arguments (unknown supply, channel out of range, voltage outside 0..max, a non-positive or too
 * large current limit, wrong types, NaN, unknown keys) → `wamp.error.invalid_argument` with a message
 * that says which argument and why; the node keeps serving.
 */
import type { DataResult } from '../sdk/types';
import { ErrorUri, HandlerError } from '../../client';
import { silentLogger, type Logger } from '../../common/log';
import { PeriodicRingSource, RingSource, type RingFieldSpec } from '../sdk/ring-source';
import { SimModel, SUPPLIES, type ChannelSettings, type ChannelState, type SupplyName } from './model';

export const SIM_TIMELINE = 'sim';

export interface SimOptions {
  /** Samples per second. Default 1. */
  rate?: number;
  /** Samples kept. Default a day at 1 Hz (86400). */
  capacity?: number;
  seed?: number;
  now?: () => number;
  logger?: Logger;
  onSample?: (sample: DataResult) => void;
}

export function simFieldSpecs(model: SimModel): RingFieldSpec[] {
  const out: RingFieldSpec[] = [];
  for (const supply of SUPPLIES) {
    const spec = model.specs[supply];
    for (let c = 0; c < spec.channels; c++) {
      const p = `${supply}_ch${c}`;
      const what = `${supply.toUpperCase()} channel ${c}`;
      out.push({ name: `${p}_voltage`, description: `${what} output voltage`, units: 'V' });
      out.push({ name: `${p}_current`, description: `${what} output current`, units: spec.currentUnits });
      out.push({ name: `${p}_on`, description: `${what} switched on`, units: null, type: 'bool' });
      out.push({ name: `${p}_tripped`, description: `${what} tripped on over-current`, units: null, type: 'bool' });
    }
  }
  out.push({ name: 'sensor_temperature', description: 'Dummy sensor: temperature', units: 'C' });
  out.push({ name: 'sensor_humidity', description: 'Dummy sensor: relative humidity', units: '%' });
  return out;
}

function invalid(message: string): HandlerError {
  return new HandlerError(ErrorUri.INVALID_ARGUMENT, message);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  return `a ${typeof v}`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

const SETTING_KEYS = ['on', 'voltage', 'current_limit'];

export class SimSource extends PeriodicRingSource {
  readonly model: SimModel;
  readonly rate: number;
  private readonly now: () => number;
  private readonly logger: Logger;
  private lastStep: number | null = null;

  constructor(opts: SimOptions = {}) {
    super();
    this.rate = opts.rate ?? 1;
    if (!(this.rate > 0) || !Number.isFinite(this.rate) || this.rate > 1000)
      throw new RangeError(`sim rate must be in (0, 1000] samples/s, got ${opts.rate}`);
    this.model = new SimModel(opts.seed);
    this.now = opts.now ?? (() => Date.now() / 1000);
    this.logger = opts.logger ?? silentLogger;
    this.onSample = opts.onSample;
    this.ring = new RingSource(SIM_TIMELINE, 1 / this.rate, simFieldSpecs(this.model), opts.capacity ?? 86400);
  }

  /** Advance the model to now and record a sample. Returns it, or null if the clock did not move. */
  stepOnce(): DataResult | null {
    const t = this.now();
    const dt = this.lastStep === null ? 0 : Math.min(Math.max(0, t - this.lastStep), 10 / this.rate);
    this.model.step(dt);
    const sample = this.ring.append(t, this.model.sample());
    if (!sample) return null;
    this.lastStep = t;
    this.onSample?.(sample);
    return sample;
  }

  /** start(): a step now and then `rate` times a second until stop(). */
  protected get periodMs(): number {
    return 1000 / this.rate;
  }

  protected tick(): void {
    try {
      this.stepOnce();
    } catch (err) {
      this.logger.warn({ err: String(err) }, 'sim: step failed');
    }
  }

  /** WAMP handler of set_channel: (args, kwargs) as the client gives them. */
  setChannel(args: unknown[], kwargs: Record<string, unknown>): Record<string, unknown> {
    if (!Array.isArray(args)) args = [];
    if (!isPlainObject(kwargs)) kwargs = {};
    if (args.length < 2 || args.length > 3) {
      throw invalid(`set_channel takes (supply, channel, {on?, voltage?, current_limit?}), got ${args.length} positional arguments`);
    }
    const [rawSupply, rawChannel, rawSettings] = args;
    if (typeof rawSupply !== 'string' || !SUPPLIES.includes(rawSupply.toLowerCase() as SupplyName)) {
      throw invalid(`supply must be one of ${SUPPLIES.map((s) => `"${s}"`).join(', ')}, got ${describe(rawSupply)}`);
    }
    const supply = rawSupply.toLowerCase() as SupplyName;
    const spec = this.model.specs[supply];
    if (typeof rawChannel !== 'number' || !Number.isInteger(rawChannel) || rawChannel < 0 || rawChannel >= spec.channels) {
      throw invalid(`channel must be an integer 0..${spec.channels - 1} for ${supply}, got ${describe(rawChannel)}`);
    }
    let settings: Record<string, unknown>;
    if (rawSettings === undefined || rawSettings === null) settings = kwargs;
    else if (!isPlainObject(rawSettings))
      throw invalid(`settings must be a dictionary {on?, voltage?, current_limit?}, got ${describe(rawSettings)}`);
    else {
      if (Object.keys(kwargs).length) throw invalid('settings given both as a dictionary and as keyword arguments');
      settings = rawSettings;
    }
    for (const k of Object.keys(settings)) {
      if (!SETTING_KEYS.includes(k)) throw invalid(`unknown setting ${JSON.stringify(k)} (allowed: ${SETTING_KEYS.join(', ')})`);
    }
    const s: ChannelSettings = {};
    if (settings.on !== undefined) {
      if (typeof settings.on !== 'boolean') throw invalid(`on must be true or false, got ${describe(settings.on)}`);
      s.on = settings.on;
    }
    if (settings.voltage !== undefined) {
      const v = settings.voltage;
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > spec.maxVoltage) {
        throw invalid(`voltage must be a number of volts in 0..${spec.maxVoltage} for ${supply}, got ${describe(v)}`);
      }
      s.voltage = v;
    }
    if (settings.current_limit !== undefined) {
      const v = settings.current_limit;
      if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > spec.maxCurrentLimit) {
        throw invalid(
          `current_limit must be a number in (0, ${spec.maxCurrentLimit}] ${spec.currentUnits} for ${supply}, got ${describe(v)}`,
        );
      }
      s.currentLimit = v;
    }
    const st = this.model.setChannel(supply, rawChannel, s);
    this.logger.info({ supply, channel: rawChannel, settings: s }, 'sim: channel set');
    return { supply, ...channelJson(st) };
  }

  /** WAMP handler of get_state. */
  getState(args: unknown[] = [], kwargs: Record<string, unknown> = {}): Record<string, unknown> {
    if ((Array.isArray(args) && args.length > 0) || (isPlainObject(kwargs) && Object.keys(kwargs).length > 0)) {
      throw invalid('get_state takes no arguments');
    }
    const out: Record<string, unknown> = { time: this.ring.buffer.lastTime };
    for (const supply of SUPPLIES) {
      const spec = this.model.specs[supply];
      out[supply] = {
        description: spec.description,
        max_voltage: spec.maxVoltage,
        max_current_limit: spec.maxCurrentLimit,
        current_units: spec.currentUnits,
        channels: this.model.channels[supply].map(channelJson),
      };
    }
    out.sensor = { temperature: this.model.temperature, humidity: this.model.humidity };
    return out;
  }
}

function channelJson(c: ChannelState): Record<string, unknown> {
  return {
    channel: c.channel,
    on: c.on,
    tripped: c.tripped,
    setpoint: c.setpoint,
    current_limit: c.currentLimit,
    voltage: c.voltage,
    current: c.current,
  };
}
