/**
 * Consumer helpers over the sisock contract (section 1).
 *
 *   listNodes(client)                          → [{name, description}]
 *   getFields(client, node, start, end)        → [field, timeline]
 *   getData(client, node, fields, start, end, minStride?)
 *        asks for progressive results and merges the pieces a node sends when the answer is larger
 *        than one message (a node that does not chunk answers with one ordinary result)
 *   subscribeLive(client, node, cb)            → cb({data, timeline}) for each `node.push`
 */
import type { SisockClient, Handle } from './client';

/** Local copies of the contract shapes (client/ must not import data-nodes/). */
export type Sample = number | string | boolean | null;
export interface DataResult {
  data: Record<string, Sample[]>;
  timeline: Record<string, { t: number[]; finalized_until: number | null }>;
}
export interface FieldInfo { description: string | null; timeline: string; type: 'number' | 'string' | 'bool'; units: string | null }
export type FieldsResult = [Record<string, FieldInfo>, Record<string, { interval: number | null; field: string[] }>];
export interface NodeEntry { name: string; description: string }

/** Concatenates pieces per field and per timeline; `finalized_until` from the last piece. */
export function mergeDataResults(pieces: DataResult[]): DataResult {
  if (pieces.length === 1) return pieces[0]!;
  const out: DataResult = { data: {}, timeline: {} };
  for (const p of pieces) {
    if (!p || typeof p !== 'object') continue;
    for (const [f, v] of Object.entries(p.data ?? {})) {
      const arr = (out.data[f] ??= []);
      for (const x of v) arr.push(x);
    }
    for (const [tl, v] of Object.entries(p.timeline ?? {})) {
      const cur = (out.timeline[tl] ??= { t: [], finalized_until: v.finalized_until });
      for (const x of v.t) cur.t.push(x);
      cur.finalized_until = v.finalized_until;
    }
  }
  return out;
}

export function listNodes(client: SisockClient): Promise<NodeEntry[]> {
  return client.call<NodeEntry[]>(client.uri('consumer.get_data_node'));
}

export function getFields(client: SisockClient, node: string, start: number, end: number): Promise<FieldsResult> {
  return client.call<FieldsResult>(client.uri(`consumer.${node}.get_fields`), [start, end]);
}

export async function getData(
  client: SisockClient, node: string, fields: string[], start: number, end: number,
  minStride: number | null = null, opts: { timeoutMs?: number } = {},
): Promise<DataResult> {
  const pieces: DataResult[] = [];
  const last = await client.call<DataResult>(
    client.uri(`consumer.${node}.get_data`), [fields, start, end], { min_stride: minStride },
    { onProgress: (chunk) => pieces.push(chunk as DataResult), timeoutMs: opts.timeoutMs },
  );
  pieces.push(last);
  return mergeDataResults(pieces);
}

export function subscribeLive(client: SisockClient, node: string, cb: (result: DataResult) => void): Promise<Handle> {
  return client.subscribe(client.uri(`consumer.${node}.data`), (args) => {
    if (args.length > 0) cb(args[0] as DataResult);
  });
}
