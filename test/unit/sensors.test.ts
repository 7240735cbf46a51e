import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import {
  RingBuffer,
  RingSource,
  SensorsSource,
  counterRate,
  cpuUsagePercent,
  parseLoadavg,
  parseMeminfo,
  parseNetDev,
  parseProcStat,
  sanitizeName,
} from '../../data-nodes/sensors';

const STAT_1 = `cpu  100 0 50 800 50 0 0 0 0 0
cpu0 50 0 25 400 25 0 0 0 0 0
intr 12345
`;
const STAT_2 = `cpu  160 0 90 850 50 0 0 0 0 0
cpu0 80 0 45 425 25 0 0 0 0 0
`;
const LOADAVG = '0.52 0.58 0.59 1/1234 56789\n';
const MEMINFO = `MemTotal:       16000000 kB
MemFree:         1000000 kB
MemAvailable:    4000000 kB
SwapTotal:       2000000 kB
SwapFree:        1500000 kB
HugePages_Total:       0
`;
const NETDEV = (rx: number, tx: number) => `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo: 999999    100    0    0    0     0          0         0   999999    100    0    0    0     0       0          0
  eth0: ${rx}   2000    0    0    0     0          0         0 ${tx}    1500    0    0    0     0       0          0
`;

describe('procfs parsers', () => {
  test('/proc/stat and CPU usage from deltas', () => {
    const a = parseProcStat(STAT_1)!;
    const b = parseProcStat(STAT_2)!;
    expect(a).toEqual({ idle: 850, total: 1000 });
    // busy: Δtotal 150, Δidle 50 → 66.7 %
    expect(cpuUsagePercent(a, b)).toBeCloseTo(66.667, 2);
    expect(cpuUsagePercent(null, b)).toBeNull();
    expect(cpuUsagePercent(b, a)).toBeNull(); // counters went back
    expect(parseProcStat('intr 1 2 3\n')).toBeNull();
    expect(parseProcStat('cpu  a b c d\n')).toBeNull();
  });

  test('/proc/loadavg', () => {
    expect(parseLoadavg(LOADAVG)).toEqual([0.52, 0.58, 0.59]);
    expect(parseLoadavg('nonsense')).toBeNull();
  });

  test('/proc/meminfo in bytes', () => {
    const m = parseMeminfo(MEMINFO);
    expect(m.get('MemTotal')).toBe(16000000 * 1024);
    expect(m.get('HugePages_Total')).toBe(0);
    expect(parseMeminfo('garbage\n').size).toBe(0);
  });

  test('/proc/net/dev and counter rates', () => {
    const n = parseNetDev(NETDEV(1000, 500));
    expect(n.get('eth0')).toEqual({ rxBytes: 1000, txBytes: 500 });
    expect(n.get('lo')).toEqual({ rxBytes: 999999, txBytes: 999999 });
    expect(n.has('face |bytes    packets errs drop fifo frame compressed multicast|bytes')).toBe(false);
    expect(counterRate(1000, 3000, 2)).toBe(1000);
    expect(counterRate(3000, 1000, 2)).toBeNull(); // reset
    expect(counterRate(undefined, 1000, 2)).toBeNull();
  });

  test('sanitizeName', () => {
    expect(sanitizeName('Package id 0')).toBe('package_id_0');
    expect(sanitizeName('--')).toBe('x');
  });
});

describe('RingBuffer', () => {
  test('wrap-around keeps the newest capacity rows in order', () => {
    const rb = new RingBuffer(4, ['a', { name: 'b', type: 'bool' }]);
    for (let i = 0; i < 10; i++) expect(rb.push(i, { a: i * 10, b: i % 2 === 0 })).toBe(true);
    expect(rb.length).toBe(4);
    expect(rb.firstTime).toBe(6);
    expect(rb.lastTime).toBe(9);
    const r = rb.range(0, 100);
    expect(r.t).toEqual([6, 7, 8, 9]);
    expect(r.columns).toEqual([
      [60, 70, 80, 90],
      [true, false, true, false],
    ]);
    expect(rb.range(7, 9).t).toEqual([7, 8]); // [start, end)
    expect(rb.range(7, 9, ['b', 'zz']).columns).toEqual([
      [false, true],
      [null, null],
    ]);
  });

  test('refuses rows that are not newer; missing values are null', () => {
    const rb = new RingBuffer(3, ['a']);
    expect(rb.push(5, { a: 1 })).toBe(true);
    expect(rb.push(5, { a: 2 })).toBe(false);
    expect(rb.push(4, { a: 2 })).toBe(false);
    expect(rb.push(NaN, { a: 2 })).toBe(false);
    expect(rb.push(6, {})).toBe(true);
    expect(rb.push(7, { a: NaN })).toBe(true);
    expect(rb.range(0, 10).columns[0]).toEqual([1, null, null]);
    expect(rb.hasData('a', 6, 10)).toBe(false);
    expect(() => new RingBuffer(0, ['a'])).toThrow(RangeError);
  });

  test('RingSource honours min_stride and lists only fields with data', () => {
    const src = new RingSource(
      'tl',
      1,
      [
        { name: 'x', description: 'X', units: 'V' },
        { name: 'y', description: null, units: null },
      ],
      1000,
    );
    for (let i = 0; i < 1000; i++) src.append(1000 + i, { x: i === 500 ? 1e6 : i % 7 });
    const r = src.getData(['x', 'y', 'nope'], 0, 5000, 60);
    const t = r.timeline.tl!.t;
    // min and max per 2 × min_stride window, at real times (increasing)
    for (let i = 1; i < t.length; i++) expect(t[i]).toBeGreaterThan(t[i - 1]!);
    expect(t.length).toBeLessThanOrEqual(2 * (Math.ceil(1000 / 120) + 1));
    expect(r.data.x).toContain(1e6);
    expect(r.data.y!.every((v) => v === null)).toBe(true);
    expect(r.data.nope).toEqual([]);
    const [fields, timelines] = src.getFields(0, 5000);
    expect(Object.keys(fields)).toEqual(['x']);
    expect(timelines).toEqual({ tl: { interval: 1, field: ['x'] } });
    expect(src.getData(['x'], 0, 10, null)).toEqual({ data: { x: [] }, timeline: {} });
  });
});

describe('SensorsSource on fixture files', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'sisock-sensors-'));
    mkdirSync(path.join(root, 'proc', 'net'), { recursive: true });
    writeFileSync(path.join(root, 'proc', 'stat'), STAT_1);
    writeFileSync(path.join(root, 'proc', 'loadavg'), LOADAVG);
    writeFileSync(path.join(root, 'proc', 'meminfo'), MEMINFO);
    writeFileSync(path.join(root, 'proc', 'net', 'dev'), NETDEV(1000, 500));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  test('without hwmon: temp fields absent; rates from the second sample on; live samples', async () => {
    let now = 1000;
    const pushed: unknown[] = [];
    const src = await SensorsSource.create({
      procRoot: path.join(root, 'proc'),
      sysRoot: path.join(root, 'sys'), // does not exist
      diskPath: root,
      interval: 2,
      capacity: 10,
      now: () => now,
      onSample: (s) => pushed.push(s),
    });
    expect(src.fieldNames()).toEqual([
      'cpu_usage',
      'load_1',
      'load_5',
      'load_15',
      'mem_used',
      'mem_available',
      'swap_used',
      'disk_used',
      'disk_free',
      'net_eth0_rx',
      'net_eth0_tx',
    ]);
    await src.sampleOnce();
    now = 1002;
    writeFileSync(path.join(root, 'proc', 'stat'), STAT_2);
    writeFileSync(path.join(root, 'proc', 'net', 'dev'), NETDEV(5000, 2500));
    await src.sampleOnce();
    const r = src.getData(['cpu_usage', 'net_eth0_rx', 'net_eth0_tx', 'mem_used', 'swap_used', 'load_1'], 0, 2000, null);
    expect(r.timeline.sensors!.t).toEqual([1000, 1002]);
    expect(r.data.cpu_usage![0]).toBeNull();
    expect(r.data.cpu_usage![1]).toBeCloseTo(66.667, 2);
    expect(r.data.net_eth0_rx).toEqual([null, 2000]);
    expect(r.data.net_eth0_tx).toEqual([null, 1000]);
    expect(r.data.mem_used![1]).toBeCloseTo(75, 6);
    expect(r.data.swap_used![1]).toBeCloseTo((500000 * 1024) / (1024 * 1024), 6);
    expect(r.data.load_1).toEqual([0.52, 0.52]);
    expect(pushed).toHaveLength(2);
    expect(pushed[1]).toMatchObject({ timeline: { sensors: { t: [1002], finalized_until: 1002 } } });
    const [fields, timelines] = src.getFields(0, 2000);
    expect(fields.cpu_usage).toEqual({ description: expect.any(String), timeline: 'sensors', type: 'number', units: '%' });
    expect(timelines.sensors!.interval).toBe(2);
    const d = src.getData(['disk_used', 'disk_free'], 0, 2000, null);
    expect(d.data.disk_used![0]).toBeGreaterThanOrEqual(0);
    expect(d.data.disk_used![0]).toBeLessThanOrEqual(100);
  });

  test('hwmon temperatures, with and without labels; a missing /proc gives no fields', async () => {
    const h0 = path.join(root, 'sys', 'class', 'hwmon', 'hwmon0');
    const h1 = path.join(root, 'sys', 'class', 'hwmon', 'hwmon1');
    mkdirSync(h0, { recursive: true });
    mkdirSync(h1, { recursive: true });
    writeFileSync(path.join(h0, 'name'), 'coretemp\n');
    writeFileSync(path.join(h0, 'temp1_input'), '45000\n');
    writeFileSync(path.join(h0, 'temp1_label'), 'Package id 0\n');
    writeFileSync(path.join(h0, 'temp2_input'), '41500\n');
    writeFileSync(path.join(h1, 'name'), 'coretemp\n');
    writeFileSync(path.join(h1, 'temp1_input'), '39000\n');
    writeFileSync(path.join(h1, 'temp1_label'), 'Package id 0\n');
    const src = await SensorsSource.create({
      procRoot: path.join(root, 'nowhere'),
      sysRoot: path.join(root, 'sys'),
      diskPath: path.join(root, 'nowhere'),
      now: () => 5,
    });
    expect(src.fieldNames()).toEqual(['temp_coretemp_package_id_0', 'temp_coretemp_temp2', 'temp_coretemp_package_id_0_2']);
    await src.sampleOnce();
    const r = src.getData(src.fieldNames(), 0, 10, null);
    expect(r.data).toEqual({ temp_coretemp_package_id_0: [45], temp_coretemp_temp2: [41.5], temp_coretemp_package_id_0_2: [39] });
  });

  test('start() samples on a timer and stop() ends it', async () => {
    const src = await SensorsSource.create({
      procRoot: path.join(root, 'proc'),
      sysRoot: path.join(root, 'sys'),
      diskPath: root,
      interval: 0.01,
    });
    const got = new Promise<void>((resolve) => {
      let n = 0;
      src.onSample = () => {
        if (++n === 3) resolve();
      };
    });
    src.start();
    await got;
    src.stop();
    expect(src.getData(['load_1'], 0, Date.now() / 1000 + 1, null).data.load_1?.length).toBeGreaterThanOrEqual(3);
  });
});
