/**
 * The exporter's disk-backed buffer: SQLite in WAL mode (better-sqlite3), the pattern of the MQTT
 * store (data-nodes/mqtt/store.ts).
 *
 *   queue(id INTEGER PRIMARY KEY, n, bytes, lines TEXT)   chunks of up to 1000 lines ("\n"-joined)
 *                                                         waiting for the database, oldest first
 *   cursors(node TEXT PRIMARY KEY, t REAL)       per node: everything up to t is in the queue (or sent)
 *   types(key TEXT PRIMARY KEY, kind TEXT)       "measurement\0field" → the field type written first
 *   counters(name TEXT PRIMARY KEY, n INTEGER)   dropped, dead_letters, sent (survive restarts)
 *
 * `append` writes lines and the node's cursor in one transaction: once it returns, a kill -9 of the
 * exporter loses nothing (SQLite's WAL survives a process crash; `synchronous = FULL` also survives
 * power loss, at a cost, with `durable: 'full'`). `peek` reads the oldest lines, `ack` deletes them
 * once the database accepted them: a line leaves the buffer only after a 2xx.
 *
 * Bound: at most `maxBytes` of lines (default 1 GiB). Beyond it the OLDEST lines are deleted, counted
 * in `dropped` and logged (warn, with the count and the bound): a long outage costs the oldest data,
 * never memory, never a crash, never silently.
 */
import Database from 'better-sqlite3';
import { silentLogger, type Logger } from '../../common/log';
import type { FieldKind } from './line-protocol';

export const DEFAULT_BUFFER_BYTES = 1024 * 1024 * 1024;

export interface BufferOptions {
  path: string;
  maxBytes?: number;
  durable?: 'normal' | 'full';
  logger?: Logger;
}

export interface Peeked {
  /** chunk ids, and how many lines each holds (in order) */
  ids: number[];
  counts: number[];
  lines: string[];
  bytes: number;
}

/** Lines per stored chunk: the unit of acknowledgement and of dropping. */
export const CHUNK_LINES = 1000;

export class LineBuffer {
  readonly db: Database.Database;
  readonly maxBytes: number;
  private readonly log: Logger;
  private bytes = 0;
  private count = 0;
  private readonly stAppend: Database.Statement;
  private readonly stCursor: Database.Statement;
  private readonly stType: Database.Statement;
  private readonly stPeek: Database.Statement;
  private readonly stAckBytes: Database.Statement;
  private readonly stAck: Database.Statement;
  private readonly stCount: Database.Statement;
  private readonly stDropUntil: Database.Statement;
  private readonly txAppend: (lines: string[], node: string | null, cursor: number | null, types: Map<string, FieldKind>) => number;
  readonly counters: Record<'dropped' | 'dead_letters' | 'sent', number> = { dropped: 0, dead_letters: 0, sent: 0 };

  constructor(o: BufferOptions) {
    this.log = o.logger ?? silentLogger;
    this.maxBytes = o.maxBytes ?? DEFAULT_BUFFER_BYTES;
    this.db = new Database(o.path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${o.durable === 'full' ? 'FULL' : 'NORMAL'}`);
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS queue (id INTEGER PRIMARY KEY, n INTEGER NOT NULL, bytes INTEGER NOT NULL, lines TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS cursors (node TEXT PRIMARY KEY, t REAL NOT NULL);
      CREATE TABLE IF NOT EXISTS types (key TEXT PRIMARY KEY, kind TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, n INTEGER NOT NULL);
    `);
    this.stAppend = this.db.prepare('INSERT INTO queue (n, bytes, lines) VALUES (?, ?, ?)');
    this.stCursor = this.db.prepare('INSERT INTO cursors (node, t) VALUES (?, ?) ON CONFLICT (node) DO UPDATE SET t = max(t, excluded.t)');
    this.stType = this.db.prepare('INSERT OR IGNORE INTO types (key, kind) VALUES (?, ?)');
    this.stPeek = this.db.prepare('SELECT id, n, bytes, lines FROM queue ORDER BY id LIMIT ?').raw(true);
    this.stAckBytes = this.db.prepare('SELECT coalesce(sum(n), 0), coalesce(sum(bytes), 0) FROM queue WHERE id <= ?').raw(true);
    this.stAck = this.db.prepare('DELETE FROM queue WHERE id <= ?');
    this.stCount = this.db.prepare('SELECT coalesce(sum(n), 0), coalesce(sum(bytes), 0) FROM queue').raw(true);
    this.stDropUntil = this.db
      .prepare('SELECT max(id), sum(n), sum(bytes) FROM (SELECT id, n, bytes FROM queue ORDER BY id LIMIT ?)')
      .raw(true);
    const tx = this.db.transaction((lines: string[], node: string | null, cursor: number | null, types: Map<string, FieldKind>) => {
      let bytes = 0;
      for (let i = 0; i < lines.length; i += CHUNK_LINES) {
        const part = lines.slice(i, i + CHUNK_LINES);
        const text = part.join('\n');
        const b = Buffer.byteLength(text) + 1;
        this.stAppend.run(part.length, b, text);
        bytes += b;
      }
      if (node !== null && cursor !== null) this.stCursor.run(node, cursor);
      for (const [k, kind] of types) this.stType.run(k, kind);
      return bytes;
    });
    this.txAppend = (l, n, c, t) => tx(l, n, c, t);
    const [n, b] = this.stCount.get() as [number, number];
    this.count = n;
    this.bytes = b;
    for (const row of this.db.prepare('SELECT name, n FROM counters').all() as Array<{ name: string; n: number }>) {
      if (row.name in this.counters) this.counters[row.name as keyof LineBuffer['counters']] = row.n;
    }
  }

  /** Lines waiting. */
  get pending(): number {
    return this.count;
  }

  get pendingBytes(): number {
    return this.bytes;
  }

  cursor(node: string): number | null {
    const r = this.db.prepare('SELECT t FROM cursors WHERE node = ?').get(node) as { t: number } | undefined;
    return r?.t ?? null;
  }

  types(): Map<string, FieldKind> {
    const m = new Map<string, FieldKind>();
    for (const r of this.db.prepare('SELECT key, kind FROM types').all() as Array<{ key: string; kind: FieldKind }>) m.set(r.key, r.kind);
    return m;
  }

  /** Appends lines (and moves `node`'s cursor to `cursor`) in one transaction, then enforces the bound. */
  append(lines: string[], node: string | null = null, cursor: number | null = null, types: Map<string, FieldKind> = new Map()): void {
    this.bytes += this.txAppend(lines, node, cursor, types);
    this.count += lines.length;
    if (this.bytes > this.maxBytes) this.dropOldest();
  }

  private dropOldest(): void {
    let dropped = 0;
    while (this.bytes > this.maxBytes && this.count > 0) {
      // drop in slices of about a tenth of the queue, so one slow DELETE does not run per line
      const [lastId, n, b] = this.stDropUntil.get(Math.max(1, Math.ceil(this.count / CHUNK_LINES / 10))) as [number, number, number];
      this.stAck.run(lastId);
      this.count -= n;
      this.bytes -= b;
      dropped += n;
    }
    this.bump('dropped', dropped);
    this.log.warn(
      { dropped, totalDropped: this.counters.dropped, maxBytes: this.maxBytes },
      'export buffer full: dropped the oldest lines (raise --buffer-bytes or fix the database)',
    );
  }

  /** The oldest chunks, up to about `maxLines` and `maxBytes` (at least one chunk). */
  peek(maxLines: number, maxBytes: number): Peeked {
    const out: Peeked = { ids: [], counts: [], lines: [], bytes: 0 };
    for (const row of this.stPeek.iterate(Math.max(1, maxLines))) {
      const [id, n, b, text] = row as [number, number, number, string];
      if (out.ids.length > 0 && (out.bytes + b > maxBytes || out.lines.length + n > maxLines)) break;
      for (const l of text.split('\n')) out.lines.push(l);
      out.bytes += b;
      out.ids.push(id);
      out.counts.push(n);
    }
    return out;
  }

  /** Deletes every line up to `lastId` (the database has them, or they went to the dead-letter file). */
  ack(lastId: number, sent: number): void {
    const [n, b] = this.stAckBytes.get(lastId) as [number, number];
    this.stAck.run(lastId);
    this.count -= n;
    this.bytes -= b;
    this.bump('sent', sent);
  }

  bump(name: keyof LineBuffer['counters'], n: number): void {
    if (n === 0) return;
    this.counters[name] += n;
    this.db
      .prepare('INSERT INTO counters (name, n) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET n = excluded.n')
      .run(name, this.counters[name]);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
