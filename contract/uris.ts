/**
 * sisock's own URIs (docs/contract.md section 1), each named once. They are relative to the URI
 * base (`org.simonsobservatory` by default); `SisockClient.uri()` prefixes the base.
 */

/** Procedures and topics of the hub, and the hub's start event. */
export const HubUri = {
  /** procedure: `(name, description, session_id)` → true | false */
  DATA_NODE_ADD: 'data_node.add',
  /** procedure: `(name, session_id)` → null */
  DATA_NODE_SUBTRACT: 'data_node.subtract',
  /** procedure: `()` → `[{name, description}, …]` */
  GET_DATA_NODE: 'consumer.get_data_node',
  /** procedure (sisock addition): `()` → `[NodeMetadata & {added, available, …}, …]` */
  GET_DATA_NODE_METADATA: 'consumer.get_data_node_metadata',
  /** topic: one positional arg `{name, description}` */
  DATA_NODE_ADDED: 'consumer.data_node_added',
  /** topic: one positional arg `{name, description}` */
  DATA_NODE_SUBTRACTED: 'consumer.data_node_subtracted',
  /** topic (sisock addition): published by a hub when it starts, `{session_id, started, sisock_version}` */
  HUB_STARTED: 'hub.started',
} as const;

/** The longest node name the hub lists, characters. */
export const NODE_NAME_MAX = 64;
/**
 * A node name: what the hub accepts (it becomes one URI component, `consumer.<name>.…`): 1 to
 * NODE_NAME_MAX letters, digits, `_` and `-`. Commands, config files and the gRPC API check names by
 * this same rule.
 */
export const NODE_NAME_RE = new RegExp(`^[A-Za-z0-9_-]{1,${NODE_NAME_MAX}}$`);
/** Words for messages about NODE_NAME_RE. */
export const NODE_NAME_RULE = `letters, digits, _ and - only, at most ${NODE_NAME_MAX}`;

/** The prefix under which every node's procedures and topic live. */
export const CONSUMER_PREFIX = 'consumer.';

/** Per-node URIs, relative to the base. */
export const NodeUri = {
  /** procedure: `(start, end)` → `[field, timeline]` */
  getFields: (node: string): string => `${CONSUMER_PREFIX}${node}.get_fields`,
  /** procedure: `(fields, start, end, min_stride?)` → `{data, timeline}` */
  getData: (node: string): string => `${CONSUMER_PREFIX}${node}.get_data`,
  /** procedure (sisock addition): `()` → NodeMetadata */
  getMetadata: (node: string): string => `${CONSUMER_PREFIX}${node}.get_metadata`,
  /** topic (sisock addition): live samples, one positional arg `{data, timeline}` */
  live: (node: string): string => `${CONSUMER_PREFIX}${node}.data`,
  /** A node-specific procedure `consumer.<node>.<name>` (`name` must not be a reserved one). */
  procedure: (node: string, name: string): string => `${CONSUMER_PREFIX}${node}.${name}`,
} as const;

/** Procedure names under `consumer.<name>.` that the SDK owns; node-specific procedures must avoid them. */
export const RESERVED_NODE_PROCEDURES: readonly string[] = ['get_fields', 'get_data', 'get_metadata', 'data'];
