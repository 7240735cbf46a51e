/**
 * `sisock node influx` against Debian's influxd 1.6 (free port, temporary data directory): a
 * Telegraf-like database with tags becomes sisock fields; raw reads, min/max and mean push-down.
 */
import { getData, getFields, type SisockClient } from '../../client';
import { InfluxSource, parseSeriesKey, runInfluxNode } from '../../data-nodes/influx';
import type { DataNodeHandle } from '../../data-nodes/sdk';
import { available, influxQuery, startInfluxd, type TsdbProcess } from '../helpers/tsdb';
import { closeAll, newClient, opts, startTestRouter } from './sisock-helpers';

const have = available('influxd');
jest.setTimeout(60000);

(have ? describe : describe.skip)('sisock node influx (influxd 1.6)', () => {
  let db: TsdbProcess;
  let router: Awaited<ReturnType<typeof startTestRouter>>;
  let node: DataNodeHandle;
  let consumer: SisockClient;
  const dbName = `sisock_in_${process.pid}`;
  const t0 = 1_700_000_000; // 600 s of 1 Hz

  beforeAll(async () => {
    db = await startInfluxd();
    await influxQuery(db.url, `CREATE DATABASE ${dbName}`);
    const lines: string[] = [];
    for (let i = 0; i < 600; i++) {
      lines.push(`cpu,cpu=cpu0,host=a\\ b usage_idle=${i % 100},state="s${i % 3}" ${(t0 + i) * 1e9}`);
      lines.push(`cpu,cpu=cpu1,host=a\\ b usage_idle=${100 - (i % 100)} ${(t0 + i) * 1e9}`);
      lines.push(`weather temperature=${i}i,ok=${i % 2 === 0} ${(t0 + i) * 1e9}`);
    }
    const r = await fetch(`${db.url}/write?db=${dbName}`, { method: 'POST', body: lines.join('\n') });
    expect(r.status).toBe(204);
    router = await startTestRouter();
    ({ node } = await runInfluxNode({ url: db.url.replace('//', '//reader:s3cret@'), db: dbName, client: opts(router.url) }));
    await node.ready(10000).catch(() => undefined); // no hub here: the node serves anyway
    consumer = newClient(router.url);
    await consumer.whenReady(10000);
  });
  afterAll(async () => {
    await closeAll(consumer, node);
    await router?.router.close();
    await db?.close();
  });

  it('parses series keys as InfluxDB writes them', () => {
    expect(parseSeriesKey('cpu,cpu=cpu0,host=a\\ b')).toEqual({
      measurement: 'cpu',
      tags: [
        ['cpu', 'cpu0'],
        ['host', 'a b'],
      ],
    });
    expect(parseSeriesKey('my\\,m')).toEqual({ measurement: 'my,m', tags: [] });
  });

  it('lists series × fields with their types and keeps the password out of the description', async () => {
    const [fields] = await getFields(consumer, 'influx', 1, 0);
    expect(Object.keys(fields).sort()).toEqual([
      'cpu,cpu=cpu0,host=a\\ b.state',
      'cpu,cpu=cpu0,host=a\\ b.usage_idle',
      // InfluxDB knows field keys per measurement: a series without samples of one is listed too (get_data: [])
      'cpu,cpu=cpu1,host=a\\ b.state',
      'cpu,cpu=cpu1,host=a\\ b.usage_idle',
      'weather.ok',
      'weather.temperature',
    ]);
    expect(fields['weather.ok']?.type).toBe('bool');
    expect(fields['cpu,cpu=cpu0,host=a\\ b.state']?.type).toBe('string');
    expect(fields['weather.temperature']?.type).toBe('number');
    const meta = await node.metadata();
    expect(meta.description).not.toContain('s3cret');
  });

  it('reads at most max_fields + 1 series from InfluxDB, with or without a measurement filter', async () => {
    const seen: string[] = [];
    const capped = (o: Partial<ConstructorParameters<typeof InfluxSource>[0]>) => {
      const src = new InfluxSource({ url: db.url, db: dbName, ...o });
      const query = src.query.bind(src);
      src.query = (q: string) => {
        seen.push(q);
        return query(q);
      };
      return src;
    };
    const [all] = await capped({ maxFields: 3 }).getFields();
    expect(Object.keys(all)).toHaveLength(3);
    expect(seen).toContain('SHOW SERIES LIMIT 4');
    seen.length = 0;
    const [weather] = await capped({ maxFields: 3, measurements: /^weather$/ }).getFields();
    expect(Object.keys(weather).sort()).toEqual(['weather.ok', 'weather.temperature']);
    expect(seen.filter((q) => q.startsWith('SHOW SERIES'))).toEqual(['SHOW SERIES FROM "weather" LIMIT 4']);
  });

  it('serves raw samples of the right series', async () => {
    const f0 = 'cpu,cpu=cpu0,host=a\\ b.usage_idle';
    const f1 = 'cpu,cpu=cpu1,host=a\\ b.usage_idle';
    const r = await getData(consumer, 'influx', [f0, f1, 'weather.ok', 'nope.x'], t0 + 10, t0 + 15);
    expect(r.timeline[f0]?.t).toEqual([t0 + 10, t0 + 11, t0 + 12, t0 + 13, t0 + 14]);
    expect(r.data[f0]).toEqual([10, 11, 12, 13, 14]);
    expect(r.data[f1]).toEqual([90, 89, 88, 87, 86]);
    expect(r.data['weather.ok']).toEqual([true, false, true, false, true]);
    expect(r.data['nope.x']).toEqual([]);
  });

  it('pushes min_stride down as GROUP BY time() with min and max, and mean with reduce=mean', async () => {
    const f0 = 'cpu,cpu=cpu0,host=a\\ b.usage_idle';
    const r = await getData(consumer, 'influx', [f0], t0, t0 + 600, 100);
    // 200 s buckets aligned on the epoch: each gives its min (at the bucket start) and max (in its middle)
    const t = r.timeline[f0]?.t ?? [];
    for (let i = 1; i < t.length; i++) expect((t[i] ?? 0) - (t[i - 1] ?? 0)).toBeGreaterThanOrEqual(100);
    expect(Math.min(...(r.data[f0] as number[]))).toBe(0);
    expect(Math.max(...(r.data[f0] as number[]))).toBe(99);
    for (const x of t) {
      expect(x).toBeGreaterThanOrEqual(t0);
      expect(x).toBeLessThan(t0 + 600);
    }
    const src = new InfluxSource({ url: db.url, db: dbName });
    const m = await src.getData(['weather.temperature'], t0, t0 + 600, 300, { reduce: 'mean' });
    const own = await influxQuery(
      db.url,
      `SELECT mean(temperature) FROM weather WHERE time >= ${t0}s AND time < ${t0 + 600}s GROUP BY time(300s) fill(none)`,
      dbName,
    );
    expect(m.data['weather.temperature']).toEqual(own[0]?.series?.[0]?.values.map((v) => v[1]));
  });

  it('refuses a raw answer beyond max_rows and reports an unreachable database as a node error', async () => {
    const src = new InfluxSource({ url: db.url, db: dbName, maxRows: 100 });
    await expect(src.getData(['weather.temperature'], t0, t0 + 600, null)).rejects.toThrow(/min_stride/);
    const gone = new InfluxSource({ url: 'http://u:pw@127.0.0.1:1', db: dbName, timeoutMs: 2000 });
    await expect(gone.getFields()).rejects.toThrow(/unreachable/);
    await expect(gone.getFields()).rejects.not.toThrow(/pw/);
  });
});
