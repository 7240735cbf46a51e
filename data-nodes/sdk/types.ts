/**
 * The shapes of the sisock wire contract (contract.md section 1) and the interface a data source
 * implements. The SDK turns a DataSource into a node: registration, announcing, argument
 * validation, relative times, chunking of large results, live publishing.
 */

export type FieldType = 'number' | 'string' | 'bool';

export interface FieldInfo {
  description: string | null;
  timeline: string;
  type: FieldType;
  units: string | null;
}

export interface TimelineInfo {
  /** Nominal sampling interval in seconds, or null when irregular. */
  interval: number | null;
  field: string[];
}

/** `get_fields` result: `[field, timeline]`. */
export type FieldsResult = [Record<string, FieldInfo>, Record<string, TimelineInfo>];

export type Sample = number | string | boolean | null;

/** `get_data` result. */
export interface DataResult {
  data: Record<string, Sample[]>;
  timeline: Record<string, { t: number[]; finalized_until: number | null }>;
}

/**
 * What a node implements. Times are absolute UNIX seconds (the SDK has already turned relative
 * times into absolute ones and validated the arguments); intervals are [start, end).
 */
export interface DataSource {
  getFields(start: number, end: number): FieldsResult | Promise<FieldsResult>;
  /**
   * `fields` are already checked to be strings; unknown ones must come back as `[]`.
   * `minStride` (seconds) is null or > 0: successive samples at least that far apart; keep
   * extremes (per-bucket min and max) rather than plain thinning where the source can.
   */
  getData(fields: string[], start: number, end: number, minStride: number | null): DataResult | Promise<DataResult>;
}

/** Optional extras a DataSource may implement (all additive to the contract). */
export interface DataSourceExtras {
  /** UNIX seconds of the newest sample the source holds, for the hub's metadata. */
  newestSample?(): number | null | Promise<number | null>;
  /** Releases files, database connections… when the node closes. */
  close?(): void | Promise<void>;
}

/**
 * What `<base>.consumer.<name>.get_metadata()` returns and the hub's
 * `<base>.consumer.get_data_node_metadata()` lists (one entry per node).
 */
export interface NodeMetadata {
  name: string;
  description: string;
  host: string;
  pid: number;
  /** process title / command, e.g. "sisock node weather" */
  process: string;
  sisock_version: string;
  /** UNIX seconds when the node started. */
  started: number;
  /** Fields over all time (get_fields(1, 0)), or null if unknown. */
  n_fields: number | null;
  /** UNIX seconds of the newest sample seen or reported, or null. */
  newest_sample: number | null;
  /** The node's current WAMP session id. */
  session_id: number | null;
}
