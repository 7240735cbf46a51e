/**
 * Opening an index by URL:
 *   sqlite:PATH             SQLite file (created with its directory); `sqlite::memory:` for tests
 *   mysql://user:pass@host:port/db   MySQL or MariaDB (mariadb:// is accepted too)
 * Either may end in `?prefix=NAME_` to change the table prefix (default `archive_`).
 * The MySQL password belongs in env SISOCK_DB_PASSWORD or a file named by SISOCK_DB_PASSWORD_FILE,
 * not in the URL (a command line is visible to every local user): it is used when the URL has none.
 */
import { secretFromEnv } from '../../../common/secret-env';
import { checkPrefix, DEFAULT_PREFIX } from './schema';
import { MysqlIndexDb } from './mysql';
import { SqliteIndexDb } from './sqlite';
import type { IndexDb } from './types';

export const DEFAULT_DB_URL = 'sqlite:sisock-archive.sqlite';

export function openIndexDb(url: string = DEFAULT_DB_URL, env: NodeJS.ProcessEnv = process.env): IndexDb {
  if (/^sqlite:/i.test(url)) {
    let rest = url.slice('sqlite:'.length);
    let prefix = DEFAULT_PREFIX;
    const q = rest.lastIndexOf('?prefix=');
    if (q >= 0) {
      prefix = rest.slice(q + '?prefix='.length);
      rest = rest.slice(0, q);
    }
    if (rest.startsWith('//')) rest = rest.slice(2); // sqlite:///abs/path and sqlite://rel/path
    if (rest === '') throw new Error(`no file in "${url}": use sqlite:PATH`);
    return new SqliteIndexDb(rest, checkPrefix(prefix));
  }
  if (/^(mysql|mariadb):\/\//i.test(url)) {
    const u = new URL(url);
    const prefix = checkPrefix(u.searchParams.get('prefix') ?? DEFAULT_PREFIX);
    const password = u.password === '' ? secretFromEnv(env, 'SISOCK_DB_PASSWORD') : undefined;
    if (password !== undefined) u.password = encodeURIComponent(password);
    return new MysqlIndexDb(u, prefix);
  }
  throw new Error(`unsupported index URL "${url}": use sqlite:PATH or mysql://user@host:port/db (password in env SISOCK_DB_PASSWORD)`);
}

export type { IndexDb, FileRow, FieldRow, FieldMeta, FileHit, LockState, FileStatus } from './types';
export { SCHEMA_VERSION, MIGRATIONS, DEFAULT_PREFIX } from './schema';
export { SqliteIndexDb } from './sqlite';
export { MysqlIndexDb } from './mysql';
