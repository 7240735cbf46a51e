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

/**
 * One entry of the hub's `<base>.consumer.get_data_node_metadata()`: the hub's record (name,
 * description, when added) and the node's NodeMetadata, each field checked and bounded by the hub
 * (null when the node did not say or did not answer; `available` false then), without the node's
 * session id. A sisock addition: an original hub has only `get_data_node`.
 */
export interface NodeMetadataEntry {
  name: string;
  description: string;
  /** UNIX seconds when the hub added the node. */
  added: number;
  host: string | null;
  pid: number | null;
  process: string | null;
  sisock_version: string | null;
  started: number | null;
  n_fields: number | null;
  newest_sample: number | null;
  /** The node's reported health figures (bounded again by the hub: contract/status.ts), null when none. */
  status: NodeStatus | null;
  /** Whether the node answered its get_metadata. */
  available: boolean;
}
