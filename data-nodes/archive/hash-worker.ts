/**
 * The scanner's content hash (sha1 hex) computed on a worker thread, so it runs beside the decode on
 * the main thread instead of before it (sha1 in OpenSSL is ~1 GB/s: as long as reading a warm file
 * many times over). Small contents are hashed in place (a round trip costs more than the hash); a
 * worker that cannot start or dies leaves every hash to the main thread. The worker holds the event
 * loop only while a hash is pending; `close` ends it.
 */
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

const SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
parentPort.on('message', (m) => parentPort.postMessage({ id: m.id, hash: createHash('sha1').update(m.data).digest('hex') }));
`;

export const sha1Hex = (b: string | Uint8Array): string => createHash('sha1').update(b).digest('hex');

interface Pending {
  resolve: (hash: string) => void;
  data: Uint8Array;
}

export class Sha1Worker {
  private worker: Worker | null = null;
  private failed = false;
  private next = 1;
  private readonly pending = new Map<number, Pending>();

  /** Contents shorter than `minBytes` are hashed on the calling thread. */
  constructor(private readonly minBytes = 256 * 1024) {}

  hash(data: Uint8Array): Promise<string> {
    const w = data.length < this.minBytes ? null : this.start();
    if (!w) return Promise.resolve(sha1Hex(data));
    const id = this.next++;
    return new Promise((resolve) => {
      this.pending.set(id, { resolve, data });
      if (this.pending.size === 1) w.ref();
      // The message carries a copy; a view of a bigger buffer is cut to its bytes first.
      w.postMessage({ id, data: data.byteLength === data.buffer.byteLength ? data : data.slice() });
    });
  }

  private start(): Worker | null {
    if (this.worker || this.failed) return this.worker;
    try {
      const w = new Worker(SOURCE, { eval: true });
      w.unref();
      w.on('message', (m: { id: number; hash: string }) => {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (this.pending.size === 0) w.unref();
        p.resolve(m.hash);
      });
      w.on('error', () => this.fail());
      w.on('exit', () => this.fail());
      this.worker = w;
      return w;
    } catch {
      this.failed = true;
      return null;
    }
  }

  /** No worker from now on; what it still owed is hashed here. */
  private fail(): void {
    this.failed = true;
    this.worker = null;
    const owed = [...this.pending.values()];
    this.pending.clear();
    for (const p of owed) p.resolve(sha1Hex(p.data));
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.failed = true;
    if (w) await w.terminate();
    this.fail();
  }
}
