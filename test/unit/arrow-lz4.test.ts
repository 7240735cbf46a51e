/**
 * Arrow IPC files with LZ4_FRAME-compressed bodies (pyarrow's and pandas' Feather default) and the LZ4
 * frame decoder they need (formats/lz4.ts): what the reference `lz4` tool writes decodes exactly, damaged
 * frames are FormatErrors, and a compressed file reads as its uncompressed twin. The hostile compressed
 * files (declared lengths, blocks, the ZSTD codec) are in arrow-hostile.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { Dictionary, Float32, Int32, makeVector, Table, tableToIPC, TimestampMillisecond, Utf8, vectorFromArray } from 'apache-arrow';
import { arrowFormat, FormatError } from '../../data-nodes/archive/formats';
import { lz4FrameDecode } from '../../data-nodes/archive/formats/lz4';
import { lz4Cli, lz4Ipc } from '../helpers/arrow-lz4';
import { G3_VECTORS, haveG3Vectors } from '../helpers/vectors';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { openIndexDb, Scanner } from '../../data-nodes/archive';
import { DecodePool } from '../../data-nodes/archive/decode-pool';
import { summariseFile, type SummaryJob } from '../../data-nodes/archive/file-summary';
import { THREAD_DECODED_BYTES } from '../../data-nodes/archive/formats/types';

/** Worker threads load the TypeScript sources through this hook. */
const TS_WORKERS = ['--require', path.join(__dirname, '..', 'helpers', 'ts-require.js')];

/** The lz4 tool's options that change the frame: block sizes, linked blocks, checksums, content size, levels. */
const FLAGS = [[], ['--content-size'], ['-BX'], ['--no-frame-crc'], ['-B4'], ['-B4', '-BD'], ['-9'], ['--fast=5']];

const samples = (): Array<[string, Buffer]> => [
  ['zeros', Buffer.alloc(1 << 20)],
  ['random', randomBytes(200_000)],
  ['csv text', Buffer.from(Array.from({ length: 20_000 }, (_, i) => `${1000 + i},${(i * 7) % 13},${Math.sin(i).toFixed(6)}\n`).join(''))],
  ['doubles', Buffer.from(Float64Array.from({ length: 100_000 }, (_, i) => Math.round(Math.sin(i / 100) * 1000) / 10).buffer)],
  ['empty', Buffer.alloc(0)],
];

describe('LZ4 frames (formats/lz4.ts)', () => {
  test('what the reference lz4 tool writes decodes exactly, whatever its options', () => {
    for (const [what, data] of samples())
      for (const flags of FLAGS) {
        const frame = lz4Cli(data, flags);
        const out = new Uint8Array(data.length);
        expect({ what, flags, n: lz4FrameDecode(frame, out) }).toEqual({ what, flags, n: data.length });
        expect(Buffer.from(out).equals(data)).toBe(true);
        // two frames back to back, and a skippable frame between them
        const skip = Buffer.from([0x5a, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3]);
        const two = new Uint8Array(2 * data.length);
        expect(lz4FrameDecode(Buffer.concat([frame, skip, frame]), two)).toBe(2 * data.length);
        expect(Buffer.from(two.subarray(data.length)).equals(data)).toBe(true);
      }
  });

  test('a damaged frame is a FormatError saying what is wrong; nothing is written past the output', () => {
    const data = samples()[2]![1].subarray(0, 20_000);
    const frame = lz4Cli(data, ['-B4', '-BD']);
    const expectRefused = (b: Uint8Array, out: Uint8Array, want?: RegExp) => {
      let err: unknown = null;
      try {
        lz4FrameDecode(b, out);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(FormatError);
      if (want) expect((err as Error).message).toMatch(want);
    };
    // the output one byte short: refused, not written past
    const guard = new Uint8Array(data.length + 64).fill(0xee);
    expectRefused(frame, guard.subarray(0, data.length - 1), /more data than the \d+ bytes declared/);
    expect(guard.subarray(data.length - 1).every((x) => x === 0xee)).toBe(true);
    // cut anywhere: refused (a cut between blocks misses the end mark)
    for (let n = 1; n < frame.length; n += 7) expectRefused(frame.subarray(0, n), new Uint8Array(data.length));
    const patched = (at: number, word: number) => {
      const b = Buffer.from(frame);
      b.writeUInt32LE(word >>> 0, at);
      return b;
    };
    expectRefused(patched(0, 0x184d2205), new Uint8Array(data.length), /magic number is 0x184d2205/);
    expectRefused(patched(7, 0x7fffffff), new Uint8Array(data.length), /a block of 2147483647 bytes/);
    expectRefused(patched(7, 0x80000000 | 70_000), new Uint8Array(data.length), /a block of 70000 bytes in a frame of at most 65536/);
    {
      const b = Buffer.from(frame);
      b[4] = (b[4]! & 0x3f) | 0x80; // version 2
      expectRefused(b, new Uint8Array(data.length), /frame version 2/);
      b[4] = 0x41; // version 1, a dictionary id
      expectRefused(b, new Uint8Array(data.length), /needs a dictionary/);
    }
    // a match reaching before the output's start: a block of one literal and a match 2 back
    const block = Buffer.from([0x10, 0x41, 0x02, 0x00, 0x00]);
    const hand = Buffer.concat([
      Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82]),
      Buffer.from([block.length, 0, 0, 0]),
      block,
      Buffer.alloc(4),
    ]);
    expectRefused(hand, new Uint8Array(100), /a match 2 bytes back, 1 bytes into the output/);
    // a seeded sweep of mutations: each decodes into its output or is a FormatError
    let seed = 7;
    const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    for (let i = 0; i < 3000; i++) {
      const b = Buffer.from(frame);
      for (let k = 1 + Math.floor(rnd() * 3); k > 0; k--) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      const out = new Uint8Array(data.length);
      try {
        expect(lz4FrameDecode(b, out)).toBeLessThanOrEqual(out.length);
      } catch (e) {
        expect(e).toBeInstanceOf(FormatError);
      }
    }
  });
});

describe('Arrow IPC with LZ4-compressed bodies', () => {
  const table = (n: number) => {
    const ts = makeVector({
      type: new TimestampMillisecond(),
      data: BigInt64Array.from({ length: n }, (_, i) => 1_767_225_600_000n + BigInt(i) * 250n),
    });
    return new Table({
      ts,
      v: vectorFromArray(
        Array.from({ length: n }, (_, i) => (i % 97 === 0 ? null : Math.sin(i / 50))),
        new Float32(),
      ),
      n: vectorFromArray(
        Array.from({ length: n }, (_, i) => i % 5),
        new Int32(),
      ),
      state: vectorFromArray(
        Array.from({ length: n }, (_, i) => ['idle', 'cooling', 'warm'][Math.floor(i / 700) % 3]!),
        new Dictionary(new Utf8(), new Int32()),
      ),
      note: vectorFromArray(
        Array.from({ length: n }, (_, i) => (i % 3 ? `sample ${i}` : null)),
        new Utf8(),
      ),
      flat: vectorFromArray(new Array<number>(n).fill(4.2)),
    });
  };

  test('file and stream, each lz4 option: the values of the same table uncompressed', () => {
    const t = table(5000);
    for (const form of ['file', 'stream'] as const) {
      const plain = arrowFormat.decode(Buffer.from(tableToIPC(t, form)), { relPath: 'x.arrow' });
      expect(plain.timelines[0]!.t.length).toBe(5000);
      for (const flags of [[], ['-B4', '-BD', '--content-size', '-BX']]) {
        const c = lz4Ipc(t, form, flags);
        expect(c.length).toBeLessThan(Buffer.from(tableToIPC(t, form)).length / 2);
        expect(arrowFormat.decode(c, { relPath: 'x.arrow' })).toEqual(plain);
      }
    }
  });

  test('a constant column (LZ4 at its ~250 times) reads: the bound on what buffers may declare (256 times) is past what LZ4 can give', () => {
    const n = 100_000;
    const t = new Table({
      time: vectorFromArray(Float64Array.from({ length: n }, (_, i) => 1.7e9 + i)),
      v: vectorFromArray(new Float64Array(n)),
    });
    const c = lz4Ipc(t, 'file');
    expect(c.length * 3).toBeLessThan(16 * n); // the times ~2 times, the zeros ~250
    const d = arrowFormat.decode(c, { relPath: 'x.arrow' });
    expect(d.timelines[0]!.t.length).toBe(n);
    expect(d.timelines[0]!.columns[0]!.values).toEqual(new Float64Array(n));
    expect(lz4Cli(new Uint8Array(1 << 24)).length * 255).toBeGreaterThan(1 << 24);
    // past the decode's share of the memory (FileContext.decodeLimit, the scanner's): refused before any
    // buffer is decompressed, naming the limit; within it, read
    expect(() => arrowFormat.decode(c, { relPath: 'x.arrow', decodeLimit: 1 << 20 })).toThrow(
      /^LZ4 content \(\d+ bytes\) exceeds 1048576 bytes, the most one decode may hold here/,
    );
    expect(arrowFormat.decode(c, { relPath: 'x.arrow', decodeLimit: 16 * n })).toEqual(d);
  });
});

describe('Arrow files written by pyarrow 25.0.1 (test/fixtures/pyarrow, make.py)', () => {
  const dir = path.join(__dirname, '..', 'fixtures', 'pyarrow');
  const decode = (f: string) => arrowFormat.decode(readFileSync(path.join(dir, f)), { relPath: 'x.arrow' });

  test('Feather as pyarrow and pandas write it by default (LZ4), and an LZ4 stream: the values of the uncompressed file', () => {
    const plain = decode('uncompressed.feather');
    const tl = plain.timelines[0]!;
    expect(tl.t.length).toBe(3000);
    expect(tl.t[1]! - tl.t[0]!).toBe(0.25);
    expect(tl.columns.map((c) => [c.name, c.type])).toEqual([
      ['temp', 'number'],
      ['count', 'number'],
      ['state', 'string'],
      ['note', 'string'],
      ['flat', 'number'],
    ]);
    expect(readFileSync(path.join(dir, 'lz4-default.feather')).length * 2).toBeLessThan(
      readFileSync(path.join(dir, 'uncompressed.feather')).length,
    );
    expect(decode('lz4-default.feather')).toEqual(plain);
    expect(decode('lz4.arrows')).toEqual(plain);
  });

  test('ZSTD: refused, saying how to write it instead', () => {
    expect(() => decode('zstd.feather')).toThrow(/ZSTD-compressed Arrow data is not supported \(LZ4 is\)/);
  });
});

describe("files that decompress to more than the scanner's own thread takes", () => {
  // 200 000 rows, 3.2 MB decoded: long runs of equal times and zeros compress to a few KB
  const n = 200_000;
  const small = () =>
    lz4Ipc(
      new Table({
        time: vectorFromArray(Float64Array.from({ length: n }, (_, i) => 1.7e9 + Math.floor(i / 1000))),
        v: vectorFromArray(new Float64Array(n)),
      }),
      'stream',
    );
  const job = (relPath: string, format: string, content: Buffer, maxDecodedBytes?: number): SummaryJob => ({
    key: 'k',
    relPath,
    format,
    content,
    sameAs: null,
    summaries: true,
    ...(maxDecodedBytes !== undefined ? { maxDecodedBytes } : {}),
  });

  test('are answered `elsewhere` there (Arrow with LZ4, any compressed G3), and decode where nothing is limited', async () => {
    const c = small();
    expect(c.length).toBeLessThan(64 * 1024);
    expect(await summariseFile(job('s.arrow', 'arrow', c, THREAD_DECODED_BYTES))).toEqual({ kind: 'elsewhere' });
    expect(await summariseFile(job('s.arrow', 'arrow', c))).toMatchObject({ kind: 'decoded', nSamples: 200 });
    const plain = Buffer.from(tableToIPC(new Table({ time: vectorFromArray(Float64Array.from([1, 2, 3])) }), 'stream'));
    expect((await summariseFile(job('p.arrow', 'arrow', plain, THREAD_DECODED_BYTES))).kind).toBe('decoded');
    if (haveG3Vectors()) {
      const gz = readFileSync(path.join(G3_VECTORS, 'hk_v2_basic.g3.gz'));
      expect(await summariseFile(job('h.g3.gz', 'g3', gz, THREAD_DECODED_BYTES))).toEqual({ kind: 'elsewhere' });
      expect((await summariseFile(job('h.g3.gz', 'g3', gz))).kind).toBe('decoded');
    }
  });

  test('the scanner hands such a small file to a decode worker, which indexes it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sisock-elsewhere-'));
    writeFileSync(path.join(dir, 's.arrow'), small());
    const db = openIndexDb('sqlite::memory:');
    const workers = { runs: 0 };
    const s = await Scanner.open({ db, dataDir: dir, settleSeconds: 0, workers: 1, workerExecArgv: TS_WORKERS });
    const pool = (s as unknown as { decoder: DecodePool }).decoder;
    const runFile = pool.runFile.bind(pool);
    pool.runFile = (...a) => {
      workers.runs++;
      return runFile(...a);
    };
    try {
      expect(await s.scan()).toMatchObject({ added: 1, errors: 0 });
      expect(workers.runs).toBe(1);
      expect(await db.filesFor(['v'], 0, 2e9)).toHaveLength(1);
    } finally {
      pool.runFile = runFile;
      await s.close();
      await db.close();
      await DecodePool.closeShared();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
