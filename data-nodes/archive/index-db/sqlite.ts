/**
 * The index in SQLite (better-sqlite3): `sqlite:PATH`. WAL journal so readers in other processes
 * read while the scanner writes; a busy timeout so writers queue instead of failing.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import type { Dialect } from './schema';
import { SqlIndexDb, type Querier } from './sql';

/**
 * Rows per multi-row INSERT. A year of G3 hour files (175,200 field rows, as many tier rows) replayed
 * into a fresh index: field rows 0.63 s with 16, 0.53 s with 128. Tier rows come in chunks of 100
 * (sql.ts), so they go one by one: 0.67 s with 16 a statement, 0.53 s one by one (rows with a blob
 * bind no faster many at a time; 64 + 32 + 4 took 0.62 s).
 */
const MULTI = 128;

export class SqliteIndexDb extends SqlIndexDb {
  readonly kind: Dialect = 'sqlite';
  readonly location: string;
  protected readonly q: Querier;
  protected readonly nowSql = "((julianday('now') - 2440587.5) * 86400.0)";
  protected readonly insertIgnore = 'INSERT OR IGNORE';
  private readonly db: Database.Database;
  private readonly stmts = new Map<string, Database.Statement>();

  constructor(file: string, prefix: string) {
    super(prefix);
    if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    this.db = new Database(file);
    this.location = `sqlite:${file}`;
    this.db.pragma('busy_timeout = 10000');
    if (file !== ':memory:') this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    // 64 MiB of page cache (default 2 MiB): a scan's transaction inserts tens of thousands of tier rows
    // (at the end of their indexes for new files, whose keys are sequence numbers: scanner.ts fileKey; all
    // over them for files of older indexes, which keep hashes of their paths as keys) and rewrites rollup
    // rows; a small cache spills and rereads pages.
    this.db.pragma('cache_size = -65536');
    // WAL checkpoints every 64 MiB of log (default 4 MiB): a scan's transactions rewrite the same rollup
    // pages again and again, and each checkpoint copied them (and fsync'ed) once more; a year of G3 hour
    // files spent 2.2 s of its 5.5 s of index writes in COMMIT, 1.6 s with this. Readers are not slowed by
    // a longer log (its index is a hash table in the -shm file).
    if (file !== ':memory:') this.db.pragma('wal_autocheckpoint = 16384');
    const prep = (sql: string): Database.Statement => {
      let s = this.stmts.get(sql);
      if (!s) {
        s = this.db.prepare(sql);
        if (this.stmts.size > 200) this.stmts.clear();
        this.stmts.set(sql, s);
      }
      return s;
    };
    this.q = {
      all: async <T>(sql: string, params: unknown[] = []) => prep(sql).all(...params) as T[],
      run: async (sql: string, params: unknown[] = []) => prep(sql).run(...params).changes,
      insertMany: async (table: string, cols: string[], rows: unknown[][]) => {
        // MULTI rows per statement (fewer calls into SQLite), the rest one by one
        const one = `(${cols.map(() => '?').join(', ')})`;
        // OR ROLLBACK: a row that breaks a constraint ends the transaction (which `transaction` does for any
        // error anyway) instead of undoing this statement alone, so SQLite keeps no statement journal of
        // the pages each multi-row INSERT changes; it spilled to /var/tmp from 64 KiB on: 15.5 of the 57 MB
        // and 7,300 of the 23,600 writes of a 604-file G3 scan (strace).
        const head = `INSERT OR ROLLBACK INTO ${table} (${cols.join(', ')}) VALUES `;
        let i = 0;
        if (rows.length >= MULTI) {
          const s = prep(head + Array.from({ length: MULTI }, () => one).join(', '));
          // one array of parameters, refilled (better-sqlite3 binds an array as the anonymous ones)
          const args: unknown[] = [];
          for (; i + MULTI <= rows.length; i += MULTI) {
            let a = 0;
            for (let r = i; r < i + MULTI; r++) for (const x of rows[r] ?? []) args[a++] = x;
            args.length = a;
            s.run(args);
          }
        }
        const s = prep(head + one);
        for (; i < rows.length; i++) s.run(rows[i] ?? []);
      },
      updateMany: async (table: string, cols: string[], keys: number, rows: unknown[][]) => {
        // one UPDATE a row: in-process, a statement costs no round trip
        const set = cols.slice(keys).map((c) => `${c} = ?`);
        const s = prep(
          `UPDATE ${table} SET ${set.join(', ')} WHERE ${cols
            .slice(0, keys)
            .map((c) => `${c} = ?`)
            .join(' AND ')}`,
        );
        for (const r of rows) s.run([...r.slice(keys), ...r.slice(0, keys)]);
      },
    };
  }

  protected async transaction<T>(fn: (q: Querier) => Promise<T>): Promise<T> {
    // IMMEDIATE: take the write lock now, so a concurrent writer waits (busy_timeout) instead of
    // failing half-way with SQLITE_BUSY on upgrade.
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const r = await fn(this.q);
      this.db.exec('COMMIT');
      return r;
    } catch (e) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      throw e;
    }
  }

  protected migrationLock<T>(fn: (q: Querier) => Promise<T>): Promise<T> {
    return this.transaction(fn); // SQLite DDL is transactional
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
