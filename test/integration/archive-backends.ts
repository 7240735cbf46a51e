/**
 * The index backends the archive tests run against: SQLite always; MariaDB/MySQL through env
 * SISOCK_TEST_MYSQL_URL (e.g. mysql://root@127.0.0.1:3306/test). With SISOCK_REQUIRE_SERVICES=1 a
 * missing or unreachable server fails the suite; otherwise its half is skipped with a message.
 * Every index gets its own table prefix (unique per run), dropped in `cleanup`.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import type { IndexDb } from '../../data-nodes/archive';
import { CHUNK, chunkOf, mergePacked, nBuckets, STRIDE, TIER_COLS } from '../../data-nodes/sdk/tiers';
import { servicesRequired } from '../helpers/services';

export const MYSQL_URL = process.env.SISOCK_TEST_MYSQL_URL;
export const SERVICES_REQUIRED = servicesRequired();

/** Null when the server answers, else why not (checked synchronously so suites can be skipped). */
export function mysqlProblem(): string | null {
  if (!MYSQL_URL) return 'SISOCK_TEST_MYSQL_URL is not set';
  const mysql2 = require.resolve('mysql2/promise');
  const script = `require(${JSON.stringify(mysql2)}).createConnection({uri: process.argv[1], connectTimeout: 3000})
    .then(c => c.query('SELECT 1').then(() => c.end())).then(() => process.exit(0), e => { console.error(e.message); process.exit(1); })`;
  const r = spawnSync(process.execPath, ['-e', script, MYSQL_URL.replace(/\?.*$/, '')], { encoding: 'utf8', timeout: 10000 });
  return r.status === 0 ? null : `MariaDB at ${MYSQL_URL} unreachable: ${(r.stderr || r.error?.message || 'timeout').trim()}`;
}

export interface Backend {
  name: 'sqlite' | 'mysql';
  /** A URL of a fresh, empty index. */
  fresh(): string;
  cleanup(): Promise<void>;
}

const RUN = `${randomBytes(3).toString('hex')}${process.pid % 1000}`;

export function sqliteBackend(dir: () => string): Backend {
  let n = 0;
  return { name: 'sqlite', fresh: () => `sqlite:${path.join(dir(), `index-${++n}.sqlite`)}`, cleanup: async () => {} };
}

export function mysqlBackend(): Backend {
  const prefixes: string[] = [];
  return {
    name: 'mysql',
    fresh() {
      const prefix = `t${RUN}_${prefixes.length}_`;
      prefixes.push(prefix);
      const u = new URL(MYSQL_URL!);
      u.searchParams.set('prefix', prefix);
      return u.toString();
    },
    async cleanup() {
      if (prefixes.length === 0) return;
      const mysql = await import('mysql2/promise');
      const c = await mysql.createConnection({ uri: MYSQL_URL!.replace(/\?.*$/, '') });
      try {
        for (const p of prefixes)
          await c.query(`DROP TABLE IF EXISTS ${['meta', 'file', 'field', 'lock', 'tier'].map((t) => p + t).join(', ')}`);
      } finally {
        await c.end();
      }
    },
  };
}

/** SQLite (in `dir()`) always, MariaDB too when it answers; `problem` says why it does not (null when it does). */
export function archiveBackends(dir: () => string): { backends: Backend[]; problem: string | null } {
  const problem = mysqlProblem();
  const backends: Backend[] = [sqliteBackend(dir)];
  if (problem === null) backends.push(mysqlBackend());
  return { backends, problem };
}

/**
 * `archiveBackends` for a suite (`what` names it in messages): without MariaDB, a failing test says why
 * when SISOCK_REQUIRE_SERVICES=1, else a warning and a skipped test say that its MariaDB half is skipped.
 */
export function suiteBackends(what: string, dir: () => string): Backend[] {
  const { backends, problem } = archiveBackends(dir);
  if (problem !== null && SERVICES_REQUIRED) {
    test('MariaDB is reachable (required: SISOCK_REQUIRE_SERVICES=1)', () => {
      throw new Error(problem);
    });
  } else if (problem !== null) {
    console.warn(`${what}: MariaDB half skipped: ${problem} (set SISOCK_TEST_MYSQL_URL, e.g. mysql://root@127.0.0.1:3306/test)`);
    describe.skip('mysql', () => {
      test(`skipped: ${what}: ${problem}`, () => {});
    });
  }
  return backends;
}

/** A temporary directory made before the suite (handed to `set`) and removed after it. */
export function suiteTmpDir(prefix: string, set: (dir: string) => void): void {
  let tmp = '';
  beforeAll(() => {
    tmp = mkdtempSync(path.join(tmpdir(), prefix));
    set(tmp);
  });
  afterAll(() => {
    rmSync(tmp, { recursive: true, force: true });
  });
}

/**
 * The hooks of a suite over one backend: a fresh directory under `tmp()` per test (handed to `setDir`),
 * the handles pushed on the returned list closed after each test (last first), the backend cleaned up after all.
 */
export function perTestHooks(backend: Backend, tmp: () => string, setDir: (dir: string) => void): Array<{ close(): Promise<void> }> {
  const open: Array<{ close(): Promise<void> }> = [];
  let n = 0;
  beforeEach(() => {
    const dir = path.join(tmp(), `${backend.name}-${++n}`);
    mkdirSync(dir, { recursive: true });
    setDir(dir);
  });
  afterEach(async () => {
    for (const h of open.splice(0).reverse()) await h.close().catch(() => {});
  });
  afterAll(() => backend.cleanup());
  return open;
}

/** Raw SQL on the index (for what the IndexDb interface does not show: own rows, an older version's rows). */
export interface RawIndex {
  all(sql: string, params?: unknown[]): Promise<Array<Record<string, unknown>>>;
  run(sql: string, params?: unknown[]): Promise<void>;
  insert(rows: unknown[][]): Promise<void>;
  table: string;
  close(): Promise<void>;
}

export async function rawIndex(backend: Backend, url: string): Promise<RawIndex> {
  if (backend.name === 'sqlite') {
    const db = new Database(url.slice('sqlite:'.length));
    db.pragma('busy_timeout = 10000');
    const table = 'archive_tier';
    return {
      table,
      all: async (sql, params = []) => db.prepare(sql).all(...params) as Array<Record<string, unknown>>,
      run: async (sql, params = []) => void db.prepare(sql).run(...params),
      insert: async (rows) => {
        const s = db.prepare(`INSERT INTO ${table} (${TIER_COLS.join(', ')}) VALUES (${TIER_COLS.map(() => '?').join(', ')})`);
        db.transaction(() => rows.forEach((r) => s.run(...r)))();
      },
      close: async () => void db.close(),
    };
  }
  const mysql = await import('mysql2/promise');
  const c = await mysql.createConnection({ uri: MYSQL_URL!.replace(/\?.*$/, '') });
  const table = `${new URL(url).searchParams.get('prefix')}tier`;
  return {
    table,
    all: async (sql, params = []) => (await c.query(sql, params))[0] as Array<Record<string, unknown>>,
    run: async (sql, params = []) => void (await c.query(sql, params)),
    insert: async (rows) => {
      if (rows.length) await c.query(`INSERT INTO ${table} (${TIER_COLS.join(', ')}) VALUES ?`, [rows]);
    },
    close: () => c.end(),
  };
}

/**
 * Every rollup chunk of `field` at `width` in `db` equals the brute-force merge `want` of the live
 * sources' buckets over its span: each chunk's buckets inside it, one row per chunk, none missing.
 * Returns the number of chunks.
 */
export async function expectRollup(db: IndexDb, field: string, width: number, wantParts: Float64Array[]): Promise<number> {
  const want = mergePacked(wantParts);
  const got = await db.tierBuckets(field, width, -(2 ** 40), 2 ** 40);
  const los = new Set<number>();
  for (const chunk of got) {
    const n = nBuckets(chunk);
    expect(n).toBeGreaterThan(0);
    const lo = chunkOf(chunk[0] ?? NaN);
    for (let k = 0; k < n; k++) expect(chunkOf(chunk[k * STRIDE] ?? NaN)).toBe(lo);
    expect(los.has(lo)).toBe(false); // one rollup row per chunk
    los.add(lo);
    expect({ field, width, lo, buckets: Array.from(mergePacked([chunk])) }).toEqual({
      field,
      width,
      lo,
      buckets: Array.from(mergePacked([want], lo, lo + CHUNK)),
    });
  }
  const wantLos = new Set<number>();
  for (let k = 0; k < nBuckets(want); k++) wantLos.add(chunkOf(want[k * STRIDE] ?? NaN));
  expect([...los].sort((a, b) => a - b)).toEqual([...wantLos].sort((a, b) => a - b));
  return los.size;
}
