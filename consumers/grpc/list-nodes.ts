/**
 * ListNodes → the hub's `consumer.get_data_node_metadata` (falls back to `consumer.get_data_node`
 * for an original, Python hub: names and descriptions only).
 */
import * as grpc from '@grpc/grpc-js';
import { HubUri, type NodeMetadataEntry } from '../../contract';
import { classifyCallError } from '../../client';
import type { GrpcBridge } from './bridge';
import type { CallContext } from './call-context';
import { GrpcError } from './errors';

/** An entry as it comes over the wire: any field may be missing (an original hub) or odd. */
type MetaEntry = Partial<NodeMetadataEntry> & { name: string };

export interface ListNodesResponse {
  nodes: Array<Record<string, unknown>>;
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

export function listNodesMethod(bridge: GrpcBridge): (req: unknown, ctx: CallContext) => Promise<ListNodesResponse> {
  const { client } = bridge;
  return async (_req, ctx) => {
    const entries = await bridge.wamp(ctx, 'ListNodes', undefined, async (t): Promise<MetaEntry[]> => {
      try {
        return await client.call<MetaEntry[]>(client.uri(HubUri.GET_DATA_NODE_METADATA), [], {}, { timeoutMs: t });
      } catch (err) {
        if (classifyCallError(err) !== 'not-found') throw err;
        // an original (Python) hub: names and descriptions only
        const list = await client.call<MetaEntry[]>(client.uri(HubUri.GET_DATA_NODE), [], {}, { timeoutMs: t });
        return (Array.isArray(list) ? list : []).map((e) => ({ name: e.name, description: e.description, available: false }));
      }
    });
    if (!Array.isArray(entries)) throw new GrpcError(grpc.status.INTERNAL, 'ListNodes: the hub answered something that is not a list');
    return {
      nodes: entries
        .filter((e) => e && typeof e.name === 'string')
        .map((e) => {
          const n: Record<string, unknown> = { name: e.name, description: str(e.description) ?? '', available: e.available === true };
          const opt: Record<string, unknown> = {
            host: str(e.host),
            pid: num(e.pid),
            version: str(e.sisock_version),
            started: num(e.started),
            n_fields: num(e.n_fields),
            newest_sample: num(e.newest_sample),
            process: str(e.process),
            added: num(e.added),
          };
          for (const [k, v] of Object.entries(opt)) if (v !== undefined) n[k] = v;
          return n;
        }),
    };
  };
}
