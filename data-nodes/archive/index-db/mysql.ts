/**
 * The index in MySQL or MariaDB (mysql2): `mysql://user:pass@host:port/db`. A small pool; several
 * reader nodes on several machines can share one index while one scanner writes it (the scanner's
 * lease is a row of `<p>lock`; migrations run under GET_LOCK).
 */
import mysql from 'mysql2/promise';
import type { Dialect } from './schema';
import { SqlIndexDb, type Querier } from './sql';

function querier(c: mysql.Pool | mysql.PoolConnection): Querier {
  return {
    all: async <T>(sql: string, params: unknown[] = []) => (await c.query(sql, params))[0] as T[],
    run: async (sql: string, params: unknown[] = []) => {
      const [r] = await c.query(sql, params);
      return (r as mysql.ResultSetHeader).affectedRows ?? 0;
    },
    insertMany: async (table: string, cols: string[], rows: unknown[][]) => {
      if (rows.length) await c.query(`INSERT INTO ${table} (${cols.join(', ')}) VALUES ?`, [rows]);
    },
  };
}

export class MysqlIndexDb extends SqlIndexDb {
  readonly kind: Dialect = 'mysql';
  readonly location: string;
  protected readonly q: Querier;
  protected readonly nowSql = 'UNIX_TIMESTAMP(NOW(6))';
  protected readonly insertIgnore = 'INSERT IGNORE';
  private readonly pool: mysql.Pool;

  constructor(url: URL, prefix: string) {
    super(prefix);
    const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
    if (!database) throw new Error('mysql URL needs a database: mysql://user:pass@host:port/DATABASE');
    this.location = `mysql://${url.username ? `${decodeURIComponent(url.username)}@` : ''}${url.host}/${database}`;
    this.pool = mysql.createPool({
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
    });
    this.q = querier(this.pool);
  }

  /** Fails early with a clear message when the server is unreachable. */
  async ping(): Promise<void> {
    const c = await this.pool.getConnection();
    try {
      await c.ping();
    } finally {
      c.release();
    }
  }

  protected async transaction<T>(fn: (q: Querier) => Promise<T>): Promise<T> {
    const c = await this.pool.getConnection();
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
    const c = await this.pool.getConnection();
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
    await this.pool.end();
  }
}
