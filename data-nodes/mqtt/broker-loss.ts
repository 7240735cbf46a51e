/**
 * Broker-side loss detection from Mosquitto's `$SYS/broker/publish/messages/dropped` counter (the
 * messages the broker dropped because a client's in-flight window and queue were full; published
 * retained, every `sys_interval`, default 10 s). The counter is broker-wide: an increase means some
 * subscriber lost messages, possibly not this one, so it is reported as a warning with the count,
 * never as a certainty about our own stream.
 */

export const SYS_DROPPED_TOPIC = '$SYS/broker/publish/messages/dropped';

export class SysDropWatch {
  /** last value seen on this connection; null until the first (the baseline) */
  private last: number | null = null;
  /** drops seen since the process started (sum of increases) */
  total = 0;

  /** A new connection: the next value is a baseline again (the broker may have restarted). */
  reset(): void {
    this.last = null;
  }

  /** Feeds one `$SYS` payload; returns how many drops it adds (0 for the baseline, a reset or junk). */
  onPayload(payload: Buffer | string): number {
    const v = Number(String(payload).trim());
    if (!Number.isSafeInteger(v) || v < 0) return 0;
    const prev = this.last;
    this.last = v;
    if (prev === null || v <= prev) return 0;
    this.total += v - prev;
    return v - prev;
  }
}
