/**
 * Fuzz property test: a live router (in this process, real sockets on port 0) is fed at least
 * 100,000 generated frames (SISOCK_FUZZ_FRAMES to change), on every serializer (json, msgpack,
 * cbor), over WebSocket, RawSocket and the universal port (both of its sides). Frames are valid
 * WAMP messages with fuzzed payloads and options, plus mutations: wrong types, truncation, huge and
 * fractional ints, deep nesting, random bytes, wrong or router-only message codes, missing and
 * extra fields, out-of-order messages, bad framing (RawSocket headers, WebSocket opcodes,
 * fragments, invalid UTF-8, oversize frames) and bad RawSocket handshakes.
 *
 * Each fast-check run opens one connection, writes a batch of frames in one go, then a sync
 * PUBLISH (acknowledge) and expects either its answer (the router processed everything and still
 * serves this session) or the connection to close, with nothing after an ABORT. Throughout, a
 * well-behaved caller/callee pair must get correct answers and a subscriber every event; at the
 * end router.sessions must hold only the live sessions, and the meta API must show no leftover
 * registration or subscription of a fuzz session. No uncaught exception or unhandled rejection.
 *
 * Reproduce a failure with SISOCK_FUZZ_SEED=<seed printed on failure>.
 */
import fc from 'fast-check';
import * as net from 'node:net';
import WebSocket from 'ws';
import { parseConfig } from '../../router/config';
import { startRouter, type RunningRouter } from '../../router/server';
import { cborSerializer, jsonSerializer, msgpackSerializer } from '../../transport/serializers';
import type { Serializer } from '../../transport/types';
import { MiniClient, WampCallError } from '../helpers/mini-wamp-client';
import { waitFor } from '../helpers/wait';

jest.setTimeout(300_000);

const REALM = 'fuzz';
const TOTAL_FRAMES = Number(process.env.SISOCK_FUZZ_FRAMES ?? 100_000);
const SEED = process.env.SISOCK_FUZZ_SEED ? Number(process.env.SISOCK_FUZZ_SEED) : (Date.now() ^ (process.pid << 8)) >>> 1;
const MAX_MESSAGE_SIZE = 65536;
const SYNC_ID = 2 ** 53 - 11;
const SERIALIZERS: Serializer[] = [jsonSerializer, msgpackSerializer, cborSerializer];

type Dict = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------
// Process-level watch: any uncaught exception or unhandled rejection fails the test.

const processErrors: string[] = [];
const onUncaught = (e: unknown): void => {
  processErrors.push(`uncaughtException: ${(e as Error)?.stack ?? String(e)}`);
};
const onUnhandled = (e: unknown): void => {
  processErrors.push(`unhandledRejection: ${(e as Error)?.stack ?? String(e)}`);
};

// ---------------------------------------------------------------------------------------------
// Frames

/** One thing to write on a connection. */
interface Out {
  data: Buffer;
  /** WebSocket: send as binary (default: the serializer's kind). */
  binary?: boolean;
  /** WebSocket: split into two fragments of one message. */
  fragment?: boolean;
  /** RawSocket: frame type byte (default 0 = regular). */
  rawType?: number;
  /** RawSocket: declared length instead of the real one. */
  rawLen?: number;
  /** RawSocket: the bytes are sent as they are, without a frame header. */
  unframed?: boolean;
  /**
   * The stream is desynchronised after this frame (a RawSocket length that lies): nothing more is
   * sent, the client half-closes, and the router must close the connection.
   */
  terminal?: boolean;
}

/** A generated frame, before encoding with the connection's serializer. */
type Spec =
  | { k: 'msg'; v: unknown[] }
  | { k: 'any'; v: unknown } // top-level non-message value
  | { k: 'bytes'; b: Uint8Array }
  | { k: 'truncate'; v: unknown[]; at: number }
  | { k: 'flip'; v: unknown[]; at: number; bits: number }
  | { k: 'junk'; v: unknown[]; tail: Uint8Array }
  | { k: 'deep'; depth: number; where: 'args' | 'top' }
  | { k: 'bigint'; v: bigint }
  | { k: 'rawjson'; text: string }
  | { k: 'oversize' }
  | { k: 'wrongkind'; v: unknown[] } // WebSocket text/binary opcode swapped
  | { k: 'badutf8' }
  | { k: 'fragment'; v: unknown[] }
  | { k: 'rsframe'; v: unknown[]; type: number } // RawSocket frame type 1..7
  | { k: 'rslen'; v: unknown[]; delta: number } // RawSocket length lies
  | { k: 'proto' }; // __proto__ / constructor keys in dicts

/** JSON.parse gives an own `__proto__` key, which every encoder then writes. */
const PROTO_DICT = (): Dict =>
  JSON.parse('{"__proto__": {"polluted": "yes"}, "constructor": {"prototype": {"polluted2": "yes"}}, "a": 1}') as Dict;

function nestArray(depth: number): unknown {
  let v: unknown = [];
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

/** Deeply nested arrays as bytes, built without recursion (encoders would overflow the stack). */
function deepBytes(ser: Serializer, depth: number, where: 'args' | 'top'): Buffer {
  if (ser.name === 'json') {
    const nest = '['.repeat(depth) + ']'.repeat(depth);
    return Buffer.from(where === 'top' ? nest : `[48,7,{},"fuzz.echo.json",[${nest}]]`);
  }
  const open = ser.name === 'msgpack' ? 0x91 : 0x81; // array of one element
  const empty = ser.name === 'msgpack' ? 0x90 : 0x80; // empty array
  const nest = Buffer.alloc(depth + 1, open);
  nest[depth] = empty;
  if (where === 'top') return nest;
  const head = Buffer.from(ser.encode([48, 7, {}, 'fuzz.echo.msgpack', null]));
  // Replace the trailing `null` (1 byte in both formats) with the nested array.
  return Buffer.concat([head.subarray(0, head.length - 1), nest]);
}

function encodeSpec(ser: Serializer, s: Spec): Out | null {
  const enc = (v: unknown): Buffer | null => {
    try {
      return Buffer.from(ser.encode(v as unknown[]));
    } catch {
      return null;
    }
  };
  switch (s.k) {
    case 'msg': {
      const d = enc(s.v);
      return d && { data: d };
    }
    case 'any': {
      const d = enc(s.v);
      return d && { data: d };
    }
    case 'bytes':
      return { data: Buffer.from(s.b) };
    case 'truncate': {
      const d = enc(s.v);
      return d && { data: d.subarray(0, s.at % Math.max(1, d.length)) };
    }
    case 'flip': {
      const d = enc(s.v);
      if (!d || d.length === 0) return null;
      const c = Buffer.from(d);
      c[s.at % c.length]! ^= s.bits & 0xff || 1;
      return { data: c };
    }
    case 'junk': {
      const d = enc(s.v);
      return d && { data: Buffer.concat([d, Buffer.from(s.tail)]) };
    }
    case 'deep':
      return { data: deepBytes(ser, s.depth, s.where) };
    case 'bigint': {
      if (ser.name === 'json')
        return { data: Buffer.from(`[48,${s.v.toString()},{},"fuzz.echo.cbor",[${s.v.toString()}],{"n":${s.v.toString()}}]`) };
      const d = enc([48, s.v, {}, 'fuzz.echo.json', [s.v], { n: s.v }]);
      return d && { data: d };
    }
    case 'rawjson':
      return { data: Buffer.from(s.text) };
    case 'oversize': {
      const d = enc([16, 5, { acknowledge: true }, 'fuzz.t', ['x'.repeat(MAX_MESSAGE_SIZE + 100)]]);
      return d && { data: d };
    }
    case 'wrongkind': {
      const d = enc(s.v);
      return d && { data: d, binary: !ser.binary };
    }
    case 'badutf8':
      return { data: Buffer.from([0x5b, 0x34, 0x38, 0x2c, 0x22, 0xc3, 0x28, 0xff, 0xfe, 0x22, 0x5d]), binary: false };
    case 'fragment': {
      const d = enc(s.v);
      return d && { data: d, fragment: true };
    }
    case 'rsframe': {
      const d = enc(s.v);
      return d && { data: d, rawType: s.type };
    }
    case 'rslen': {
      const d = enc(s.v);
      return d && { data: d, rawLen: Math.max(0, d.length + s.delta), terminal: true };
    }
    case 'proto': {
      const d = enc([16, 9, { acknowledge: true, ...PROTO_DICT() }, 'fuzz.t', [PROTO_DICT()], PROTO_DICT()]);
      return d && { data: d };
    }
  }
}

// --- arbitraries -----------------------------------------------------------------------------

const URIS = [
  'fuzz.t',
  'fuzz.t.a',
  'fuzz.t.b.c',
  'fuzz.echo.json',
  'fuzz.echo.msgpack',
  'fuzz.echo.cbor',
  'fuzz.reg',
  'fuzz.reg.x',
  'fuzz',
  'fuzz.',
  'fuzz..t',
  'wamp.session.count',
  'wamp.session.list',
  'wamp.session.get',
  'wamp.registration.list',
  'wamp.registration.lookup',
  'wamp.registration.match',
  'wamp.registration.get',
  'wamp.registration.list_callees',
  'wamp.registration.count_callees',
  'wamp.subscription.list',
  'wamp.subscription.lookup',
  'wamp.subscription.match',
  'wamp.subscription.get',
  'wamp.subscription.list_subscribers',
  'wamp.subscription.count_subscribers',
  'wamp.session.on_join',
  'wamp.x',
  'wamp.fuzz',
  'a..b',
  '',
  '.',
  ' ',
  'com.example.UPPER',
  'fuzz. space',
  'fuzz.#',
  'ü.ñ',
  'x'.repeat(3000),
];
// Never `good.*` (the well-behaved clients' URIs) and never wamp.session.kill* (would end them).
// A string starting with NUL is binary in WAMP's JSON convention: such "URIs" are in wrongArb.
const okString = (s: string): boolean => !s.startsWith('good') && !s.includes('kill') && !s.startsWith('\u0000');
const uriArb = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom(...URIS) },
  { weight: 2, arbitrary: fc.string({ maxLength: 24 }).filter(okString) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 16 }).filter(okString) },
);
const idArb = fc.oneof(
  { weight: 12, arbitrary: fc.integer({ min: 1, max: 400 }) },
  { weight: 1, arbitrary: fc.constantFrom(2 ** 53, 2 ** 53 - 1, 2 ** 31, 2 ** 32 + 1) },
);
const wrongArb: fc.Arbitrary<unknown> = fc.oneof(
  // 0 is no valid ID (WAMP 2.1.2: [1, 2^53]) in any client message.
  fc.constantFrom(
    0,
    -1,
    2 ** 53 + 2,
    1.5,
    -0.0,
    1e300,
    Number.MAX_VALUE,
    null,
    true,
    false,
    '1',
    '',
    '\u0000',
    '\u0000AAEC',
    [],
    {},
    [1, 2],
    { a: 1 },
  ),
  fc.double(),
  fc.string({ maxLength: 8 }),
  fc.integer(),
  fc.uint8Array({ maxLength: 8 }),
);
const smallValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 48 }) },
  { weight: 1, arbitrary: fc.integer({ min: 2, max: 2000 }).map(nestArray) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(2 ** 53, -(2 ** 53), 2 ** 64, 1.7976931348623157e308, 5e-324, -0, Number.NaN, Number.POSITIVE_INFINITY),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 32 }) },
);
const argsArb = fc.array(smallValue, { maxLength: 4 });
const kwargsArb = fc.dictionary(fc.string({ maxLength: 8 }), smallValue, { maxKeys: 3 });
const optVal = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(a, { nil: undefined, freq: 2 });
const pruned = (o: Dict): Dict => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
const withPayload = (head: unknown[], args: unknown[] | undefined, kwargs: Dict | undefined): unknown[] =>
  kwargs !== undefined ? [...head, args ?? [], kwargs] : args !== undefined ? [...head, args] : head;

const featureSet = fc.dictionary(
  fc.constantFrom(
    'call_canceling',
    'call_timeout',
    'progressive_call_results',
    'caller_identification',
    'shared_registration',
    'pattern_based_registration',
    'publisher_exclusion',
    'pattern_based_subscription',
    'payload_passthru_mode',
    'x',
  ),
  fc.oneof(fc.constant(true), wrongArb),
  { maxKeys: 5 },
);
const rolesArb = fc.dictionary(
  fc.constantFrom('caller', 'callee', 'publisher', 'subscriber', 'broker', 'dealer', 'x'),
  fc.oneof({ weight: 5, arbitrary: featureSet.map((features) => ({ features })) }, { weight: 1, arbitrary: wrongArb }),
  { minKeys: 1, maxKeys: 4 },
);

const helloArb: fc.Arbitrary<unknown[]> = fc
  .record({
    roles: rolesArb,
    authid: optVal(fc.string({ maxLength: 10 })),
    authmethods: optVal(
      fc.oneof(
        { weight: 12, arbitrary: fc.constantFrom(['anonymous'], ['ticket', 'anonymous'], []) },
        { weight: 1, arbitrary: fc.constantFrom(['wampcra'], ['ticket']) },
        { weight: 1, arbitrary: fc.array(fc.string({ maxLength: 6 }), { maxLength: 2 }) },
      ),
    ),
    agent: optVal(fc.string({ maxLength: 10 })),
  })
  .map((d) => [1, REALM, pruned(d)]);

const matchArb = optVal(
  fc.oneof({ weight: 4, arbitrary: fc.constantFrom('exact', 'prefix', 'wildcard') }, { weight: 1, arbitrary: wrongArb }),
);
const boolish = optVal(fc.oneof({ weight: 4, arbitrary: fc.boolean() }, { weight: 1, arbitrary: wrongArb }));

/** Client-to-router messages that a joined client may send (with fuzzed content). */
const validMsgArb: fc.Arbitrary<unknown[]> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.tuple(idArb, fc.record({ match: matchArb, get_retained: boolish }), uriArb).map(([id, o, u]) => [32, id, pruned(o), u]),
  },
  { weight: 2, arbitrary: fc.tuple(idArb, idArb).map(([id, s]) => [34, id, s]) },
  {
    weight: 6,
    arbitrary: fc
      .tuple(
        idArb,
        fc.record({
          acknowledge: boolish,
          exclude_me: boolish,
          disclose_me: boolish,
          retain: boolish,
          exclude: optVal(fc.oneof(fc.array(idArb, { maxLength: 3 }), wrongArb)),
          eligible: optVal(fc.oneof(fc.array(idArb, { maxLength: 3 }), wrongArb)),
          exclude_authid: optVal(fc.oneof(fc.array(fc.string({ maxLength: 4 }), { maxLength: 2 }), wrongArb)),
          eligible_authrole: optVal(fc.oneof(fc.array(fc.string({ maxLength: 4 }), { maxLength: 2 }), wrongArb)),
        }),
        uriArb,
        optVal(argsArb),
        optVal(kwargsArb),
      )
      .map(([id, o, u, a, k]) => withPayload([16, id, pruned(o), u], a, k)),
  },
  {
    weight: 4,
    arbitrary: fc
      .tuple(
        idArb,
        fc.record({
          match: matchArb,
          invoke: optVal(fc.oneof(fc.constantFrom('single', 'roundrobin', 'random', 'first', 'last'), wrongArb)),
          concurrency: optVal(fc.oneof(fc.integer({ min: 0, max: 3 }), wrongArb)),
          disclose_caller: boolish,
        }),
        uriArb,
      )
      .map(([id, o, u]) => [64, id, pruned(o), u]),
  },
  { weight: 2, arbitrary: fc.tuple(idArb, idArb).map(([id, r]) => [66, id, r]) },
  {
    weight: 7,
    arbitrary: fc
      .tuple(
        idArb,
        fc.record({
          timeout: optVal(fc.oneof(fc.integer({ min: 0, max: 300 }), fc.constantFrom(2 ** 31, 2 ** 40, -5, 1.5), wrongArb)),
          receive_progress: boolish,
          disclose_me: boolish,
        }),
        uriArb,
        optVal(argsArb),
        optVal(kwargsArb),
      )
      .map(([id, o, u, a, k]) => withPayload([48, id, pruned(o), u], a, k)),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(idArb, fc.record({ mode: optVal(fc.oneof(fc.constantFrom('skip', 'kill', 'killnowait'), wrongArb)) }))
      .map(([id, o]) => [49, id, pruned(o)]),
  },
  {
    weight: 3,
    arbitrary: fc
      .tuple(idArb, fc.record({ progress: boolish }), optVal(argsArb), optVal(kwargsArb))
      .map(([id, o, a, k]) => withPayload([70, id, pruned(o)], a, k)),
  },
  {
    weight: 2,
    arbitrary: fc.tuple(idArb, uriArb, optVal(argsArb), optVal(kwargsArb)).map(([id, u, a, k]) => withPayload([8, 68, id, {}, u], a, k)),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(idArb, optVal(fc.dictionary(fc.string({ maxLength: 5 }), smallValue, { maxKeys: 2 })))
      .map(([id, d]) => (d ? [337, id, d] : [337, id])),
  },
);

/** A valid message with one field replaced, removed or added, or its code changed. */
const structuralArb: fc.Arbitrary<unknown[]> = fc.oneof(
  fc.tuple(validMsgArb, fc.nat(), wrongArb).map(([m, i, w]) => {
    const c = [...m];
    c[i % c.length] = w;
    return c;
  }),
  fc.tuple(validMsgArb, fc.nat()).map(([m, i]) => m.slice(0, i % m.length)),
  fc.tuple(validMsgArb, fc.array(smallValue, { minLength: 1, maxLength: 3 })).map(([m, extra]) => [...m, ...extra]),
  fc
    .tuple(
      validMsgArb,
      fc.oneof(
        fc.constantFrom(2, 3, 4, 17, 33, 35, 36, 50, 65, 67, 68, 69, 0, 7, 9, 255, 1000, -1, 2 ** 53),
        fc.integer(),
        fc.constantFrom('48', 48.5, null, [48]),
      ),
    )
    .map(([m, code]) => [code, ...m.slice(1)]),
  fc.constantFrom<unknown[]>(
    [1, REALM, { roles: { caller: {} } }], // second HELLO
    [2, 12345, {}],
    [4, 'wampcra', {}],
    [5, 'signature', {}],
    [36, 1, 1, {}],
    [68, 1, 1, {}],
    [50, 1, {}],
    [6, {}, 'wamp.close.normal'],
    [3, {}, 'wamp.error.fuzz'],
    [],
  ),
);

const rawJsonArb = fc.constantFrom(
  '[48,1,{},"fuzz.echo.msgpack",[123456789012345678901234567890,1e999,-1e999,-0,1e-999]]',
  '[48,123456789012345678901234567890,{},"fuzz.echo.cbor"]',
  '[16,1,{"acknowledge":true},"fuzz.t",["\\u0000!!notbase64!!","\\u0000","\\ud800"]]',
  '[16,1,{"acknowledge":true},"fuzz.t",[],{"__proto__":{"polluted":"yes"}}]',
  '[32,1,{},"fuzz.t"',
  '[32,1,{},"fuzz.t"]]',
  '[48,1,{},"fuzz.echo.json",[1,2,3],{"a":1},{"b":2}]',
  '[48 1 {} "x"]',
  '{"0":48}',
  'null',
  'true',
  '"string"',
  '48',
  '',
  ' ',
  '\ufeff[32,1,{},"fuzz.t"]',
  '[32,1e0,{},"fuzz.t"]',
  '[32,1.0,{},"fuzz.t"]',
  '[3.2e1,1,{},"fuzz.t"]',
  '[32,-0,{},"fuzz.t"]',
);

/** Frames that keep a joined session going (or get an ERROR). */
const softSpec: fc.Arbitrary<Spec> = fc.oneof(
  { weight: 30, arbitrary: validMsgArb.map((v): Spec => ({ k: 'msg', v })) },
  { weight: 1, arbitrary: validMsgArb.map((v): Spec => ({ k: 'fragment', v })) },
  { weight: 1, arbitrary: fc.constant<Spec>({ k: 'proto' }) },
);

/** Frames that should end the session (protocol violation) or the connection. */
const hardSpec: fc.Arbitrary<Spec> = fc.oneof(
  { weight: 6, arbitrary: structuralArb.map((v): Spec => ({ k: 'msg', v })) },
  { weight: 2, arbitrary: fc.oneof(wrongArb, fc.jsonValue({ maxDepth: 2 })).map((v): Spec => ({ k: 'any', v })) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 200 }).map((b): Spec => ({ k: 'bytes', b })) },
  { weight: 2, arbitrary: fc.tuple(validMsgArb, fc.nat()).map(([v, at]): Spec => ({ k: 'truncate', v, at })) },
  {
    weight: 2,
    arbitrary: fc.tuple(validMsgArb, fc.nat(), fc.integer({ min: 1, max: 255 })).map(([v, at, bits]): Spec => ({ k: 'flip', v, at, bits })),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(validMsgArb, fc.uint8Array({ minLength: 1, maxLength: 16 })).map(([v, tail]): Spec => ({ k: 'junk', v, tail })),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.oneof(fc.integer({ min: 100, max: 5000 }), fc.constantFrom(30000, 65000)), fc.constantFrom<'args' | 'top'>('args', 'top'))
      .map(([depth, where]): Spec => ({ k: 'deep', depth, where })),
  },
  {
    weight: 1,
    arbitrary: fc
      .oneof(
        fc.bigInt({ min: 2n ** 53n, max: 2n ** 64n - 1n }),
        fc.bigInt({ min: -(2n ** 63n), max: -(2n ** 53n) }),
        fc.constant(2n ** 70n),
      )
      .map((v): Spec => ({ k: 'bigint', v })),
  },
  { weight: 1, arbitrary: rawJsonArb.map((text): Spec => ({ k: 'rawjson', text })) },
  { weight: 1, arbitrary: fc.constant<Spec>({ k: 'oversize' }) },
  { weight: 1, arbitrary: validMsgArb.map((v): Spec => ({ k: 'wrongkind', v })) },
  { weight: 1, arbitrary: fc.constant<Spec>({ k: 'badutf8' }) },
  { weight: 1, arbitrary: fc.tuple(validMsgArb, fc.integer({ min: 1, max: 7 })).map(([v, type]): Spec => ({ k: 'rsframe', v, type })) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        validMsgArb,
        fc.integer({ min: -20, max: 20 }).filter((d) => d !== 0),
      )
      .map(([v, delta]): Spec => ({ k: 'rslen', v, delta })),
  },
);

interface Batch {
  /** null: no HELLO first (out of order). */
  hello: Spec | null;
  body: Spec[];
  /** A hard frame inserted at this position (modulo length), or none. */
  hard: { spec: Spec; at: number } | null;
}

const batchArb: fc.Arbitrary<Batch> = fc.record({
  hello: fc.oneof(
    { weight: 16, arbitrary: helloArb.map((v): Spec => ({ k: 'msg', v })) },
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: hardSpec },
    {
      weight: 1,
      arbitrary: fc.tuple(helloArb, fc.nat(), wrongArb).map(([m, i, w]): Spec => {
        const c = [...m];
        c[1 + (i % 2)] = w;
        return { k: 'msg', v: c };
      }),
    },
    { weight: 1, arbitrary: fc.string({ maxLength: 12 }).map((r): Spec => ({ k: 'msg', v: [1, r, { roles: { caller: {} } }] })) },
  ),
  body: fc.array(softSpec, { minLength: 150, maxLength: 250 }),
  hard: fc.option(fc.record({ spec: hardSpec, at: fc.nat() }), { freq: 2, nil: null }), // present in half the batches
});

function batchSpecs(b: Batch): Spec[] {
  const out = b.hello ? [b.hello, ...b.body] : [...b.body];
  if (b.hard) out.splice(1 + (b.hard.at % out.length), 0, b.hard.spec);
  return out;
}

/** RawSocket handshakes, mostly valid. */
const handshakeArb = fc.oneof(
  { weight: 12, arbitrary: fc.integer({ min: 0, max: 15 }).map((l) => ({ valid: true, len: l, bytes: null as number[] | null })) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 255 }),
      )
      .map((b) => ({ valid: false, len: 0, bytes: b as number[] | null })),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom<number[]>(
        [0x7f, 0xf0, 0, 0],
        [0x7f, 0xf4, 0, 0],
        [0x7f, 0xff, 0, 0],
        [0x7f, 0xf1, 1, 0],
        [0x7f, 0xf2, 0, 9],
        [0x7f],
        [0x7f, 0xf1, 0],
      )
      .map((b) => ({ valid: false, len: 0, bytes: b as number[] | null })),
  },
);

// ---------------------------------------------------------------------------------------------
// Connections for fuzzing

interface Outcome {
  synced: boolean;
  closed: boolean;
  aborted: boolean;
  afterAbort: string[];
  sent: number;
}

abstract class FuzzConn {
  aborted = false;
  abortReason = '';
  afterAbort: string[] = [];
  synced = false;
  closed = false;
  sent = 0;
  private waiters: Array<() => void> = [];
  constructor(readonly ser: Serializer) {}

  protected onMessage(frame: Buffer): void {
    let m: unknown;
    try {
      m = this.ser.decode(frame);
    } catch (e) {
      this.afterAbort.push(`router sent an undecodable frame: ${(e as Error).message}`);
      return;
    }
    if (this.aborted) {
      this.afterAbort.push(`after ABORT: ${JSON.stringify(m)?.slice(0, 200)}`);
      return;
    }
    if (!Array.isArray(m)) return;
    if (m[0] === 3) {
      this.aborted = true;
      this.abortReason = `${String(m[2])}: ${String((m[1] as Dict)?.message).slice(0, 150)}`;
    }
    if ((m[0] === 17 && m[1] === SYNC_ID) || (m[0] === 8 && m[1] === 16 && m[2] === SYNC_ID)) {
      this.synced = true;
      this.notify();
    }
  }
  protected onClosed(): void {
    this.closed = true;
    this.notify();
  }
  protected notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Waits until the sync answer arrived or the connection closed (or `ms` passed). */
  wait(pred: () => boolean, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(pred()), ms);
      const check = (): void => {
        if (pred()) {
          clearTimeout(t);
          resolve(true);
        } else this.waiters.push(check);
      };
      check();
    });
  }

  abstract write(o: Out): void;
  abstract end(): Promise<void>;
  halfClose(): void {}

  async run(outs: Out[]): Promise<Outcome> {
    let terminal = false;
    for (const o of outs) {
      if (this.closed) break;
      this.write(o);
      this.sent++;
      if (o.terminal && this instanceof RsFuzzConn) {
        terminal = true;
        break;
      }
    }
    if (terminal) {
      this.halfClose();
    } else if (!this.closed) {
      this.write({ data: Buffer.from(this.ser.encode([16, SYNC_ID, { acknowledge: true }, 'fuzz.sync'])) });
    }
    await this.wait(() => this.synced || this.closed, 20000);
    if (this.aborted && !this.closed) await this.wait(() => this.closed, 5000);
    const out = { synced: this.synced, closed: this.closed, aborted: this.aborted, afterAbort: this.afterAbort, sent: this.sent };
    await this.end();
    return out;
  }
}

class WsFuzzConn extends FuzzConn {
  private constructor(
    private readonly ws: WebSocket,
    ser: Serializer,
  ) {
    super(ser);
    ws.on('message', (d: Buffer) => this.onMessage(d));
    ws.on('close', () => this.onClosed());
    ws.on('error', () => {
      /* the close event follows */
    });
  }

  static open(url: string, ser: Serializer): Promise<WsFuzzConn> {
    const ws = new WebSocket(url, [ser.subprotocol], { maxPayload: 64 * 1024 * 1024 });
    const c = new WsFuzzConn(ws, ser);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(c));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`WebSocket upgrade refused: ${res.statusCode}`)));
      ws.once('close', () => reject(new Error('closed before open')));
    });
  }

  write(o: Out): void {
    const binary = o.binary ?? this.ser.binary;
    if (o.fragment && o.data.length > 1) {
      const half = o.data.length >> 1;
      this.ws.send(o.data.subarray(0, half), { binary, fin: false });
      this.ws.send(o.data.subarray(half), { binary, fin: true });
    } else {
      this.ws.send(o.data, { binary });
    }
  }

  async end(): Promise<void> {
    if (this.closed) return;
    const t = setTimeout(() => this.ws.terminate(), 2000);
    this.ws.close(1000);
    await this.wait(() => this.closed, 5000);
    clearTimeout(t);
  }
}

class RsFuzzConn extends FuzzConn {
  private buf = Buffer.alloc(0);
  handshakeReply: Buffer | null = null;
  private constructor(
    private readonly sock: net.Socket,
    ser: Serializer,
  ) {
    super(ser);
    sock.on('data', (d) => this.onData(d));
    sock.on('close', () => this.onClosed());
    sock.on('error', () => {
      /* close follows */
    });
  }

  private onData(d: Buffer): void {
    this.buf = Buffer.concat([this.buf, d]);
    if (!this.handshakeReply) {
      if (this.buf.length < 4) return;
      this.handshakeReply = this.buf.subarray(0, 4);
      this.buf = this.buf.subarray(4);
      this.notify();
    }
    while (this.buf.length >= 4) {
      const type = this.buf[0];
      const len = this.buf.readUIntBE(1, 3);
      if (this.buf.length < 4 + len) break;
      const payload = this.buf.subarray(4, 4 + len);
      this.buf = this.buf.subarray(4 + len);
      if (type === 0) this.onMessage(payload);
      else if (type === 1) this.sock.write(Buffer.concat([Buffer.from([2, len >> 16, (len >> 8) & 0xff, len & 0xff]), payload]));
    }
  }

  /** Connects and does the handshake; resolves with the connection (check handshakeReply). */
  static open(port: number, ser: Serializer, hs: number[] | null): Promise<RsFuzzConn> {
    const sock = net.connect(port, '127.0.0.1');
    sock.setNoDelay(true);
    const c = new RsFuzzConn(sock, ser);
    return new Promise((resolve, reject) => {
      sock.once('connect', () => {
        sock.write(Buffer.from(hs ?? [0x7f, (0xf << 4) | ser.rawsocketId, 0, 0]));
        void c
          .wait(() => c.handshakeReply !== null || c.closed, 10000)
          .then((ok) => (ok ? resolve(c) : reject(new Error('no RawSocket handshake reply'))));
      });
      sock.once('error', reject);
    });
  }

  override halfClose(): void {
    this.sock.end();
  }

  /** A bad handshake: resolves with the router's reply (if any) once it replied or closed. */
  static async probe(port: number, bytes: number[]): Promise<{ reply: Buffer | null; closed: boolean }> {
    const sock = net.connect(port, '127.0.0.1');
    const c = new RsFuzzConn(sock, jsonSerializer);
    await new Promise<void>((resolve) => {
      sock.once('connect', () => resolve());
      sock.once('error', () => resolve());
    });
    sock.write(Buffer.from(bytes));
    if (bytes.length < 4) sock.end(); // incomplete: the router sees EOF
    await c.wait(() => c.handshakeReply !== null || c.closed, 5000);
    const out = { reply: c.handshakeReply, closed: c.closed };
    sock.destroy();
    await c.wait(() => c.closed, 2000);
    return out;
  }

  write(o: Out): void {
    if (o.unframed) {
      this.sock.write(o.data);
      return;
    }
    const len = o.rawLen ?? o.data.length;
    const head = Buffer.from([o.rawType ?? 0, (len >> 16) & 0xff, (len >> 8) & 0xff, len & 0xff]);
    // A frame longer than the 3-byte length can say is cut: the router must cope with the rest.
    this.sock.write(Buffer.concat([head, o.data]));
  }

  async end(): Promise<void> {
    if (this.closed) return;
    this.sock.end();
    const t = setTimeout(() => this.sock.destroy(), 2000);
    await this.wait(() => this.closed, 5000);
    clearTimeout(t);
  }
}

// ---------------------------------------------------------------------------------------------
// The test

const ALL = { call: true, register: true, publish: true, subscribe: true };
const anonymous = { anonymous: { type: 'static', role: 'anonymous' } };
const serializerNames = ['json', 'msgpack', 'cbor'];

function fuzzConfig(): unknown {
  const endpoint = { type: 'tcp', port: 0, interface: '127.0.0.1' };
  return {
    version: 2,
    workers: [
      {
        type: 'router',
        realms: [
          {
            name: REALM,
            roles: [
              { name: 'anonymous', permissions: [{ uri: '', match: 'prefix', allow: ALL, disclose: { caller: true, publisher: true } }] },
            ],
          },
        ],
        transports: [
          { type: 'websocket', endpoint, serializers: serializerNames, auth: anonymous, options: { max_message_size: MAX_MESSAGE_SIZE } },
          { type: 'rawsocket', endpoint, serializers: serializerNames, auth: anonymous, max_message_size: MAX_MESSAGE_SIZE },
          {
            type: 'universal',
            endpoint,
            rawsocket: { serializers: serializerNames, auth: anonymous, max_message_size: MAX_MESSAGE_SIZE },
            websocket: {
              ws: { type: 'websocket', serializers: serializerNames, auth: anonymous, options: { max_message_size: MAX_MESSAGE_SIZE } },
            },
          },
        ],
      },
    ],
  };
}

function portOf(url: string): number {
  return Number(/:(\d+)(\/|$)/.exec(url)![1]);
}

interface Good {
  callee: MiniClient;
  caller: MiniClient;
  sub: MiniClient;
  echo: MiniClient[];
  ok: number;
  wrong: string[];
  events: number[];
  published: number;
  stop: boolean;
  loop: Promise<void> | null;
}

describe('fuzz: random and mutated frames against a live router', () => {
  let running: RunningRouter;
  let wsUrl: string;
  let rsPort: number;
  let uniWsUrl: string;
  let uniPort: number;
  let good: Good;
  const stats = { frames: 0, runs: 0, synced: 0, closed: 0, aborted: 0, handshakeRefused: 0 };

  beforeAll(async () => {
    process.on('uncaughtException', onUncaught);
    process.on('unhandledRejection', onUnhandled);
    const { config, warnings } = parseConfig(fuzzConfig());
    expect(warnings).toEqual([]);
    running = await startRouter(config);
    const [ws, rs, uniWs, uniRs] = running.urls as [string, string, string, string];
    wsUrl = ws;
    rsPort = portOf(rs);
    uniWsUrl = uniWs;
    uniPort = portOf(uniRs);
    expect(uniWs).toMatch(/^ws:/);
    expect(portOf(uniWs)).toBe(uniPort);

    // The well-behaved peers, one per serializer role.
    const callee = await MiniClient.connect(wsUrl, REALM, jsonSerializer);
    const caller = await MiniClient.connect(wsUrl, REALM, msgpackSerializer);
    const sub = await MiniClient.connect(wsUrl, REALM, cborSerializer);
    const echo = await Promise.all(SERIALIZERS.map((s) => MiniClient.connect(wsUrl, REALM, s)));
    good = { callee, caller, sub, echo, ok: 0, wrong: [], events: [], published: 0, stop: false, loop: null };
    await callee.register('good.add', (args) => ({ args: [(args[0] as number) + (args[1] as number)] }));
    await sub.subscribe('good.topic', (args) => {
      good.events.push(args[0] as number);
    });
    for (const [i, e] of echo.entries()) {
      await e.register(`fuzz.echo.${SERIALIZERS[i]!.name}`, (args, kwargs) => ({ args, kwargs }));
      await e.subscribe('fuzz', () => {}, { match: 'prefix' });
    }
    good.loop = (async () => {
      let n = 0;
      while (!good.stop) {
        n++;
        const a = (n * 7919) % 100000;
        const b = n;
        try {
          const r = await caller.call('good.add', [a, b]);
          if (r.args[0] === a + b) good.ok++;
          else good.wrong.push(`good.add(${a}, ${b}) = ${JSON.stringify(r.args)}`);
          if (n % 5 === 0) {
            // An echo through a callee on another serializer, with bytes and a float.
            const payload = [n, 'ü', Buffer.from([0, n & 0xff, 255]), 0.5];
            const e = await caller.call(`fuzz.echo.${SERIALIZERS[n % 3]!.name}`, payload, { n });
            const back = e.args as unknown[];
            if (
              back[0] !== n ||
              back[1] !== 'ü' ||
              !Buffer.from(back[2] as Uint8Array).equals(payload[2] as Buffer) ||
              back[3] !== 0.5 ||
              (e.kwargs as Dict).n !== n
            ) {
              good.wrong.push(`echo ${SERIALIZERS[n % 3]!.name}: ${JSON.stringify(e)}`);
            }
            await caller.publish('good.topic', [++good.published]);
          }
        } catch (err) {
          if (good.stop) break;
          good.wrong.push(`good client error: ${err instanceof WampCallError ? err.uri : String(err)}`);
          if (!caller.isOpen) break;
        }
      }
    })();
  });

  afterAll(async () => {
    good.stop = true;
    await good.loop;
    await Promise.all([good.callee, good.caller, good.sub, ...good.echo].map((c) => c.close()));
    await running?.close();
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onUnhandled);
  });

  /** Runs `runs` fast-check batches with `open` as the connection factory. */
  let group = 0;
  async function fuzz(label: string, ser: Serializer, runs: number, open: (seedRun: number) => Promise<FuzzConn>): Promise<void> {
    const seed = (SEED + 7919 * group++) % 2 ** 31;
    let runIndex = 0;
    const property = fc.assert(
      fc.asyncProperty(batchArb, async (batch) => {
        const specs = batchSpecs(batch);
        const outs = specs.map((s) => encodeSpec(ser, s)).filter((o): o is Out => o !== null);
        const t0 = Date.now();
        const conn = await open(runIndex++);
        const r = await conn.run(outs);
        if (process.env.SISOCK_FUZZ_DEBUG) {
          console.log(
            `${label} run ${runIndex}: ${Date.now() - t0} ms, ${JSON.stringify({ ...r, afterAbort: r.afterAbort.length })} ` +
              `${conn.abortReason} hello=${batch.hello?.k ?? 'none'} hard=${batch.hard ? batch.hard.spec.k : '-'}`,
          );
        }
        stats.runs++;
        stats.frames += r.sent + (r.closed ? 0 : 1);
        if (r.synced) stats.synced++;
        if (r.closed) stats.closed++;
        if (r.aborted) stats.aborted++;
        if (r.afterAbort.length) throw new Error(`${label}: messages after ABORT: ${r.afterAbort.slice(0, 3).join('; ')}`);
        if (!r.synced && !r.closed) throw new Error(`${label}: the router neither answered the sync PUBLISH nor closed the connection`);
        if (good.wrong.length) throw new Error(`well-behaved client got wrong answers: ${good.wrong.slice(0, 5).join('; ')}`);
        if (processErrors.length) throw new Error(processErrors.join('\n'));
      }),
      { numRuns: runs, seed, endOnFailure: true },
    );
    try {
      await property;
    } catch (e) {
      // The counterexample is a whole batch: keep the report readable.
      throw new Error(`${label} (SISOCK_FUZZ_SEED=${SEED}): ${String((e as Error).message).slice(0, 6000)}`);
    }
  }

  /** Batches per group for its share of TOTAL_FRAMES (batches hold 150–250 frames, ~200 on average). */
  const runsFor = (share: number): number => Math.ceil((TOTAL_FRAMES * share) / 175 / SERIALIZERS.length);

  describe.each(SERIALIZERS.map((s) => [s.name, s] as const))('%s', (_name, ser) => {
    test('WebSocket', async () => {
      await fuzz(`ws/${ser.name}`, ser, runsFor(0.55), () => WsFuzzConn.open(wsUrl, ser));
    });

    test('RawSocket (with fuzzed handshakes)', async () => {
      const hs = fc.sample(handshakeArb, { numRuns: runsFor(0.3), seed: SEED });
      await fuzz(`rs/${ser.name}`, ser, runsFor(0.3), async (i) => {
        // A bad handshake must be refused (error reply or close); then the run uses a good one.
        const h = hs[i % hs.length];
        if (!h!.valid && h!.bytes) {
          const { reply, closed } = await RsFuzzConn.probe(rsPort, h!.bytes);
          const accepted = reply !== null && reply[0] === 0x7f && (reply[1]! & 0x0f) !== 0;
          if (accepted) {
            // Only allowed for a handshake that is in fact valid.
            expect(h!.bytes).toHaveLength(4);
            expect(h!.bytes[0]).toBe(0x7f);
            expect([1, 2, 3]).toContain(h!.bytes[1]! & 0x0f);
            expect(h!.bytes[2]! | h!.bytes[3]!).toBe(0);
          } else {
            expect(reply !== null || closed).toBe(true);
            stats.handshakeRefused++;
          }
        }
        const c = await RsFuzzConn.open(rsPort, ser, h!.valid ? [0x7f, (h!.len << 4) | ser.rawsocketId, 0, 0] : null);
        expect(c.handshakeReply?.[0]).toBe(0x7f);
        expect(c.handshakeReply![1]! & 0x0f).toBe(ser.rawsocketId);
        return c;
      });
    });

    test('universal port (RawSocket and WebSocket sides)', async () => {
      await fuzz(`universal/${ser.name}`, ser, runsFor(0.15), (i) =>
        i % 2 === 0 ? RsFuzzConn.open(uniPort, ser, null) : WsFuzzConn.open(uniWsUrl, ser),
      );
    });
  });

  test('afterwards: the well-behaved clients were served throughout, and only live sessions remain', async () => {
    good.stop = true;
    await good.loop;
    console.log(
      `fuzz seed ${SEED}: ${stats.frames} frames in ${stats.runs} connections (${stats.synced} still serving at the end of their batch, ` +
        `${stats.aborted} aborted, ${stats.closed} closed, ${stats.handshakeRefused} bad handshakes refused); ` +
        `well-behaved calls ok: ${good.ok}`,
    );
    expect(processErrors).toEqual([]);
    expect(good.wrong).toEqual([]);
    expect(stats.frames).toBeGreaterThanOrEqual(TOTAL_FRAMES);
    expect(good.ok).toBeGreaterThan(10);
    const clients = [good.callee, good.caller, good.sub, ...good.echo];
    for (const c of clients) {
      expect(c.isOpen).toBe(true);
      expect(c.problems).toEqual([]);
    }
    // Every published good.topic event arrived, in order.
    await good.caller.publish('good.topic', [++good.published]);
    await good.caller.call('good.add', [0, 0]); // events to `sub` were sent before this result
    await waitFor(() => good.events.length === good.published, 5000, 'every good event');
    expect(good.events).toEqual(Array.from({ length: good.published }, (_, i) => i + 1));

    // The router let go of every fuzz session (it may see the last TCP closes a moment later).
    const live = new Set(clients.map((c) => c.sessionId));
    await waitFor(() => running.router.sessions.size === live.size, 5000, 'the router to drop the fuzz sessions');
    expect([...running.router.sessions.keys()].sort()).toEqual([...live].sort());
    for (const realm of running.router.realms.values()) {
      for (const id of realm.sessions.keys()) expect(live.has(id)).toBe(true);
    }
    // The meta API agrees, and no registration or subscription of a fuzz session is left.
    const list = await good.caller.call('wamp.session.list');
    expect((list.args[0] as number[]).slice().sort()).toEqual([...live].sort());
    const regs = (await good.caller.call('wamp.registration.list')).args[0] as Record<string, number[]>;
    for (const id of Object.values(regs).flat()) {
      const callees = (await good.caller.call('wamp.registration.list_callees', [id])).args[0] as number[];
      for (const s of callees) expect(live.has(s)).toBe(true);
    }
    const subs = (await good.caller.call('wamp.subscription.list')).args[0] as Record<string, number[]>;
    for (const id of Object.values(subs).flat()) {
      const subscribers = (await good.caller.call('wamp.subscription.list_subscribers', [id])).args[0] as number[];
      for (const s of subscribers) expect(live.has(s)).toBe(true);
    }
    // No prototype pollution through `__proto__` keys in any decoder.
    expect(({} as Dict).polluted).toBeUndefined();
    expect(({} as Dict).polluted2).toBeUndefined();
  });
});
