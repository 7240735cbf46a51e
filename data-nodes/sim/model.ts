/**
 * Simulated lab hardware, after the Tracker DCS demonstrator (dummy high- and low-voltage modules and
 * a dummy sensor with two measurements). Pure and deterministic given a seed: `step(dt)` advances
 * the physics, `setChannel` changes a channel's controls.
 *
 * Each supply has channels 0..n-1 (as CAEN modules number them) with controls `on`, `setpoint` (V) and
 * `currentLimit`, and readings `voltage` and `current`:
 *  - the voltage ramps towards the setpoint while on, towards 0 while off (ramp rates per supply);
 *  - the current follows a load model plus noise: HV, a silicon sensor's leakage (≈ V / 200 MΩ in µA)
 *    that grows steeply past 700 V (breakdown), so pushing an HV channel high with the default 10 µA
 *    limit trips it; LV, an ohmic load of a few ohms per channel, in A;
 *  - when the current exceeds the limit the channel trips: it switches off, `tripped` stays true
 *    until the channel is switched on again, and the voltage falls fast.
 * The sensor's temperature follows the heat the LV loads dissipate (first order, 2 min time constant)
 * on top of a slowly drifting 21 °C; humidity drifts around 40 %. Both are noisy.
 */

export type SupplyName = 'hv' | 'lv';
export const SUPPLIES: readonly SupplyName[] = ['hv', 'lv'];

export interface SupplySpec {
  name: SupplyName;
  description: string;
  channels: number;
  maxVoltage: number;
  /** Upper bound of a current limit, in `currentUnits`. */
  maxCurrentLimit: number;
  defaultCurrentLimit: number;
  currentUnits: string;
  rampUp: number; // V/s
  rampDown: number; // V/s
  tripRampDown: number; // V/s
  /** Current noise (1 sigma), in `currentUnits`. */
  currentNoise: number;
  /** Load: current in `currentUnits` drawn at `voltage` by channel `ch`. */
  load(voltage: number, ch: number): number;
}

export const HV_SPEC: SupplySpec = {
  name: 'hv',
  description: 'high-voltage supply (sensor bias)',
  channels: 4,
  maxVoltage: 1000,
  maxCurrentLimit: 100,
  defaultCurrentLimit: 10,
  currentUnits: 'uA',
  rampUp: 20,
  rampDown: 50,
  tripRampDown: 500,
  currentNoise: 0.02,
  load: (v, ch) => {
    const leak = v / (200 + 10 * ch); // µA at V / MΩ
    const breakdown = v > 700 ? 0.5 * (Math.exp((v - 700) / 60) - 1) : 0;
    return leak + breakdown;
  },
};

export const LV_SPEC: SupplySpec = {
  name: 'lv',
  description: 'low-voltage supply (front-end power)',
  channels: 4,
  maxVoltage: 12,
  maxCurrentLimit: 10,
  defaultCurrentLimit: 3,
  currentUnits: 'A',
  rampUp: 2,
  rampDown: 5,
  tripRampDown: 50,
  currentNoise: 0.005,
  load: (v, ch) => v / ([4, 4.5, 5, 6][ch % 4] ?? 4),
};

export interface ChannelState {
  channel: number;
  on: boolean;
  tripped: boolean;
  /** Voltage setpoint, V. */
  setpoint: number;
  currentLimit: number;
  voltage: number;
  current: number;
}

export interface ChannelSettings {
  on?: boolean;
  voltage?: number;
  currentLimit?: number;
}

/** Deterministic PRNG (mulberry32): uniform in [0, 1) from a 32-bit seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class SimModel {
  readonly specs: Record<SupplyName, SupplySpec> = { hv: HV_SPEC, lv: LV_SPEC };
  readonly channels: Record<SupplyName, ChannelState[]>;
  temperature = 21;
  humidity = 40;
  private heat = 0; // °C above ambient from LV dissipation (first order)
  private ambientDrift = 0;
  private humidityDrift = 0;
  private readonly rand: () => number;
  private spare: number | null = null;

  constructor(seed: number = (Math.random() * 2 ** 32) >>> 0) {
    this.rand = mulberry32(seed);
    this.channels = {
      hv: this.makeChannels(HV_SPEC),
      lv: this.makeChannels(LV_SPEC),
    };
    this.step(0);
  }

  private makeChannels(spec: SupplySpec): ChannelState[] {
    return Array.from({ length: spec.channels }, (_, channel) => ({
      channel,
      on: false,
      tripped: false,
      setpoint: 0,
      currentLimit: spec.defaultCurrentLimit,
      voltage: 0,
      current: 0,
    }));
  }

  private gauss(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.rand();
    const r = Math.sqrt(-2 * Math.log(u));
    const th = 2 * Math.PI * this.rand();
    this.spare = r * Math.sin(th);
    return r * Math.cos(th);
  }

  /** Apply settings (already validated by the caller). Switching on clears a trip. */
  setChannel(supply: SupplyName, channel: number, s: ChannelSettings): ChannelState {
    const ch = this.channels[supply][channel];
    if (!ch) throw new RangeError(`${supply} has no channel ${channel}`); // the caller validates the number
    if (s.voltage !== undefined) ch.setpoint = s.voltage;
    if (s.currentLimit !== undefined) ch.currentLimit = s.currentLimit;
    if (s.on !== undefined) {
      ch.on = s.on;
      if (s.on) ch.tripped = false;
    }
    return { ...ch };
  }

  /** Advance the simulation by `dt` seconds. */
  step(dt: number): void {
    let lvPower = 0;
    for (const supply of SUPPLIES) {
      const spec = this.specs[supply];
      for (const ch of this.channels[supply]) {
        const target = ch.on ? ch.setpoint : 0;
        const rate = ch.tripped ? spec.tripRampDown : target >= ch.voltage ? spec.rampUp : spec.rampDown;
        const dv = rate * dt;
        ch.voltage = ch.voltage < target ? Math.min(target, ch.voltage + dv) : Math.max(target, ch.voltage - dv);
        const noise = spec.currentNoise * this.gauss() * (ch.voltage > 0 ? 1 : 0.2);
        ch.current = spec.load(ch.voltage, ch.channel) + noise;
        if (ch.on && ch.current > ch.currentLimit) {
          ch.on = false;
          ch.tripped = true;
        }
        if (supply === 'lv') lvPower += ch.voltage * Math.max(0, ch.current);
      }
    }
    // Sensor: first-order heating (τ = 120 s, 0.05 °C/W) on a slowly drifting ambient.
    const k = dt > 0 ? 1 - Math.exp(-dt / 120) : 0;
    this.heat += (0.05 * lvPower - this.heat) * k;
    const kd = dt > 0 ? Math.min(1, dt / 1800) : 0;
    this.ambientDrift += -this.ambientDrift * kd + 0.3 * Math.sqrt(2 * kd) * this.gauss();
    this.humidityDrift += -this.humidityDrift * kd + 3 * Math.sqrt(2 * kd) * this.gauss();
    this.temperature = 21 + this.ambientDrift + this.heat + 0.05 * this.gauss();
    this.humidity = Math.min(100, Math.max(0, 40 + this.humidityDrift - 0.8 * this.heat + 0.3 * this.gauss()));
  }

  /** The current readings as a flat sample, by field name (see `simFieldNames`). */
  sample(): Record<string, number | boolean> {
    const out: Record<string, number | boolean> = {};
    for (const supply of SUPPLIES) {
      for (const ch of this.channels[supply]) {
        const p = `${supply}_ch${ch.channel}`;
        out[`${p}_voltage`] = round(ch.voltage, 4);
        out[`${p}_current`] = round(ch.current, 4);
        out[`${p}_on`] = ch.on;
        out[`${p}_tripped`] = ch.tripped;
      }
    }
    out.sensor_temperature = round(this.temperature, 3);
    out.sensor_humidity = round(this.humidity, 2);
    return out;
  }
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
