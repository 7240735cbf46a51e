/**
 * The G3 decoder against bad input (truncated, bit-flipped, hostile lengths: a clear G3FormatError
 * naming the file and frame, in bounded memory), compression (gzip, bzip2, xz async / refused sync),
 * the HK interpretation of providers that join, go stale and come back with a new id, and the lean
 * reads of the usual archives (G3Int, G3VectorString, G3VectorDouble) against the general read.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import {
  decodeG3,
  decompressAsync,
  decompressSync,
  frameObject,
  G3FormatError,
  g3Format,
  HkReader,
  readFrames,
  timelinesOf,
} from '../../data-nodes/archive/formats/g3';
import { Archive } from '../../data-nodes/archive/formats/g3/archive';
import { ByteReader } from '../../data-nodes/archive/formats/g3/bytes';
import { readBody } from '../../data-nodes/archive/formats/g3/classes';
import { nestedVectorDouble, plainInt, plainStrings, VectorDouble, VectorTime } from '../../data-nodes/archive/formats/g3/lazy-vectors';
import type { G3Object } from '../../data-nodes/archive/formats/g3/types';
import { dataFrame, frame, sessionFrame, statusFrame, type HkBlockIn } from '../../bench/g3-writer';
import { G3_VECTORS, haveG3Vectors } from '../helpers/vectors';
import { MAX_WARNINGS } from '../../data-nodes/archive/formats/types';

const DIR = G3_VECTORS;
const vectors = haveG3Vectors();

function must<T>(v: T | undefined): T {
  if (v === undefined) throw new Error('missing value');
  return v;
}

const T0 = 1767225600n * 100000000n;
function block(name: string, start: number, n: number, fields: string[]): HkBlockIn {
  const ticks = BigInt64Array.from({ length: n }, (_, i) => T0 + BigInt(start + i) * 100000000n);
  return {
    name,
    ticks,
    fields: fields.map((f) => ({ name: f, kind: 'double' as const, values: Float64Array.from({ length: n }, (_, i) => start + i + 0.5) })),
  };
}

/** Little-endian blob of a G3VectorDouble that claims `n` elements but holds none. */
function hostileVector(n: bigint): Buffer {
  const name = Buffer.from('G3VectorDouble');
  const b = Buffer.alloc(1 + 4 + 8 + name.length + 4 + 8 + 8);
  let p = b.writeUInt8(1, 0);
  p = b.writeUInt32LE(0x80000001, p);
  p = Number(b.writeBigUInt64LE(BigInt(name.length), p));
  p += name.copy(b, p);
  p = b.writeUInt32LE(0x80000001, p);
  p = b.writeUInt32LE(1, p);
  p = b.writeUInt32LE(1, p);
  b.writeBigUInt64LE(n, p);
  return b;
}

function expectG3Error(fn: () => unknown, file: string, frameIndex?: number): G3FormatError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(G3FormatError);
  const g = err as G3FormatError;
  expect(g.message).toContain(file);
  if (frameIndex !== undefined) expect(g.message).toContain(`frame ${frameIndex}`);
  return g;
}

describe('G3 bad input', () => {
  const sid = 12345n;
  const good = Buffer.concat([
    sessionFrame(sid, 1767225600),
    statusFrame(sid, 1767225600, [{ id: 0, description: 'site.agent.feeds.f' }]),
    dataFrame(sid, 0, 1767225660, [block('a', 0, 60, ['x', 'y'])]),
    dataFrame(sid, 0, 1767225720, [block('a', 60, 60, ['x', 'y'])]),
  ]);
  const offsets = readFrames(good, { file: 'good.g3' }).frames.map((f) => f.offset);

  test('every truncation names the file and the frame it cut', () => {
    for (let cut = 1; cut < good.length; cut += 7) {
      const frameAt = offsets.filter((o) => o < cut).length - 1;
      if (offsets.includes(cut)) continue; // a cut at a frame boundary is a shorter valid file
      const e = expectG3Error(() => readFrames(good.subarray(0, cut), { file: 'cut.g3' }), 'cut.g3', frameAt);
      expect(['truncated', 'bounds']).toContain(e.kind);
    }
  });

  test('the archive reads the complete frames of a file still being written and counts the tail', () => {
    const cut = (offsets[3] ?? 0) + 100;
    const d = g3Format.decode(good.subarray(0, cut), { relPath: 'growing.g3' });
    expect(d.badRows).toBe(1);
    expect(d.timelines.map((t) => t.t.length)).toEqual([60]);
    const full = g3Format.decode(good, { relPath: 'growing.g3' });
    expect(full.badRows).toBe(0);
    expect(full.timelines[0]?.t.length).toBe(120);
  });

  test('every single-bit flip is caught (CRC, bounds) except in the unchecked frame type/version words', () => {
    let caught = 0;
    for (let pos = 0; pos < good.length; pos += 3) {
      const bad = Buffer.from(good);
      bad[pos] = (bad[pos] ?? 0) ^ (1 << (pos % 8));
      const header = offsets.some((o) => pos >= o + 1 && pos < o + 5) || offsets.some((o) => pos >= o + 9 && pos < o + 13);
      let err: unknown = null;
      try {
        const { frames } = readFrames(bad, { file: 'flip.g3' });
        const hk = new HkReader();
        for (const f of frames) hk.add(f, { file: 'flip.g3' });
      } catch (e) {
        err = e;
      }
      if (err === null) {
        expect(header).toBe(true);
        continue;
      }
      expect(err).toBeInstanceOf(G3FormatError);
      expect((err as Error).message).toMatch(/^G3 file flip\.g3 \(frame \d+/);
      caught++;
    }
    expect(caught).toBeGreaterThan(good.length / 3 - 20);
  });

  test('the decode (CRC checked as data is copied) answers every bit flip as the CRC-first read does', () => {
    // The reference: every CRC first (readFrames), then HK, then the timelines.
    const reference = (b: Buffer, warnings: string[]) => {
      const o = { file: 'flip.g3', allowPartialTail: true, warn: (m: string) => warnings.push(m) };
      const { frames, partialTail } = readFrames(b, o);
      const hk = new HkReader((m) => warnings.push(m));
      for (const f of frames) hk.add(f, o);
      return { timelines: timelinesOf(hk.providers), badRows: (partialTail > 0 ? 1 : 0) + hk.orphanFrames };
    };
    const outcome = (f: () => unknown) => {
      try {
        return { ok: f() };
      } catch (e) {
        return { error: e instanceof G3FormatError ? `${e.kind}: ${e.message}` : String(e) };
      }
    };
    let errors = 0;
    for (let pos = 0; pos < good.length; pos += 5) {
      const bad = Buffer.from(good);
      bad[pos] = (bad[pos] ?? 0) ^ (1 << (pos % 8));
      const w1: string[] = [];
      const w2: string[] = [];
      const got = outcome(() => decodeG3(bad, { relPath: 'flip.g3' }, { warn: (m) => w1.push(m) }));
      const want = outcome(() => reference(bad, w2));
      expect(got).toEqual(want);
      expect(w1).toEqual(w2);
      if ('error' in want) errors++;
    }
    // Not all: flips in the unchecked header words, or that cut the last frame (a tail still being written).
    expect(errors).toBeGreaterThan((good.length / 5) * 0.85);
  });

  test("a G3TimesampleMap field with a hostile size under a right CRC gets the general read's error", () => {
    const { frames } = readFrames(good, { file: 'good.g3' });
    const data = must(frames[2]);
    const blocks = Buffer.from(must(data.entries.get('blocks')));
    // The first field's G3VectorDouble: its size word follows the class name, object id and two versions.
    const at = blocks.indexOf('G3VectorDouble') + 14 + 4 + 8;
    expect(blocks.readBigUInt64LE(at)).toBe(60n);
    blocks.writeBigUInt64LE(2n ** 40n, at);
    const entries: Array<[string, Buffer]> = [...data.entries].map(([k, v]) => [k, k === 'blocks' ? blocks : Buffer.from(v)]);
    const hostile = Buffer.concat([good.subarray(0, offsets[2]), frame(72, entries)]);
    const e = expectG3Error(() => decodeG3(hostile, { relPath: 'hostile.g3' }), 'hostile.g3', 2);
    expect(e.kind).toBe('bounds');
    expect(e.message).toMatch(/entry "blocks".*G3VectorDouble claims 1099511627776 item/);
    // One byte too many after the doubles: refused as the general read refuses it.
    blocks.writeBigUInt64LE(59n, at);
    const extra = Buffer.concat([
      good.subarray(0, offsets[2]),
      frame(
        72,
        [...data.entries].map(([k, v]) => [k, k === 'blocks' ? blocks : Buffer.from(v)]),
      ),
    ]);
    expect(expectG3Error(() => decodeG3(extra, { relPath: 'extra.g3' }), 'extra.g3', 2).message).toMatch(/left over/);
  });

  test('hostile lengths are refused before allocating', () => {
    // Heap and ArrayBuffer memory (typed arrays live outside the JS heap) stay bounded.
    const used = () => process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
    const before = used();
    // A vector that claims 2^60 elements (frame CRC is right, so the object decoder must refuse it).
    const f = frame(72, [['v', hostileVector(2n ** 60n)]]);
    const { frames } = readFrames(f, { file: 'h.g3' });
    const e = expectG3Error(() => frameObject(must(frames[0]), 'v', { file: 'h.g3' }), 'h.g3', 0);
    expect(e.kind).toBe('bounds');
    expect(e.message).toContain('entry "v"');
    // A type name of 1 GB; an entry blob of 2^40 bytes; a frame claiming 2^31 entries.
    const nameLen = Buffer.from(good.subarray(0, offsets[1]));
    nameLen.writeBigUInt64LE(2n ** 30n, 13);
    expectG3Error(() => readFrames(nameLen, { file: 'name.g3' }), 'name.g3', 0);
    const blobLen = Buffer.from(good);
    const firstName = Number(blobLen.readBigUInt64LE(13));
    blobLen.writeBigUInt64LE(2n ** 40n, 13 + 8 + firstName);
    expectG3Error(() => readFrames(blobLen, { file: 'blob.g3' }), 'blob.g3', 0);
    const count = Buffer.from(good);
    count.writeUInt32LE(0x7fffffff, (offsets[2] ?? 0) + 5);
    expectG3Error(() => readFrames(count, { file: 'count.g3' }), 'count.g3', 2);
    // A class name claiming 1 GB inside an object blob: refused before it is decoded.
    const cls = hostileVector(0n);
    cls.writeBigUInt64LE(2n ** 30n, 5);
    const e2 = expectG3Error(
      () => frameObject(must(readFrames(frame(72, [['c', cls]]), { file: 'c.g3' }).frames[0]), 'c', { file: 'c.g3' }),
      'c.g3',
      0,
    );
    expect(e2.message).toMatch(/class name/);
    const big = Buffer.concat([hostileVector(0n).subarray(0, 5), Buffer.alloc(8), Buffer.alloc(300, 0x41)]);
    big.writeBigUInt64LE(300n, 5);
    const e3 = expectG3Error(
      () => frameObject(must(readFrames(frame(72, [['c', big]]), { file: 'c.g3' }).frames[0]), 'c', { file: 'c.g3' }),
      'c.g3',
      0,
    );
    expect(e3.message).toMatch(/class name of 300 bytes/);
    expect(used() - before).toBeLessThan(64 * 1024 * 1024);
  });

  test('an unknown object class is skipped by its recorded size with a warning', () => {
    const blob = hostileVector(0n);
    const unknown = Buffer.from(blob.toString('latin1').replace('G3VectorDouble', 'G3VectorFancyX'), 'latin1');
    const { frames } = readFrames(frame(72, [['u', unknown]]), { file: 'u.g3' });
    const warnings: string[] = [];
    expect(frameObject(must(frames[0]), 'u', { file: 'u.g3', warn: (m) => warnings.push(m) })).toEqual({
      type: 'G3VectorFancyX',
      kind: 'unknown',
    });
    expect(warnings.join()).toMatch(/u\.g3 frame 0 entry "u".*G3VectorFancyX/);
  });

  test('compression: gzip, bzip2, xz (async; the sync decoder refuses it clearly), and a gzip bomb is bounded', async () => {
    expect(decompressSync(zlib.gzipSync(good), 'a.g3.gz').data.equals(good)).toBe(true);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'g3-'));
    try {
      const raw = path.join(tmp, 'x.g3');
      fs.writeFileSync(raw, good);
      execFileSync('bzip2', ['-k', raw]);
      execFileSync('xz', ['-k', raw]);
      expect(decompressSync(fs.readFileSync(`${raw}.bz2`), 'x.g3.bz2').data.equals(good)).toBe(true);
      const xz = fs.readFileSync(`${raw}.xz`);
      expect((await decompressAsync(xz, 'x.g3.xz')).data.equals(good)).toBe(true);
      expect(expectG3Error(() => decompressSync(xz, 'x.g3.xz'), 'x.g3.xz').kind).toBe('unsupported');
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
    const bomb = zlib.gzipSync(Buffer.alloc(8 << 20));
    expect(expectG3Error(() => decompressSync(bomb, 'bomb.g3.gz', 1 << 20), 'bomb.g3.gz').kind).toBe('too-large');
  });
});

describe('G3 HK providers', () => {
  test('join, go stale and come back with a new id: fields continue under their full names', () => {
    const sid = 99n;
    const a = 'observatory.LSA22YE.feeds.temperatures';
    const file = Buffer.concat([
      sessionFrame(sid, 1767225600),
      statusFrame(sid, 1767225600, [{ id: 0, description: a }]),
      dataFrame(sid, 0, 1767225610, [block('temps', 0, 10, ['channel_01_r', 'channel_02_r'])]),
      statusFrame(sid, 1767225620, [{ id: 1, description: 'observatory.other.feeds.x' }]), // a went stale
      dataFrame(sid, 0, 1767225630, [block('temps', 10, 10, ['channel_01_r'])]), // stale id: refused
      dataFrame(sid, 1, 1767225630, [block('b', 10, 10, ['v'])]),
      statusFrame(sid, 1767225640, [
        { id: 1, description: 'observatory.other.feeds.x' },
        { id: 2, description: a },
      ]), // a is back as 2
      dataFrame(sid, 2, 1767225650, [block('temps', 40, 10, ['channel_01_r', 'channel_02_r']), block('extra', 40, 5, ['heater'])]),
    ]);
    const warnings: string[] = [];
    const d = decodeG3(file, { relPath: 'r.g3' }, { warn: (m) => warnings.push(m) });
    expect(d.badRows).toBe(1);
    expect(warnings.join()).toMatch(/frame 4: data for prov_id 0, which no status frame announced/);
    const byName = new Map(d.timelines.map((t) => [t.name, t]));
    expect([...byName.keys()].sort()).toEqual([`${a}.extra`, `${a}.temps`, 'observatory.other.feeds.x.b']);
    const temps = must(byName.get(`${a}.temps`));
    expect(temps.columns.map((c) => c.name)).toEqual([`${a}.channel_01_r`, `${a}.channel_02_r`]);
    expect(Array.from(temps.t)).toEqual([
      ...Array.from({ length: 10 }, (_, i) => 1767225600 + i),
      ...Array.from({ length: 10 }, (_, i) => 1767225640 + i),
    ]);
    expect(Array.from(must(temps.columns[1]).values as Float64Array).slice(9, 11)).toEqual([9.5, 40.5]);
    expect(must(byName.get(`${a}.extra`)).t.length).toBe(5);
  });

  test('a good file is decoded once (the fast way), and a fault of the code is thrown, not answered by a second decode', () => {
    const sid = 7n;
    const file = Buffer.concat([
      sessionFrame(sid, 1767225600),
      statusFrame(sid, 1767225600, [{ id: 0, description: 'p' }]),
      dataFrame(sid, 0, 1767225610, [block('b', 0, 10, ['v'])]),
      dataFrame(sid, 0, 1767225620, [block('b', 10, 10, ['v'])]),
    ]);
    const add = jest.spyOn(HkReader.prototype, 'add');
    try {
      expect(must(decodeG3(file, { relPath: 'once.g3' }).timelines[0]).t.length).toBe(20);
      expect(add).toHaveBeenCalledTimes(4); // once per frame
      add.mockClear();
      add.mockImplementation(() => {
        throw new TypeError('a bug');
      });
      expect(() => decodeG3(file, { relPath: 'once.g3' })).toThrow(TypeError);
      expect(add).toHaveBeenCalledTimes(1);
    } finally {
      add.mockRestore();
    }
  });

  test('times out of order, within a frame or across frames, are sorted and repeated times keep the later row', () => {
    const sid = 5n;
    // field v = 100 × frame + row, so which row was kept shows
    const chunk = (frameNo: number, seconds: number[]): HkBlockIn => ({
      name: 'b',
      ticks: BigInt64Array.from(seconds, (x) => T0 + BigInt(x) * 100000000n),
      fields: [{ name: 'v', kind: 'double', values: Float64Array.from(seconds, (_, i) => 100 * frameNo + i) }],
    });
    const decode = (...frames: number[][]) =>
      decodeG3(
        Buffer.concat([
          sessionFrame(sid, 1767225600),
          statusFrame(sid, 1767225600, [{ id: 0, description: 'p' }]),
          ...frames.map((x, k) => dataFrame(sid, 0, 1767225600 + k, [chunk(k, x)])),
        ]),
        { relPath: 's.g3' },
      ).timelines[0];
    const rows = (t: ReturnType<typeof decode>) =>
      Array.from(must(t).t, (x, i) => [x - 1767225600, (must(must(t).columns[0]).values as Float64Array)[i]]);
    // in order: as written
    expect(rows(decode([0, 1, 2], [3, 4]))).toEqual([
      [0, 0],
      [1, 1],
      [2, 2],
      [3, 100],
      [4, 101],
    ]);
    // frames overlapping: 3 and 4 repeated, the later frame's rows kept
    expect(rows(decode([0, 1, 2, 3, 4], [3, 4, 5]))).toEqual([
      [0, 0],
      [1, 1],
      [2, 2],
      [3, 100],
      [4, 101],
      [5, 102],
    ]);
    // a frame before the previous one (each in order itself)
    expect(rows(decode([5, 6], [1, 2]))).toEqual([
      [1, 100],
      [2, 101],
      [5, 0],
      [6, 1],
    ]);
    // out of order within one frame, and a time repeated inside it
    expect(rows(decode([0, 1], [4, 2, 3, 2]))).toEqual([
      [0, 0],
      [1, 1],
      [2, 103],
      [3, 102],
      [4, 100],
    ]);
  });

  test('without a warn callback, what was skipped comes back in the result, at most MAX_WARNINGS of it', () => {
    const sid = 7n;
    const stray = Array.from({ length: MAX_WARNINGS + 5 }, (_, i) => dataFrame(sid, 5, 1767225610 + i, [block('b', i, 1, ['v'])]));
    const file = Buffer.concat([sessionFrame(sid, 1767225600), statusFrame(sid, 1767225600, [{ id: 0, description: 'p' }]), ...stray]);
    const d = g3Format.decode(file, { relPath: 'w.g3' });
    expect(d.badRows).toBe(MAX_WARNINGS + 5);
    expect(d.warnings).toHaveLength(MAX_WARNINGS);
    expect(must(d.warnings?.[0])).toMatch(/w\.g3 frame 2: data for prov_id 5, which no status frame announced/);
    expect(d.warningsDropped).toBe(5);
    const clean = g3Format.decode(Buffer.concat([sessionFrame(sid, 1767225600)]), { relPath: 'c.g3' });
    expect(clean.warnings).toBeUndefined();
  });

  (vectors ? test : test.skip)('archive timelines of the v2 vector: one per block, fields <provider>.<field>', () => {
    const d = g3Format.decode(fs.readFileSync(path.join(DIR, 'hk_v2_basic.g3.bz2')), { relPath: 'hk_v2_basic.g3.bz2' });
    const p = 'observatory.testfridge.feeds.hk';
    expect(d.timelines.map((t) => [t.name, t.t.length, t.interval, t.columns.map((c) => `${c.name}:${c.type}`)])).toEqual([
      [`${p}.block_A`, 600, 1, [`${p}.temperature:number`, `${p}.pressure:number`].sort()],
      [`${p}.block_B`, 60, 10, [`${p}.heater_on:number`, `${p}.state:string`]],
    ]);
  });
});

describe('G3 lean reads of the usual archives', () => {
  // The general read of one archive: its object, or the error it throws.
  const general = (b: Uint8Array): G3Object | null | Error => {
    try {
      return new Archive(b, 0, b.length, readBody, () => {}).single();
    } catch (e) {
      return e as Error;
    }
  };
  /** Every byte of the archive's head changed three ways: where the lean read answers, the general one answers the same. */
  function mutations(archive: Buffer, head: number, lean: (b: Buffer) => unknown, same: (lean: unknown, g: G3Object) => void): number {
    expect(lean(archive)).not.toBeNull();
    let declined = 0;
    for (let i = 0; i < head; i++) {
      for (const mask of [0x01, 0x80, 0xff]) {
        const b = Buffer.from(archive);
        b[i] = (b[i] ?? 0) ^ mask;
        const l = lean(b);
        if (l === null) {
          declined++;
          continue;
        }
        const g = general(b);
        if (g instanceof Error || g === null) throw new Error(`byte ${i} ^ ${mask}: lean read ${String(l)}, general ${String(g)}`);
        same(l, g);
      }
    }
    return declined;
  }

  test('a G3Int (HK scalars): the lean read agrees with the general one or leaves the archive to it', () => {
    const int = (v: bigint, little: boolean): Buffer => {
      const b = Buffer.alloc(38);
      const u32 = (x: number, at: number) => (little ? b.writeUInt32LE(x, at) : b.writeUInt32BE(x, at));
      b[0] = little ? 1 : 0;
      u32(0x80000001, 1);
      if (little) b.writeBigUInt64LE(5n, 5);
      else b.writeBigUInt64BE(5n, 5);
      b.write('G3Int', 13, 'latin1');
      u32(0x80000001, 18);
      u32(1, 22);
      u32(1, 26);
      if (little) b.writeBigInt64LE(v, 30);
      else b.writeBigInt64BE(v, 30);
      return b;
    };
    for (const little of [true, false]) {
      for (const v of [0n, 2n, -1n, 1767225600n << 28n, -(2n ** 63n)]) {
        expect(plainInt(int(v, little))).toBe(v);
        expect(general(int(v, little))).toEqual({ type: 'G3Int', kind: 'int', value: v });
      }
      const declined = mutations(int(-5n, little), 30, plainInt, (l, g) => expect(g).toEqual({ type: 'G3Int', kind: 'int', value: l }));
      expect(declined).toBeGreaterThan(60);
      // Anything longer or shorter (a byte left over, a cut value) is the general read's.
      expect(plainInt(Buffer.concat([int(1n, little), Buffer.alloc(1)]))).toBeNull();
      expect(plainInt(int(1n, little).subarray(0, 37))).toBeNull();
    }
  });

  test('times as seconds, read in place (4-aligned), through a copy (not aligned) or byte by byte (big-endian), are ticks / 1e8', () => {
    const ticks = BigInt64Array.from([0n, 1n, -1n, 1767225600n * 100000000n + 12345n, 2n ** 62n + 3n, -(2n ** 63n)]);
    const want = Array.from(ticks, (t) => Number(t) / 1e8);
    for (const little of [true, false]) {
      for (let shift = 0; shift < 8; shift++) {
        const buf = new Uint8Array(8 + 8 * ticks.length);
        const dv = new DataView(buf.buffer);
        ticks.forEach((t, i) => dv.setBigInt64(shift + 8 * i, t, little));
        const out = new Float64Array(ticks.length + 2);
        new VectorTime('G3VectorTime', buf, shift, ticks.length, little).seconds(out, 1);
        expect(Array.from(out.subarray(1, 1 + ticks.length))).toEqual(want);
      }
    }
  });

  test("a map key read as the last map's key at that place only when its bytes are that key in ASCII", () => {
    const keyAt = (bytes: number[]) => Buffer.concat([Buffer.from([bytes.length, 0, 0, 0, 0, 0, 0, 0]), Buffer.from(bytes)]);
    const read = (b: Buffer, expected: string | undefined) => new ByteReader(b).stringLike(expected, 'key');
    const known = 'field_01';
    const same = read(keyAt([...Buffer.from(known)]), known);
    expect(same).toBe(known);
    expect(read(keyAt([...Buffer.from('field_02')]), known)).toBe('field_02');
    expect(read(keyAt([...Buffer.from('field_1')]), known)).toBe('field_1');
    // 'aé' has two UTF-16 units; the bytes 61 e9 (not UTF-8) are not it, nor is é's UTF-8 (c3 a9) of another length
    expect(read(keyAt([0x61, 0xe9]), 'aé')).toBe('a\ufffd');
    expect(read(keyAt([0x61, 0xc3, 0xa9]), 'aé')).toBe('aé');
    expect(read(keyAt([...Buffer.from('x')]), undefined)).toBe('x');
    expect(() => read(Buffer.from([9, 0, 0, 0, 0, 0, 0, 0, 0x61]), 'a')).toThrow(/key claims 9 item/);
  });

  test('a G3VectorString (HK block_names): the lean read agrees with the general one or leaves the archive to it', () => {
    const vec = (values: string[], little: boolean): Buffer => {
      const u32 = (x: number) => {
        const b = Buffer.alloc(4);
        if (little) b.writeUInt32LE(x);
        else b.writeUInt32BE(x);
        return b;
      };
      const u64 = (x: number) => {
        const b = Buffer.alloc(8);
        if (little) b.writeBigUInt64LE(BigInt(x));
        else b.writeBigUInt64BE(BigInt(x));
        return b;
      };
      const str = (x: string) => Buffer.concat([u64(Buffer.byteLength(x)), Buffer.from(x)]);
      return Buffer.concat([
        Buffer.from([little ? 1 : 0]),
        u32(0x80000001),
        str('G3VectorString'),
        u32(0x80000001),
        u32(1),
        u32(1),
        u64(values.length),
        ...values.map(str),
      ]);
    };
    for (const little of [true, false]) {
      for (const values of [[], ['main'], ['block_A', 'é', '']]) {
        expect(plainStrings(vec(values, little))).toEqual(values);
        expect(general(vec(values, little))).toEqual({ type: 'G3VectorString', kind: 'vector-string', values });
      }
      const archive = vec(['main', 'b2'], little);
      const declined = mutations(archive, archive.length, plainStrings, (l, g) =>
        expect(g).toEqual({ type: 'G3VectorString', kind: 'vector-string', values: l }),
      );
      expect(declined).toBeGreaterThan(80);
      expect(plainStrings(Buffer.concat([archive, Buffer.alloc(1)]))).toBeNull();
      expect(plainStrings(archive.subarray(0, archive.length - 1))).toBeNull();
    }
  });

  test('a G3VectorDouble (timesample map fields): the lean read agrees with the general one or leaves the archive to it', () => {
    const values = Float64Array.from({ length: 5 }, (_, i) => i * 1.5 - 2);
    const vec = (little: boolean): Buffer => {
      const b = Buffer.alloc(47 + 8 * values.length);
      const u32 = (x: number, at: number) => (little ? b.writeUInt32LE(x, at) : b.writeUInt32BE(x, at));
      const u64 = (x: bigint, at: number) => (little ? b.writeBigUInt64LE(x, at) : b.writeBigUInt64BE(x, at));
      b[0] = little ? 1 : 0;
      u32(0x80000001, 1);
      u64(14n, 5);
      b.write('G3VectorDouble', 13, 'latin1');
      u32(0x80000001, 27);
      u32(1, 31);
      u32(1, 35);
      u64(BigInt(values.length), 39);
      values.forEach((v, i) => (little ? b.writeDoubleLE(v, 47 + 8 * i) : b.writeDoubleBE(v, 47 + 8 * i)));
      return b;
    };
    const lean = (b: Buffer) => nestedVectorDouble(new ByteReader(b), b.length, 0);
    for (const little of [true, false]) {
      expect(lean(vec(little))?.values).toEqual(values);
      const declined = mutations(vec(little), 47, lean, (l, g) => {
        expect(g.kind).toBe('vector-double');
        expect((l as VectorDouble).values).toEqual(g.kind === 'vector-double' ? g.values : null);
      });
      expect(declined).toBeGreaterThan(100);
    }
  });
});
