/**
 * Decoded files, least recently used first out, bounded by an estimate of their memory: 8 bytes a
 * time or number, 16 + 2 per character for a string, 8 per boolean/null. Keys carry the file's size and
 * mtime, so a changed file is a new entry and the old one ages out. A file larger than the bound is
 * decoded but not kept. Concurrent requests for one key share one decode.
 *
 * Scan resistance: a request passes its stamp (`beginRequest()`); a new entry may only evict entries
 * that request has not used. When the cache holds nothing else, the new file is decoded but not kept,
 * so a request larger than the cache keeps the first files it cached instead of cycling through them
 * (the same request again finds those, instead of nothing).
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

export interface CacheStats {
  hits: number;
  misses: number;
  evictions: number;
  bypassed: number;
  entries: number;
  bytes: number;
  maxBytes: number;
}

export class DecodedCache {
  /** key → decoded file and its size; Map order is recency (oldest first). */
  private readonly entries = new Map<string, { value: DecodedFile; bytes: number; stamp: number }>();
  private stamps = 0;
  private bypassed = 0;
  /** key → decode in progress. */
  private readonly pending = new Map<string, Promise<DecodedFile>>();
  private bytes = 0;
  private hits = 0;
  private misses = 0;
  private evictions = 0;

  constructor(readonly maxBytes: number = DEFAULT_CACHE_BYTES) {}

  /** A stamp for one request's `get`s (see scan resistance). */
  beginRequest(): number {
    return ++this.stamps;
  }

  async get(key: string, load: () => Promise<DecodedFile>, stamp = 0): Promise<DecodedFile> {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      hit.stamp = stamp;
      this.entries.set(key, hit);
      this.hits++;
      return hit.value;
    }
    const inflight = this.pending.get(key);
    if (inflight) {
      this.hits++;
      return inflight;
    }
    this.misses++;
    const p = load()
      .then((value) => {
        this.put(key, value, stamp);
        return value;
      })
      .finally(() => this.pending.delete(key));
    this.pending.set(key, p);
    return p;
  }

  private put(key: string, value: DecodedFile, stamp: number): void {
    const bytes = decodedBytes(value);
    if (bytes > this.maxBytes) return;
    const old = this.entries.get(key);
    if (old) {
      this.bytes -= old.bytes;
      this.entries.delete(key);
    }
    // room: entries this request has not used, least recently used first
    let free = this.maxBytes - this.bytes;
    const victims: string[] = [];
    for (const [k, e] of this.entries) {
      if (free >= bytes) break;
      if (stamp !== 0 && e.stamp === stamp) continue;
      victims.push(k);
      free += e.bytes;
    }
    if (free < bytes) {
      this.bypassed++;
      return;
    }
    for (const k of victims) {
      const e = this.entries.get(k);
      if (!e) continue;
      this.entries.delete(k);
      this.bytes -= e.bytes;
      this.evictions++;
    }
    this.entries.set(key, { value, bytes, stamp });
    this.bytes += bytes;
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  stats(): CacheStats {
    return {
      hits: this.hits,
      misses: this.misses,
      evictions: this.evictions,
      bypassed: this.bypassed,
      entries: this.entries.size,
      bytes: this.bytes,
      maxBytes: this.maxBytes,
    };
  }
}
