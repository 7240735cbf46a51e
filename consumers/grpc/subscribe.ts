/**
 * Subscribe → the node's `consumer.<node>.data` topic, one WAMP subscription per node shared by
 * every gRPC subscriber of that node (LiveHub); response headers are sent once the subscription is
 * made. A reader more than `maxLiveBacklog` chunks behind is dropped with RESOURCE_EXHAUSTED.
 */
import * as grpc from '@grpc/grpc-js';
import { ALL_TIME, NodeUri } from '../../contract';
import { subscribeLive, type DataResult, type FieldsResult, type Handle, type SisockClient } from '../../client';
import { newCounters, type GrpcBridge } from './bridge';
import { chunkBytes, chunkGroup, groupByTimeline, type ChunkMsg } from './chunks';
import { GrpcError, toGrpcError } from './errors';
import { checkNode, fieldMaps, type SubscribeRequest } from './requests';

type Listener = (r: DataResult) => void;

/** One WAMP subscription per node, shared by its listeners; dropped when the last one leaves. */
export class LiveHub {
  /** node → its WAMP subscription and the listeners on it */
  private readonly live = new Map<string, { handle: Promise<Handle>; listeners: Set<Listener> }>();

  constructor(private readonly client: SisockClient) {}

  add(node: string, cb: Listener): { ready: Promise<void>; remove: () => void } {
    let entry = this.live.get(node);
    if (!entry) {
      const listeners = new Set<Listener>();
      const e = {
        listeners,
        handle: subscribeLive(this.client, node, (r) => {
          for (const l of [...listeners]) l(r);
        }),
      };
      entry = e;
      this.live.set(node, e);
      e.handle.catch(() => {
        if (this.live.get(node) === e) this.live.delete(node);
      });
    }
    const e = entry;
    e.listeners.add(cb);
    return {
      ready: e.handle.then(() => undefined),
      remove: () => {
        e.listeners.delete(cb);
        if (e.listeners.size === 0 && this.live.get(node) === e) {
          this.live.delete(node);
          void e.handle.then((h) => h.remove()).catch(() => {});
        }
      },
    };
  }

  /** Removes every WAMP subscription. */
  async close(): Promise<void> {
    for (const e of this.live.values()) await e.handle.then((h) => h.remove()).catch(() => {});
    this.live.clear();
  }
}

export function subscribeMethod(bridge: GrpcBridge, hub: LiveHub): grpc.handleServerStreamingCall<SubscribeRequest, ChunkMsg> {
  const { client, limits } = bridge;
  return (call) => {
    const ctx = bridge.begin(call);
    const rec = newCounters();
    let remove: (() => void) | null = null;
    void (async () => {
      const req = call.request;
      const node = checkNode(req.node);
      const wanted = Array.isArray(req.fields) && req.fields.length ? new Set(req.fields) : undefined;
      const what = `Subscribe(${node})`;
      bridge.admitStream(ctx, call.getPeer(), what);
      const fres = await bridge.wamp(ctx, what, node, (t) =>
        client.call<FieldsResult>(client.uri(NodeUri.getFields(node)), [ALL_TIME.start, ALL_TIME.end], {}, { timeoutMs: t }),
      );
      let { fieldTimeline, declared } = fieldMaps(fres);
      let overflow = false;
      // bytes written and not yet passed on (chunks.ts chunkBytes: 8 a time and a number, strings their UTF-8)
      let backlogBytes = 0;
      const onSample = (r: DataResult) => {
        if (ctx.cancelled || overflow) return;
        const { groups } = groupByTimeline(r, fieldTimeline, wanted);
        for (const g of groups) {
          for (const c of chunkGroup(r, g, limits.chunks, declared)) {
            const msg = c as ChunkMsg;
            msg.seq = rec.chunks++;
            rec.points += c.t.length * c.columns.length;
            const bytes = chunkBytes(c);
            backlogBytes += bytes;
            call.write(msg, () => {
              backlogBytes -= bytes;
            });
          }
        }
        if (call.writableLength > limits.maxLiveBacklog || backlogBytes > limits.maxLiveBacklogBytes) {
          overflow = true;
          const behind =
            backlogBytes > limits.maxLiveBacklogBytes ? `${limits.maxLiveBacklogBytes} bytes` : `${limits.maxLiveBacklog} chunks`;
          const why = `${what}: the reader is more than ${behind} behind; dropped`;
          ctx.fail(new GrpcError(grpc.status.RESOURCE_EXHAUSTED, why));
          // its status would queue behind the chunks it does not read: only closing its connection frees them
          bridge.dropPeer(call.getPeer(), why);
        }
      };
      const l = hub.add(node, onSample);
      remove = l.remove;
      const undo = ctx.onCancel(() => l.remove());
      try {
        await bridge.wamp(ctx, what, node, () => l.ready);
      } catch (err) {
        undo();
        throw err;
      }
      if (ctx.cancelled) throw ctx.cancelError();
      call.sendMetadata(new grpc.Metadata());
      // keep the types fresh for fields that appear later (cheap; once)
      void client
        .call<FieldsResult>(client.uri(NodeUri.getFields(node)), [ALL_TIME.start, ALL_TIME.end], {}, { timeoutMs: 5000 })
        .then((f) => {
          ({ fieldTimeline, declared } = fieldMaps(f));
        })
        .catch(() => {});
      await new Promise<void>((resolve) => ctx.onCancel(resolve));
      throw ctx.cancelError();
    })().catch((err: unknown) => {
      if (remove) remove();
      const ge = err instanceof GrpcError ? err : toGrpcError(err, 'Subscribe');
      if (!ctx.clientGone) call.emit('error', ge.toResponse());
      bridge.finish(ctx, { method: 'Subscribe', code: ge.code, details: ge.message, ...rec });
    });
  };
}
