/**
 * The shapes of the sisock wire contract (docs/contract.md section 1). Declared here once;
 * client/, hub/, data-nodes/ and consumers/ import them from `contract/`.
 */

import type { NodeStatus } from './status';

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

/** One timeline of a `get_data` result. */
export interface TimelineData {
  t: number[];
  finalized_until: number | null;
}

/** `get_data` result. */
export interface DataResult {
  data: Record<string, Sample[]>;
  timeline: Record<string, TimelineData>;
}

/** One entry of the hub's `consumer.get_data_node()` answer, and of its added/subtracted events. */
export interface NodeEntry {
  name: string;
  description: string;
}

/**
 * What `<base>.consumer.<name>.get_metadata()` returns and the hub's
 * `<base>.consumer.get_data_node_metadata()` lists (one entry per node). A sisock addition.
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
  /**
   * Health figures the data source reports (DataSourceExtras.status, e.g. the MQTT node's
   * broker-side loss), bounded by contract/status.ts; absent when the source reports none.
   */
  status?: NodeStatus;
}
