/**
 * The archive index: what the scanner writes and the reader queries. Two implementations over one
 * schema (schema.ts): SQLite (better-sqlite3, `sqlite:PATH`) and MySQL/MariaDB (mysql2,
 * `mysql://user:pass@host:port/db`). Append `?prefix=NAME_` to either URL to change the table
 * prefix (default `archive_`).
 *
 * Times are UNIX seconds in DOUBLE columns: UTC by construction, untouched by a session or server
 * time zone (the original sisock mixed local and UTC DATETIMEs).
 */
import type { FieldType } from '../../sdk/types';
import type { FieldTiers } from '../../sdk/tiers';

export type FileStatus = 'ok' | 'error' | 'ignored';

/** One row of `<prefix>file`: a file under the archive root. */
export interface FileRow {
  /** The key (paths can be longer than an index allows): scanner.ts `fileKey`, or the sha1 (hex) of `path` in older indexes. */
  key: string;
  /** Relative to the archive root, '/' separated. */
  path: string;
  size: number;
  /** Modification time, UNIX seconds (UTC). */
  mtime: number;
  /** Hash of the content when the file was read (sha1 hex). */
  hash: string | null;
  format: string | null;
  status: FileStatus;
  error: string | null;
  tFirst: number | null;
  tLast: number | null;
  nSamples: number;
  badRows: number;
  /** Re-read on the next scan even if unchanged (was modified moments before it was read). */
  recheck: boolean;
  /** When the scanner last read it, UNIX seconds. */
  scannedAt: number;
}

/** One row of `<prefix>field`: a field held by one file. */
export interface FieldRow {
  key: string;
  field: string;
  timeline: string;
  type: FieldType;
  units: string | null;
  description: string | null;
  interval: number | null;
  tFirst: number;
  tLast: number;
  n: number;
  /** Finest summary tier width stored for this field of this file; null: none (answer from raw). */
  tierMin: number | null;
}

/** Per field over the whole index: the metadata of its newest file. */
export type FieldMeta = Omit<FieldRow, 'key' | 'n' | 'tierMin'>;

/** A file that holds one of the asked fields in the asked interval (reader's plan). */
export interface FileHit {
  key: string;
  path: string;
  format: string;
  size: number;
  mtime: number;
  field: string;
  tFirst: number;
  tLast: number;
  tierMin: number | null;
}

export interface TierPlan {
  files: number;
  tiered: number;
  tierMin: number | null;
  overlaps: boolean;
}

export interface LockState {
  acquired: boolean;
  owner: string | null;
  /** Lease end, UNIX seconds on the database's clock. */
  expires: number | null;
}

/** What `IndexDb.writeBatch` writes in one transaction. */
export interface WriteBatch {
  files: Array<{ file: FileRow; fields: FieldRow[]; tiers?: FieldTiers; fresh?: boolean }>;
  touched: FileRow[];
  deleteKeys: string[];
}

export interface IndexDb {
  readonly kind: 'sqlite' | 'mysql';
  /** Human-readable location (no password). */
  readonly location: string;
  /** Creates or upgrades the schema; returns the schema version now recorded. */
  migrate(): Promise<number>;
  /** The recorded schema version, or null before the first migration. */
  schemaVersion(): Promise<number | null>;
  getMeta(key: string): Promise<string | null>;
  setMeta(key: string, value: string): Promise<void>;

  // scanner
  listFiles(): Promise<FileRow[]>;
  /**
   * One transaction: removes `deleteKeys`, replaces the rows of `files` with their `fields`,
   * updates size/mtime/scannedAt of `touched` (content unchanged), and bumps the generation. A file's
   * summary tiers (source = its key) are replaced or removed with its rows, and the rollups over them
   * updated: the file keeps its own rows below ROLLUP_MIN_WIDTH and at its finest rollup rung only, its
   * coarser widths live in the rollups (sdk/tiers/table.ts `isOwnRow`); at the first rung (600 s), only
   * for the fields whose span another file's span reaches (sql.ts FINEST_RUNG). `fresh`: the file is not
   * in the index (nothing of it to remove).
   */
  writeBatch(batch: WriteBatch): Promise<void>;
  /**
   * Removes every summary tier (files' own rows and rollups) and every field row's tier_min, in one
   * transaction: queries answer from raw samples until the files are summarised again. The start of a
   * scan with `rebuildSummaries`, which then rewrites every file: a damaged tier row cannot stop it.
   */
  clearTiers(): Promise<void>;

  // reader
  /** Counter bumped by every write: cached answers are valid while it is unchanged. */
  generation(): Promise<number>;
  /** Every field of the index with the metadata of its newest file. */
  fieldMeta(): Promise<FieldMeta[]>;
  /** Fields with samples overlapping [start, end) (from their first/last times). */
  fieldsIn(start: number, end: number): Promise<string[]>;
  /** Files holding any of `fields` overlapping [start, end). */
  filesFor(fields: string[], start: number, end: number): Promise<FileHit[]>;
  newest(): Promise<number | null>;
  /**
   * For a thinned answer from tiers: the files holding `field` in [start, end), how many have tiers, the
   * coarsest of their finest tier widths, and whether two of them overlap in time.
   */
  tierPlan(field: string, start: number, end: number): Promise<TierPlan>;
  /**
   * Stored tier chunks of `field` at `width` that may hold bucket indexes in [idxLo, idxHi): every file's
   * own rows below ROLLUP_MIN_WIDTH, the rollup's (every file merged) at and above it.
   */
  tierBuckets(field: string, width: number, idxLo: number, idxHi: number): Promise<Float64Array[]>;

  // lock (one scanner per index)
  /** Takes the lease `name` for `owner` if free, expired or already ours. */
  acquireLock(name: string, owner: string, leaseSeconds: number): Promise<LockState>;
  /** Extends our lease; false when another owner holds it now. */
  renewLock(name: string, owner: string, leaseSeconds: number): Promise<boolean>;
  releaseLock(name: string, owner: string): Promise<void>;

  close(): Promise<void>;
}
