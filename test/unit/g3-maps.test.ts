/**
 * G3MapFrameObject keys: a map's key list is shared with the next map of the same layout (maps.ts
 * `lastKeys`), and a map nested in one of its values must not take the place of the outer map's list.
 */
import { Archive } from '../../data-nodes/archive/formats/g3/archive';
import { readBody } from '../../data-nodes/archive/formats/g3/classes';

const u32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
};
const u64 = (v: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(v));
  return b;
};
const str = (s: string): Buffer => Buffer.concat([u64(Buffer.byteLength(s)), Buffer.from(s)]);
/** A little-endian archive head of one new object of class `cls` (versions 1). */
const head = (cls: string): Buffer => Buffer.concat([Buffer.from([1]), u32(0x80000001), str(cls), u32(0x80000001), u32(1), u32(1)]);
const int = (v: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigInt64LE(BigInt(v));
  return Buffer.concat([head('G3Int'), b]);
};
const map = (entries: Array<[string, Buffer]>): Buffer =>
  Buffer.concat([head('G3MapFrameObject'), u32(entries.length), ...entries.flatMap(([k, v]) => [str(k), u64(v.length), v])]);

type Decoded = { items: Map<string, { items?: Map<string, unknown>; value?: bigint }> };
const decode = (b: Buffer): Decoded => new Archive(b, 0, b.length, readBody, () => {}).single() as unknown as Decoded;

describe('G3MapFrameObject keys', () => {
  test('a nested map does not rename the keys of the map holding it, however often it is read', () => {
    const blob = map([
      [
        'a',
        map([
          ['q', int(1)],
          ['b', int(2)],
        ]),
      ],
      ['b', int(3)],
    ]);
    for (let round = 0; round < 3; round++) {
      const d = decode(blob);
      expect([...d.items.keys()]).toEqual(['a', 'b']);
      expect([...(d.items.get('a')?.items?.keys() ?? [])]).toEqual(['q', 'b']);
      expect(d.items.get('b')?.value).toBe(3n);
    }
  });

  test('maps of one layout share keys; a map of another layout in between changes nothing', () => {
    const one = map([
      ['x', int(1)],
      ['y', int(2)],
    ]);
    const other = map([
      ['x', int(1)],
      ['z', map([['y', int(0)]])],
    ]);
    for (const b of [one, other, one, other, other, one]) {
      const keys = [...decode(b).items.keys()];
      expect(keys).toEqual(b === one ? ['x', 'y'] : ['x', 'z']);
    }
  });
});
