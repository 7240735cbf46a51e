/**
 * The lifecycle every transport connection shares (WebSocket, RawSocket): the `gone` promise,
 * closing/closed state, our own close reason, auto-ping, write batching, a graceful close cut
 * short after CLOSE_GRACE_MS, and `finish()` calling onClose exactly once. A transport supplies
 * only what differs: how a frame is written (`write`), how a graceful close starts
 * (`startClose`), how the socket is dropped (`destroy`), how a ping goes out (`sendPing`), and
 * `bufferedAmount`.
 */
import type { Socket } from 'net';
import { AutoPing } from './auto-ping';
import { WriteBatcher } from './batch';
import { CLOSE_GRACE_MS, PING_TIMEOUT_REASON } from './peer';
import type { Connection, Serializer, TransportInfo, TransportOptions } from './types';

/** Close code for a ping timeout (1001 "going away", as Crossbar uses). */
const PING_TIMEOUT_CODE = 1001;

/** Default TransportOptions.maxPreAuthBytes. */
export const DEFAULT_MAX_PRE_AUTH_BYTES = 64 * 1024;

export abstract class BaseConnection implements Connection {
  onMessage: (frame: Buffer) => void = () => {};
  onClose: (reason: string) => void = () => {};
  /** Resolves once the connection is gone (after onClose). */
  readonly gone: Promise<void>;
  private resolveGone!: () => void;
  /** Set by close() and by finish(): from then on nothing is sent and nothing is delivered. */
  protected closing = false;
  /** Set by finish(): the socket is gone. */
  protected closed = false;
  private graceTimer: NodeJS.Timeout | null = null;
  protected readonly ping: AutoPing;
  /** Groups the writes of one event-loop turn into one syscall (see batch.ts). */
  protected readonly batch: WriteBatcher;
  /** Our own close reason when we closed (or aborted) first; reported by onClose. */
  protected reason = '';

  /** Counts the bytes of an unauthenticated peer (removed once authenticated). */
  private preAuth: { socket: Socket; listener: (chunk: Buffer) => void } | null = null;

  constructor(
    socket: Socket,
    readonly serializer: Serializer,
    readonly info: TransportInfo,
    options: TransportOptions,
  ) {
    this.gone = new Promise((resolve) => {
      this.resolveGone = resolve;
    });
    const limit = options.maxPreAuthBytes ?? DEFAULT_MAX_PRE_AUTH_BYTES;
    if (limit > 0) {
      let seen = 0;
      const listener = (chunk: Buffer): void => {
        seen += chunk.length;
        if (seen > limit && !this.closed) this.abort(`more than ${limit} bytes before authentication (max_pre_auth_bytes)`);
      };
      socket.on('data', listener);
      this.preAuth = { socket, listener };
    }
    this.batch = new WriteBatcher(socket);
    this.ping = new AutoPing(
      options.autoPingInterval,
      options.autoPingTimeout,
      () => this.sendPing(),
      () => this.close(PING_TIMEOUT_CODE, PING_TIMEOUT_REASON),
    );
  }

  abstract get bufferedAmount(): number;

  send(frame: Buffer): void {
    if (this.closing) return;
    this.write(frame);
  }

  close(code = 1000, reason = ''): void {
    if (this.closing) return;
    this.closing = true;
    this.reason = reason || this.fallbackReason(code);
    this.ping.stop();
    this.startClose(code, reason);
    this.graceTimer = setTimeout(() => this.destroy(), CLOSE_GRACE_MS);
    this.graceTimer.unref();
  }

  authenticated(): void {
    if (this.preAuth === null) return;
    this.preAuth.socket.off('data', this.preAuth.listener);
    this.preAuth = null;
  }

  /** Drops the socket at once (listener shutdown after the grace period). */
  terminate(): void {
    this.destroy();
  }

  /** @internal protocol error: drop at once, reporting `reason`. */
  abort(reason: string): void {
    this.reason = reason;
    this.destroy();
  }

  /** @internal the socket is gone; `peerReason` is used unless we closed with our own reason. */
  finish(peerReason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.resolveGone();
    this.closing = true;
    this.ping.stop();
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.onClose(this.reason || peerReason);
  }

  /** Writes one application frame (only called while open). */
  protected abstract write(frame: Buffer): void;
  /** Starts the graceful close towards the peer. */
  protected abstract startClose(code: number, reason: string): void;
  /** Destroys the socket at once; finish() follows from the socket's close. */
  protected abstract destroy(): void;
  /** Sends one auto-ping. */
  protected abstract sendPing(): void;
  /** The reason onClose reports after close(code) without a reason. */
  protected fallbackReason(code: number): string {
    return `closed (${code})`;
  }
}
