/**
 * A growable byte writer shared by the binary serializers (MsgPack, CBOR). Encoding is synchronous,
 * so one scratch buffer per serializer is reused; `finish()` copies the bytes out.
 */
const INITIAL = 64 * 1024;

/** Deepest nesting encoded or decoded; guards against cycles and stack exhaustion. */
export const MAX_DEPTH = 256;

export class Writer {
  buf: Buffer = Buffer.allocUnsafe(INITIAL);
  pos = 0;

  reset(): void {
    this.pos = 0;
    // Drop a scratch buffer that grew very large for one big message.
    if (this.buf.length > 16 * INITIAL) this.buf = Buffer.allocUnsafe(INITIAL);
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** A copy of the bytes written since `reset()`. */
  finish(): Buffer {
    const out = Buffer.allocUnsafe(this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    return out;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }
  u8u8(a: number, b: number): void {
    this.ensure(2);
    this.buf[this.pos++] = a;
    this.buf[this.pos++] = b;
  }
  u8u16(a: number, v: number): void {
    this.ensure(3);
    this.buf[this.pos++] = a;
    this.buf.writeUInt16BE(v, this.pos);
    this.pos += 2;
  }
  u8u32(a: number, v: number): void {
    this.ensure(5);
    this.buf[this.pos++] = a;
    this.buf.writeUInt32BE(v, this.pos);
    this.pos += 4;
  }
  /** Type byte then a 64-bit big-endian integer (two's complement for negatives); |v| must be < 2^64. */
  u8i64(a: number, v: number): void {
    this.ensure(9);
    this.buf[this.pos++] = a;
    const hi = Math.floor(v / 4294967296);
    const lo = v - hi * 4294967296; // in [0, 2^32)
    this.buf.writeInt32BE(hi >= 2147483648 ? hi - 4294967296 : hi, this.pos); // bit pattern of the high word
    this.buf.writeUInt32BE(lo, this.pos + 4);
    this.pos += 8;
  }
  u8f64(a: number, v: number): void {
    this.ensure(9);
    this.buf[this.pos++] = a;
    this.buf.writeDoubleBE(v, this.pos);
    this.pos += 8;
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /**
   * Writes `s` as UTF-8 after a length header written by `header(byteLength)`. Short ASCII strings
   * (the usual URIs and dict keys) are copied in a JS loop, which beats the native call.
   */
  str(s: string, header: (byteLength: number) => void): void {
    const n = s.length;
    if (n < 64) {
      // Optimistic ASCII: reserve the header's max size (9) and n bytes, write, verify.
      let ascii = true;
      for (let i = 0; i < n; i++)
        if (s.charCodeAt(i) > 0x7f) {
          ascii = false;
          break;
        }
      if (ascii) {
        header(n);
        this.ensure(n);
        const buf = this.buf;
        let p = this.pos;
        for (let i = 0; i < n; i++) buf[p++] = s.charCodeAt(i);
        this.pos = p;
        return;
      }
    }
    const len = Buffer.byteLength(s, 'utf8');
    header(len);
    this.ensure(len);
    this.buf.write(s, this.pos, len, 'utf8');
    this.pos += len;
  }
}

/** Bytes of any ArrayBuffer view as a Uint8Array (no copy). */
export function viewBytes(v: ArrayBufferView): Uint8Array {
  return v instanceof Uint8Array ? v : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

/** Reading side: a cursor over one frame that throws on truncation. */
export class Reader {
  pos = 0;
  constructor(
    readonly buf: Buffer,
    readonly what: string,
  ) {}

  need(n: number): void {
    if (this.pos + n > this.buf.length) throw new Error(`${this.what}: truncated input`);
  }

  /** The next byte. */
  u8(): number {
    const b = this.buf[this.pos];
    if (b === undefined) throw new Error(`${this.what}: truncated input`);
    this.pos++;
    return b;
  }

  /** `len` bytes decoded as UTF-8; ASCII fast path for short strings. */
  str(len: number): string {
    this.need(len);
    const buf = this.buf;
    const start = this.pos;
    const end = start + len;
    this.pos = end;
    if (len < 32) {
      let out = '';
      for (let i = start; i < end; i++) {
        const c = buf[i]!; // i < end <= buf.length: need(len) above
        if (c > 0x7f) return buf.toString('utf8', start, end);
        out += String.fromCharCode(c);
      }
      return out;
    }
    return buf.toString('utf8', start, end);
  }

  /** `len` bytes as a fresh Buffer (copied: the frame's memory may be reused). */
  bin(len: number): Buffer {
    this.need(len);
    const out = Buffer.allocUnsafe(len);
    this.buf.copy(out, 0, this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  /** Fixed-width big-endian numbers: each width is read here and nowhere else. */
  i8(): number {
    this.need(1);
    return this.buf.readInt8(this.pos++);
  }
  u16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  i16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  i32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  f32(): number {
    this.need(4);
    const v = this.buf.readFloatBE(this.pos);
    this.pos += 4;
    return v;
  }
  f64(): number {
    this.need(8);
    const v = this.buf.readDoubleBE(this.pos);
    this.pos += 8;
    return v;
  }

  /** Unsigned 64-bit big-endian integer as a number (exact up to 2^53). */
  u64(): number {
    this.need(8);
    const v = this.buf.readUInt32BE(this.pos) * 4294967296 + this.buf.readUInt32BE(this.pos + 4);
    this.pos += 8;
    return v;
  }
  i64(): number {
    this.need(8);
    const v = this.buf.readInt32BE(this.pos) * 4294967296 + this.buf.readUInt32BE(this.pos + 4);
    this.pos += 8;
    return v;
  }
}

/** Sets `obj[key] = value` without ever touching the prototype (a peer may send `__proto__`). */
export function setKey(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}
