/**
 * What every gRPC method shares: the WAMP client, the limits, the calls in progress and the
 * bookkeeping of a call's start and end. `wamp()` runs one WAMP call for a gRPC call (bounded wait
 * for a session, the deadline as timeout, errors mapped to gRPC statuses by errors.ts).
 */
import type { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../../common/log';
import { classifyCallError, type SisockClient } from '../../client';
import { CallContext, type CancellableCall } from './call-context';
import type { ChunkLimits } from './chunks';
import { GrpcError, toGrpcError } from './errors';

/** What the server did for one finished call (tests, logs). */
export interface CallRecord {
  method: 'ListNodes' | 'GetFields' | 'GetData' | 'Subscribe';
  code: grpc.status;
  details: string;
  /** GetData: get_data calls made to the node. */
  nodeCalls: number;
  /** GetData/Subscribe: samples and chunks sent. */
  points: number;
  chunks: number;
  /** GetData: the largest chunk sent, in samples. */
  maxChunkPoints: number;
}

/** The counters of a CallRecord, kept while the call runs. */
export type CallCounters = Pick<CallRecord, 'nodeCalls' | 'points' | 'chunks' | 'maxChunkPoints'>;

export const newCounters = (): CallCounters => ({ nodeCalls: 0, points: 0, chunks: 0, maxChunkPoints: 0 });

export interface BridgeLimits {
  /** Timeout of one WAMP call when the gRPC call has no (earlier) deadline, ms. */
  callTimeoutMs: number;
  /** How long a call waits for the WAMP session when the router is unreachable, ms. */
  connectWaitMs: number;
  /** Chunk bounds of the server (a request may ask for smaller chunks). */
  chunks: ChunkLimits;
  /** Samples aimed at per get_data window. */
  windowPoints: number;
  /** Chunks, and bytes, a Subscribe reader may lag behind before it is dropped. */
  maxLiveBacklog: number;
  maxLiveBacklogBytes: number;
  /** GetData and Subscribe calls at once, in all and from one address (more: RESOURCE_EXHAUSTED). */
  maxStreams: number;
  maxStreamsPerIp: number;
  /** A GetData reader that takes nothing for this long is dropped with its connection, ms. */
  stallMs: number;
}

/**
 * The address a grpc-js peer string (`1.2.3.4:5678`, `2001:db8::1:5678`, `[::1]:5678`) counts against:
 * its IPv4 address, or the /64 of an IPv6 one (a host is given a /64: one address each would be no bound).
 */
export function peerIp(peer: string): string {
  const m = /^\[(.*)\]:\d+$/.exec(peer) ?? /^(.*):\d+$/.exec(peer);
  const ip = m?.[1] ?? peer;
  if (!ip.includes(':')) return ip;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  const [head = '', tail] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t];
  return `${groups
    .slice(0, 4)
    .map((g) => parseInt(g || '0', 16).toString(16))
    .join(':')}::/64`;
}

export class GrpcBridge {
  /** get_data calls made to nodes since the start, and calls in progress. */
  readonly stats = { nodeGetDataCalls: 0, activeCalls: 0 };
  /** calls in progress (cancelled with 'shutdown' on close) */
  readonly contexts = new Set<CallContext>();
  /** GetData/Subscribe calls in progress, in all and by address. */
  private streams = 0;
  private readonly streamsByIp = new Map<string, number>();
  /** Closes the connection of a grpc-js peer (`call.getPeer()`); set by the server, which holds the sockets. */
  dropPeer: (peer: string, why: string) => void = () => {};
  /** Bytes the server has written to a peer's connection so far (its progress); set by the server. */
  peerBytesWritten: (peer: string) => number = () => 0;

  constructor(
    readonly client: SisockClient,
    readonly limits: BridgeLimits,
    readonly log: Logger,
    /** emits 'callEnd' (CallRecord) */
    readonly events: EventEmitter,
  ) {}

  /** Runs a WAMP call for `ctx`: waits (bounded) for a session, applies the deadline, maps errors. */
  async wamp<T>(ctx: CallContext, what: string, node: string | undefined, f: (timeoutMs: number) => Promise<T>): Promise<T> {
    const { client } = this;
    if (ctx.cancelled) throw ctx.cancelError();
    if (!client.isReady) {
      const wait = Math.min(this.limits.connectWaitMs, ctx.timeoutMs());
      try {
        await client.whenReady(wait);
      } catch {
        if (ctx.cancelled) throw ctx.cancelError();
        const why = `WAMP router ${client.options.url} unreachable (no session after ${wait} ms)`;
        throw new GrpcError(grpc.status.UNAVAILABLE, `${what}: ${why}`);
      }
    }
    try {
      return await f(ctx.timeoutMs());
    } catch (err) {
      if (classifyCallError(err) === 'timeout') {
        if (Date.now() >= ctx.deadline - 5) throw new GrpcError(grpc.status.DEADLINE_EXCEEDED, `${what}: deadline exceeded`);
        throw new GrpcError(grpc.status.DEADLINE_EXCEEDED, `${what}: no answer within ${this.limits.callTimeoutMs} ms`);
      }
      if (ctx.cancelled && ctx.reason !== 'client') throw ctx.cancelError();
      throw toGrpcError(err, what, node);
    }
  }

  /** A call starts: its context. */
  begin(call: CancellableCall): CallContext {
    const ctx = new CallContext(call, this.limits.callTimeoutMs);
    this.contexts.add(ctx);
    this.stats.activeCalls++;
    return ctx;
  }

  /**
   * A streaming call (GetData, Subscribe) of `peer` may go on: counted until `ctx` is disposed. Each holds
   * up to a few MB while its reader is slow, so their number is bounded in all and per address; over
   * the bound, RESOURCE_EXHAUSTED.
   */
  admitStream(ctx: CallContext, peer: string, what: string): void {
    const ip = peerIp(peer);
    const mine = this.streamsByIp.get(ip) ?? 0;
    const over =
      mine >= this.limits.maxStreamsPerIp
        ? `${mine} streaming calls open from this address (at most ${this.limits.maxStreamsPerIp})`
        : this.streams >= this.limits.maxStreams
          ? `${this.streams} streaming calls open (at most ${this.limits.maxStreams})`
          : null;
    if (over) throw new GrpcError(grpc.status.RESOURCE_EXHAUSTED, `${what}: ${over}; retry when one ends`);
    this.streams++;
    this.streamsByIp.set(ip, mine + 1);
    // given back when the call ends, or as soon as its client has gone (a cancelled GetData may still wait
    // for its node's answer, up to the call timeout, but sends nothing more: a dashboard re-querying on
    // zoom would otherwise use up its address's slots)
    let held = true;
    const release = () => {
      if (!held) return;
      held = false;
      this.streams--;
      const left = (this.streamsByIp.get(ip) ?? 1) - 1;
      if (left > 0) this.streamsByIp.set(ip, left);
      else this.streamsByIp.delete(ip);
    };
    ctx.onCancel(() => {
      if (ctx.clientGone) release();
    });
    ctx.onDispose(release);
  }

  /** A call is over: logs it and emits 'callEnd'. */
  finish(ctx: CallContext, rec: Omit<CallRecord, keyof CallCounters> & Partial<CallCounters>): void {
    ctx.dispose();
    this.contexts.delete(ctx);
    this.stats.activeCalls--;
    const full: CallRecord = { ...newCounters(), ...rec };
    const quiet = full.code === grpc.status.OK || full.code === grpc.status.CANCELLED;
    const level = quiet ? 'debug' : full.code === grpc.status.INTERNAL ? 'warn' : 'info';
    const { method, details, points, chunks, nodeCalls } = full;
    this.log[level]({ method, code: grpc.status[full.code], details, points, chunks, nodeCalls }, 'call ended');
    this.events.emit('callEnd', full);
  }

  /** A grpc-js unary handler around `handler` (context, status, record). */
  unary<Req, Res>(method: CallRecord['method'], handler: (req: Req, ctx: CallContext) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      const ctx = this.begin(call);
      void (async () => {
        try {
          const res = await handler(call.request, ctx);
          callback(null, res);
          this.finish(ctx, { method, code: grpc.status.OK, details: 'OK' });
        } catch (err) {
          const ge = err instanceof GrpcError ? err : toGrpcError(err, method);
          callback(ge.toResponse());
          this.finish(ctx, { method, code: ge.code, details: ge.message });
        }
      })();
    };
  }
}
