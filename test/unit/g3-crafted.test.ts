/**
 * G3 files crafted as an attacker would (every frame's CRC right, so the parsers behind the check are
 * what is tested), found by a structure-aware fuzz campaign (3.8 million cases): each decodes in memory
 * and time proportional to the file, with a warning for what it leaves out, and every column as long
 * as its timeline's times.
 */
import * as flac from '../../data-nodes/archive/formats/g3/flac';
import { decodeG3, frameObject, readFrames } from '../../data-nodes/archive/formats/g3';
import type { DecodedFile } from '../../data-nodes/archive/formats/types';
import { dataFrame, frame, scalar, sessionFrame, statusFrame, type HkBlockIn } from '../../bench/g3-writer';

const T0 = 1767225600;
const SID = 99n;
const ticks = (t0: number, n: number) => BigInt64Array.from({ length: n }, (_, i) => BigInt(t0 + i) * 100000000n);

const u32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
};
const u64 = (v: number | bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(v));
  return b;
};
const str = (s: string) => Buffer.concat([u64(Buffer.byteLength(s)), Buffer.from(s)]);
const NEW = 0x80000000;

/** One archive of a G3VectorFrameObject: `objects` written in full (class name once), then `refs` back-references. */
function vectorOfObjects(objects: Array<{ name: string; version: number; body: Buffer }>, refs: Array<[number, number]> = []): Buffer {
  const parts: Buffer[] = [
    Buffer.from([1]),
    u32(NEW + 1),
    str('G3VectorFrameObject'),
    u32(NEW + 1),
    u32(1),
    u32(1),
    u64(objects.length + refs.length),
  ];
  const classIds = new Map<string, number>();
  let pointer = 2;
  for (const o of objects) {
    const id = classIds.get(o.name);
    if (id !== undefined) parts.push(u32(id), u32(NEW + pointer++), o.body);
    else {
      classIds.set(o.name, classIds.size + 2);
      parts.push(u32(NEW + classIds.size + 1), str(o.name), u32(NEW + pointer++), u32(o.version), o.body);
    }
  }
  for (const [c, p] of refs) parts.push(u32(c), u32(p));
  return Buffer.concat(parts);
}

/** An HK file (provider "atk") whose one data frame's `blocks` entry is `blocks`. */
function hkFileWithBlocks(blocks: Buffer): Buffer {
  const data = frame(72, [
    ['hkagg_type', scalar.int(2n)],
    ['hkagg_version', scalar.int(2n)],
    ['session_id', scalar.int(SID)],
    ['prov_id', scalar.int(0n)],
    ['blocks', blocks],
  ]);
  return Buffer.concat([sessionFrame(SID, T0), statusFrame(SID, T0, [{ id: 0, description: 'atk' }]), data]);
}

/** A FLAC stream of `frames` CONSTANT frames of 65,536 samples (24-bit): a few bytes a frame. */
function constantFlac(frames: number): Buffer {
  const info = Buffer.alloc(34);
  info.writeUInt16BE(23 << 4, 12); // one channel, 24 bits a sample
  const head = Buffer.concat([Buffer.from('fLaC', 'latin1'), Buffer.from([0x80, 0, 0, 34]), info]);
  const one = Buffer.from([0xff, 0xf8, 0x70, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00]);
  return Buffer.concat([head, ...Array.from({ length: frames }, () => one)]);
}

/** `k` FLAC G3Timestreams (version 3) in one `blocks` entry. */
function flacTimestreams(k: number, frames: number): Buffer {
  const stream = constantFlac(frames);
  const body = (first: boolean) =>
    Buffer.concat([u32(1), ...(first ? [u32(1)] : []), u64(0), u64(0), Buffer.from([5, 0]), u64(stream.length), stream]);
  return vectorOfObjects(Array.from({ length: k }, (_, i) => ({ name: 'G3Timestream', version: 3, body: body(i === 0) })));
}

/** One G3TimesampleMap of `s` samples (field x), then `r` references to it. */
function referencedBlock(s: number, r: number): Buffer {
  const vd = Buffer.concat([
    Buffer.from([1]),
    u32(NEW + 1),
    str('G3VectorDouble'),
    u32(NEW + 1),
    u32(1),
    u32(1),
    u64(s),
    Buffer.from(new Float64Array(s).fill(1).buffer),
  ]);
  const t = ticks(T0, s);
  const body = Buffer.concat([u32(1), u32(1), str('x'), u64(vd.length), vd, u32(1), u64(s), u32(1), Buffer.from(t.buffer)]);
  return vectorOfObjects(
    [{ name: 'G3TimesampleMap', version: 0, body }],
    Array.from({ length: r }, () => [2, 2] as [number, number]),
  );
}

function hkFile(providers: Array<{ id: number; description: string }>, frames: Array<{ prov: number; blocks: HkBlockIn[] }>): Buffer {
  return Buffer.concat([
    sessionFrame(SID, T0),
    statusFrame(SID, T0, providers),
    ...frames.map((f, i) => dataFrame(SID, f.prov, T0 + i, f.blocks)),
  ]);
}

function decode(b: Buffer, relPath = 'crafted.g3'): { d: DecodedFile; warnings: string[] } {
  const warnings: string[] = [];
  const d = decodeG3(b, { relPath }, { warn: (m) => warnings.push(m) });
  for (const tl of d.timelines)
    for (const c of tl.columns) expect({ column: c.name, n: c.values.length }).toEqual({ column: c.name, n: tl.t.length });
  return { d, warnings };
}

describe('G3 files crafted against the decoder', () => {
  test('a field whose type changes between chunks of its block keeps its first type: the others are empty there', () => {
    const file = hkFile(
      [{ id: 0, description: 'atk' }],
      [
        { prov: 0, blocks: [{ name: 'b', ticks: ticks(T0, 3), fields: [{ name: 'x', kind: 'string', values: ['a', 'b', 'c'] }] }] },
        {
          prov: 0,
          blocks: [{ name: 'b', ticks: ticks(T0 + 3, 4), fields: [{ name: 'x', kind: 'double', values: Float64Array.of(1, 2, 3, 4) }] }],
        },
        { prov: 0, blocks: [{ name: 'c', ticks: ticks(T0, 2), fields: [{ name: 'y', kind: 'bool', values: [true, false] }] }] },
        { prov: 0, blocks: [{ name: 'c', ticks: ticks(T0 + 2, 2), fields: [{ name: 'y', kind: 'string', values: ['on', 'off'] }] }] },
        { prov: 0, blocks: [{ name: 'c', ticks: ticks(T0 + 4, 1), fields: [{ name: 'y', kind: 'bool', values: [true] }] }] },
        // numbers and bools convert (OCS types each flush by its first value: a bool field's chunk can be ints)
        { prov: 0, blocks: [{ name: 'd', ticks: ticks(T0, 1), fields: [{ name: 'z', kind: 'double', values: Float64Array.of(1.5) }] }] },
        { prov: 0, blocks: [{ name: 'd', ticks: ticks(T0 + 1, 2), fields: [{ name: 'z', kind: 'bool', values: [true, false] }] }] },
        { prov: 0, blocks: [{ name: 'e', ticks: ticks(T0, 1), fields: [{ name: 'w', kind: 'bool', values: [true] }] }] },
        {
          prov: 0,
          blocks: [{ name: 'e', ticks: ticks(T0 + 1, 3), fields: [{ name: 'w', kind: 'int', values: BigInt64Array.of(0n, 2n, -1n) }] }],
        },
        {
          prov: 0,
          blocks: [{ name: 'e', ticks: ticks(T0 + 4, 2), fields: [{ name: 'w', kind: 'double', values: Float64Array.of(NaN, 0) }] }],
        },
      ],
    );
    const { d, warnings } = decode(file);
    const values = Object.fromEntries(d.timelines.flatMap((tl) => tl.columns.map((c) => [c.name, [c.type, Array.from(c.values)]])));
    expect(values).toEqual({
      'atk.x': ['string', ['a', 'b', 'c', null, null, null, null]],
      'atk.y': ['bool', [true, false, null, null, true]],
      'atk.z': ['number', [1.5, 1, 0]],
      'atk.w': ['bool', [true, false, true, true, null, false]],
    });
    expect(warnings).toEqual([
      'crafted.g3: timeline atk.b: field x is G3VectorDouble in a chunk after being string; left empty there',
      'crafted.g3: timeline atk.c: field y is G3VectorString in a chunk after being bool; left empty there',
    ]);
  });

  test('FLAC timestreams are decoded when their values are read, not by the HK decode that skips them', () => {
    const spy = jest.spyOn(flac, 'decodeFlac');
    try {
      // 40 streams of 2^23 samples each in 76 KB: 1.4 GB and 8 s when each was decoded as it was read
      const file = hkFileWithBlocks(flacTimestreams(40, 128));
      expect(file.length).toBeLessThan(80_000);
      const { d, warnings } = decode(file);
      expect(d.timelines).toEqual([]);
      expect(warnings.filter((w) => /block \d+ of class G3Timestream is not HK data; skipped/.test(w))).toHaveLength(20); // MAX_WARNINGS
      expect(spy).not.toHaveBeenCalled();
      // the object reader still gives the values, decoded once, on first read
      const small = hkFileWithBlocks(flacTimestreams(2, 3));
      const data = readFrames(small, { file: 'small.g3' }).frames[2];
      const blocks = data && frameObject(data, 'blocks', { file: 'small.g3' });
      const ts = blocks?.kind === 'vector-object' ? blocks.items[1] : null;
      expect(ts?.kind).toBe('timestream');
      if (ts?.kind !== 'timestream') return;
      expect(spy).not.toHaveBeenCalled();
      expect(ts.n).toBe(3 * 65536);
      expect([...new Set(Array.from(ts.values ?? [], Number))]).toEqual([1]);
      expect(spy).toHaveBeenCalledTimes(1);
    } finally {
      spy.mockRestore();
    }
  });

  test('a block named again by a back-reference is taken once', () => {
    // 4,000 references of 8 bytes to a block of 4,000 samples: 16 million samples (625 MB) when each was taken
    const { d, warnings } = decode(hkFileWithBlocks(referencedBlock(1000, 4000)));
    expect(d.timelines.map((tl) => [tl.name, tl.t.length, tl.columns.map((c) => c.name)])).toEqual([['atk.block_for_x', 1000, ['atk.x']]]);
    expect(warnings[0]).toBe('crafted.g3 frame 2: block 1 is a reference to an earlier block of the frame; skipped');
  });

  test('fields absent from most chunks of their block: within a budget of the values the file holds', () => {
    const sparse = (k: number) =>
      hkFile(
        [{ id: 0, description: 'sp' }],
        [
          {
            prov: 0,
            blocks: Array.from({ length: k }, (_, i) => ({
              name: 'b',
              ticks: ticks(T0 + i, 1),
              fields: [{ name: `f${i}`, kind: 'double' as const, values: Float64Array.of(i) }],
            })),
          },
        ],
      );
    // k one-sample chunks, each with a field of its own: k x k cells (NaN but one per column) for k values
    const few = decode(sparse(40));
    expect(few.warnings).toEqual([]);
    const [tl] = few.d.timelines;
    expect([tl?.t.length, tl?.columns.length]).toEqual([40, 40]);
    expect(Array.from(tl?.columns[7]?.values ?? []).filter((v) => v === v)).toEqual([7]);
    const many = decode(sparse(3000));
    expect(many.d.timelines).toEqual([]);
    expect(many.warnings).toEqual([
      'crafted.g3: timeline sp.b: 3000 fields over 3000 samples, mostly absent (the file holds 3000 values); skipped',
    ]);
  });

  test('two providers whose description and block join to one name: two timelines, each field under its provider', () => {
    const file = hkFile(
      [
        { id: 0, description: 'obs.x' },
        { id: 1, description: 'obs.x.y' },
      ],
      [
        {
          prov: 0,
          blocks: [{ name: 'y.z', ticks: ticks(T0, 3), fields: [{ name: 'f', kind: 'double', values: Float64Array.of(1, 2, 3) }] }],
        },
        {
          prov: 1,
          blocks: [{ name: 'z', ticks: ticks(T0 + 10, 2), fields: [{ name: 'g', kind: 'double', values: Float64Array.of(7, 8) }] }],
        },
      ],
    );
    const { d, warnings } = decode(file);
    expect(
      d.timelines.map((tl) => [tl.name, Array.from(tl.t, (t) => t - T0), tl.columns.map((c) => [c.name, Array.from(c.values)])]),
    ).toEqual([
      ['obs.x.y.z', [0, 1, 2], [['obs.x.f', [1, 2, 3]]]],
      ['obs.x.y.z#2', [10, 11], [['obs.x.y.g', [7, 8]]]],
    ]);
    expect(warnings).toEqual(['crafted.g3: provider "obs.x.y" block "z": timeline obs.x.y.z is another provider\'s; named obs.x.y.z#2']);
  });
});
