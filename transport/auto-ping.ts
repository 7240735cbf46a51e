/**
 * Auto-ping (TransportOptions.autoPingInterval / autoPingTimeout, seconds; 0 = off): one unref'd
 * timer per connection. Inbound traffic only sets a flag (no timer churn on the hot path). Every
 * interval the timer looks at the flag: traffic → wait another interval; idle → send a ping and
 * wait `timeout` for any traffic (the pong or anything else); still nothing → `onTimeout()`.
 */
export class AutoPing {
  private timer: NodeJS.Timeout | null = null;
  private active = false;
  private waiting = false;
  private stopped = false;

  constructor(
    private readonly intervalS: number,
    private readonly timeoutS: number,
    private readonly sendPing: () => void,
    private readonly onTimeout: () => void,
  ) {
    if (intervalS > 0) this.schedule(intervalS);
  }

  /** Call on every inbound frame, ping or pong. */
  activity(): void {
    this.active = true;
    if (this.waiting) {
      // The answer came: back to the normal interval (rare path, once per ping at most).
      this.waiting = false;
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.active = false;
      this.schedule(this.intervalS);
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(seconds: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => this.tick(), seconds * 1000);
    this.timer.unref();
  }

  private tick(): void {
    this.timer = null;
    if (this.stopped) return;
    if (this.active) {
      this.active = false;
      this.waiting = false;
      this.schedule(this.intervalS);
      return;
    }
    if (this.waiting) {
      this.stop();
      this.onTimeout();
      return;
    }
    this.waiting = true;
    try {
      this.sendPing();
    } catch {
      /* the close handler will follow */
    }
    this.schedule(this.timeoutS > 0 ? this.timeoutS : this.intervalS);
  }
}
