/**
 * File keys: a file indexed for the first time gets the next sequence key (scanner.ts `fileKey`), in path
 * order within a scan and after every key before it; a file keeps its key while it stays at its path,
 * including the sha1-of-path keys of an older index.
 */
import { mkdtempSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { openIndexDb, Scanner } from '../../data-nodes/archive';
import { sha1Hex } from '../../data-nodes/archive/file-summary';
import { fileKey } from '../../data-nodes/archive/scanner';

const csv = (k: number): string => `time,v\n${Array.from({ length: 20 }, (_, i) => `${1000 + i},${i * k}`).join('\n')}\n`;

test('new files get sequence keys in path order, after every earlier key; a file keeps its key, an older sha1 key too', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sisock-keys-'));
  const db = openIndexDb('sqlite::memory:');
  try {
    // an index written by an earlier scanner: its key is the sha1 of the path
    writeFileSync(path.join(dir, 'old.csv'), csv(1));
    const st = statSync(path.join(dir, 'old.csv'));
    await db.migrate();
    const oldKey = sha1Hex('old.csv');
    await db.writeBatch({
      files: [
        {
          file: {
            key: oldKey,
            path: 'old.csv',
            size: st.size,
            mtime: st.mtimeMs / 1000,
            hash: null,
            format: 'csv',
            status: 'ok',
            error: null,
            tFirst: 1000,
            tLast: 1019,
            nSamples: 20,
            badRows: 0,
            recheck: false,
            scannedAt: 0,
          },
          fields: [],
          fresh: true,
        },
      ],
      touched: [],
      deleteKeys: [],
    });
    for (const f of ['c.csv', 'a.csv', 'b.csv']) writeFileSync(path.join(dir, f), csv(2));
    const s = await Scanner.open({ db, dataDir: dir, settleSeconds: 0, workers: 0 });
    try {
      expect(await s.scan()).toMatchObject({ added: 3, unchanged: 1 });
      const keys = async () => new Map((await db.listFiles()).map((f) => [f.path, f.key]));
      expect(await keys()).toEqual(
        new Map([
          ['old.csv', oldKey],
          ['a.csv', fileKey(0, 'a.csv')],
          ['b.csv', fileKey(1, 'b.csv')],
          ['c.csv', fileKey(2, 'c.csv')],
        ]),
      );
      expect(fileKey(0, 'a.csv')).toMatch(/^s0{11}[0-9a-f]{28}$/);
      // a changed file keeps its key; a new one sorting first by path still comes after every key
      writeFileSync(path.join(dir, 'b.csv'), csv(3) + '1020,1\n');
      writeFileSync(path.join(dir, '0.csv'), csv(4));
      unlinkSync(path.join(dir, 'c.csv'));
      expect(await s.scan()).toMatchObject({ added: 1, updated: 1, deleted: 1 });
      const after = await keys();
      expect(after.get('b.csv')).toBe(fileKey(1, 'b.csv'));
      expect(after.get('0.csv')).toBe(fileKey(3, '0.csv'));
      expect(after.has('c.csv')).toBe(false);
      expect([...after.values()].filter((k) => k.startsWith('s')).sort()).toEqual([
        fileKey(0, 'a.csv'),
        fileKey(1, 'b.csv'),
        fileKey(3, '0.csv'),
      ]);
      expect((await db.fieldMeta()).length).toBeGreaterThan(0);
    } finally {
      await s.close();
    }
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
