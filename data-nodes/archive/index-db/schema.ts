/**
 * The schema and its migrations. `<p>meta` records `schema_version`; each migration brings the
 * schema from version N-1 to N and is applied once, in order, under a lock (MySQL GET_LOCK, SQLite
 * BEGIN IMMEDIATE). A database with a newer version than this program knows is refused.
 *
 *   <p>meta  (k PK, v)                         schema_version, generation, data_dir
 *   <p>file  (file_key PK: scanner.ts fileKey, or sha1(path) in older indexes; path, size, mtime, hash, format, status, error,
 *             t_first, t_last, n_samples, bad_rows, recheck, scanned_at)
 *   <p>field (file_key, field) PK, timeline, type, units, description, interval_s, t_first, t_last, n
 *             indexes (field, t_first), (t_last)
 *   <p>lock  (name PK, owner, acquired, expires)    the scanner's lease (version 2)
 *   <p>tier  summary tiers per file (source = file_key), field, width, chunk (version 3; sdk/tiers/table.ts),
 *            and rollups (source '*') at widths >= 600 s; a file's own rows at those widths only at its finest
 *            rung (indexes written before kept every width: still read right, replaced when the file changes),
 *            packed: one row per file, width and chunk for all its fields, field '' and width negated
 *            (version 4; table.ts `packedRows`; version 3 wrote one per field: still read);
 *            <p>field.tier_min: the finest tier width the file has for the field (null: no tiers);
 *            blobs compact from version 5 (sdk/tiers/codec.ts; rows written before are raw doubles: still read);
 *            from version 6 a file's own rows at the finest rollup rung (600 s) only for the fields whose span
 *            another file's span reaches (sql.ts FINEST_RUNG): the rollup alone holds the other buckets
 *
 * All times are DOUBLE UNIX seconds (UTC).
 */
import { tierTableSql } from '../../sdk/tiers/table';

export type Dialect = 'sqlite' | 'mysql';

export const SCHEMA_VERSION = 6;

const TEXT_KEY = (d: Dialect, n: number) => (d === 'mysql' ? `VARCHAR(${n})` : 'TEXT');
const TABLE_OPTS = (d: Dialect) => (d === 'mysql' ? ' ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin' : '');

export interface Migration {
  version: number;
  what: string;
  statements(d: Dialect, p: string): string[];
}

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    what: 'files and their fields',
    statements: (d, p) => [
      `CREATE TABLE IF NOT EXISTS ${p}file (
        file_key CHAR(40) NOT NULL PRIMARY KEY,
        path TEXT NOT NULL,
        size BIGINT NOT NULL,
        mtime DOUBLE NOT NULL,
        hash CHAR(40) NULL,
        format ${TEXT_KEY(d, 32)} NULL,
        status ${TEXT_KEY(d, 16)} NOT NULL,
        error TEXT NULL,
        t_first DOUBLE NULL,
        t_last DOUBLE NULL,
        n_samples BIGINT NOT NULL DEFAULT 0,
        bad_rows BIGINT NOT NULL DEFAULT 0,
        recheck SMALLINT NOT NULL DEFAULT 0,
        scanned_at DOUBLE NOT NULL
      )${TABLE_OPTS(d)}`,
      `CREATE TABLE IF NOT EXISTS ${p}field (
        file_key CHAR(40) NOT NULL,
        field ${TEXT_KEY(d, 255)} NOT NULL,
        timeline ${TEXT_KEY(d, 255)} NOT NULL,
        type ${TEXT_KEY(d, 8)} NOT NULL,
        units ${TEXT_KEY(d, 255)} NULL,
        description TEXT NULL,
        interval_s DOUBLE NULL,
        t_first DOUBLE NOT NULL,
        t_last DOUBLE NOT NULL,
        n BIGINT NOT NULL,
        PRIMARY KEY (file_key, field)
      )${TABLE_OPTS(d)}`,
      `CREATE INDEX ${p}field_by_name ON ${p}field (field, t_first)`,
    ],
  },
  {
    version: 2,
    what: "scanner lease and the index on fields' last times",
    statements: (d, p) => [
      `CREATE TABLE IF NOT EXISTS ${p}lock (
        name ${TEXT_KEY(d, 64)} NOT NULL PRIMARY KEY,
        owner ${TEXT_KEY(d, 255)} NOT NULL,
        acquired DOUBLE NOT NULL,
        expires DOUBLE NOT NULL
      )${TABLE_OPTS(d)}`,
      `CREATE INDEX ${p}field_by_last ON ${p}field (t_last)`,
    ],
  },
  {
    version: 3,
    what: 'summary tiers (files indexed before have none until they change or `--rebuild-summaries`)',
    statements: (d, p) => [...tierTableSql(d, `${p}tier`), `ALTER TABLE ${p}field ADD COLUMN tier_min DOUBLE NULL`],
  },
  {
    version: 4,
    // no statement: rows of version 3 stay readable; the version keeps an older program (which would not
    // see packed rows when it computes a rollup again) off this index
    what: "a file's own tier rows at rollup widths packed into one row per width and chunk",
    statements: () => [],
  },
  {
    version: 5,
    // no statement: raw rows stay readable (told apart by length); the version keeps an older program,
    // which would misread the compact ones, off this index
    what: 'tier rows written in the compact encoding (sdk/tiers/codec.ts)',
    statements: () => [],
  },
  {
    version: 6,
    // no statement: files indexed before keep their own rows (still read right); the version keeps an
    // older program, which would compute a rollup chunk again from own rows only and lose the buckets
    // of the files that have none, off this index
    what: "a file's own rows at the finest rollup rung only where another file's span shares its buckets",
    statements: () => [],
  },
];

export function metaTableSql(d: Dialect, p: string): string {
  return `CREATE TABLE IF NOT EXISTS ${p}meta (k ${TEXT_KEY(d, 64)} NOT NULL PRIMARY KEY, v TEXT NOT NULL)${TABLE_OPTS(d)}`;
}

/** Table prefixes are spliced into SQL: letters, digits and underscores only. */
export function checkPrefix(prefix: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,40}$/.test(prefix)) throw new Error(`invalid table prefix "${prefix}": letters, digits and _ only`);
  return prefix;
}

export const DEFAULT_PREFIX = 'archive_';
