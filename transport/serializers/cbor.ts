/**
 * WAMP CBOR serializer (`wamp.2.cbor`, RawSocket id 3), hand-written (RFC 8949) so that:
 *  - every integral number in (-2^64, 2^64) is a CBOR integer (major 0/1; IDs above 2^32 as 8-byte
 *    integers, including 2^53); other numbers are float64 (1.5 stays a float);
 *  - Uint8Array/Buffer ↔ byte string (major 2) with no typed-array tags; maps ↔ plain objects;
 *    undefined is written as null.
 * Decoding accepts definite and indefinite lengths and float16/32/64; tags are skipped (the tagged
 * item is returned as is). `decode` throws on truncated input, trailing bytes, reserved additional
 * information, non-scalar map keys or nesting deeper than MAX_DEPTH.
 */
import type { Serializer } from '../types';
import { MAX_DEPTH, Reader, Writer, setKey, viewBytes } from './writer';

const TWO64 = 18446744073709551616;

class CborEncoder {
  private readonly w = new Writer();
  private readonly strHeader = (n: number): void => this.head(0x60, n);

  encode(value: unknown): Buffer {
    this.w.reset();
    this.value(value, 0);
    return this.w.finish();
  }

  /** Initial byte for `major` (already shifted) with argument n (0 <= n < 2^64). */
  private head(major: number, n: number): void {
    const w = this.w;
    if (n < 24) w.u8(major | n);
    else if (n < 0x100) w.u8u8(major | 24, n);
    else if (n < 0x10000) w.u8u16(major | 25, n);
    else if (n < 0x100000000) w.u8u32(major | 26, n);
    else w.u8i64(major | 27, n);
  }

  private value(v: unknown, depth: number): void {
    const w = this.w;
    switch (typeof v) {
      case 'string':
        w.str(v, this.strHeader);
        return;
      case 'number':
        if (Number.isInteger(v)) {
          if (v >= 0 && v < TWO64) {
            this.head(0x00, v);
            return;
          }
          if (v < 0 && v >= -TWO64) {
            this.head(0x20, -1 - v);
            return;
          }
        }
        w.u8f64(0xfb, v);
        return;
      case 'boolean':
        w.u8(v ? 0xf5 : 0xf4);
        return;
      case 'bigint': {
        const neg = v < 0n;
        const n = neg ? -1n - v : v;
        if (n >= 18446744073709551616n) throw new RangeError('cbor: bigint out of 64-bit range');
        w.ensure(9);
        w.buf[w.pos++] = neg ? 0x3b : 0x1b;
        w.buf.writeBigUInt64BE(n, w.pos);
        w.pos += 8;
        return;
      }
      case 'object':
        break;
      default:
        w.u8(0xf6);
        return; // undefined, function, symbol → null
    }
    if (v === null) {
      w.u8(0xf6);
      return;
    }
    if (++depth > MAX_DEPTH) throw new RangeError('cbor: nesting too deep (cycle?)');
    if (Array.isArray(v)) {
      const n = v.length;
      this.head(0x80, n);
      for (let i = 0; i < n; i++) this.value(v[i], depth);
      return;
    }
    if (ArrayBuffer.isView(v)) {
      this.bin(viewBytes(v));
      return;
    }
    if (v instanceof ArrayBuffer) {
      this.bin(new Uint8Array(v));
      return;
    }
    if (v instanceof Map) {
      this.head(0xa0, v.size);
      for (const [k, x] of v) {
        w.str(String(k), this.strHeader);
        this.value(x, depth);
      }
      return;
    }
    const o = v as Record<string, unknown> & { toJSON?: () => unknown };
    if (typeof o.toJSON === 'function') {
      this.value(o.toJSON(), depth);
      return;
    }
    const keys = Object.keys(o);
    let n = 0;
    for (const k of keys) if (o[k] !== undefined) n++;
    this.head(0xa0, n);
    for (const k of keys) {
      const x = o[k];
      if (x === undefined) continue;
      w.str(k, this.strHeader);
      this.value(x, depth);
    }
  }

  private bin(b: Uint8Array): void {
    this.head(0x40, b.length);
    this.w.bytes(b);
  }
}

const BREAK = Symbol('break');

/** The argument of an initial byte with additional information `ai` (< 28), or -1 for indefinite. */
function arg(r: Reader, ai: number): number {
  if (ai < 24) return ai;
  switch (ai) {
    case 24:
      return r.u8();
    case 25:
      return r.u16();
    case 26:
      return r.u32();
    case 27:
      return r.u64();
    case 31:
      return -1;
    default:
      throw new Error(`cbor: reserved additional information ${ai}`);
  }
}

function float16(h: number): number {
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  const sign = h & 0x8000 ? -1 : 1;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

function decodeValue(r: Reader, depth: number): unknown {
  const ib = r.u8();
  const major = ib >> 5;
  const ai = ib & 0x1f;
  switch (major) {
    case 0: {
      const n = arg(r, ai);
      if (n < 0) throw new Error('cbor: indefinite-length integer');
      return n;
    }
    case 1: {
      const n = arg(r, ai);
      if (n < 0) throw new Error('cbor: indefinite-length integer');
      return -1 - n;
    }
    case 2:
    case 3: {
      const n = arg(r, ai);
      if (n >= 0) return major === 2 ? r.bin(n) : r.str(n);
      // Indefinite: definite chunks of the same major type until break.
      const parts: Buffer[] = [];
      for (;;) {
        const cb = r.u8();
        if (cb === 0xff) break;
        if (cb >> 5 !== major) throw new Error('cbor: bad chunk in indefinite string');
        const len = arg(r, cb & 0x1f);
        if (len < 0) throw new Error('cbor: nested indefinite string');
        parts.push(r.bin(len));
      }
      const all = Buffer.concat(parts);
      return major === 2 ? all : all.toString('utf8');
    }
    case 4: {
      if (++depth > MAX_DEPTH) throw new Error('cbor: nesting too deep');
      const n = arg(r, ai);
      if (n >= 0) {
        r.need(n);
        const out = new Array<unknown>(n);
        for (let i = 0; i < n; i++) out[i] = item(r, depth);
        return out;
      }
      const out: unknown[] = [];
      for (;;) {
        const x = decodeValue(r, depth);
        if (x === BREAK) return out;
        out.push(x);
      }
    }
    case 5: {
      if (++depth > MAX_DEPTH) throw new Error('cbor: nesting too deep');
      const n = arg(r, ai);
      const out: Record<string, unknown> = {};
      if (n >= 0) r.need(2 * n);
      for (let i = 0; n < 0 || i < n; i++) {
        const k = decodeValue(r, depth);
        if (k === BREAK && n < 0) return out;
        if (typeof k !== 'string' && typeof k !== 'number') throw new Error('cbor: map keys must be strings or numbers');
        setKey(out, typeof k === 'string' ? k : String(k), item(r, depth));
      }
      return out;
    }
    case 6: {
      // Tags carry no meaning for WAMP: skip the tag, keep the content.
      const t = arg(r, ai);
      if (t < 0) throw new Error('cbor: indefinite tag');
      return item(r, depth);
    }
    default: {
      // major 7
      switch (ai) {
        case 20:
          return false;
        case 21:
          return true;
        case 22:
          return null;
        case 23:
          return null; // undefined
        case 25:
          return float16(r.u16());
        case 26:
          return r.f32();
        case 27:
          return r.f64();
        case 31:
          return BREAK;
        default:
          throw new Error(`cbor: unsupported simple value ${ai}`);
      }
    }
  }
}

/** A data item where a break code is not allowed. */
function item(r: Reader, depth: number): unknown {
  const v = decodeValue(r, depth);
  if (v === BREAK) throw new Error('cbor: unexpected break');
  return v;
}

/** Decodes exactly one CBOR data item filling the whole frame. */
export function cborDecode(frame: Buffer): unknown {
  const r = new Reader(frame, 'cbor');
  const v = item(r, 0);
  if (r.pos !== frame.length) throw new Error(`cbor: ${frame.length - r.pos} trailing bytes`);
  return v;
}

const encoder = new CborEncoder();

/** Encodes one value; see the header comment for the type mapping. */
export function cborEncode(value: unknown): Buffer {
  return encoder.encode(value);
}

export const cborSerializer: Serializer = {
  name: 'cbor',
  subprotocol: 'wamp.2.cbor',
  rawsocketId: 3,
  binary: true,
  encode: (message) => encoder.encode(message),
  decode: cborDecode,
};
