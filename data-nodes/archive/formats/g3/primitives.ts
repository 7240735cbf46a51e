/**
 * The cereal building blocks the G3 class bodies share: integer vectors of a stored bit width,
 * string/byte/double vectors, G3Time bodies (version words on first use) and G3VectorTime. Every
 * count is checked against the bytes left before anything is allocated (ByteReader.size).
 */
import type { Archive } from './archive';
import { toInts } from './bytes';
import { G3BoundsError } from './errors';
import { VectorTime } from './lazy-vectors';
import type { IntArray } from './types';

export type Bits = 8 | 16 | 32 | 64;

export function bits(ar: Archive, what: string): Bits {
  const b = ar.r.i32(`${what} store_bits`);
  if (b !== 8 && b !== 16 && b !== 32 && b !== 64) throw new G3BoundsError('corrupt', `${what} store_bits ${b} (expected 8, 16, 32 or 64)`);
  return b;
}

export function ints(ar: Archive, b: Bits, what: string): IntArray {
  const n = ar.r.size(b / 8, what);
  return toInts(ar.r.bytes((n * b) / 8, what), n, b, ar.r.little);
}

export function int(ar: Archive, b: Bits): bigint {
  const r = ar.r;
  if (b === 64) return r.i64();
  if (b === 32) return BigInt(r.i32());
  const bytes = r.bytes(b / 8, 'integer');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return BigInt(b === 8 ? dv.getInt8(0) : dv.getInt16(0, r.little));
}

export function strings(ar: Archive, what: string): string[] {
  const n = ar.r.size(8, what);
  const out: string[] = new Array<string>(n);
  for (let i = 0; i < n; i++) out[i] = ar.r.string(what);
  return out;
}

export function bytesVec(ar: Archive, what: string): Uint8Array {
  const n = ar.r.size(1, what);
  return ar.r.bytes(n, what).slice();
}

export function doubles(ar: Archive, what: string): Float64Array {
  const n = ar.r.size(8, what);
  return ar.r.f64s(n);
}

/** The int64 of a G3Time object body (its versions on first use). */
export function timeBody(ar: Archive): bigint {
  ar.version('G3Time');
  ar.frameObjectBase();
  return ar.r.i64('G3Time');
}

export function vectorTime(ar: Archive, type: string): VectorTime {
  ar.version(type);
  ar.frameObjectBase();
  const n = ar.r.size(8, type);
  if (n > 0) {
    ar.version('G3Time');
    ar.frameObjectBase();
  }
  const at = ar.r.skip(n * 8, type);
  return new VectorTime(type, ar.r.buf, at, n, ar.r.little);
}
