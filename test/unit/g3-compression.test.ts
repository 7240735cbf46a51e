/**
 * The bound on decompressed G3 content is exact for bzip2 (the decoder writes byte by byte into
 * growing chunks): content of exactly the bound passes, one byte more is refused, and a bomb is
 * refused without allocating far past the bound.
 */
import { execFileSync } from 'node:child_process';
import { decompressSync, G3FormatError } from '../../data-nodes/archive/formats/g3';

const bz = (b: Buffer): Buffer => execFileSync('bzip2', ['-c'], { input: b });

describe('G3 bzip2 bound', () => {
  const content = Buffer.alloc(3 << 20, 7); // 3 MiB: chunks of 1 and 2 MiB fill exactly
  content.write('G3 bound test', 12345);
  const packed = bz(content);

  test('content of exactly maxBytes is returned whole', () => {
    const out = decompressSync(packed, 'x.g3.bz2', content.length).data;
    expect(out.equals(content)).toBe(true);
  });

  test.each([1, 1000, 1 << 20])('maxBytes %i below the content is refused as too-large', (less) => {
    let err: unknown;
    try {
      decompressSync(packed, 'x.g3.bz2', content.length - less);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(G3FormatError);
    expect((err as G3FormatError).kind).toBe('too-large');
    expect((err as Error).message).toContain('x.g3.bz2');
  });

  test('a bomb is refused having allocated at most one byte past the bound', () => {
    const bomb = bz(Buffer.alloc(96 << 20)); // 96 MiB of zeros in a few hundred bytes
    expect(bomb.length).toBeLessThan(4096);
    const spy = jest.spyOn(Buffer, 'allocUnsafe');
    try {
      expect(() => decompressSync(bomb, 'bomb.g3.bz2', 5 << 20)).toThrow(/bomb\.g3\.bz2.*exceeds 5242880 bytes/);
      const allocated = spy.mock.calls.reduce((n, [size]) => n + size, 0);
      expect(allocated).toBeGreaterThan(5 << 20);
      expect(allocated).toBeLessThanOrEqual((5 << 20) + 1);
    } finally {
      spy.mockRestore();
    }
  });
});
