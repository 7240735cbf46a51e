/**
 * Live relay: one WAMP subscription to `<base>.consumer.<node>.data` per node, shared by every
 * browser that watches that node (reference-counted; dropped when the last one leaves).
 */
import { subscribeLive, type DataResult, type Handle, type SisockClient } from '../../client';

type Listener = (result: DataResult) => void;

interface Entry {
  /** listeners of this node */
  listeners: Set<Listener>;
  handle: Promise<Handle>;
}

export class LiveRelay {
  /** node name → its subscription and listeners */
  private readonly byNode = new Map<string, Entry>();

  constructor(private readonly client: SisockClient) {}

  /** Calls `cb` with every live sample the node pushes; returns the undo. */
  async watch(node: string, cb: Listener): Promise<() => Promise<void>> {
    let entry = this.byNode.get(node);
    if (!entry) {
      const listeners = new Set<Listener>();
      const handle = subscribeLive(this.client, node, (r) => {
        for (const l of [...listeners]) {
          try {
            l(r);
          } catch {
            /* one browser's problem */
          }
        }
      });
      entry = { listeners, handle };
      this.byNode.set(node, entry);
      handle.catch(() => {
        if (this.byNode.get(node) === entry) this.byNode.delete(node);
      });
    }
    entry.listeners.add(cb);
    const e = entry;
    try {
      await e.handle;
    } catch (err) {
      e.listeners.delete(cb); // the subscription was refused: nothing of this watch stays
      throw err;
    }
    return async () => {
      e.listeners.delete(cb);
      if (e.listeners.size === 0 && this.byNode.get(node) === e) {
        this.byNode.delete(node);
        await (await e.handle).remove().catch(() => undefined);
      }
    };
  }

  /** Listeners (one per live stream and node) registered right now (tests, metrics). */
  listenerCount(): number {
    let n = 0;
    for (const e of this.byNode.values()) n += e.listeners.size;
    return n;
  }

  /** Nodes watched right now (tests, metrics). */
  watched(): string[] {
    return [...this.byNode.keys()];
  }

  async close(): Promise<void> {
    const entries = [...this.byNode.values()];
    this.byNode.clear();
    for (const e of entries) {
      e.listeners.clear();
      await e.handle.then((h) => h.remove()).catch(() => undefined);
    }
  }
}
