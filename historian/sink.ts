/**
 * What the follower (follow.ts) writes into: the historian's embedded store, the exporter, or both.
 * A sink stores a node's samples and remembers, per node, the time up to which it holds everything
 * (its cursor), so that a restart backfills from there.
 */
import type { DataResult, FieldInfo } from '../contract';

export interface WriteOptions {
  /** The node's fields from its get_fields (which timeline a field belongs to, its type and units). */
  fields?: Readonly<Record<string, FieldInfo>>;
  /**
   * Everything of this node before this time is now stored: move the cursor there. Live samples
   * do not move it until the node's backfill has completed (a crash in between then re-reads the gap).
   */
  cursorTo?: number | null;
  /**
   * The node's metadata (its get_metadata answer when it (re)appeared: host, description, process,
   * status…), for naming templates such as a tag `host={meta.host}`; absent when the node has none.
   */
  meta?: Readonly<Record<string, unknown>>;
}

export interface Sink {
  cursor(node: string): number | null;
  write(node: string, result: DataResult, o?: WriteOptions): void;
}

/** Writes to several sinks; the cursor is the oldest of theirs (each backfills what any lacks). */
export class TeeSink implements Sink {
  constructor(private readonly sinks: Sink[]) {}

  cursor(node: string): number | null {
    let c: number | null = null;
    for (const s of this.sinks) {
      const x = s.cursor(node);
      if (x === null) return null;
      c = c === null ? x : Math.min(c, x);
    }
    return c;
  }

  write(node: string, result: DataResult, o?: WriteOptions): void {
    for (const s of this.sinks) s.write(node, result, o);
  }
}
