/** GetFields → the node's `get_fields(start, end)`, as FieldInfo and TimelineInfo lists. */
import * as grpc from '@grpc/grpc-js';
import { NodeUri } from '../../contract';
import type { FieldsResult } from '../../client';
import type { GrpcBridge } from './bridge';
import type { CallContext } from './call-context';
import { GrpcError } from './errors';
import { checkNode, timeRange, type GetFieldsRequest } from './requests';

const FIELD_TYPE: Readonly<Record<string, string>> = { number: 'NUMBER', string: 'STRING', bool: 'BOOL' };

export interface GetFieldsResponse {
  fields: Array<Record<string, unknown>>;
  timelines: Array<Record<string, unknown>>;
}

export function getFieldsMethod(bridge: GrpcBridge): (req: GetFieldsRequest, ctx: CallContext) => Promise<GetFieldsResponse> {
  const { client } = bridge;
  return async (req, ctx) => {
    const node = checkNode(req.node);
    const { start, end } = timeRange(req.start, req.end);
    const res = await bridge.wamp(ctx, `GetFields(${node})`, node, (t) =>
      client.call<FieldsResult>(client.uri(NodeUri.getFields(node)), [start, end], {}, { timeoutMs: t }),
    );
    if (!Array.isArray(res) || res.length !== 2)
      throw new GrpcError(grpc.status.INTERNAL, `GetFields(${node}): the node answered something that is not [field, timeline]`);
    const [finfo, tinfo] = res;
    return {
      fields: Object.entries(finfo ?? {}).map(([name, f]) => {
        const out: Record<string, unknown> = {
          name,
          timeline: String(f?.timeline ?? ''),
          type: FIELD_TYPE[f?.type] ?? 'FIELD_TYPE_UNSPECIFIED',
        };
        if (typeof f?.description === 'string') out.description = f.description;
        if (typeof f?.units === 'string') out.units = f.units;
        return out;
      }),
      timelines: Object.entries(tinfo ?? {}).map(([name, tl]) => {
        const out: Record<string, unknown> = { name, fields: Array.isArray(tl?.field) ? tl.field.map(String) : [] };
        if (typeof tl?.interval === 'number' && Number.isFinite(tl.interval)) out.interval = tl.interval;
        return out;
      }),
    };
  };
}
