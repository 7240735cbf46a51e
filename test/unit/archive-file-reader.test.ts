import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { FileReader, pageAlignedBuffer, type FileJob } from '../../data-nodes/archive/file-read';

describe('FileReader: a decode worker reads each file into one page-aligned buffer it keeps', () => {
  test('pageAlignedBuffer: at least the bytes asked for, whole WebAssembly pages, a plain (not shared) ArrayBuffer of its own', () => {
    for (const n of [1, 65536, 65537, 630_000]) {
      const b = pageAlignedBuffer(n);
      expect(b.length).toBeGreaterThanOrEqual(n);
      expect(b.length % 65536).toBe(0);
      expect(b.byteOffset).toBe(0);
      expect(Object.prototype.toString.call(b.buffer)).toBe('[object ArrayBuffer]'); // (not instanceof: jest's realm has its own)
      expect(b.buffer.byteLength).toBe(b.length);
      b[n - 1] = 7;
      expect(b[n - 1]).toBe(7);
    }
  });

  test('files of growing and shrinking sizes read back byte for byte; the buffer is kept while big enough, and grows by half at least', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sisock-filereader-'));
    try {
      const reader = new FileReader();
      const sizes = [0, 10, 200_000, 100, 200_001, 1_500_000, 70_000];
      const buffers = new Set<ArrayBufferLike>();
      for (const [i, size] of sizes.entries()) {
        const abs = path.join(dir, `f${i}.bin`);
        const bytes = randomBytes(size);
        writeFileSync(abs, bytes);
        const st = statSync(abs);
        const job: FileJob = {
          key: `k${i}`,
          relPath: `f${i}.bin`,
          format: 'csv',
          sameAs: null,
          summaries: false,
          abs,
          size: st.size,
          mtimeMs: st.mtimeMs,
        };
        const r = await reader.read(job);
        if (!('content' in r)) throw new Error(`f${i}: ${JSON.stringify(r)}`);
        expect(r.content.length).toBe(size);
        expect(Buffer.compare(r.content, bytes)).toBe(0);
        buffers.add(r.content.buffer);
      }
      // 0 and 10 share the first buffer; 200_000 makes one (>= 1.5x), which 100 and 200_001 reuse; 1.5 MB one more; 70_000 reuses it
      expect(buffers.size).toBe(3);
      reader.release();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
