/**
 * The archive's file formats (weather, CSV/TSV, Arrow IPC), the registry, the decoded-file cache
 * and the merge of overlapping files. Pure: no file system, no database.
 */
import {
  tableFromArrays,
  tableToIPC,
  makeVector,
  vectorFromArray,
  Table,
  RecordBatch,
  TimestampNanosecond,
  Utf8,
  Field,
  Schema,
  Float64,
  Float16,
  type Vector,
} from 'apache-arrow';
import { arrowFormat, csvFormat, weatherFormat, detectFormat, FormatError, type DecodedFile } from '../../data-nodes/archive/formats';
import { CLOCK, parseClock, parseDate, parseIsoDateTime } from '../../data-nodes/archive/formats/time';
import { medianSpacing } from '../../data-nodes/archive/formats/types';
import { DecodedCache, decodedBytes } from '../../data-nodes/archive/cache';
import { mergeSegments } from '../../data-nodes/archive/reader';

const ctx = (relPath: string) => ({ relPath });
const col = (d: DecodedFile, name: string) => {
  const c = d.timelines[0]!.columns.find((x) => x.name === name);
  if (!c) throw new Error(`no column ${name}`);
  return Array.from(c.values as ArrayLike<unknown>, (v) => (typeof v === 'number' && Number.isNaN(v) ? null : v));
};

describe('weather format', () => {
  const text = '# Air temperature.\n# hourly\n# C\n# 2026-10-18\n1000 1.5\n3000 3.5\n2000 2.5\n2000 2.75\nbad line here\n4000 nan\n';

  test('header, out-of-order samples sorted, a repeated time keeps the last value, nan is missing', () => {
    const d = weatherFormat.decode(Buffer.from(text), ctx('site/temperature.dat'));
    expect(d.timelines).toHaveLength(1);
    const tl = d.timelines[0];
    expect(tl!.name).toBe('hourly');
    expect(Array.from(tl!.t)).toEqual([1000, 2000, 3000, 4000]);
    expect(tl!.columns[0]).toMatchObject({ name: 'temperature', type: 'number', units: 'C', description: 'Air temperature.' });
    expect(col(d, 'temperature')).toEqual([1.5, 2.75, 3.5, null]);
    expect(d.badRows).toBe(1);
    expect(tl!.interval).toBe(1000);
  });

  test('empty file and non-UTF-8 bytes', () => {
    expect(weatherFormat.decode(Buffer.alloc(0), ctx('x.dat')).timelines).toEqual([]);
    const latin1 = Buffer.concat([Buffer.from('# Temp\xe9rature\n# t\n# '), Buffer.from([0xb0, 0x43]), Buffer.from('\n1 2\n')]);
    const d = weatherFormat.decode(latin1, ctx('x.dat'));
    expect(d.timelines[0]!.columns[0]!.units).toBe('°C');
    expect(col(d, 'x')).toEqual([2]);
  });

  test('sniffs files without the .dat extension', () => {
    expect(detectFormat('weather/humidity', Buffer.from(text))?.name).toBe('weather');
    expect(detectFormat('README', Buffer.from('hello\nworld\n'))).toBeUndefined();
  });
});

describe('wall-clock times are UTC whatever the local zone', () => {
  const saved = process.env.TZ;
  afterEach(() => {
    if (saved === undefined) delete process.env.TZ;
    else process.env.TZ = saved;
  });

  test.each(['UTC', 'Asia/Tokyo', 'America/Santiago'])('TZ=%s', (tz) => {
    process.env.TZ = tz;
    expect(parseIsoDateTime('2024-01-02T03:04:05')).toBe(Date.UTC(2024, 0, 2, 3, 4, 5) / 1000);
    expect(parseIsoDateTime('2024-01-02 03:04:05.25+02:00')).toBe(Date.UTC(2024, 0, 2, 1, 4, 5) / 1000 + 0.25);
    expect(parseIsoDateTime('2024/01/02 03:04Z')).toBe(Date.UTC(2024, 0, 2, 3, 4) / 1000);
    expect(parseDate('02.01.2024', 'ymd')).toBe(Date.UTC(2024, 0, 2) / 1000);
    expect(parseDate('01/02/2024', 'mdy')).toBe(Date.UTC(2024, 0, 2) / 1000);
    expect(parseDate('01/02/2024', 'dmy')).toBe(Date.UTC(2024, 1, 1) / 1000);
    expect(parseClock('1:02:03 PM')).toBe(13 * 3600 + 123);
    expect(parseClock('12:00 AM')).toBe(0);
    expect(parseClock('25:00')).toBeNaN();
    const d = csvFormat.decode(Buffer.from('Date,Time,v\n2024-01-02,00:00:01,1\n'), ctx('a.csv'));
    expect(Array.from(d.timelines[0]!.t)).toEqual([Date.UTC(2024, 0, 2, 0, 0, 1) / 1000]);
  });
});

describe('CSV/TSV format', () => {
  test('a clock cell: the same grammar as before, and a run of spaces does not backtrack', () => {
    const OLD = /^(\d{1,2}):(\d{2})(?::(\d{2})(\.\d+)?)?\s*(AM|PM)?\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2})?$/i;
    const alphabet = [' ', 'AM', 'pm', 'Z', 'x', '+0100', ':05', '.5'];
    const walk = (s: string, depth: number): void => {
      for (const head of ['1:00', '12:30'])
        expect([s, JSON.stringify(CLOCK.exec(head + s))]).toEqual([s, JSON.stringify(OLD.exec(head + s))]);
      if (depth < 4) for (const c of alphabet) walk(s + c, depth + 1);
    };
    walk('', 0);
    expect(parseClock(`1:00${' '.repeat(200_000)}x`)).toBeNaN();
    expect(parseClock('1:02:03 PM')).toBe(13 * 3600 + 2 * 60 + 3);
  });

  test('a header of 100,000 cells: the fast path starts with as many rows as the text can hold', () => {
    const before = process.memoryUsage().arrayBuffers;
    const d = csvFormat.decode(Buffer.from(`time${',v'.repeat(100_000)}\n1${',2'.repeat(100_000)}\n`), ctx('wide.csv'));
    // 1,024 rows of every column were allocated first: 800 MB
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(100 * 2 ** 20);
    expect(d.timelines[0]!.columns.length).toBeGreaterThan(0);
  });

  test('units in a header cell: the last bracket at its end, found in one pass', () => {
    const cells = ['temp [K]', 'p (mbar)', 'a [b] c [d]', 'x (y] [ z ]', '[K]', 'v []', 'w [a) b]', 'u [K] extra'];
    // a cell of brackets never closed, 300 KB: the regex this replaced backtracked in its square (minutes)
    const hostile = 'a ['.repeat(100_000);
    const d = csvFormat.decode(Buffer.from(`time,${[...cells, hostile].join(',')}\n1,${cells.map(() => 1).join(',')},1\n`), ctx('u.csv'));
    expect(d.timelines[0]!.columns.map((c) => [c.name, c.units])).toEqual([
      ['temp', 'K'],
      ['p', 'mbar'],
      ['a [b] c', 'd'],
      ['x (y]', 'z'],
      ['[K]', null],
      ['v', null],
      ['w [a) b]', null],
      ['u [K] extra', null],
      [hostile.trim(), null],
    ]);
  });

  test('UNIX time column, units in the header, number/bool/string columns, missing cells', () => {
    const d = csvFormat.decode(
      Buffer.from('# timeline: cryo\ntime,temp [K],on,state,empty\n100,4.2,true,cold,\n101,NaN,false,warm,\n102,4.4,TRUE,,\n'),
      ctx('logs/cryo.csv'),
    );
    const tl = d.timelines[0];
    expect(tl!.name).toBe('cryo');
    expect(Array.from(tl!.t)).toEqual([100, 101, 102]);
    const byName = Object.fromEntries(tl!.columns.map((c) => [c.name, c]));
    expect(byName.temp).toMatchObject({ type: 'number', units: 'K' });
    expect(byName.on!.type).toBe('bool');
    expect(byName.state!.type).toBe('string');
    expect(col(d, 'temp')).toEqual([4.2, null, 4.4]);
    expect(col(d, 'on')).toEqual([true, false, true]);
    expect(col(d, 'state')).toEqual(['cold', 'warm', null]);
    expect(col(d, 'empty')).toEqual([null, null, null]);
  });

  test('logger layout: separate date and time columns, day-first detected, semicolons, quotes', () => {
    const d = csvFormat.decode(
      Buffer.from('Date;Time;"Pressure (mbar)";Note\n13/01/2024;23:59:59;1.5e-3;"a; b"\n14/01/2024;00:00:00;2e-3;"say ""hi"""\n'),
      ctx('p_2024-01-13.csv'),
    );
    const tl = d.timelines[0];
    expect(tl!.name).toBe('p');
    expect(Array.from(tl!.t)).toEqual([Date.UTC(2024, 0, 13, 23, 59, 59) / 1000, Date.UTC(2024, 0, 14) / 1000]);
    expect(tl!.columns.map((c) => [c.name, c.units])).toEqual([
      ['Pressure', 'mbar'],
      ['Note', null],
    ]);
    expect(col(d, 'Note')).toEqual(['a; b', 'say "hi"']);
  });

  test('TSV, ISO times, out-of-order rows, repeated times keep the last row, bad rows skipped', () => {
    const d = csvFormat.decode(
      Buffer.from(
        'timestamp\tv\n2024-01-01T00:00:02Z\t2\n2024-01-01T00:00:00Z\t0\n2024-01-01T00:00:02Z\t22\nnot ' +
          'a time\t5\n2024-01-01T00:00:01Z\n2024-01-01T00:00:01Z\t1',
      ),
      ctx('d/x.tsv'),
    );
    const t0 = Date.UTC(2024, 0, 1) / 1000;
    expect(Array.from(d.timelines[0]!.t)).toEqual([t0, t0 + 1, t0 + 2]);
    expect(col(d, 'v')).toEqual([0, 1, 22]);
    expect(d.badRows).toBe(2);
  });

  test('milliseconds, Latin-1 text, header only, empty, corrupt', () => {
    const d = csvFormat.decode(Buffer.from('time_ms,v\n1700000000000,1\n1700000000500,2\n'), ctx('m.csv'));
    expect(Array.from(d.timelines[0]!.t)).toEqual([1700000000, 1700000000.5]);
    const latin1 = Buffer.concat([Buffer.from('t,T ('), Buffer.from([0xb0]), Buffer.from('C)\n1700000000,3\n')]);
    expect(csvFormat.decode(latin1, ctx('l.csv')).timelines[0]!.columns[0]!.units).toBe('°C');
    expect(csvFormat.decode(Buffer.from('time,v\n'), ctx('h.csv')).timelines).toEqual([]);
    expect(csvFormat.decode(Buffer.alloc(0), ctx('e.csv')).timelines).toEqual([]);
    expect(() => csvFormat.decode(Buffer.from([0, 1, 2, 255, 254, 10, 7, 7, 7, 10, 9, 9]), ctx('bin.csv'))).toThrow(FormatError);
    expect(() => csvFormat.decode(Buffer.from('a,b\nx,y\n'), ctx('nt.csv'))).toThrow(/no time column/);
  });
});

describe('Arrow IPC format', () => {
  function table(): Table {
    const t = makeVector({ type: new TimestampNanosecond(), data: new BigInt64Array([3_000_000_000n, 1_000_000_000n, 2_000_000_000n]) });
    const temp = vectorFromArray([3.5, 1.5, null], new Float64());
    const label = vectorFromArray(['c', 'a', 'b'], new Utf8());
    const fields = [
      new Field('time', t.type, true),
      new Field(
        'temp',
        temp.type,
        true,
        new Map([
          ['units', 'K'],
          ['description', 'stage temperature'],
        ]),
      ),
      new Field('label', label.type, true),
    ];
    const cols: Record<string, Vector> = { time: t, temp, label };
    const base = new Table(cols);
    const schema = new Schema(fields, new Map([['timeline', 'fridge']]));
    return new Table(
      schema,
      base.batches.map((b) => new RecordBatch(schema, b.data)),
    );
  }

  test.each(['file', 'stream'] as const)('%s form: timestamps in ns, sorted, metadata, nulls', (form) => {
    const d = arrowFormat.decode(Buffer.from(tableToIPC(table(), form)), ctx('f.arrow'));
    const tl = d.timelines[0];
    expect(tl!.name).toBe('fridge');
    expect(Array.from(tl!.t)).toEqual([1, 2, 3]);
    expect(tl!.columns.find((c) => c.name === 'temp')).toMatchObject({ type: 'number', units: 'K', description: 'stage temperature' });
    expect(col(d, 'temp')).toEqual([1.5, null, 3.5]);
    expect(col(d, 'label')).toEqual(['a', 'b', 'c']);
  });

  test.each(['file', 'stream'] as const)('%s form: a record batch claiming more rows than the file has bytes is refused', (form) => {
    const n = 12345;
    const tb = tableFromArrays({
      time: Float64Array.from({ length: n }, (_, i) => 1.7e9 + i),
      v: Float64Array.from({ length: n }, (_, i) => i),
    });
    const b = Buffer.from(tableToIPC(tb, form));
    // the row count as written (the batch's length, its field nodes', a footer's): 2^24 instead
    let patched = 0;
    for (let i = 0; i + 8 <= b.length; i++)
      if (b.readBigInt64LE(i) === BigInt(n)) {
        b.writeBigInt64LE(1n << 24n, i);
        patched++;
      }
    expect(patched).toBeGreaterThan(0);
    expect(() => arrowFormat.decode(b, ctx('big.arrow'))).toThrow(`16777216 rows claimed in ${b.length} bytes: a damaged Arrow file`);
  });

  test('a Float16 column is read as numbers, not as its bits', () => {
    const tb = new Table({ t: vectorFromArray([10, 11, 12], new Float64()), h: vectorFromArray([1, 2.5, null], new Float16()) });
    const d = arrowFormat.decode(Buffer.from(tableToIPC(tb, 'stream')), ctx('h.arrow'));
    expect(col(d, 'h')).toEqual([1, 2.5, null]);
  });

  test('numeric time column, Int64 and Bool values', () => {
    const tb = tableFromArrays({ t: new Float64Array([10, 11]), n: new BigInt64Array([5n, 6n]), ok: [true, false] });
    const d = arrowFormat.decode(Buffer.from(tableToIPC(tb, 'file')), ctx('x/log_001.arrow'));
    expect(d.timelines[0]!.name).toBe('log');
    expect(col(d, 'n')).toEqual([5, 6]);
    expect(col(d, 'ok')).toEqual([true, false]);
  });

  test('truncated and garbage files throw FormatError; sniffing without extension', () => {
    const ipc = Buffer.from(tableToIPC(table(), 'file'));
    expect(() => arrowFormat.decode(ipc.subarray(0, Math.floor(ipc.length / 2)), ctx('t.arrow'))).toThrow(FormatError);
    expect(() => arrowFormat.decode(Buffer.from('definitely not arrow'), ctx('g.arrow'))).toThrow(FormatError);
    expect(detectFormat('blob', ipc)?.name).toBe('arrow');
    expect(detectFormat('a.feather')?.name).toBe('arrow');
    expect(detectFormat('a.TSV')?.name).toBe('csv');
  });
});

describe('decoded-file cache', () => {
  const file = (n: number): DecodedFile => ({
    badRows: 0,
    timelines: [
      {
        name: 'x',
        t: new Float64Array(n),
        interval: null,
        columns: [{ name: 'v', type: 'number', units: null, description: null, values: new Float64Array(n) }],
      },
    ],
  });

  test('stays within its bound, least recently used out, shares concurrent loads', async () => {
    const one = decodedBytes(file(1000));
    const cache = new DecodedCache(one * 2.5);
    let loads = 0;
    const load = (n: number) => async () => {
      loads++;
      return file(n);
    };
    const [a, b] = await Promise.all([cache.get('a', load(1000)), cache.get('a', load(1000))]);
    expect(a).toBe(b);
    expect(loads).toBe(1);
    await cache.get('b', load(1000));
    await cache.get('a', load(1000)); // a is now the most recent
    await cache.get('c', load(1000)); // evicts b
    expect(cache.stats()).toMatchObject({ entries: 2, evictions: 1 });
    expect(cache.stats().bytes).toBeLessThanOrEqual(cache.maxBytes);
    await cache.get('a', load(1000));
    expect(loads).toBe(3);
    await cache.get('huge', load(100000)); // larger than the bound: returned, not kept
    expect(cache.stats().entries).toBe(2);
  });

  test('a request larger than the cache keeps its first files instead of cycling through them', async () => {
    const one = decodedBytes(file(1000));
    const cache = new DecodedCache(one * 3.5);
    const load = (n: number) => async () => file(n);
    const request = async () => {
      const stamp = cache.beginRequest();
      for (const k of ['f1', 'f2', 'f3', 'f4', 'f5', 'f6']) await cache.get(k, load(1000), stamp);
    };
    await request();
    expect(cache.stats()).toMatchObject({ entries: 3, misses: 6, evictions: 0, bypassed: 3 });
    await request(); // the same request again: the three kept files hit (plain LRU would hit none)
    expect(cache.stats()).toMatchObject({ hits: 3, misses: 9 });
    // another request may evict what this one does not use
    const other = cache.beginRequest();
    await cache.get('g', load(1000), other);
    expect(cache.stats()).toMatchObject({ entries: 3, evictions: 1 });
  });
});

describe('merging files', () => {
  const seg = (t: number[], v: number[], name: string) => ({
    t: Float64Array.from(t),
    lo: 0,
    hi: t.length,
    cols: [Float64Array.from(v)],
    order: [t[0], name] as [number, string],
  });

  test('disjoint files with a repeated boundary time', () => {
    const m = mergeSegments([seg([3, 4], [30, 40], 'b'), seg([1, 2, 3], [10, 20, 31], 'a')], 1);
    expect(Array.from(m.t)).toEqual([1, 2, 3, 4]);
    expect(Array.from(m.cols[0] as Float64Array)).toEqual([10, 20, 30, 40]);
  });

  test('overlapping files interleave in time order; equal times collapse, the later file wins', () => {
    const m = mergeSegments([seg([1, 3, 5], [1, 3, 5], 'a'), seg([2, 3, 4, 6], [20, 30, 40, 60], 'b')], 1);
    expect(Array.from(m.t)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(m.cols[0] as Float64Array)).toEqual([1, 20, 30, 40, 5, 60]);
  });
});

describe('medianSpacing', () => {
  /** The definition: the median of the sampled spacings, sorted. */
  function reference(t: ArrayLike<number>): number | null {
    const n = t.length;
    if (n < 2) return null;
    const step = Math.max(1, Math.floor((n - 1) / 1000));
    const d: number[] = [];
    for (let i = 1; i < n; i += step) d.push((t[i] as number) - (t[i - 1] as number));
    d.sort((a, b) => a - b);
    return Math.round((d[d.length >> 1] ?? 0) * 1e6) / 1e6;
  }

  test('evenly spaced (no sort), uneven, sampled past 1001 spacings, and too short: as the definition', () => {
    expect(medianSpacing([])).toBeNull();
    expect(medianSpacing([5])).toBeNull();
    expect(medianSpacing(Float64Array.from({ length: 86400 }, (_, i) => 1767225600 + i))).toBe(1);
    expect(medianSpacing([0, 1, 3, 6, 7])).toBe(2); // spacings 1 1 2 3: the upper of the two middle ones
    let seed = 7;
    const rnd = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    for (let k = 0; k < 500; k++) {
      const n = 2 + Math.floor(rnd() * (k % 5 === 0 ? 6000 : 50));
      let x = 1e9;
      const t = Float64Array.from({ length: n }, () => (x += k % 3 === 0 ? 0.25 : rnd() < 0.3 ? rnd() * 5 : 1.5));
      expect(medianSpacing(t)).toBe(reference(t));
    }
  });
});
