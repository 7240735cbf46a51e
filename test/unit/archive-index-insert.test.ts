/**
 * The SQLite index's multi-row inserts (index-db/sqlite.ts MULTI rows a statement, the rest one by
 * one): every row of a batch arrives, whatever its count against MULTI and sql.ts's chunks.
 */
import { openIndexDb } from '../../data-nodes/archive';
import type { FieldRow, FileRow } from '../../data-nodes/archive/index-db/types';

const file = (key: string, path: string): FileRow => ({
  key,
  path,
  size: 1,
  mtime: 1,
  hash: null,
  format: 'csv',
  status: 'ok',
  error: null,
  tFirst: 1000,
  tLast: 2000,
  nSamples: 10,
  badRows: 0,
  recheck: false,
  scannedAt: 1,
});

const field = (key: string, name: string): FieldRow => ({
  key,
  field: name,
  timeline: 'tl',
  type: 'number',
  units: null,
  description: null,
  interval: 1,
  tFirst: 1000,
  tLast: 2000,
  n: 10,
  tierMin: null,
});

test('batches of 1, 127, 128, 129, 500 and 1283 field rows: every one is stored', async () => {
  const db = openIndexDb('sqlite::memory:');
  try {
    await db.migrate();
    let total = 0;
    for (const [k, n] of [1, 127, 128, 129, 500, 1283].entries()) {
      const key = `f${k}`;
      const fields = Array.from({ length: n }, (_, i) => field(key, `batch${k}.field_${i}`));
      await db.writeBatch({ files: [{ file: file(key, `${key}.csv`), fields, fresh: true }], touched: [], deleteKeys: [] });
      total += n;
    }
    const names = (await db.fieldMeta()).map((m) => m.field);
    expect(names).toHaveLength(total);
    expect(new Set(names).size).toBe(total);
    expect(names).toContain('batch5.field_1282');
    expect(await db.listFiles()).toHaveLength(6);
  } finally {
    await db.close();
  }
});

test('a batch with a row that breaks a key is refused whole, and the index takes the next batch', async () => {
  // the inserts are INSERT OR ROLLBACK (no statement journal): the failed statement ends the transaction
  const db = openIndexDb('sqlite::memory:');
  try {
    await db.migrate();
    const good = Array.from({ length: 200 }, (_, i) => field('a', `a.field_${i}`));
    await db.writeBatch({ files: [{ file: file('a', 'a.csv'), fields: good, fresh: true }], touched: [], deleteKeys: [] });
    const gen = await db.generation();
    for (const at of [5, 150, 260]) {
      // the repeated (file_key, field) lands in the first multi-row statement, after it, or in the one-by-one tail
      const fields = Array.from({ length: 300 }, (_, i) => field('b', `b.field_${i}`));
      fields.splice(at, 0, field('b', `b.field_${at > 0 ? at - 1 : 0}`));
      // the message, not toThrow: better-sqlite3 keeps the error class of the first test file that loaded
      // it in this worker, whose Error is not this file's (jest's realm per file), and toThrow wants one
      const err: unknown = await db
        .writeBatch({ files: [{ file: file('b', 'b.csv'), fields, fresh: true }], touched: [], deleteKeys: [] })
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(String((err as { message?: unknown } | null)?.message)).toMatch(/UNIQUE constraint failed/);
      expect((await db.listFiles()).map((f) => f.key)).toEqual(['a']);
      expect(await db.fieldMeta()).toHaveLength(200);
      expect(await db.generation()).toBe(gen);
    }
    const fields = Array.from({ length: 300 }, (_, i) => field('b', `b.field_${i}`));
    await db.writeBatch({ files: [{ file: file('b', 'b.csv'), fields, fresh: true }], touched: [], deleteKeys: [] });
    expect((await db.listFiles()).map((f) => f.key).sort()).toEqual(['a', 'b']);
    expect(await db.fieldMeta()).toHaveLength(500);
  } finally {
    await db.close();
  }
});
