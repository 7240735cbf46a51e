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

import { HubUri, NodeUri, mergeDataResults } from '../contract';
import type { DataResult, FieldsResult, NodeEntry } from '../contract';

export type { Sample, DataResult, FieldInfo, FieldsResult, NodeEntry } from '../contract';
export { mergeDataResults };

export function listNodes(client: SisockClient, opts: { timeoutMs?: number } = {}): Promise<NodeEntry[]> {
  return client.call<NodeEntry[]>(client.uri(HubUri.GET_DATA_NODE), [], {}, { timeoutMs: opts.timeoutMs });
}

export function getFields(
  client: SisockClient,
  node: string,
  start: number,
  end: number,
  opts: { timeoutMs?: number } = {},
): Promise<FieldsResult> {
  return client.call<FieldsResult>(client.uri(NodeUri.getFields(node)), [start, end], {}, { timeoutMs: opts.timeoutMs });
}

export async function getData(
  client: SisockClient,
  node: string,
  fields: string[],
  start: number,
  end: number,
  minStride: number | null = null,
  opts: { timeoutMs?: number } = {},
): Promise<DataResult> {
  const pieces: DataResult[] = [];
  const last = await client.call<DataResult>(
    client.uri(NodeUri.getData(node)),
    [fields, start, end],
    { min_stride: minStride },
    { onProgress: (chunk) => pieces.push(chunk as DataResult), timeoutMs: opts.timeoutMs },
  );
  pieces.push(last);
  return mergeDataResults(pieces);
}

export function subscribeLive(client: SisockClient, node: string, cb: (result: DataResult) => void): Promise<Handle> {
  return client.subscribe(client.uri(NodeUri.live(node)), (args) => {
    if (args.length > 0) cb(args[0] as DataResult);
  });
}
