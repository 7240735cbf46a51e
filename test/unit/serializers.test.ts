/**
 * Serializers: integer/float fidelity (IDs up to 2^53 stay integers on the wire), binary, maps as
 * plain objects, malformed input, the JSON binary convention, the registry and negotiation.
 */
import { encode as mpEncode, decode as mpDecode } from '@msgpack/msgpack';
import { Decoder as CborXDecoder } from 'cbor-x';
import {
  ALL_SERIALIZERS,
  cborSerializer,
  jsonSerializer,
  msgpackSerializer,
  negotiate,
  serializerByName,
  serializerByRawsocketId,
  serializerBySubprotocol,
} from '../../transport/serializers';

const binary = [msgpackSerializer, cborSerializer];

describe.each(ALL_SERIALIZERS.map((s) => [s.name, s] as const))('%s', (_name, s) => {
  const rt = (v: unknown): unknown => s.decode(s.encode(v as unknown[]));

  test.each([
    2 ** 53,
    2 ** 53 - 1,
    2 ** 32 + 1,
    2 ** 32,
    2 ** 32 - 1,
    2 ** 31,
    0,
    1,
    23,
    24,
    31,
    127,
    128,
    255,
    256,
    65535,
    65536,
    -1,
    -24,
    -25,
    -32,
    -33,
    -128,
    -129,
    -32768,
    -32769,
    -(2 ** 31),
    -(2 ** 31) - 1,
    -(2 ** 32),
    -(2 ** 53),
  ])('integer %p round-trips as that integer', (n) => {
    const out = rt([n, { n }]) as [number, { n: number }];
    expect(out).toEqual([n, { n }]);
    expect(Number.isInteger(out[0])).toBe(true);
  });

  test.each([1.5, -1.5, 0.1, 1e300, -2.5e-10, Math.PI])('float %p round-trips exactly', (x) => {
    expect(rt([x])).toEqual([x]);
  });

  test('strings, unicode, nesting, null, booleans', () => {
    const v = [1, 'héllo wörld ✓ 🚀', 'x'.repeat(70000), '', { a: { b: [true, false, null, { c: 'ü' }] } }, []];
    expect(rt(v)).toEqual(v);
  });

  test('maps decode as plain objects; undefined values in dicts are dropped', () => {
    const out = rt([{ a: 1, skip: undefined, nested: { k: 'v' } }]) as [Record<string, unknown>];
    expect(Object.getPrototypeOf(out[0])).toBe(Object.prototype);
    expect(out[0]).toEqual({ a: 1, nested: { k: 'v' } });
    expect('skip' in out[0]).toBe(false);
  });

  test('nested binary decodes as bytes', () => {
    const bytes = Buffer.from([0, 1, 2, 250, 255]);
    const out = rt([36, 1, 2, {}, [bytes, { deep: [new Uint8Array([9, 8])] }], { k: bytes }]) as unknown[];
    const args = out[4] as unknown[];
    expect(args[0]).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(args[0] as Uint8Array)).toEqual(bytes);
    expect(Buffer.from((args[1] as { deep: Uint8Array[] }).deep[0]!)).toEqual(Buffer.from([9, 8]));
    expect(Buffer.from((out[5] as { k: Uint8Array }).k)).toEqual(bytes);
  });

  test('a __proto__ key stays data', () => {
    const frame = s.encode([JSON.parse('{"__proto__": {"polluted": true}}')]);
    const out = s.decode(frame) as [Record<string, unknown>];
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(out[0])).toBe(Object.prototype);
  });

  test('malformed input throws', () => {
    const good = s.encode([48, 123, {}, 'com.example.proc', ['a', 'b']]);
    expect(() => s.decode(Buffer.alloc(0))).toThrow();
    expect(() => s.decode(good.subarray(0, good.length - 3))).toThrow();
    expect(() => s.decode(Buffer.concat([good, Buffer.from([0x01])]))).toThrow();
  });

  test('a cyclic value throws instead of hanging', () => {
    const a: unknown[] = [1];
    a.push(a);
    expect(() => s.encode(a)).toThrow();
  });
});

describe('binary serializers: wire format', () => {
  test('2^53 and 2^32+1 are 8-byte integers, 1.5 a float64', () => {
    expect(msgpackSerializer.encode([2 ** 53]).toString('hex')).toBe('91cf0020000000000000');
    expect(msgpackSerializer.encode([2 ** 32 + 1]).toString('hex')).toBe('91cf0000000100000001');
    expect(msgpackSerializer.encode([-(2 ** 40)]).toString('hex')).toBe('91d3ffffff0000000000');
    expect(msgpackSerializer.encode([1.5]).toString('hex')).toBe('91cb3ff8000000000000');
    expect(cborSerializer.encode([2 ** 53]).toString('hex')).toBe('811b0020000000000000');
    expect(cborSerializer.encode([2 ** 32 + 1]).toString('hex')).toBe('811b0000000100000001');
    expect(cborSerializer.encode([-(2 ** 40)]).toString('hex')).toBe('813b000000ffffffffff');
    expect(cborSerializer.encode([1.5]).toString('hex')).toBe('81fb3ff8000000000000');
  });

  test('binary is a plain byte string: msgpack bin, CBOR major 2 without typed-array tags', () => {
    expect(msgpackSerializer.encode([new Uint8Array([1, 2])]).toString('hex')).toBe('91c4020102');
    expect(cborSerializer.encode([new Uint8Array([1, 2])]).toString('hex')).toBe('81420102');
    expect(cborSerializer.encode([Buffer.from([1, 2])]).toString('hex')).toBe('81420102');
  });

  test('other libraries read our frames (@msgpack/msgpack, cbor-x)', () => {
    const msg = [36, 2 ** 53, 2 ** 32 + 1, { publisher: 12345678901 }, [1.5, -7, 'x', Buffer.from([1])], { k: null }];
    const fromMp = mpDecode(msgpackSerializer.encode(msg)) as unknown[];
    // @msgpack/msgpack returns bin as Uint8Array: compare the bytes, not the Buffer class.
    const bytesAsArrays = (v: unknown): unknown =>
      v instanceof Uint8Array
        ? { bytes: [...v] }
        : Array.isArray(v)
          ? v.map(bytesAsArrays)
          : v && typeof v === 'object'
            ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, bytesAsArrays(x)]))
            : v;
    expect(bytesAsArrays(fromMp)).toEqual(bytesAsArrays(msg));
    const fromCbor = new CborXDecoder({ useRecords: false, mapsAsObjects: true, int64AsNumber: true } as never).decode(
      cborSerializer.encode(msg),
    );
    expect(fromCbor).toEqual(msg);
  });

  test('we read frames of other encoders (@msgpack/msgpack with float32 and big maps)', () => {
    const v = [1, { many: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, i * 1000])) }, 'y'.repeat(300)];
    expect(msgpackSerializer.decode(Buffer.from(mpEncode(v, { forceFloat32: true })))).toEqual(v);
  });

  test('msgpack: ext types are refused', () => {
    expect(() => msgpackSerializer.decode(Buffer.from('91d6ff00000001', 'hex'))).toThrow(/unsupported/);
  });

  test('cbor: indefinite lengths, float16/32, tags skipped, undefined as null', () => {
    // [_ 1, "ab" as (_ "a" "b"), {_ "k": 2}], half 1.5, single 1.5, tag 1 (epoch) 5, undefined
    const frame = Buffer.from('9f01' + '7f61616162ff' + 'bf616b02ff' + 'f93e00' + 'fa3fc00000' + 'c105' + 'f7' + 'ff', 'hex');
    expect(cborSerializer.decode(frame)).toEqual([1, 'ab', { k: 2 }, 1.5, 1.5, 5, null]);
  });

  test('cbor: a stray break or reserved value throws', () => {
    expect(() => cborSerializer.decode(Buffer.from('81ff', 'hex'))).toThrow();
    expect(() => cborSerializer.decode(Buffer.from('1c', 'hex'))).toThrow();
  });

  test('a huge declared length with little data throws fast', () => {
    for (const s of binary) {
      expect(() => s.decode(Buffer.from(s === msgpackSerializer ? 'dd7fffffff' : '9a7fffffff', 'hex'))).toThrow(/truncated/);
    }
  });

  test('deep nesting throws instead of overflowing the stack', () => {
    for (const s of binary) {
      const open = s === msgpackSerializer ? '91' : '81';
      expect(() => s.decode(Buffer.from(open.repeat(100000) + '00', 'hex'))).toThrow(/deep/);
    }
  });
});

describe('json binary convention', () => {
  test('bytes travel as "\\u0000" + base64, at any depth', () => {
    const frame = jsonSerializer.encode([50, 1, {}, [Buffer.from('hi')], { a: [new Uint8Array([255])] }]);
    expect(frame.toString()).toBe('[50,1,{},["\\u0000aGk="],{"a":["\\u0000/w=="]}]');
    const out = jsonSerializer.decode(frame) as unknown[];
    expect(Buffer.from((out[3] as Uint8Array[])[0]!).toString()).toBe('hi');
    expect(Buffer.from((out[4] as { a: Uint8Array[] }).a[0]!)).toEqual(Buffer.from([255]));
  });

  test('text without binary is plain JSON', () => {
    const frame = jsonSerializer.encode([1, 'realm1', { roles: { caller: {} } }]);
    expect(frame.toString()).toBe('[1,"realm1",{"roles":{"caller":{}}}]');
    expect(jsonSerializer.decode(frame)).toEqual([1, 'realm1', { roles: { caller: {} } }]);
  });

  test('an escaped backslash before u0000 is not binary', () => {
    expect(jsonSerializer.decode(Buffer.from('["\\\\u0000x"]'))).toEqual(['\\u0000x']);
  });

  test('malformed JSON throws', () => {
    expect(() => jsonSerializer.decode(Buffer.from('[1, 2'))).toThrow();
  });
});

describe('registry and negotiation', () => {
  test('look-ups', () => {
    expect(serializerByName('msgpack')).toBe(msgpackSerializer);
    expect(serializerBySubprotocol('wamp.2.cbor')).toBe(cborSerializer);
    expect(serializerByRawsocketId(1)).toBe(jsonSerializer);
    expect(serializerByRawsocketId(2)).toBe(msgpackSerializer);
    expect(serializerByRawsocketId(3)).toBe(cborSerializer);
    expect(serializerByRawsocketId(4)).toBeUndefined();
    expect(jsonSerializer.binary).toBe(false);
    expect(msgpackSerializer.binary && cborSerializer.binary).toBe(true);
  });

  test('our preference wins over the client order', () => {
    expect(negotiate(['wamp.2.json', 'wamp.2.cbor', 'wamp.2.msgpack'], ['json', 'msgpack', 'cbor'])).toBe(msgpackSerializer);
    expect(negotiate(['wamp.2.json', 'wamp.2.cbor'], ['json', 'msgpack', 'cbor'])).toBe(cborSerializer);
    expect(negotiate(['wamp.2.json', 'wamp.2.msgpack'], ['json'])).toBe(jsonSerializer);
    expect(negotiate(['wamp.2.json', 'wamp.2.msgpack'], [])).toBe(msgpackSerializer);
  });

  test('nothing in common → undefined', () => {
    expect(negotiate(['wamp.2.ubjson', 'mqtt'], ['json', 'msgpack', 'cbor'])).toBeUndefined();
    expect(negotiate(['wamp.2.msgpack'], ['json'])).toBeUndefined();
    expect(negotiate([], ['json'])).toBeUndefined();
  });
});
