import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { openIndexDb, Scanner } from '../../data-nodes/archive';
import { Sha1Worker } from '../../data-nodes/archive/hash-worker';

const sha1 = (b: Uint8Array): string => createHash('sha1').update(b).digest('hex');

describe('Sha1Worker (the scanner content hash beside the decode)', () => {
  test('hashes on the worker exactly as in place, views of bigger buffers cut to their bytes', async () => {
    const w = new Sha1Worker(0);
    try {
      const big = Buffer.alloc(3 << 20);
      for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 24;
      const parts = [big, big.subarray(17, 1 << 20), Buffer.from('x'), Buffer.alloc(0)];
      const got = await Promise.all(parts.map((p) => w.hash(p)));
      expect(got).toEqual(parts.map(sha1));
    } finally {
      await w.close();
    }
  });

  test('small contents are hashed in place; after close every hash is still answered', async () => {
    const w = new Sha1Worker(1024);
    const small = Buffer.from('small file');
    expect(await w.hash(small)).toBe(sha1(small));
    const big = Buffer.alloc(4096, 7);
    const pending = w.hash(big);
    await w.close();
    expect(await pending).toBe(sha1(big));
    expect(await w.hash(big)).toBe(sha1(big));
  });
});

test('the scanner tells a touched big file (hashed on the worker) from one changed at the same size', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sisock-hashw-'));
  const db = openIndexDb('sqlite::memory:');
  const csv = (k: number): string => `time,v\n${Array.from({ length: 40000 }, (_, i) => `${1000 + i},${(i * k) % 10}`).join('\n')}\n`;
  const a = path.join(dir, 'a.csv');
  const b = path.join(dir, 'b.csv');
  writeFileSync(a, csv(3));
  writeFileSync(b, csv(3));
  expect(csv(3).length).toBeGreaterThan(256 * 1024);
  const s = await Scanner.open({ db, dataDir: dir, settleSeconds: 0 });
  try {
    expect((await s.scan()).added).toBe(2);
    utimesSync(a, new Date(), new Date(Date.now() + 5000)); // touched: same content
    writeFileSync(b, csv(7)); // changed, same size
    expect(csv(7).length).toBe(csv(3).length);
    utimesSync(b, new Date(), new Date(Date.now() + 5000));
    expect(await s.scan()).toMatchObject({ touched: 1, updated: 1, unchanged: 0 });
  } finally {
    await s.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
