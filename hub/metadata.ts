/**
 * One entry of `consumer.get_data_node_metadata`: the hub's record plus the contract's
 * NodeMetadata fields from the node's own `get_metadata`, each checked and bounded. Only known
 * fields are copied, `status` through the contract's bound (a node cannot grow the hub's answer past
 * the message size), and the node's
 * session id is not shown to consumers.
 */
import { boundNodeStatus, type NodeMetadataEntry } from '../contract';
import type { NodeRecord } from './registry';

/** Longest string copied from a node's metadata, characters. */
export const MAX_META_STRING = 512;

function str(v: unknown): string | null {
  return typeof v === 'string' ? v.slice(0, MAX_META_STRING) : null;
}

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** `meta` is the node's get_metadata answer, or undefined when the node did not answer. */
export function metadataEntry(rec: NodeRecord, meta: unknown): NodeMetadataEntry {
  const m = meta !== null && typeof meta === 'object' && !Array.isArray(meta) ? (meta as Record<string, unknown>) : undefined;
  return {
    name: rec.name,
    description: rec.description,
    added: rec.added,
    host: str(m?.host),
    pid: num(m?.pid),
    process: str(m?.process),
    sisock_version: str(m?.sisock_version),
    started: num(m?.started),
    n_fields: num(m?.n_fields),
    newest_sample: num(m?.newest_sample),
    status: boundNodeStatus(m?.status),
    available: m !== undefined,
  };
}
