/**
 * Decoded files, least recently used first out, bounded by an estimate of their memory: 8 bytes a
 * time or number, 16 + 2 per character for a string, 8 per boolean/null. Keys carry the file's size and
 * mtime, so a changed file is a new entry and the old one ages out. A file larger than the bound is
 * decoded but not kept. Concurrent requests for one key share one decode.
 */
import type { DecodedFile } from './formats/types';

export const DEFAULT_CACHE_BYTES = 256 * 1024 * 1024;

export function decodedBytes(d: DecodedFile): number {
  let n = 64;
  for (const tl of d.timelines) {
    n += tl.t.byteLength + 64;
    for (const c of tl.columns) {
      if (c.values instanceof Float64Array) n += c.values.byteLength;
      else for (const v of c.values) n += typeof v === 'string' ? 16 + 2 * v.length : 8;
      n += 64;
    }
  }
  return n;
}

export interface CacheStats { hits: number; misses: number; evictions: number; entries: number; bytes: number; maxBytes: number }

export class DecodedCache {
  /** key → decoded file and its size; Map order is recency (oldest first). */
  private readonly entries = new Map<string, { value: DecodedFile; bytes: number }>();
  /** key → decode in progress. */
  private readonly pending = new Map<string, Promise<DecodedFile>>();
  private bytes = 0;
  private hits = 0;
  private misses = 0;
  private evictions = 0;

  constructor(readonly maxBytes: number = DEFAULT_CACHE_BYTES) {}

  async get(key: string, load: () => Promise<DecodedFile>): Promise<DecodedFile> {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      this.hits++;
      return hit.value;
    }
    const inflight = this.pending.get(key);
    if (inflight) { this.hits++; return inflight; }
    this.misses++;
    const p = load().then((value) => {
      this.put(key, value);
      return value;
    }).finally(() => this.pending.delete(key));
    this.pending.set(key, p);
    return p;
  }

  private put(key: string, value: DecodedFile): void {
    const bytes = decodedBytes(value);
    if (bytes > this.maxBytes) return;
    const old = this.entries.get(key);
    if (old) { this.bytes -= old.bytes; this.entries.delete(key); }
    this.entries.set(key, { value, bytes });
    this.bytes += bytes;
    for (const [k, e] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(k);
      this.bytes -= e.bytes;
      this.evictions++;
    }
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  stats(): CacheStats {
    return { hits: this.hits, misses: this.misses, evictions: this.evictions, entries: this.entries.size, bytes: this.bytes, maxBytes: this.maxBytes };
  }
}
