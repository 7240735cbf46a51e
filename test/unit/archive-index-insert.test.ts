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
