/**
 * `sisock node sql` against the real MariaDB and PostgreSQL (SISOCK_TEST_MYSQL_URL,
 * SISOCK_TEST_PG_URL): a battery cycler's table served as fields over WAMP, configs that would
 * inject SQL refused, and a table that changes underneath (column dropped, table dropped) gives WAMP
 * errors and recovers when fixed. Table names are unique per run and dropped at the end.
 */
import mysql from 'mysql2/promise';
import pg from 'pg';
import { runHub, type HubHandle } from '../../hub';
import { CallError, getData, getFields, type SisockClient } from '../../client';
import { ConfigError } from '../../common/errors';
import { parseSqlConfig, runSqlNode } from '../../data-nodes/sql';
import { joinFields, reduceSamples } from '../../data-nodes/sdk/tiers';
import type { DataResult } from '../../data-nodes/sdk/types';
import type { DataNodeHandle } from '../../data-nodes/sdk';
import type { RunningRouter } from '../../router/server';
import { closeAll, newClient, opts, startTestRouter } from './sisock-helpers';
import { service } from './telemetry-helpers';

const RUN = `${process.pid}_${Date.now().toString(36)}`;
let router: RunningRouter;
let url: string;
let hub: HubHandle;
let consumer: SisockClient;
const nodes: DataNodeHandle[] = [];

beforeAll(async () => {
  ({ router, url } = await startTestRouter());
  hub = await runHub({ client: opts(url) });
  consumer = newClient(url);
  await Promise.all([hub.ready(10000), consumer.whenReady(10000)]);
});

afterAll(async () => {
  for (const n of nodes) await n.close().catch(() => {});
  await closeAll(consumer, hub, router);
});

const T0 = Math.floor(Date.now() / 1000) - 3600;

function config(kind: 'mysql' | 'postgres', dbUrl: string, table: string, extra: Record<string, unknown> = {}) {
  return parseSqlConfig(
    {
      node: { name: `cycler_${kind}_${RUN}` },
      database: { url: dbUrl },
      table,
      time_column: 'ts',
      group_column: 'exp_id',
      field_name: 'exp{group}_{field}',
      timeline: 'exp{group}',
      columns: [
        { column: 'voltage', units: 'V' },
        { column: 'current', units: 'A' },
        { column: 'temperature', field: 'temp', units: 'C' },
        { column: 'mode', type: 'string' },
      ],
      ...extra,
    },
    {},
  );
}

test('configs that would inject SQL are refused', () => {
  const ok = { node: { name: 'x' }, database: { url: 'mysql://root@127.0.0.1/test' }, table: 't', time_column: 'ts', columns: ['v'] };
  const bad: Array<Record<string, unknown>> = [
    { table: 't; DROP TABLE users; --' },
    { table: 'a.b.c' },
    { table: 't`' },
    { time_column: 'ts) OR 1=1 --' },
    { time_column: 'ts"' },
    { columns: ['v, (SELECT password FROM mysql.user)'] },
    { columns: [{ column: 'v`; DELETE FROM t; --' }] },
    { columns: ['1abc'] },
    { group_column: 'g OR 1=1' },
    { columns: [{ column: 'v', field: 'a.b' }] },
    { database: { url: 'sqlite:///tmp/x' } },
  ];
  for (const b of bad) expect(() => parseSqlConfig({ ...ok, ...b }, {})).toThrow(ConfigError);
  expect(() => parseSqlConfig({ ...ok, table: 't; DROP TABLE users' }, {})).toThrow(/refused/);
  expect(parseSqlConfig({ ...ok, table: 'public.t' }, {})).toMatchObject({ schema: 'public', table: 't' });
});

interface Db {
  exec(sql: string, params?: unknown[]): Promise<void>;
  close(): Promise<void>;
}

async function openDb(kind: 'mysql' | 'postgres', dbUrl: string): Promise<Db> {
  if (kind === 'mysql') {
    const c = await mysql.createConnection({ uri: dbUrl, timezone: 'Z' });
    await c.query("SET time_zone = '+00:00'");
    return {
      exec: async (sql, p = []) => {
        await c.query(sql, p);
      },
      close: () => c.end(),
    };
  }
  const c = new pg.Client({ connectionString: dbUrl });
  await c.connect();
  return {
    exec: async (sql, p = []) => {
      await c.query(sql, p);
    },
    close: () => c.end(),
  };
}

describe.each([
  ['mysql', 'SISOCK_TEST_MYSQL_URL', 3306, 'MariaDB'],
  ['postgres', 'SISOCK_TEST_PG_URL', 5432, 'PostgreSQL'],
] as const)('%s', (kind, envVar, port, label) => {
  let db: Db | null = null;
  const table = `sisock_cycler_${kind}_${RUN}`;
  const q = (id: string) => (kind === 'mysql' ? `\`${id}\`` : `"${id}"`);
  const tsType = kind === 'mysql' ? 'DATETIME(3)' : 'TIMESTAMPTZ';
  const fromUnix = (p: string) => (kind === 'mysql' ? `FROM_UNIXTIME(${p})` : `to_timestamp(${p})`);
  const ph = (i: number) => (kind === 'mysql' ? '?' : `$${i}`);

  async function createTable(): Promise<void> {
    await db!.exec(
      `CREATE TABLE ${q(table)} (exp_id INT, ts ${tsType}, voltage DOUBLE PRECISION, ` +
        `${q('current')} DOUBLE PRECISION, temperature DOUBLE PRECISION, mode VARCHAR(16))`,
    );
    for (let i = 0; i < 30; i++) {
      for (const exp of [1, 2]) {
        await db!.exec(
          `INSERT INTO ${q(table)} (exp_id, ts, voltage, ${q('current')}, temperature, mode) ` +
            `VALUES (${ph(1)}, ${fromUnix(ph(2))}, ${ph(3)}, ${ph(4)}, ${ph(5)}, ${ph(6)})`,
          [exp, T0 + i + exp / 10, 3 + i / 100 + exp, exp === 1 ? 1.5 : -1.5, i === 5 ? null : 25 + i / 10, i < 15 ? 'charge' : 'rest'],
        );
      }
    }
  }

  beforeAll(async () => {
    if (!(await service(label, envVar, port))) return;
    db = await openDb(kind, process.env[envVar]!);
    await db.exec(`DROP TABLE IF EXISTS ${q(table)}`);
    await createTable();
  });

  afterAll(async () => {
    if (!db) return;
    await db.exec(`DROP TABLE IF EXISTS ${q(table)}`).catch(() => {});
    await db.close();
  });

  test('table columns served as fields, one timeline per group', async () => {
    if (!db) return;
    const cfg = config(kind, process.env[envVar]!, table);
    const name = cfg.node.name;
    const { node } = await runSqlNode({ config: cfg, client: opts(url) });
    nodes.push(node);
    await node.ready(10000);

    const [fields, timelines] = await getFields(consumer, name, 1, 0);
    expect(Object.keys(fields).sort()).toEqual([
      'exp1_current',
      'exp1_mode',
      'exp1_temp',
      'exp1_voltage',
      'exp2_current',
      'exp2_mode',
      'exp2_temp',
      'exp2_voltage',
    ]);
    expect(fields.exp1_voltage).toEqual({ description: null, timeline: 'exp1', type: 'number', units: 'V' });
    expect(fields.exp2_mode!.type).toBe('string');
    expect(timelines.exp2!.field).toHaveLength(4);
    // No rows in the interval: no fields.
    expect(await getFields(consumer, name, T0 - 100, T0 - 50)).toEqual([{}, {}]);

    const d = await getData(
      consumer,
      name,
      ['exp1_voltage', 'exp1_temp', 'exp2_current', 'exp2_mode', 'exp9_voltage', 'nope'],
      T0 + 10,
      T0 + 20,
    );
    expect(d.timeline.exp1!.t).toHaveLength(10);
    expect(d.timeline.exp1!.t[0]).toBeCloseTo(T0 + 10.1, 3);
    expect(d.data.exp1_voltage![0]).toBeCloseTo(4.1);
    expect(d.data.exp2_current).toEqual(Array(10).fill(-1.5));
    expect(d.data.exp2_mode!.slice(4, 6)).toEqual(['charge', 'rest']);
    expect(d.data.exp9_voltage).toEqual([]);
    expect(d.data.nope).toEqual([]);
    const all = await getData(consumer, name, ['exp1_temp'], 1, 0);
    expect(all.data.exp1_temp![5]).toBeNull();
    // min_stride: reduced in the database, the same as brute force over the raw rows
    const rawAll = await getData(consumer, name, ['exp1_voltage', 'exp1_temp'], 1, 0);
    const rt = rawAll.timeline.exp1!.t;
    const thin = await getData(consumer, name, ['exp1_voltage', 'exp1_temp'], 1, 0, 10);
    const pts = (f: string) => {
      const v = rawAll.data[f] as Array<number | null>;
      const k = v.flatMap((x, i) => (x === null ? [] : [i]));
      return { t: k.map((i) => rt[i]!), v: k.map((i) => v[i]!) };
    };
    const want = joinFields(
      ['exp1_voltage', 'exp1_temp'].map((f) => {
        const p = pts(f);
        return reduceSamples(p.t, p.v, 1, Date.now() / 1000, 10);
      }),
    );
    expect(thin.timeline.exp1!.t).toEqual(want.t);
    expect(thin.data.exp1_voltage).toEqual(want.columns[0]);
    expect(thin.data.exp1_temp).toEqual(want.columns[1]);
    const mean = await consumer.call<DataResult>(consumer.uri(`consumer.${name}.get_data`), [['exp1_temp'], 1, 0], {
      min_stride: 10,
      reduce: 'mean',
    });
    const wantMean = reduceSamples(pts('exp1_temp').t, pts('exp1_temp').v, 1, Date.now() / 1000, 10, 'mean');
    expect(mean.timeline.exp1!.t.length).toBe(wantMean.t.length);
    mean.timeline.exp1!.t.forEach((x, i) => expect(x).toBeCloseTo(wantMean.t[i]!, 6));
    (mean.data.exp1_temp as number[]).forEach((x, i) => expect(x).toBeCloseTo(wantMean.v[i]!, 9));

    // Values are bound as parameters: a hostile field name is just an unknown field.
    const hostile = await getData(consumer, name, ["exp1_voltage' OR '1'='1", 'exp1; DROP TABLE x'], 1, 0);
    expect(hostile.data).toEqual({ "exp1_voltage' OR '1'='1": [], 'exp1; DROP TABLE x': [] });
  });

  test('a table that changes underneath: WAMP error, no crash, recovers when fixed', async () => {
    if (!db) return;
    const cfg = config(kind, process.env[envVar]!, table);
    const name = cfg.node.name;
    const call = () => getData(consumer, name, ['exp1_current', 'exp1_voltage'], 1, 0);
    expect((await call()).data.exp1_current).toHaveLength(30);

    await db.exec(`ALTER TABLE ${q(table)} DROP COLUMN ${q('current')}`);
    const err = await call().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CallError);
    expect((err as CallError).uri).toBe('wamp.error.runtime_error');
    expect(String((err as Error).message)).toMatch(/current.*not found/);
    await expect(getFields(consumer, name, 1, 0)).rejects.toThrow(/not found/);

    await db.exec(`ALTER TABLE ${q(table)} ADD COLUMN ${q('current')} DOUBLE PRECISION`);
    const back = await call();
    expect(back.data.exp1_current).toEqual(Array(30).fill(null));
    expect(back.data.exp1_voltage).toHaveLength(30);

    await db.exec(`DROP TABLE ${q(table)}`);
    await expect(call()).rejects.toThrow(/table .* not found/);
    await createTable();
    expect((await call()).data.exp1_current).toEqual(Array(30).fill(1.5));
  });
});
