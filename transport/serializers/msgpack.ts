/**
 * WAMP MsgPack serializer (`wamp.2.msgpack`, RawSocket id 2), hand-written so that the wire form is
 * exactly what AutobahnPython/Crossbar expect:
 *  - every integral number in (-2^64, 2^64) is a MsgPack integer (uint64 for IDs above 2^32,
 *    including 2^53); other numbers are float64 (1.5 stays a float);
 *  - Uint8Array/Buffer ↔ bin; maps ↔ plain objects; no extension types (no records, no timestamps:
 *    an inbound ext is a decode error).
 * `decode` throws on truncated input, trailing bytes, ext types, non-scalar map keys or nesting deeper
 * than MAX_DEPTH.
 */
import type { Serializer } from '../types';
import { MAX_DEPTH, Reader, Writer, setKey, viewBytes } from './writer';

const TWO64 = 18446744073709551616;
const TWO63 = 9223372036854775808;

class MsgpackEncoder {
  private readonly w = new Writer();
  private readonly strHeader = (n: number): void => {
    const w = this.w;
    if (n < 32) w.u8(0xa0 | n);
    else if (n < 0x100) w.u8u8(0xd9, n);
    else if (n < 0x10000) w.u8u16(0xda, n);
    else w.u8u32(0xdb, n);
  };

  encode(value: unknown): Buffer {
    this.w.reset();
    this.value(value, 0);
    return this.w.finish();
  }

  private value(v: unknown, depth: number): void {
    const w = this.w;
    switch (typeof v) {
      case 'string':
        w.str(v, this.strHeader);
        return;
      case 'number':
        this.number(v);
        return;
      case 'boolean':
        w.u8(v ? 0xc3 : 0xc2);
        return;
      case 'bigint':
        if (v >= 0n && v < 18446744073709551616n) {
          w.ensure(9);
          w.buf[w.pos++] = 0xcf;
          w.buf.writeBigUInt64BE(v, w.pos);
          w.pos += 8;
          return;
        }
        if (v < 0n && v >= -9223372036854775808n) {
          w.ensure(9);
          w.buf[w.pos++] = 0xd3;
          w.buf.writeBigInt64BE(v, w.pos);
          w.pos += 8;
          return;
        }
        throw new RangeError('msgpack: bigint out of 64-bit range');
      case 'object':
        break;
      default:
        w.u8(0xc0);
        return; // undefined, function, symbol → nil
    }
    if (v === null) {
      w.u8(0xc0);
      return;
    }
    if (++depth > MAX_DEPTH) throw new RangeError('msgpack: nesting too deep (cycle?)');
    if (Array.isArray(v)) {
      const n = v.length;
      if (n < 16) w.u8(0x90 | n);
      else if (n < 0x10000) w.u8u16(0xdc, n);
      else w.u8u32(0xdd, n);
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
      this.mapHeader(v.size);
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
    // Like JSON: keys whose value is undefined are left out.
    const keys = Object.keys(o);
    let n = 0;
    for (const k of keys) if (o[k] !== undefined) n++;
    this.mapHeader(n);
    for (const k of keys) {
      const x = o[k];
      if (x === undefined) continue;
      w.str(k, this.strHeader);
      this.value(x, depth);
    }
  }

  private mapHeader(n: number): void {
    if (n < 16) this.w.u8(0x80 | n);
    else if (n < 0x10000) this.w.u8u16(0xde, n);
    else this.w.u8u32(0xdf, n);
  }

  private bin(b: Uint8Array): void {
    const n = b.length;
    if (n < 0x100) this.w.u8u8(0xc4, n);
    else if (n < 0x10000) this.w.u8u16(0xc5, n);
    else this.w.u8u32(0xc6, n);
    this.w.bytes(b);
  }

  private number(v: number): void {
    const w = this.w;
    if (Number.isInteger(v)) {
      if (v >= 0) {
        if (v < 0x80) {
          w.u8(v);
          return;
        }
        if (v < 0x100) {
          w.u8u8(0xcc, v);
          return;
        }
        if (v < 0x10000) {
          w.u8u16(0xcd, v);
          return;
        }
        if (v < 0x100000000) {
          w.u8u32(0xce, v);
          return;
        }
        if (v < TWO64) {
          w.u8i64(0xcf, v);
          return;
        }
      } else {
        if (v >= -32) {
          w.u8(v & 0xff);
          return;
        }
        if (v >= -0x80) {
          w.u8u8(0xd0, v & 0xff);
          return;
        }
        if (v >= -0x8000) {
          w.u8u16(0xd1, v & 0xffff);
          return;
        }
        if (v >= -0x80000000) {
          w.u8u32(0xd2, v >>> 0);
          return;
        }
        if (v >= -TWO63) {
          w.u8i64(0xd3, v);
          return;
        }
      }
    }
    w.u8f64(0xcb, v); // fractions, NaN, ±Infinity, integers beyond 64 bits
  }
}

function decodeValue(r: Reader, depth: number): unknown {
  const b = r.u8();
  if (b < 0x80) return b;
  if (b >= 0xe0) return b - 0x100;
  if (b >= 0xa0 && b <= 0xbf) return r.str(b & 0x1f);
  if (b >= 0x90 && b <= 0x9f) return array(r, b & 0x0f, depth);
  if (b >= 0x80 && b <= 0x8f) return map(r, b & 0x0f, depth);
  switch (b) {
    case 0xc0:
      return null;
    case 0xc2:
      return false;
    case 0xc3:
      return true;
    case 0xc4:
      return r.bin(r.u8());
    case 0xc5:
      return r.bin(r.u16());
    case 0xc6:
      return r.bin(r.u32());
    case 0xca:
      return r.f32();
    case 0xcb:
      return r.f64();
    case 0xcc:
      return r.u8();
    case 0xcd:
      return r.u16();
    case 0xce:
      return r.u32();
    case 0xcf:
      return r.u64();
    case 0xd0:
      return r.i8();
    case 0xd1:
      return r.i16();
    case 0xd2:
      return r.i32();
    case 0xd3:
      return r.i64();
    case 0xd9:
      return r.str(r.u8());
    case 0xda:
      return r.str(r.u16());
    case 0xdb:
      return r.str(r.u32());
    case 0xdc:
      return array(r, r.u16(), depth);
    case 0xdd:
      return array(r, r.u32(), depth);
    case 0xde:
      return map(r, r.u16(), depth);
    case 0xdf:
      return map(r, r.u32(), depth);
    default:
      // 0xc1 (never used) and the ext family 0xc7-0xc9, 0xd4-0xd8
      throw new Error(`msgpack: unsupported type byte 0x${b.toString(16)}`);
  }
}

function array(r: Reader, n: number, depth: number): unknown[] {
  if (++depth > MAX_DEPTH) throw new Error('msgpack: nesting too deep');
  // Every element takes at least one byte: a length beyond the rest of the frame is malformed.
  r.need(n);
  const out = new Array<unknown>(n);
  for (let i = 0; i < n; i++) out[i] = decodeValue(r, depth);
  return out;
}

function map(r: Reader, n: number, depth: number): Record<string, unknown> {
  if (++depth > MAX_DEPTH) throw new Error('msgpack: nesting too deep');
  r.need(2 * n);
  const out: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) {
    const k = decodeValue(r, depth);
    if (typeof k !== 'string' && typeof k !== 'number') throw new Error('msgpack: map keys must be strings or numbers');
    setKey(out, typeof k === 'string' ? k : String(k), decodeValue(r, depth));
  }
  return out;
}

/** Decodes exactly one MsgPack value filling the whole frame. */
export function msgpackDecode(frame: Buffer): unknown {
  const r = new Reader(frame, 'msgpack');
  const v = decodeValue(r, 0);
  if (r.pos !== frame.length) throw new Error(`msgpack: ${frame.length - r.pos} trailing bytes`);
  return v;
}

const encoder = new MsgpackEncoder();

/** Encodes one value; see the header comment for the type mapping. */
export function msgpackEncode(value: unknown): Buffer {
  return encoder.encode(value);
}

export const msgpackSerializer: Serializer = {
  name: 'msgpack',
  subprotocol: 'wamp.2.msgpack',
  rawsocketId: 2,
  binary: true,
  encode: (message) => encoder.encode(message),
  decode: msgpackDecode,
};
