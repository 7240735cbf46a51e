/**
 * Per-call state of one gRPC call: cancelled by the client, by the deadline, or by the server
 * closing. WAMP calls get `timeoutMs()`; producers check `cancelled` before asking a node for more.
 */
import * as grpc from '@grpc/grpc-js';
import { GrpcError } from './errors';

export type CancelReason = 'client' | 'deadline' | 'shutdown' | 'failed';

/** What a CallContext needs of a grpc-js call. */
export interface CancellableCall {
  getDeadline(): grpc.Deadline;
  on(ev: 'cancelled', cb: () => void): unknown;
}

export class CallContext {
  cancelled = false;
  reason: CancelReason | null = null;
  /** Why the call failed (reason 'failed'). */
  failure: GrpcError | null = null;
  readonly deadline: number;
  private timer: NodeJS.Timeout | null = null;
  private readonly cancelCbs = new Set<() => void>();
  private readonly disposeCbs: Array<() => void> = [];

  constructor(
    call: CancellableCall,
    private readonly callTimeoutMs: number,
  ) {
    const d = call.getDeadline();
    this.deadline = d instanceof Date ? d.getTime() : typeof d === 'number' ? d : Infinity;
    // grpc-js reports a passed deadline as 'cancelled' too (it has sent DEADLINE_EXCEEDED itself)
    call.on('cancelled', () => this.cancel(Date.now() >= this.deadline - 20 ? 'deadline' : 'client'));
    if (Number.isFinite(this.deadline)) {
      this.timer = setTimeout(() => this.cancel('deadline'), Math.max(0, this.deadline - Date.now()));
    }
  }

  /** Ends the call with `err` (unless it is already over): stops the producers and writers. */
  fail(err: GrpcError): void {
    if (this.cancelled) return;
    this.failure = err;
    this.cancel('failed');
  }

  /** True when the client already has its status (it cancelled, or its deadline passed). */
  get clientGone(): boolean {
    return this.reason === 'client' || this.reason === 'deadline';
  }

  cancel(reason: CancelReason): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.reason = reason;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    for (const cb of [...this.cancelCbs]) cb();
  }

  onCancel(cb: () => void): () => void {
    if (this.cancelled) {
      cb();
      return () => {};
    }
    this.cancelCbs.add(cb);
    return () => this.cancelCbs.delete(cb);
  }

  timeoutMs(): number {
    const left = this.deadline - Date.now();
    return Math.max(1, Math.min(this.callTimeoutMs, left));
  }

  /** The error that ends a cancelled call (the client has its own status already but not for shutdown). */
  cancelError(): GrpcError {
    if (this.reason === 'failed' && this.failure) return this.failure;
    if (this.reason === 'deadline') return new GrpcError(grpc.status.DEADLINE_EXCEEDED, 'deadline exceeded');
    if (this.reason === 'shutdown') return new GrpcError(grpc.status.UNAVAILABLE, 'sisock grpc server is shutting down');
    return new GrpcError(grpc.status.CANCELLED, 'cancelled by the client');
  }

  /** Runs `cb` once when the call is over (`dispose`). */
  onDispose(cb: () => void): void {
    this.disposeCbs.push(cb);
  }

  dispose(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.cancelCbs.clear();
    for (const cb of this.disposeCbs.splice(0)) cb();
  }
}
