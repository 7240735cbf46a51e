import { SimSource, SimModel } from '../../data-nodes/sim';
import { HandlerError } from '../../client';

function clockedSim(rate = 1) {
  let now = 1_000_000;
  const src = new SimSource({ seed: 42, rate, now: () => now });
  const advance = (seconds: number) => {
    for (let i = 0; i < seconds * rate; i++) {
      now += 1 / rate;
      src.stepOnce();
    }
  };
  src.stepOnce();
  return { src, advance, now: () => now };
}

function last(src: SimSource, field: string) {
  const r = src.getData([field], 0, 1e12, null);
  return r.data[field]![r.data[field]!.length - 1];
}

describe('sim model', () => {
  test('deterministic for a seed', () => {
    const a = new SimModel(7);
    const b = new SimModel(7);
    for (let i = 0; i < 10; i++) {
      a.step(1);
      b.step(1);
    }
    expect(a.sample()).toEqual(b.sample());
  });

  test('switching an HV channel on ramps the voltage to the setpoint; current follows; off ramps down', () => {
    const { src, advance } = clockedSim();
    expect(last(src, 'hv_ch1_voltage')).toBe(0);
    src.setChannel(['hv', 1, { on: true, voltage: 200 }], {});
    advance(5);
    expect(last(src, 'hv_ch1_voltage')).toBeCloseTo(100, 6); // 20 V/s
    advance(10);
    expect(last(src, 'hv_ch1_voltage')).toBe(200);
    expect(last(src, 'hv_ch1_on')).toBe(true);
    const i = last(src, 'hv_ch1_current') as number;
    expect(i).toBeGreaterThan(0.8); // ≈ 200 V / 210 MΩ ≈ 0.95 µA
    expect(i).toBeLessThan(1.1);
    expect(last(src, 'hv_ch0_voltage')).toBe(0); // other channels untouched
    src.setChannel(['hv', 1, { on: false }], {});
    advance(5);
    expect(last(src, 'hv_ch1_voltage')).toBe(0); // 50 V/s down
    expect(last(src, 'hv_ch1_on')).toBe(false);
  });

  test('over the current limit the channel trips and stays off until switched on again', () => {
    const { src, advance } = clockedSim();
    src.setChannel(['hv', 0, { on: true, voltage: 1000, current_limit: 10 }], {});
    advance(60);
    expect(last(src, 'hv_ch0_tripped')).toBe(true);
    expect(last(src, 'hv_ch0_on')).toBe(false);
    expect(last(src, 'hv_ch0_voltage')).toBe(0);
    const st = src.getState() as { hv: { channels: { tripped: boolean; on: boolean }[] } };
    expect(st.hv.channels[0]).toMatchObject({ tripped: true, on: false });
    src.setChannel(['hv', 0], { on: true, voltage: 300 });
    advance(20);
    expect(last(src, 'hv_ch0_tripped')).toBe(false);
    expect(last(src, 'hv_ch0_voltage')).toBe(300);
  });

  test('LV load heats the sensor', () => {
    const { src, advance } = clockedSim();
    advance(10);
    const before = last(src, 'sensor_temperature') as number;
    for (let c = 0; c < 4; c++) src.setChannel(['lv', c, { on: true, voltage: 10, current_limit: 5 }], {});
    advance(600);
    expect(last(src, 'lv_ch0_current') as number).toBeCloseTo(2.5, 1);
    expect((last(src, 'sensor_temperature') as number) - before).toBeGreaterThan(2); // ≈ 80 W · 0.05 °C/W
    const h = last(src, 'sensor_humidity') as number;
    expect(h).toBeGreaterThan(0);
    expect(h).toBeLessThan(100);
  });

  test('get_fields / get_data over the ring buffer, min_stride, pushes', () => {
    const pushed: unknown[] = [];
    const { src, advance, now } = clockedSim();
    src.onSample = (s) => pushed.push(s);
    advance(100);
    expect(pushed).toHaveLength(100);
    const [fields, timelines] = src.getFields(0, 1e12);
    expect(Object.keys(fields)).toHaveLength(4 * 4 * 2 + 2);
    expect(fields.hv_ch0_on!.type).toBe('bool');
    expect(fields.lv_ch0_current!.units).toBe('A');
    expect(timelines.sim!.interval).toBe(1);
    const r = src.getData(['sensor_temperature'], now() - 100, now() + 1, 10);
    expect(r.timeline.sim!.t.length).toBeLessThanOrEqual(12);
  });
});

describe('sim procedures: validation', () => {
  const { src } = clockedSim();
  const bad: [string, unknown[], Record<string, unknown>][] = [
    ['no arguments', [], {}],
    ['unknown supply', ['xv', 0, { on: true }], {}],
    ['supply not a string', [1, 0, { on: true }], {}],
    ['channel out of range', ['hv', 4, { on: true }], {}],
    ['negative channel', ['lv', -1, { on: true }], {}],
    ['fractional channel', ['hv', 1.5, { on: true }], {}],
    ['channel as string', ['hv', '1', { on: true }], {}],
    ['negative voltage', ['hv', 0, { voltage: -5 }], {}],
    ['voltage above max', ['lv', 0, { voltage: 13 }], {}],
    ['voltage NaN', ['hv', 0, { voltage: NaN }], {}],
    ['voltage as string', ['hv', 0, { voltage: '100' }], {}],
    ['on not a boolean', ['hv', 0, { on: 1 }], {}],
    ['zero current limit', ['hv', 0, { current_limit: 0 }], {}],
    ['current limit too large', ['lv', 0, { current_limit: 1e9 }], {}],
    ['unknown setting', ['hv', 0, { volts: 3 }], {}],
    ['settings not a dict', ['hv', 0, [true]], {}],
    ['settings twice', ['hv', 0, { on: true }], { on: false }],
    ['too many arguments', ['hv', 0, {}, 1], {}],
  ];
  test.each(bad)('%s → wamp.error.invalid_argument', (_what, args, kwargs) => {
    let err: unknown;
    try {
      src.setChannel(args, kwargs);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HandlerError);
    expect((err as HandlerError).uri).toBe('wamp.error.invalid_argument');
    expect((err as HandlerError).message.length).toBeGreaterThan(10);
  });

  test('nothing was changed by the bad calls; get_state takes no arguments', () => {
    const st = src.getState() as { hv: { channels: { on: boolean; setpoint: number }[] }; lv: { channels: { on: boolean }[] } };
    expect(st.hv.channels.every((c) => !c.on && c.setpoint === 0)).toBe(true);
    expect(st.lv.channels.every((c) => !c.on)).toBe(true);
    expect(() => src.getState([1], {})).toThrow(HandlerError);
  });

  test('good calls: settings positional or as keywords, case-insensitive supply', () => {
    expect(src.setChannel(['HV', 3, { voltage: 100, current_limit: 20 }], {})).toMatchObject({
      supply: 'hv',
      channel: 3,
      setpoint: 100,
      current_limit: 20,
      on: false,
    });
    expect(src.setChannel(['lv', 2], { on: true, voltage: 5 })).toMatchObject({ supply: 'lv', channel: 2, on: true, setpoint: 5 });
  });
});
