/**
 * The G3 content fingerprint (frame.ts `frameFingerprint`, g3Format.fingerprint): what the scanner stores
 * for an uncompressed G3 file instead of the sha1 of its bytes, and compares to tell a file whose mtime
 * changed from one whose content did (file-summary.ts).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { openIndexDb, Scanner } from '../../data-nodes/archive';
import { contentHash, summariseFile } from '../../data-nodes/archive/file-summary';
import { g3Format } from '../../data-nodes/archive/formats/g3';
import { frameFingerprint } from '../../data-nodes/archive/formats/g3/frame';
import { dataFrame, sessionFrame, statusFrame } from '../../bench/g3-writer';
import { G3_VECTORS, haveG3Vectors } from '../helpers/vectors';

const T0 = 1767225600;
const DESC = 'observatory.fp.feeds.hk';

/** A small HK file: session, status, then `frames` data frames of 10 samples of two fields. */
function hkFile(frames = 2, scale = 1): Buffer {
  const sid = BigInt(T0) << 28n;
  const parts = [sessionFrame(sid, T0), statusFrame(sid, T0, [{ id: 0, description: DESC }])];
  for (let k = 0; k < frames; k++) {
    const t = T0 + k * 10;
    const ticks = BigInt64Array.from({ length: 10 }, (_, i) => BigInt(t + i) * 100000000n);
    const fields = ['a', 'b'].map((name, f) => ({
      name,
      kind: 'double' as const,
      values: Float64Array.from({ length: 10 }, (_, i) => (t + i + f) * scale),
    }));
    parts.push(dataFrame(sid, 0, t + 10, [{ name: 'main', ticks, fields }], DESC));
  }
  return Buffer.concat(parts);
}

const fp = (b: Buffer, verify: boolean): string | null => g3Format.fingerprint?.(b, verify) ?? null;

describe('G3 content fingerprint', () => {
  test('the same for the same content wherever it lies, verified or not; 40 characters that no sha1 hex digest can be', () => {
    const b = hkFile();
    const f = fp(b, true);
    expect(f).toMatch(/^g3[0-9a-f]{38}$/);
    expect(fp(b, false)).toBe(f);
    const elsewhere = Buffer.concat([Buffer.from('xyz'), b]).subarray(3);
    expect(fp(elsewhere, true)).toBe(f);
    expect(fp(hkFile(2, 2), true)).not.toBe(f); // other values, same layout
  });

  test('its value is the one every earlier scanner stored (an index keeps recognising its files)', () => {
    // taken from the scanner before the fingerprint moved into the decode's walk (4714143): a change of
    // these makes every index decode every G3 file again at its next scan
    const b = hkFile(3);
    expect(b.length).toBe(3940);
    expect(fp(b, false)).toBe('g36f03e66b349f62148ccf3a5fc0b539a3238fbf');
    expect(fp(b.subarray(0, b.length - 7), false)).toBe('g328715a97590d057a2514b87f1316dec0195eeb');
    if (haveG3Vectors()) {
      expect(fp(readFileSync(path.join(G3_VECTORS, 'hk_v2_basic.g3')), false)).toBe('g3f952e88cce82b757dffe3c1697d230d9f87cbf');
      expect(fp(readFileSync(path.join(G3_VECTORS, 'test-be.g3')), false)).toBe('g3830676086a1c44086d548eef0e5c129ab99768');
    }
  });

  test('every byte changed is seen: directly, or through the frame CRC it breaks (verified: null, the file is decoded)', () => {
    const b = hkFile(1);
    const orig = fp(b, true);
    let viaCrc = 0;
    for (let i = 0; i < b.length; i++) {
      const c = Buffer.from(b);
      c[i] = (c[i] ?? 0) ^ 0x10;
      const verified = fp(c, true);
      expect(verified).not.toBe(orig);
      // Unverified, a change inside a name or a blob leaves the fingerprint as it was (only its stored
      // CRC is hashed): the scanner asks for that only when it decodes the file anyway.
      if (verified === null && fp(c, false) === orig) viaCrc++;
    }
    expect(viaCrc).toBeGreaterThan(b.length / 2); // names and blobs are most of a frame
  });

  test('a file still being written: its incomplete last frame is hashed whole; a cut between frames is its own content', () => {
    const whole = hkFile(3);
    const cut = whole.subarray(0, whole.length - 7);
    const f = fp(cut, true);
    expect(f).toMatch(/^g3/);
    expect(f).not.toBe(fp(whole, true));
    const other = Buffer.from(cut);
    other[other.length - 1] = (other[other.length - 1] ?? 0) ^ 1;
    expect(fp(other, true)).not.toBe(f);
    expect(fp(hkFile(2), true)).not.toBe(f);
  });

  test('compressed files and content that is not frames: null, so their bytes are hashed (sha1)', async () => {
    const b = hkFile();
    expect(fp(gzipSync(b), true)).toBeNull();
    expect(frameFingerprint(Buffer.from([7, 1, 0, 0, 0]), true)).toBeNull(); // endianness flag 7
    const gz = gzipSync(b);
    const r = await summariseFile({ key: 'k', relPath: 'a.g3.gz', format: 'g3', content: gz, sameAs: null, summaries: false });
    expect(r).toMatchObject({ kind: 'decoded', hash: contentHash(gz) });
    const plain = await summariseFile({ key: 'k', relPath: 'a.g3', format: 'g3', content: b, sameAs: null, summaries: false });
    expect(plain).toMatchObject({ kind: 'decoded', hash: fp(b, false) });
  });

  (haveG3Vectors() ? test : test.skip)('every uncompressed vector of spt3g and so3g (both byte orders) has one, verified', () => {
    let n = 0;
    for (const name of ['hk_v0.g3', 'hk_v1.g3', 'hk_v2_basic.g3', 'hk_rotated_00000.g3', 'g3_types.g3', 'test-be.g3', 'test-le.g3']) {
      const b = readFileSync(path.join(G3_VECTORS, name));
      expect(fp(b, true)).toMatch(/^g3[0-9a-f]{38}$/);
      n++;
    }
    expect(n).toBe(7);
  });

  test("a new file's decode computes it in its own walk of the frames (no second walk): the same value, tail and vectors included", async () => {
    const whole = hkFile(3);
    const files = [whole, whole.subarray(0, whole.length - 7), hkFile(2, 2)];
    if (haveG3Vectors())
      for (const name of ['hk_v0.g3', 'hk_v1.g3', 'hk_v2_basic.g3', 'hk_rotated_00000.g3', 'g3_types.g3', 'test-be.g3', 'test-le.g3'])
        files.push(readFileSync(path.join(G3_VECTORS, name)));
    const spy = jest.spyOn(g3Format, 'fingerprint');
    try {
      for (const b of files) {
        const expected = frameFingerprint(b, false);
        expect(expected).not.toBeNull();
        // asked for: in the result
        expect(g3Format.decode(b, { relPath: 'a.g3', fingerprint: true }).fingerprint).toBe(`g3${expected?.slice(0, 38)}`);
        expect(g3Format.decode(b, { relPath: 'a.g3' }).fingerprint).toBeUndefined();
        const want = fp(b, false);
        spy.mockClear();
        const r = await summariseFile({ key: 'k', relPath: 'a.g3', format: 'g3', content: b, sameAs: null, summaries: true });
        expect(spy).not.toHaveBeenCalled();
        expect(r).toMatchObject({ kind: 'decoded', hash: want });
      }
      // compressed (gzip, bzip2, xz): the decode has none to give (the fingerprint is of the file's bytes as stored)
      const tmp = mkdtempSync(path.join(tmpdir(), 'sisock-g3fpz-'));
      try {
        const raw = path.join(tmp, 'a.g3');
        writeFileSync(raw, whole);
        execFileSync('bzip2', ['-k', raw]);
        execFileSync('xz', ['-k', raw]);
        for (const [name, z] of [
          ['a.g3.gz', gzipSync(whole)],
          ['a.g3.bz2', readFileSync(`${raw}.bz2`)],
          ['a.g3.xz', readFileSync(`${raw}.xz`)],
        ] as const) {
          expect((await g3Format.decodeAsync?.(z, { relPath: name, fingerprint: true }))?.fingerprint).toBeUndefined();
          expect(await summariseFile({ key: 'k', relPath: name, format: 'g3', content: z, sameAs: null, summaries: false })).toMatchObject({
            kind: 'decoded',
            hash: contentHash(z),
          });
        }
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
      // indexed before: verified first (a match skips the decode), as always
      const indexed = fp(whole, false);
      spy.mockClear();
      expect(await summariseFile({ key: 'k', relPath: 'a.g3', format: 'g3', content: whole, sameAs: indexed, summaries: false })).toEqual({
        kind: 'same',
        hash: indexed,
      });
      expect(spy).toHaveBeenCalledWith(expect.anything(), true);
    } finally {
      spy.mockRestore();
    }
  });

  test('the scanner: a touched G3 file is not decoded again; a copy damaged in transit (same size, its CRC kept) is, and is an error', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sisock-g3fp-'));
    const data = path.join(dir, 'data');
    const file = path.join(data, 'hk.g3');
    const db = openIndexDb(`sqlite:${path.join(dir, 'index.sqlite')}`);
    try {
      mkdirSync(data);
      const b = hkFile(3);
      writeFileSync(file, b);
      const s = await Scanner.open({ db, dataDir: data, settleSeconds: 0, workers: 0 });
      try {
        expect((await s.scan()).added).toBe(1);
        expect((await db.listFiles())[0]?.hash).toBe(fp(b, false));
        utimesSync(file, new Date(), new Date(Date.now() + 5000));
        expect(await s.scan()).toMatchObject({ touched: 1, updated: 0 });
        // new values, same size, valid CRCs: decoded again
        const other = hkFile(3, 2);
        expect(other.length).toBe(b.length);
        writeFileSync(file, other);
        utimesSync(file, new Date(), new Date(Date.now() + 9000));
        expect(await s.scan()).toMatchObject({ touched: 0, updated: 1 });
        expect((await db.listFiles())[0]).toMatchObject({ hash: fp(other, false), status: 'ok' });
        // one bit of a value flipped, the stored CRC as it was: not taken for the indexed content
        const damaged = Buffer.from(other);
        damaged[damaged.length - 40] = (damaged[damaged.length - 40] ?? 0) ^ 4;
        expect(fp(damaged, false)).toBe(fp(other, false));
        writeFileSync(file, damaged);
        utimesSync(file, new Date(), new Date(Date.now() + 13000));
        expect(await s.scan()).toMatchObject({ touched: 0, errors: 1 });
        expect((await db.listFiles())[0]).toMatchObject({ status: 'error' });
        expect((await db.listFiles())[0]?.error).toMatch(/CRC/);
      } finally {
        await s.close();
      }
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
