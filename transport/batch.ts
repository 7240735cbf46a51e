/**
 * Write batching: everything a connection sends during one turn of the event loop leaves in one
 * `writev` instead of one syscall per frame. The socket is corked on the first write of a turn
 * and uncorked on `process.nextTick`, i.e. as soon as the current handler is done — no timer, so
 * no added latency. Under load (a burst of RESULTs or EVENTs in one turn) this removes most of
 * the router's syscall cost; cork() nests, so inner cork/uncork pairs (ws's sender, RawSocket's
 * header + payload) keep working.
 */
import type { Socket } from 'node:net';

export class WriteBatcher {
  private held = false;
  private readonly release = (): void => {
    this.held = false;
    if (!this.socket.destroyed) this.socket.uncork();
  };

  constructor(private readonly socket: Socket) {}

  /** Call before each write. */
  hold(): void {
    if (this.held) return;
    this.held = true;
    this.socket.cork();
    process.nextTick(this.release);
  }
}
