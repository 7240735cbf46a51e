/**
 * A node's `status` in its metadata (a sisock addition): a small flat map of health figures a data
 * source reports beside the fixed NodeMetadata fields (e.g. the MQTT node's broker-side loss). The
 * node's SDK and the hub both pass it through `boundNodeStatus`, so neither a buggy source nor a
 * hostile node can grow an answer: flat primitive values only, bounded in count and length.
 */

/** One status value: a figure, a flag or a short word. */
export type NodeStatusValue = number | string | boolean | null;
export type NodeStatus = Record<string, NodeStatusValue>;

/** Most keys kept in a status map; keys beyond it (in insertion order) are left out. */
export const MAX_STATUS_KEYS = 32;
/** Longest key, characters; longer keys are left out. */
export const MAX_STATUS_KEY = 64;
/** Longest string value, characters; longer ones are cut. */
export const MAX_STATUS_STRING = 256;
/**
 * How long the hub waits for a node's answer (get_metadata, and its other calls to nodes and meta
 * procedures) by default, milliseconds: past it the node is listed `available: false`.
 */
export const HUB_CALL_TIMEOUT_MS = 2000;

/**
 * How long a node waits for its source's status hook when answering get_metadata, milliseconds: a
 * hook that hangs (a stuck broker connection, say) leaves `status` out instead of holding the answer
 * past HUB_CALL_TIMEOUT_MS, which would mark the node unavailable. Well under that timeout. (A literal:
 * the Python SDK's test reads it from this file.)
 */
export const STATUS_TIMEOUT_MS = 1000;

const KEY = /^[A-Za-z0-9_.-]+$/;

/**
 * The bounded copy of `v`: null unless `v` is a plain object; keys that are not words of at most
 * MAX_STATUS_KEY characters are dropped, as are values that are not finite numbers, booleans,
 * null or strings (strings are cut to MAX_STATUS_STRING); at most MAX_STATUS_KEYS entries.
 */
export function boundNodeStatus(v: unknown): NodeStatus | null {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return null;
  const out: NodeStatus = {};
  let n = 0;
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (n >= MAX_STATUS_KEYS) break;
    if (k.length > MAX_STATUS_KEY || !KEY.test(k)) continue;
    let y: NodeStatusValue | undefined;
    if (typeof x === 'number') y = Number.isFinite(x) ? x : undefined;
    else if (typeof x === 'string') y = x.slice(0, MAX_STATUS_STRING);
    else if (typeof x === 'boolean' || x === null) y = x;
    if (y === undefined) continue;
    out[k] = y;
    n++;
  }
  return out;
}
