/**
 * WAMP JSON serializer (`wamp.2.json`, RawSocket id 1) with WAMP's binary convention: a byte array
 * travels as the string "\u0000" + base64(bytes), and such a string decodes back to a Buffer, at
 * any depth (args, kwargs, details).
 *
 * Hot path: the plain `JSON.stringify`/`JSON.parse` run unless binary is involved. On decode the
 * reviver is installed only when the text contains the escape `\u0000` (JSON cannot carry a raw NUL);
 * on encode a quick walk looks for byte arrays and the replacer is used only if it finds one.
 */
import type { Serializer } from '../types';

const MAX_WALK_DEPTH = 256;

/** Whether `v` holds a Uint8Array (or other ArrayBuffer view / ArrayBuffer) anywhere. */
function hasBinary(v: unknown, depth: number): boolean {
  if (typeof v !== 'object' || v === null) return false;
  if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) return true;
  if (depth > MAX_WALK_DEPTH) return false; // JSON.stringify reports a cycle itself
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (typeof x === 'object' && x !== null && hasBinary(x, depth + 1)) return true;
    }
    return false;
  }
  for (const k in v) {
    const x = (v as Record<string, unknown>)[k];
    if (typeof x === 'object' && x !== null && hasBinary(x, depth + 1)) return true;
  }
  return false;
}

function toBase64(v: ArrayBufferView | ArrayBuffer): string {
  const b = v instanceof ArrayBuffer ? Buffer.from(v) : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return '\u0000' + b.toString('base64');
}

/** JSON.stringify calls Buffer#toJSON before the replacer: look at the holder's original value. */
function replacer(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const orig = this[key];
  if (typeof orig === 'object' && orig !== null && (ArrayBuffer.isView(orig) || orig instanceof ArrayBuffer)) return toBase64(orig);
  return value;
}

function reviver(_key: string, value: unknown): unknown {
  if (typeof value === 'string' && value.charCodeAt(0) === 0) return Buffer.from(value.slice(1), 'base64');
  return value;
}

export function jsonEncode(value: unknown): Buffer {
  const text = hasBinary(value, 0) ? JSON.stringify(value, replacer) : JSON.stringify(value);
  if (text === undefined) throw new TypeError('json: value is not serializable');
  return Buffer.from(text, 'utf8');
}

export function jsonDecode(frame: Buffer): unknown {
  const text = frame.toString('utf8');
  return text.includes('\\u0000') ? JSON.parse(text, reviver) : JSON.parse(text);
}

export const jsonSerializer: Serializer = {
  name: 'json',
  subprotocol: 'wamp.2.json',
  rawsocketId: 1,
  binary: false,
  encode: jsonEncode,
  decode: jsonDecode,
};
