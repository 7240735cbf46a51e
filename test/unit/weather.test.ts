import { mkdtempSync, rmSync, writeFileSync, readFileSync, utimesSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { parseWeatherFile, WeatherSource, downsampleMinMax, medianInterval } from '../../data-nodes/weather';
import pino from 'pino';

describe('weather file format', () => {
  test('positional header as in the original sisock files, further # lines ignored', () => {
    const p = parseWeatherFile('# APEX weather station humidity.\n# hourly\n# %\n# 2017-07-14\n1499990400.0 33.34\n1499994000.0 36.11\n');
    expect(p.header).toEqual({ description: 'APEX weather station humidity.', timeline: 'hourly', units: '%' });
    expect(Array.from(p.t)).toEqual([1499990400, 1499994000]);
    expect(Array.from(p.v)).toEqual([33.34, 36.11]);
    expect(p.badLines).toBe(0);
  });

  test('keyed header in any order; a dated comment is not taken for units', () => {
    const p = parseWeatherFile('# timeline: minutely\n# description: Wind\n# 2026-01-01\n10 1\n');
    expect(p.header).toEqual({ description: 'Wind', timeline: 'minutely', units: null });
  });

  test('malformed lines are skipped and counted, never thrown', () => {
    const text = [
      '# d',
      '# tl',
      '# u',
      '1 1.5',
      'garbage',
      '2',
      '3 4 5',
      '0x10 2',
      '4 abc',
      '5 1e3',
      '',
      '   ',
      '6 nan',
      '7 Infinity',
      '8 -2.5',
    ].join('\r\n');
    const p = parseWeatherFile(text);
    expect(Array.from(p.t)).toEqual([1, 5, 6, 8]);
    expect(Array.from(p.v).map((x) => (Number.isNaN(x) ? 'NaN' : x))).toEqual([1.5, 1000, 'NaN', -2.5]);
    expect(p.badLines).toBe(6);
    expect(p.firstBadLine).toBe(5);
  });

  test('empty file and header-only file', () => {
    for (const text of ['', '# d\n# tl\n# u\n']) {
      const p = parseWeatherFile(text);
      expect(p.t.length).toBe(0);
      expect(p.badLines).toBe(0);
    }
    expect(parseWeatherFile('').header).toEqual({ description: null, timeline: null, units: null });
  });

  test('non-UTF-8 bytes: header survives with U+FFFD, a bad data line is counted', () => {
    const buf = Buffer.concat([
      Buffer.from('# Temperature\n# hourly\n# C\n', 'utf8'),
      Buffer.from([0x31, 0x30, 0x20, 0xff, 0xfe, 0x0a]), // "10 \xff\xfe"
      Buffer.from('20 3.5\n'),
    ]);
    const p = parseWeatherFile(buf);
    expect(p.header.timeline).toBe('hourly');
    expect(Array.from(p.t)).toEqual([20]);
    expect(p.badLines).toBe(1);
    const q = parseWeatherFile(
      Buffer.from([0x23, 0x20, 0xc3, 0x28, 0x0a, 0x23, 0x20, 0x68, 0x0a, 0x23, 0x20, 0x43, 0x0a, 0x31, 0x20, 0x32]),
    );
    expect(q.header.description).toContain('\ufffd');
    expect(Array.from(q.v)).toEqual([2]);
  });

  test('out-of-order lines are sorted; a repeated time keeps the last value', () => {
    const p = parseWeatherFile('# d\n# tl\n# u\n30 3\n10 1\n20 2\n10 1.5\n');
    expect(Array.from(p.t)).toEqual([10, 20, 30]);
    expect(Array.from(p.v)).toEqual([1.5, 2, 3]);
  });

  test('medianInterval', () => {
    expect(medianInterval([0, 60, 120, 180, 1000])).toBe(60);
    expect(medianInterval([5])).toBeNull();
  });
});

describe('min_stride downsampling', () => {
  test('already sparse input is returned unchanged', () => {
    const r = downsampleMinMax([0, 10, 20], [[1, 2, 3]], 10);
    expect(r).toEqual({ t: [0, 10, 20], columns: [[1, 2, 3]] });
    expect(downsampleMinMax([0, 1], [[1, 2]], null).t).toEqual([0, 1]);
  });

  test('keeps per-bucket extremes at their real times, in time order, inside the input range', () => {
    // 1 Hz for 100 s, a spike at t=37 and a dip at t=71
    const t = Array.from({ length: 100 }, (_, i) => i + 0.5);
    const v = t.map((x) => (x === 37.5 ? 100 : x === 71.5 ? -100 : Math.sin(x / 5)));
    const r = downsampleMinMax(t, [v], 10);
    for (let i = 1; i < r.t.length; i++) expect(r.t[i]).toBeGreaterThan(r.t[i - 1]!);
    expect(r.t.length).toBeLessThanOrEqual(2 * 5);
    // every point is a real sample
    r.t.forEach((x, i) => expect(r.columns[0]![i]).toBe(v[t.indexOf(x)]));
    expect(r.t).toContain(37.5);
    expect(r.t).toContain(71.5);
    expect(r.t[0]).toBeGreaterThanOrEqual(0.5);
    expect(r.t[r.t.length - 1]).toBeLessThanOrEqual(99.5);
  });

  test('several columns share the times (union of their extremes); nulls and booleans handled', () => {
    const t = [0, 1, 2, 3];
    const r = downsampleMinMax(
      t,
      [
        [5, null, 1, 7],
        [null, null, null, null],
        [true, false, false, true],
      ],
      2,
    );
    // bucket [0, 4): column 0 min at 2, max at 3; column 2 min at 1, max at 3
    expect(r.t).toEqual([1, 2, 3]);
    expect(r.columns[0]).toEqual([null, 1, 7]);
    expect(r.columns[1]).toEqual([null, null, null]);
    expect(r.columns[2]).toEqual([false, null, true]);
  });
});

describe('WeatherSource', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'sisock-weather-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function write(name: string, header: string[], rows: [number, number | string][]) {
    writeFileSync(path.join(dir, name), header.map((h) => `# ${h}\n`).join('') + rows.map(([t, v]) => `${t} ${v}\n`).join(''));
  }

  test('fields grouped into timelines, [start, end), unknown fields []', async () => {
    const hourly = Array.from({ length: 10 }, (_, i): [number, number] => [1000 + 3600 * i, i]);
    write('temperature.dat', ['Temp', 'hourly', 'C'], hourly);
    write(
      'humidity.dat',
      ['Hum', 'hourly', '%'],
      hourly.map(([t, v]) => [t, v * 10]),
    );
    write(
      'wind.dat',
      ['Wind', 'minutely', 'm/s'],
      Array.from({ length: 5 }, (_, i) => [1000 + 60 * i, i]),
    );
    writeFileSync(path.join(dir, 'README.md'), 'not data');
    const src = new WeatherSource({ dataDir: dir, rescanMs: 0 });

    const [fields, timelines] = await src.getFields(1, 2e9);
    expect(Object.keys(fields).sort()).toEqual(['humidity', 'temperature', 'wind']);
    expect(fields.temperature).toEqual({ description: 'Temp', timeline: 'hourly', type: 'number', units: 'C' });
    expect(timelines.hourly).toEqual({ interval: 3600, field: ['humidity', 'temperature'] });
    expect(timelines.minutely!.interval).toBe(60);

    // only fields with a sample in [start, end) are listed
    const [f2] = await src.getFields(1000 + 3600 * 5, 1000 + 3600 * 6);
    expect(Object.keys(f2).sort()).toEqual(['humidity', 'temperature']);

    const r = await src.getData(['temperature', 'humidity', 'nope'], 1000 + 3600, 1000 + 3600 * 3, null);
    expect(r.timeline.hourly!.t).toEqual([1000 + 3600, 1000 + 7200]); // end excluded
    expect(r.data.temperature).toEqual([1, 2]);
    expect(r.data.humidity).toEqual([10, 20]);
    expect(r.data.nope).toEqual([]);
    expect(r.timeline.hourly!.finalized_until).toBe(1000 + 3600 * 9);
    expect(r.timeline.minutely).toBeUndefined();

    const empty = await src.getData(['wind'], 5000, 6000, null);
    expect(empty).toEqual({ data: { wind: [] }, timeline: {} });
  });

  test('min_stride keeps extremes', async () => {
    const rows = Array.from({ length: 600 }, (_, i): [number, number] => [i * 60, i === 123 ? 99 : i === 400 ? -99 : 0]);
    write('wind.dat', ['Wind', 'minutely', 'm/s'], rows);
    const src = new WeatherSource({ dataDir: dir, rescanMs: 0 });
    const r = await src.getData(['wind'], 0, 36000, 3600);
    expect(r.timeline.minutely!.t.length).toBeLessThanOrEqual(20);
    expect(r.data.wind).toContain(99);
    expect(r.data.wind).toContain(-99);
  });

  test('bad lines logged once per file, and a changed file is re-read', async () => {
    const lines: unknown[] = [];
    const logger = pino({ level: 'warn' }, { write: (s: string) => lines.push(JSON.parse(s)) });
    const file = path.join(dir, 't.dat');
    writeFileSync(file, '# T\n# tl\n# C\n1 1\nbad\nworse\n2 2\n');
    const src = new WeatherSource({ dataDir: dir, rescanMs: 0, logger });
    await src.getData(['t'], 0, 10, null);
    await src.getData(['t'], 0, 10, null);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ badLines: 2, firstBadLine: 5 });
    writeFileSync(file, readFileSync(file, 'utf8') + '3 3\n');
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    const r = await src.getData(['t'], 0, 10, null);
    expect(r.data.t).toEqual([1, 2, 3]);
  });

  test('replay maps the archive onto the last period before now, time of day kept', async () => {
    const day = 86400;
    const a0 = 100 * day;
    // two days of hourly data
    write(
      'temp.dat',
      ['T', 'hourly', 'C'],
      Array.from({ length: 48 }, (_, i): [number, number] => [a0 + 3600 * i, i]),
    );
    const now = 500 * day + 7200 + 30; // 02:00:30 on some later day
    const src = new WeatherSource({ dataDir: dir, rescanMs: 0, replay: true, now: () => now });
    const r = await src.getData(['temp'], now - 3 * 3600, now, null);
    // [23:00:30, 02:00:30) holds 00:00, 01:00, 02:00, across the wrap of the two-day archive
    expect(r.timeline.hourly!.t).toEqual([now - 30 - 2 * 3600, now - 30 - 3600, now - 30]);
    // time of day preserved: value = hours since archive start modulo 48
    for (let i = 0; i < r.timeline.hourly!.t.length; i++) {
      const hoursSinceA0 = Math.round((r.timeline.hourly!.t[i]! - a0) / 3600);
      expect(r.data.temp![i]).toBe(((hoursSinceA0 % 48) + 48) % 48);
    }
    // nothing outside [now - period, now)
    const old = await src.getData(['temp'], now - 10 * day, now - 3 * day, null);
    expect(old.data.temp).toEqual([]);
    const all = await src.getData(['temp'], 1, now + day, null);
    expect(all.data.temp).toHaveLength(48);
    const [fields] = await src.getFields(now - 3600, now);
    expect(Object.keys(fields)).toEqual(['temp']);
  });

  test('the shipped example data loads without bad lines and spans two weeks', async () => {
    const lines: unknown[] = [];
    const logger = pino({ level: 'warn' }, { write: (s: string) => lines.push(s) });
    const src = new WeatherSource({ dataDir: path.join(__dirname, '../../data-nodes/weather/example-data'), logger });
    const [fields, timelines] = await src.getFields(1, 2e9);
    expect(Object.keys(timelines).sort()).toEqual(['hourly', 'minutely']);
    expect(Object.keys(fields)).toEqual(
      expect.arrayContaining(['temperature', 'humidity', 'pressure', 'wind_speed', 'wind_direction', 'temperature_1min']),
    );
    expect(timelines.minutely!.interval).toBe(60);
    expect(lines).toEqual([]);
    const r = await src.getData(['wind_direction'], 1, 2e9, null);
    expect(r.data.wind_direction).toHaveLength(14 * 24);
    for (const v of r.data.wind_direction as number[]) expect(v >= 0 && v < 360).toBe(true);
  });
});
