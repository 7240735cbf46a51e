/**
 * The shapes of the sisock wire contract (contract.md section 1) and the interface a data source
 * implements. The SDK turns a DataSource into a node: registration, announcing, argument
 * validation, relative times, chunking of large results, live publishing.
 */

import type { DataResult, FieldsResult } from '../../contract';

export type {
  FieldType,
  FieldInfo,
  TimelineInfo,
  FieldsResult,
  Sample,
  DataResult,
  NodeEntry,
  NodeMetadata,
  TimelineData,
} from '../../contract';

/** sisock additions to get_data (docs/contract.md). `reduce: 'mean'`: per bucket its mean, not min and max. */
export interface GetDataOptions {
  reduce?: 'minmax' | 'mean';
}

/**
 * What a node implements. Times are absolute UNIX seconds (the SDK has already turned relative
 * times into absolute ones and validated the arguments); intervals are [start, end).
 *
 * Errors (errors.ts): a failure the caller should read is thrown as one of the SDK's
 * DataSourceErrors, with a message fit for the caller — `InvalidRequestError` (the request cannot
 * be answered as asked → wamp.error.invalid_argument), `NotFoundError` (configured storage is
 * gone), `TooLargeError` (over one of the node's bounds; say what to ask instead) → both
 * wamp.error.runtime_error, `UnavailableError` (storage unreachable for now → wamp.error.unavailable).
 * Any other exception is a bug or a driver failure: the SDK logs it and the caller only learns
 * "internal error in <node>.<procedure>" (driver messages hold SQL, paths, connection strings).
 * Never a WAMP URI: the SDK maps errors in one place.
 */
export interface DataSource {
  getFields(start: number, end: number): FieldsResult | Promise<FieldsResult>;
  /**
   * `fields` are already checked to be strings; unknown ones must come back as `[]`.
   * `minStride` (seconds) is null or > 0: successive samples at least that far apart; keep
   * extremes (per-bucket min and max) rather than plain thinning where the source can.
   */
  getData(
    fields: string[],
    start: number,
    end: number,
    minStride: number | null,
    options?: GetDataOptions,
  ): DataResult | Promise<DataResult>;
}

/** Optional extras a DataSource may implement (all additive to the contract). */
export interface DataSourceExtras {
  /** UNIX seconds of the newest sample the source holds, for the hub's metadata. */
  newestSample?(): number | null | Promise<number | null>;
  /**
   * Health figures for the node's metadata (`get_metadata().status`, a sisock addition): a flat map
   * of numbers, strings, booleans or null, e.g. counts of messages lost upstream. The SDK bounds it
   * (contract/status.ts boundNodeStatus: at most 32 keys, strings cut to 256 characters) and leaves
   * `status` out when this throws or takes longer than STATUS_TIMEOUT_MS (1 s).
   */
  status?(): Record<string, unknown> | Promise<Record<string, unknown>>;
  /** Releases files, database connections… when the node closes. */
  close?(): void | Promise<void>;
}
