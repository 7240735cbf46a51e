/**
 * GetData → the node's `get_fields(start, end)` once (timelines, declared types, nominal rate), then
 * `get_data(fields, w0, w1, min_stride)` for consecutive time windows (window.ts) with progressive
 * results; every progressive piece is cut into bounded chunks (chunks.ts) and written as it
 * arrives. At most about two windows are held: the next window is asked for only once the previous
 * one is fetched and the writer is less than one window behind (flow.ts); the writer waits for
 * 'drain' when `write()` says the stream is full. A cancelled call (client cancel, deadline) stops
 * asking the node.
 */
import * as grpc from '@grpc/grpc-js';
import { NodeUri } from '../../contract';
import type { DataResult, FieldsResult } from '../../client';
import { newCounters, type CallCounters, type GrpcBridge } from './bridge';
import type { CallContext } from './call-context';
import { chunkGroup, groupByTimeline, type ChunkLimits, type ChunkMsg } from './chunks';
import { GrpcError, invalidArgument, toGrpcError } from './errors';
import { BoundedWriter, PieceQueue } from './flow';
import { checkNode, fieldMaps, timeRange, type GetDataRequest } from './requests';
import { WindowPlanner } from './window';

function countPoints(piece: DataResult, wanted: ReadonlySet<string>): number {
  let n = 0;
  for (const [f, v] of Object.entries(piece?.data ?? {})) if (wanted.has(f) && Array.isArray(v)) n += v.length;
  return n;
}

/** A checked GetData request. */
interface Plan {
  node: string;
  fields: string[];
  start: number;
  end: number;
  stride: number | null;
  limits: ChunkLimits;
}

function checkRequest(req: GetDataRequest, serverLimits: ChunkLimits): Plan {
  const node = checkNode(req.node);
  if (!Array.isArray(req.fields) || req.fields.length === 0) throw invalidArgument('fields must list at least one field');
  for (const f of req.fields) if (typeof f !== 'string' || f === '') throw invalidArgument('fields must be non-empty strings');
  const fields = [...new Set(req.fields)];
  const { start, end } = timeRange(req.start, req.end);
  const minStride = req.min_stride;
  if (minStride !== undefined && (!Number.isFinite(minStride) || minStride < 0))
    throw invalidArgument(`min_stride must be a finite number >= 0, got ${minStride}`);
  const stride = minStride && minStride > 0 ? minStride : null;
  const limits: ChunkLimits = {
    maxPoints: req.max_chunk_points > 0 ? Math.min(req.max_chunk_points, serverLimits.maxPoints) : serverLimits.maxPoints,
    maxBytes: serverLimits.maxBytes,
  };
  return { node, fields, start, end, stride, limits };
}

/** Samples per second of `fields` from the timelines' nominal intervals, or null when one is irregular. */
function nominalRate(fields: string[], fieldTimeline: Map<string, string>, intervals: Map<string, number | null>): number | null {
  let rate = 0;
  let known = true;
  for (const f of fields) {
    const tl = fieldTimeline.get(f);
    if (tl === undefined) continue; // unknown or no data in range
    const iv = intervals.get(tl);
    if (iv) rate += 1 / iv;
    else known = false;
  }
  return known && rate > 0 ? rate : null;
}

export function getDataMethod(bridge: GrpcBridge): grpc.handleServerStreamingCall<GetDataRequest, ChunkMsg> {
  const { client, limits: serverLimits, log } = bridge;
  return (call) => {
    const ctx = bridge.begin(call);
    const rec = newCounters();
    void (async () => {
      const plan = checkRequest(call.request, serverLimits.chunks);
      const { node, fields, start, end, stride } = plan;
      const what = `GetData(${node})`;
      bridge.admitStream(ctx, call.getPeer(), what);
      const fres = await bridge.wamp(ctx, what, node, (t) =>
        client.call<FieldsResult>(client.uri(NodeUri.getFields(node)), [start, end], {}, { timeoutMs: t }),
      );
      const { fieldTimeline, declared, intervals } = fieldMaps(fres);
      const planner = new WindowPlanner({
        start,
        end,
        targetPoints: serverLimits.windowPoints,
        rate: nominalRate(fields, fieldTimeline, intervals),
        nFields: fields.length,
        minStride: stride,
      });
      const wanted = new Set(fields);
      const queue = new PieceQueue();
      const undoCancel = ctx.onCancel(() => queue.end());
      const writer = new BoundedWriter(call as grpc.ServerWritableStream<unknown, unknown>, ctx, {
        ms: serverLimits.stallMs,
        progress: () => bridge.peerBytesWritten(call.getPeer()),
        onStall: () => {
          const why = `${what}: the client's connection has taken nothing for ${serverLimits.stallMs} ms`;
          ctx.fail(new GrpcError(grpc.status.RESOURCE_EXHAUSTED, why));
          bridge.dropPeer(call.getPeer(), why);
        },
      });
      const write = async (piece: DataResult): Promise<boolean> => {
        const { groups, skipped } = groupByTimeline(piece, fieldTimeline, wanted);
        if (skipped.length) log.warn({ node, fields: skipped }, 'node answered fields whose length matches no timeline; left out');
        for (const g of groups) {
          for (const c of chunkGroup(piece, g, plan.limits, declared)) {
            if (ctx.cancelled) return false;
            const msg = c as ChunkMsg;
            msg.seq = rec.chunks++;
            const n = c.t.length * c.columns.length;
            rec.points += n;
            if (n > rec.maxChunkPoints) rec.maxChunkPoints = n;
            await writer.write(msg);
          }
        }
        return true;
      };
      await Promise.all([produce(bridge, ctx, plan, planner, queue, rec, wanted), consume(ctx, queue, write)]);
      undoCancel();
      if (ctx.cancelled) throw ctx.cancelError();
      const trailer = new grpc.Metadata();
      trailer.set('sisock-points', String(rec.points));
      call.end(trailer);
      bridge.finish(ctx, { method: 'GetData', code: grpc.status.OK, details: 'OK', ...rec });
    })().catch((err: unknown) => {
      const ge = err instanceof GrpcError ? err : toGrpcError(err, 'GetData');
      if (!ctx.clientGone) call.emit('error', ge.toResponse());
      bridge.finish(ctx, { method: 'GetData', code: ge.code, details: ge.message, ...rec });
    });
  };
}

/** Asks the node for one window after the other while the queue is short enough; fails the call on error. */
async function produce(
  bridge: GrpcBridge,
  ctx: CallContext,
  plan: Plan,
  planner: WindowPlanner,
  queue: PieceQueue,
  rec: CallCounters,
  wanted: ReadonlySet<string>,
): Promise<void> {
  const { client } = bridge;
  const { node, fields, stride } = plan;
  const what = `GetData(${node})`;
  const uGetData = client.uri(NodeUri.getData(node));
  try {
    while (!planner.done && !ctx.cancelled) {
      const [a, b] = planner.next();
      let points = 0;
      const add = (piece: unknown) => {
        if (ctx.cancelled || !piece || typeof piece !== 'object') return;
        const p = piece as DataResult;
        const n = countPoints(p, wanted);
        points += n;
        queue.push(p, n);
      };
      rec.nodeCalls++;
      bridge.stats.nodeGetDataCalls++;
      const last = await bridge.wamp(ctx, what, node, (t) =>
        client.call<DataResult>(uGetData, [fields, a, b], { min_stride: stride }, { onProgress: add, timeoutMs: t }),
      );
      add(last);
      planner.observe(points);
      await queue.whenBelow(bridge.limits.windowPoints);
    }
  } catch (err) {
    ctx.fail(err instanceof GrpcError ? err : toGrpcError(err, what, node));
  } finally {
    queue.end();
  }
}

/** Writes the queued pieces until the queue ends or the call is cancelled. */
async function consume(ctx: CallContext, queue: PieceQueue, write: (piece: DataResult) => Promise<boolean>): Promise<void> {
  for (;;) {
    const piece = await queue.next();
    if (piece === undefined || ctx.cancelled) return;
    if (!(await write(piece))) return;
  }
}
