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
