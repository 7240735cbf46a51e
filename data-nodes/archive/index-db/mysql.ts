/**
 * The index in MySQL or MariaDB (mysql2): `mysql://user:pass@host:port/db`. A small pool; several
 * reader nodes on several machines can share one index while one scanner writes it (the scanner's
 * lease is a row of `<p>lock`; migrations run under GET_LOCK).
 */
import type { ExecuteValues } from 'mysql2';
import type { Pool, PoolConnection, ResultSetHeader } from 'mysql2/promise';
import type { Dialect } from './schema';
import { SqlIndexDb, type Querier } from './sql';

/** A pool or one of its connections, or the pool to come (`MysqlIndexDb` loads mysql2 on first use). */
type Target = Pool | PoolConnection | Promise<Pool>;

/**
 * A multi-row INSERT of `rows` (`tail` after its VALUES). Rows with a blob (tier rows) go as a prepared
 * statement, in the binary protocol: `query` would send each blob in hex, twice its bytes, for the
 * server to parse back (a year of G3 hour files into MariaDB: 10.7-14.0 s -> 9.8-10.1 s, the server's
 * CPU 4.0-4.6 -> 2.9-3.2 s). mysql2 keeps a connection's statements (a shape per row count: 100 at most).
 */
async function insertRows(target: Target, table: string, cols: string[], rows: unknown[][], tail = ''): Promise<void> {
  if (rows.length === 0) return;
  const head = `INSERT INTO ${table} (${cols.join(', ')}) VALUES`;
  const t = await target;
  if (rows.some((r) => r.some((x) => Buffer.isBuffer(x)))) {
    const one = `(${cols.map(() => '?').join(', ')})`;
    await t.execute(`${head} ${rows.map(() => one).join(', ')}${tail}`, rows.flat() as ExecuteValues[]);
  } else await t.query(`${head} ?${tail}`, [rows]);
}

function querier(target: Target): Querier {
  return {
    all: async <T>(sql: string, params: unknown[] = []) => (await (await target).query(sql, params))[0] as T[],
    run: async (sql: string, params: unknown[] = []) => {
      const [r] = await (await target).query(sql, params);
      return (r as ResultSetHeader).affectedRows ?? 0;
    },
    insertMany: (table: string, cols: string[], rows: unknown[][]) => insertRows(target, table, cols, rows),
    updateMany: (table: string, cols: string[], keys: number, rows: unknown[][]) =>
      // one statement for all (a round trip each was the cost): the rows exist, so each is a duplicate
      // key and gets the new values in place (VALUES(): MariaDB, and MySQL, which deprecates it since 8.0.20)
      insertRows(
        target,
        table,
        cols,
        rows,
        ` ON DUPLICATE KEY UPDATE ${cols
          .slice(keys)
          .map((c) => `${c} = VALUES(${c})`)
          .join(', ')}`,
      ),
  };
}

export class MysqlIndexDb extends SqlIndexDb {
  readonly kind: Dialect = 'mysql';
  readonly location: string;
  protected readonly q: Querier;
  protected readonly nowSql = 'UNIX_TIMESTAMP(NOW(6))';
  protected readonly insertIgnore = 'INSERT IGNORE';
  /**
   * mysql2 is loaded here, when a MySQL index is opened, not when this module is: a process with a
   * SQLite index (the default) never loads it (~80 ms of every start of an archive node).
   */
  private readonly pool: Promise<Pool>;

  constructor(url: URL, prefix: string) {
    super(prefix);
    const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
    if (!database) throw new Error('mysql URL needs a database: mysql://user:pass@host:port/DATABASE');
    this.location = `mysql://${url.username ? `${decodeURIComponent(url.username)}@` : ''}${url.host}/${database}`;
    const options = {
      host: url.hostname,
      port: url.port ? Number(url.port) : 3306,
      user: decodeURIComponent(url.username || 'root'),
      password: decodeURIComponent(url.password),
      database,
      connectionLimit: 4,
      supportBigNumbers: true,
      bigNumberStrings: false,
      timezone: 'Z',
      charset: 'utf8mb4',
    };
    this.pool = import('mysql2/promise').then((m) => m.createPool(options));
    this.pool.catch(() => {}); // a failed load is the error of the first use, not an unhandled rejection
    this.q = querier(this.pool);
  }

  /** Fails early with a clear message when the server is unreachable. */
  async ping(): Promise<void> {
    const c = await (await this.pool).getConnection();
    try {
      await c.ping();
    } finally {
      c.release();
    }
  }

  protected async transaction<T>(fn: (q: Querier) => Promise<T>): Promise<T> {
    const c = await (await this.pool).getConnection();
    try {
      await c.beginTransaction();
      try {
        const r = await fn(querier(c));
        await c.commit();
        return r;
      } catch (e) {
        await c.rollback().catch(() => {});
        throw e;
      }
    } finally {
      c.release();
    }
  }

  protected async migrationLock<T>(fn: (q: Querier) => Promise<T>): Promise<T> {
    const c = await (await this.pool).getConnection();
    const name = `sisock_migrate_${this.p}`.slice(0, 64);
    try {
      const [rows] = await c.query('SELECT GET_LOCK(?, 60) AS ok', [name]);
      if (Number((rows as Array<{ ok: unknown }>)[0]?.ok) !== 1) throw new Error(`could not take the migration lock ${name} within 60 s`);
      try {
        return await fn(querier(c)); // MySQL DDL commits implicitly: the lock, not a transaction, serialises
      } finally {
        await c.query('SELECT RELEASE_LOCK(?)', [name]).catch(() => {});
      }
    } finally {
      c.release();
    }
  }

  async close(): Promise<void> {
    await (await this.pool).end();
  }
}
