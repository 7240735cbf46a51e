/**
 * ReadyGate: a condition others wait for (a client's session, the hub's procedures, a node's
 * announcement). `wait()` resolves at once while the gate is open, otherwise when it next opens;
 * with a timeout it rejects after that many ms. `close()` rejects every waiter, now and later.
 */
interface Waiter {
  resolve(): void;
  reject(err: Error): void;
}

export class ReadyGate {
  private opened = false;
  private closedWith: Error | null = null;
  private readonly waiters = new Set<Waiter>();

  /** `timeoutError(ms)`: the error a wait with a timeout rejects with. */
  constructor(private readonly timeoutError: (timeoutMs: number) => Error) {}

  get isOpen(): boolean {
    return this.opened;
  }

  /** Opens the gate and releases every waiter (no-op once closed). */
  open(): void {
    if (this.closedWith) return;
    this.opened = true;
    for (const w of [...this.waiters]) w.resolve();
  }

  /** Not ready any more; later waits wait for the next `open()`. */
  reset(): void {
    this.opened = false;
  }

  /** For good: rejects the waiters with `err`, and every later wait too. */
  close(err: Error): void {
    if (this.closedWith) return;
    this.closedWith = err;
    this.opened = false;
    for (const w of [...this.waiters]) w.reject(err);
  }

  /** Resolves when open; rejects after `timeoutMs` (default: wait forever) or on `close()`. */
  wait(timeoutMs?: number): Promise<void> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    if (this.opened) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | null = null;
      const w: Waiter = {
        resolve: () => {
          settle();
          resolve();
        },
        reject: (err) => {
          settle();
          reject(err);
        },
      };
      const settle = () => {
        if (timer) clearTimeout(timer);
        this.waiters.delete(w);
      };
      this.waiters.add(w);
      if (timeoutMs !== undefined) timer = setTimeout(() => w.reject(this.timeoutError(timeoutMs)), timeoutMs);
    });
  }
}
