import { execFileSync, spawnSync } from 'node:child_process';
import {
  appendFileSync,
  closeSync,
  fsyncSync,
  openSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  type Mode,
  type OpenMode,
  type PathLike,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  DIRECT_BLOCK,
  DIRECT_MIN_BYTES,
  FileReader,
  onLocalDisk,
  pageAlignedBuffer,
  readsAroundCache,
  readUnchanged,
  residentShare,
  type FileJob,
} from '../../data-nodes/archive/file-read';
import { servicesRequired } from '../helpers/services';
import { TEST_OUTPUT } from '../helpers/chromium';

/** util-linux's fincore (Debian: util-linux-extra, which `make test` installs), for `residentShare`. */
const haveFincore = spawnSync('fincore', ['--version']).status === 0;
if (!haveFincore && !servicesRequired()) console.log('skipped: residentShare with fincore (install util-linux-extra)');

/** The job of reading the file at `abs` as it is now (its size and mtime stat'ed). */
function job(abs: string, direct = false): FileJob {
  const st = statSync(abs);
  return {
    key: 'k',
    relPath: path.basename(abs),
    format: 'csv',
    sameAs: null,
    summaries: false,
    abs,
    size: st.size,
    mtimeMs: st.mtimeMs,
    direct,
  };
}

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
        const r = await reader.read(job(abs));
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

  describe('around the page cache (direct: O_DIRECT where the filesystem allows)', () => {
    // the module object file-read.ts calls openSync on (a namespace import is a copy spyOn cannot change)
    const fs = jest.requireActual<typeof import('node:fs')>('node:fs');
    const O_DIRECT = (fs.constants as { O_DIRECT?: number }).O_DIRECT;
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(path.join(tmpdir(), 'sisock-direct-'));
    });
    afterEach(() => {
      jest.restoreAllMocks();
      rmSync(dir, { recursive: true, force: true });
    });
    test('files of every size about a block read back byte for byte, opened with O_DIRECT (or through the cache where refused)', async () => {
      // whether this filesystem reads around the cache at all (then no read here may fall back)
      const probe = path.join(dir, 'probe.bin');
      writeFileSync(probe, randomBytes(DIRECT_BLOCK));
      let supported = O_DIRECT !== undefined;
      try {
        const fd = fs.openSync(probe, fs.constants.O_RDONLY | (O_DIRECT ?? 0));
        try {
          fs.readSync(fd, pageAlignedBuffer(DIRECT_BLOCK), 0, DIRECT_BLOCK, 0);
        } finally {
          fs.closeSync(fd);
        }
      } catch {
        supported = false;
      }
      const opens = jest.spyOn(fs, 'openSync');
      const reads = jest.spyOn(fs, 'readSync');
      const reader = new FileReader();
      for (const size of [0, 1, DIRECT_BLOCK - 2, DIRECT_BLOCK - 1, DIRECT_BLOCK, DIRECT_BLOCK + 1, 3 * DIRECT_BLOCK, 70_001, 630_000]) {
        const abs = path.join(dir, `f${size}.bin`);
        const bytes = randomBytes(size);
        writeFileSync(abs, bytes);
        opens.mockClear();
        reads.mockClear();
        const r = await reader.read(job(abs, true));
        if (!('content' in r)) throw new Error(`${size}: ${JSON.stringify(r)}`);
        expect(r.content.length).toBe(size);
        expect(Buffer.compare(r.content, bytes)).toBe(0);
        if (O_DIRECT !== undefined) {
          // first opened around the cache; a second open (through it) only if that was refused
          const flags = opens.mock.calls.map((c) => Number(c[1]));
          expect(flags[0] !== undefined && (flags[0] & O_DIRECT) !== 0).toBe(true);
          expect(flags.length).toBe(supported ? 1 : 2);
          if (flags.length === 2) expect((flags[1] as number) & O_DIRECT).toBe(0);
          // every read of the descriptor opened around the cache: at a block's start, whole blocks, into
          // memory at a block's start (what O_DIRECT asks; tmpfs and others let a wrong one through)
          const direct = opens.mock.results[0]?.value as number;
          const own = reads.mock.calls.filter((c) => c[0] === direct);
          expect(own.length).toBeGreaterThan(0);
          for (const [, b, offset, length, position] of own as unknown as Array<[number, Uint8Array, number, number, number]>) {
            expect([b.byteOffset, offset, length, position].map((x) => x % DIRECT_BLOCK)).toEqual([0, 0, 0, 0]);
          }
        }
      }
      // and not so without `direct`
      const abs = path.join(dir, 'plain.bin');
      writeFileSync(abs, randomBytes(100_000));
      opens.mockClear();
      expect('content' in (await reader.read(job(abs, false)))).toBe(true);
      expect(opens.mock.calls.map((c) => Number(c[1]) & (O_DIRECT ?? 0))).toEqual([0]);
    });

    test('a file that grew since its stat is a retry, as through the cache', async () => {
      const abs = path.join(dir, 'growing.bin');
      writeFileSync(abs, randomBytes(DIRECT_BLOCK * 2));
      const j = job(abs, true);
      appendFileSync(abs, randomBytes(10));
      expect(await new FileReader().read(j)).toMatchObject({ kind: 'retry' });
      // grown within the block the stat'ed size ends in: seen too
      const abs2 = path.join(dir, 'grown-a-byte.bin');
      writeFileSync(abs2, randomBytes(100));
      const j2 = job(abs2, true);
      appendFileSync(abs2, 'x');
      expect(await new FileReader().read(j2)).toMatchObject({ kind: 'retry' });
    });

    test.each(['EINVAL', 'EOPNOTSUPP', 'ENOSYS'])(
      'a filesystem that refuses O_DIRECT at the open (%s, as some FUSE ones): read through the cache, byte for byte',
      async (code) => {
        if (O_DIRECT === undefined) return; // no such flag here: never asked for
        const open = fs.openSync;
        const refused: number[] = [];
        jest.spyOn(fs, 'openSync').mockImplementation((p: PathLike, flags?: OpenMode, mode?: Mode | null) => {
          if (typeof flags === 'number' && flags & O_DIRECT) {
            refused.push(flags);
            throw Object.assign(new Error(`${code}: refused, open`), { code });
          }
          return open(p, flags ?? 'r', mode);
        });
        const abs = path.join(dir, 'fuse.bin');
        const bytes = randomBytes(100_000);
        writeFileSync(abs, bytes);
        const r = await new FileReader().read(job(abs, true));
        if (!('content' in r)) throw new Error(JSON.stringify(r));
        expect(Buffer.compare(r.content, bytes)).toBe(0);
        expect(refused.length).toBe(1);
      },
    );

    test("a read around the cache that ends short of a block's end inside the file (a FUSE or network one's): read again through the cache", async () => {
      if (O_DIRECT === undefined) return;
      const abs = path.join(dir, 'short.bin');
      const bytes = randomBytes(5 * DIRECT_BLOCK + 123);
      writeFileSync(abs, bytes);
      const open = fs.openSync;
      const read = fs.readSync;
      let direct = -1;
      jest.spyOn(fs, 'openSync').mockImplementation((p: PathLike, flags?: OpenMode, mode?: Mode | null) => {
        const fd = open(p, flags ?? 'r', mode);
        if (typeof flags === 'number' && flags & O_DIRECT) direct = fd;
        return fd;
      });
      const shortened: number[] = [];
      jest.spyOn(fs, 'readSync').mockImplementation(((
        fd: number,
        b: NodeJS.ArrayBufferView,
        offset: number,
        length: number,
        position: number,
      ) => {
        // the first read of the direct descriptor gives a block and 100 bytes, as a server might
        if (fd === direct && shortened.length === 0) {
          shortened.push(fd);
          return Math.min(read(fd, b, offset, length, position), DIRECT_BLOCK + 100);
        }
        return read(fd, b, offset, length, position);
      }) as typeof fs.readSync);
      const r = await new FileReader().read(job(abs, true));
      if (!('content' in r)) throw new Error(JSON.stringify(r));
      expect(shortened.length).toBe(1);
      expect(Buffer.compare(r.content, bytes)).toBe(0);
    });

    test("when a scan reads around the cache: 'always', 'never', or 'auto' from a local disk for more bytes than half the memory available, or for DIRECT_MIN_BYTES mostly not in the cache", () => {
      const GiB = 2 ** 30;
      expect(readsAroundCache('auto', 5 * GiB, 8 * GiB, true)).toBe(true);
      expect(readsAroundCache('auto', 4 * GiB, 8 * GiB, true)).toBe(false); // half: the cache can keep it
      expect(readsAroundCache('auto', 5 * GiB, 8 * GiB, false)).toBe(false); // NFS, tmpfs, FUSE, unknown
      expect(readsAroundCache('auto', 0, 0, true)).toBe(false);
      expect(readsAroundCache('always', 0, 8 * GiB, false)).toBe(true);
      expect(readsAroundCache('never', 100 * GiB, GiB, true)).toBe(false);
      // what the page cache holds of them (`residentShare`), where it can be told
      expect(readsAroundCache('auto', DIRECT_MIN_BYTES, 8 * GiB, true, 0.1)).toBe(true); // from disk
      expect(readsAroundCache('auto', DIRECT_MIN_BYTES, 8 * GiB, true, 0.49)).toBe(true);
      expect(readsAroundCache('auto', DIRECT_MIN_BYTES, 8 * GiB, true, 0.5)).toBe(false); // half of them cached
      expect(readsAroundCache('auto', DIRECT_MIN_BYTES, 8 * GiB, true, null)).toBe(false); // not told: the memory rule
      expect(readsAroundCache('auto', DIRECT_MIN_BYTES - 1, 8 * GiB, true, 0)).toBe(false); // too small to matter
      expect(readsAroundCache('auto', GiB, 8 * GiB, false, 0)).toBe(false); // not a local disk
      expect(readsAroundCache('auto', 5 * GiB, 8 * GiB, true, 1)).toBe(true); // more than the memory could keep
      expect(readsAroundCache('never', 5 * GiB, 8 * GiB, true, 0)).toBe(false);
    });

    (haveFincore || servicesRequired() ? test : test.skip)(
      "residentShare: the share of the files' bytes the page cache holds (fincore), without the files gone; null when it cannot be told",
      async () => {
        // on the repository's disk (the tests' temporary folder may be a tmpfs, where nothing leaves the cache)
        mkdirSync(TEST_OUTPUT, { recursive: true });
        const dir = mkdtempSync(path.join(TEST_OUTPUT, 'resident-'));
        try {
          // sizes not whole pages (fincore counts whole ones: its last is capped at the file's end)
          const sizes = [100_001, 300_001, 50_000, 200_003];
          const files = sizes.map((n, k) => path.join(dir, `f${k}.bin`));
          files.forEach((f, k) => writeFileSync(f, randomBytes(sizes[k]!)));
          for (const f of files) readFileSync(f);
          const local = onLocalDisk(dir); // (ZFS and network filesystems keep their own caches)
          if (local) expect(await residentShare(files)).toBe(1); // just written and read
          // a file gone since the walk is not counted
          expect(await residentShare([...files, path.join(dir, 'gone.bin')])).toBe(await residentShare(files));
          expect(await residentShare([])).toBeNull();
          expect(await residentShare([path.join(dir, 'gone.bin')])).toBeNull();
          if (local) {
            // the first two evicted (each written back first: dirty pages stay)
            for (const f of files.slice(0, 2)) {
              const fd = openSync(f, 'r+');
              fsyncSync(fd);
              closeSync(fd);
            }
            execFileSync('sh', ['-c', 'for f; do dd if="$f" iflag=nocache count=0 status=none; done', 'sh', files[0]!, files[1]!]);
            expect(await residentShare(files)).toBeCloseTo((50_000 + 200_003) / (100_001 + 300_001 + 50_000 + 200_003), 3);
          } else console.log(`residentShare: ${dir} is not on a local disk; its cache not looked at`);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    );

    test('residentShare: what it asks fincore (64 files at most, spread over the list) and what it takes from the answer', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'sisock-fincore-'));
      /** A fincore that prints `json` (and writes the files it was asked about to `args`). */
      const fake = (name: string, json: string): string => {
        const f = path.join(dir, name);
        writeFileSync(
          f,
          `#!/bin/sh\nwhile [ "$1" != "--" ]; do shift; done; shift\nprintf '%s\\n' "$@" > '${path.join(dir, 'args')}'\nprintf '%s' '${json}'\n`,
          { mode: 0o755 },
        );
        return f;
      };
      try {
        const paths = Array.from({ length: 200 }, (_, i) => `/data/-f${i}.g3`);
        const ok = fake('ok', '{"fincore":[{"res":8192,"size":100},{"res":0,"size":300}]}');
        expect(await residentShare(paths, ok)).toBe(0.25); // a last page past a file's end is not more of it
        const asked = readFileSync(path.join(dir, 'args'), 'utf8').trim().split('\n');
        expect(asked.length).toBe(64);
        expect(asked[0]).toBe('/data/-f0.g3');
        expect(asked[63]).toBe(`/data/-f${Math.floor((63 * 200) / 64)}.g3`);
        expect(await residentShare(paths.slice(0, 3), ok)).toBe(0.25);
        expect(readFileSync(path.join(dir, 'args'), 'utf8').trim().split('\n')).toEqual(paths.slice(0, 3));
        expect(await residentShare(paths, fake('str', '{"fincore":[{"res":"4096","size":100}]}'))).toBeNull();
        expect(await residentShare(paths, fake('cut', '{"fincore":[{"res":4096,'))).toBeNull();
        expect(await residentShare(paths, fake('none', '{"fincore":[]}'))).toBeNull();
        expect(await residentShare(paths, fake('empty', '{"fincore":[{"res":0,"size":0}]}'))).toBeNull();
        expect(await residentShare(paths, path.join(dir, 'no-fincore'))).toBeNull(); // none installed
        // one that does not answer in time is not waited for
        const slow = path.join(dir, 'slow');
        writeFileSync(slow, '#!/bin/sh\nexec sleep 30\n', { mode: 0o755 });
        const t0 = performance.now();
        expect(await residentShare(paths, slow, 200)).toBeNull();
        expect(performance.now() - t0).toBeLessThan(5000);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test('local disks are told by their filesystem: procfs, tmpfs and a missing folder are not', () => {
      expect(onLocalDisk('/no/such/folder/anywhere')).toBe(false);
      if (process.platform !== 'linux') return;
      expect(onLocalDisk('/proc')).toBe(false);
      const type = (p: string): number => Number(fs.statfsSync(p).type);
      if (fs.existsSync('/dev/shm') && type('/dev/shm') === 0x01021994) expect(onLocalDisk('/dev/shm')).toBe(false);
      if (type(dir) === 0xef53) expect(onLocalDisk(dir)).toBe(true); // ext4, as this project's CI machines
    });

    test('memory not at a block start (O_DIRECT refuses it: EINVAL): read through the cache, byte for byte', async () => {
      const abs = path.join(dir, 'odd.bin');
      const bytes = randomBytes(50_000);
      writeFileSync(abs, bytes);
      const st = statSync(abs);
      // one byte into a page-aligned buffer: never a block's start
      const r = await readUnchanged(
        { abs, size: st.size, mtimeMs: st.mtimeMs },
        (n) => pageAlignedBuffer(n + 1).subarray(1),
        undefined,
        true,
      );
      if (!('content' in r)) throw new Error(JSON.stringify(r));
      expect(Buffer.compare(r.content, bytes)).toBe(0);
    });
  });
});
