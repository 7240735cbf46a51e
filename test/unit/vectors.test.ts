/**
 * The WAMP conformance test vectors (shared/vectors/wamp-testsuite) through our serializers and
 * wamp/messages.ts: every JSON (text and hex), MsgPack and CBOR sample decodes to the message its
 * `expected_attributes` describe, re-encodes byte-for-byte where the vector is canonical, and
 * survives toArray → encode → decode → parseMessage. Multisession sequences round-trip too.
 * The folder is required: a missing folder fails the suite.
 */
import * as fs from 'fs';
import * as path from 'path';
import { MessageType, parseMessage, toArray, type Message } from '../../wamp';
import { serializerByName } from '../../transport/serializers';
import type { Serializer } from '../../transport/types';

const ROOT = path.resolve(__dirname, '../../../shared/vectors/wamp-testsuite');
const SERIALIZERS = ['json', 'msgpack', 'cbor'] as const;

function walk(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : e.name.endsWith('.json') ? [path.join(dir, e.name)] : []));
}

interface Encoded {
  bytes?: string;
  bytes_hex: string;
  note?: string;
}
interface Sample {
  description: string;
  serializers?: Record<string, Encoded[]>;
  expected_attributes?: Record<string, unknown>;
  wmsg?: unknown[];
}
interface VectorFile {
  wamp_message_type?: string;
  samples?: Sample[];
  sequence?: { message: Record<string, unknown> }[];
}

const files = fs.existsSync(ROOT) ? walk(ROOT).filter((f) => !f.endsWith('SCHEMA.json')) : [];
const load = (f: string): VectorFile => JSON.parse(fs.readFileSync(f, 'utf8'));

/** Buffers and Uint8Arrays compare as plain byte lists. */
function norm(v: unknown): unknown {
  if (v instanceof Uint8Array) return { bytes: Buffer.from(v).toString('hex') };
  if (Array.isArray(v)) return v.map(norm);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, norm(x)]));
  return v;
}

/** Field of our typed message that a vector attribute names. */
const FIELD: Record<string, string> = {
  request_id: 'request',
  session_id: 'session',
  publication_id: 'publication',
  subscription_id: 'subscription',
  registration_id: 'registration',
  request_type: 'requestType',
  method: 'authmethod',
};

function checkAttributes(msg: Message, exp: Record<string, unknown>): void {
  const m = msg as unknown as Record<string, unknown>;
  for (const [k, want] of Object.entries(exp)) {
    switch (k) {
      case 'message_type':
        expect(msg.type).toBe(want);
        break;
      case 'roles':
        expect((m.details as Record<string, unknown>).roles).toEqual(want);
        break;
      case 'args':
        if (want === null) {
          if (exp.payload == null) expect(m.args === undefined || (Array.isArray(m.args) && m.args.length === 0)).toBe(true);
        } else expect(norm(m.args)).toEqual(want);
        break;
      case 'kwargs':
        if (want === null) expect(m.kwargs === undefined || Object.keys(m.kwargs as object).length === 0).toBe(true);
        else expect(m.kwargs).toEqual(want);
        break;
      case 'payload':
        // Payload passthru (WAMP 14.x): the opaque bytes take the Arguments position.
        if (want !== null) {
          expect(m.args).toBeInstanceOf(Uint8Array);
          expect(Buffer.from(m.args as Uint8Array).toString('hex')).toBe(want);
        }
        break;
      default:
        expect(norm(m[FIELD[k] ?? k])).toEqual(want);
    }
  }
}

function roundTrip(s: Serializer, msg: Message): void {
  const again = parseMessage(s.decode(s.encode(toArray(msg))));
  expect(norm(again)).toEqual(norm(msg));
}

test('the test-vector folder is present', () => {
  expect(fs.existsSync(ROOT)).toBe(true);
  expect(files.length).toBeGreaterThan(10);
});

const singles = files.filter((f) => load(f).samples);
const cases: [string, string, string, number, Sample, Encoded][] = [];
for (const f of singles) {
  const rel = path.relative(ROOT, f);
  for (const sample of load(f).samples!) {
    if (!sample.expected_attributes || !sample.serializers) continue; // `wmsg` option-validation samples are router semantics
    for (const ser of SERIALIZERS) {
      (sample.serializers[ser] ?? []).forEach((enc, i) => cases.push([rel, sample.description, ser, i, sample, enc]));
    }
  }
}

test('there are samples for all three serializers', () => {
  for (const ser of SERIALIZERS) expect(cases.filter((c) => c[2] === ser).length).toBeGreaterThan(20);
});

describe.each(cases)('%s: %s [%s #%i]', (_rel, _desc, ser, _i, sample, enc) => {
  const s = serializerByName(ser)!;
  const frames: [string, Buffer][] = [['bytes_hex', Buffer.from(enc.bytes_hex, 'hex')]];
  if (enc.bytes !== undefined) frames.push(['bytes', Buffer.from(enc.bytes, 'utf8')]);

  test.each(frames)('%s decodes to the expected message and round-trips', (_kind, frame) => {
    const msg = parseMessage(s.decode(frame));
    checkAttributes(msg, sample.expected_attributes!);
    roundTrip(s, msg);
  });

  if (ser !== 'json' || enc.note?.startsWith('Compact')) {
    test('re-encoding the decoded value gives the same bytes', () => {
      const frame = Buffer.from(enc.bytes_hex, 'hex');
      expect(s.encode(s.decode(frame) as unknown[]).toString('hex')).toBe(enc.bytes_hex);
    });
  }
});

// -------------------------------------------------------------------------------------------
// Multisession sequences: messages given by attribute, no bytes.

const CODE = MessageType as Record<string, number>;
/** Wire position of each attribute, per message type, for the types the sequences use. */
const LAYOUT: Record<string, string[]> = {
  HELLO: ['realm', 'details'],
  WELCOME: ['session_id', 'details'],
  GOODBYE: ['details', 'reason'],
  ABORT: ['details', 'reason', 'args', 'kwargs'],
  PUBLISH: ['request_id', 'options', 'topic', 'args', 'kwargs'],
  PUBLISHED: ['request_id', 'publication_id'],
  SUBSCRIBE: ['request_id', 'options', 'topic'],
  SUBSCRIBED: ['request_id', 'subscription_id'],
  UNSUBSCRIBE: ['request_id', 'subscription_id'],
  UNSUBSCRIBED: ['request_id'],
  EVENT: ['subscription_id', 'publication_id', 'details', 'args', 'kwargs'],
  CALL: ['request_id', 'options', 'procedure', 'args', 'kwargs'],
  RESULT: ['request_id', 'details', 'args', 'kwargs'],
  REGISTER: ['request_id', 'options', 'procedure'],
  REGISTERED: ['request_id', 'registration_id'],
  UNREGISTER: ['request_id', 'registration_id'],
  UNREGISTERED: ['request_id'],
  INVOCATION: ['request_id', 'registration_id', 'details', 'args', 'kwargs'],
  YIELD: ['request_id', 'options', 'args', 'kwargs'],
  ERROR: ['request_type', 'request_id', 'details', 'error', 'args', 'kwargs'],
};
const OPTIONAL = new Set(['args', 'kwargs']);
const DICTS = new Set(['details', 'options']);

/** The wire array for a sequence step, or null when the step lacks a required field. */
function wireOf(m: Record<string, unknown>): unknown[] | null {
  const layout = LAYOUT[m.type as string];
  if (!layout) return null;
  const arr: unknown[] = [CODE[m.type as string]];
  for (const k of layout) {
    const alias = k.replace(/_id$/, '');
    let v = m[k] ?? m[alias];
    if (v === undefined && DICTS.has(k)) v = {};
    if (v === undefined) {
      if (OPTIONAL.has(k)) break;
      return null;
    }
    if (k === 'args' && m.kwargs !== undefined) {
      arr.push(v, m.kwargs);
      break;
    }
    arr.push(v);
  }
  return arr;
}

const multi = files.filter((f) => load(f).sequence);
test('there is at least one multisession file', () => expect(multi.length).toBeGreaterThan(0));

describe.each(multi.map((f) => [path.relative(ROOT, f), f]))('%s', (_rel, f) => {
  const steps = load(f).sequence!.map((s) => s.message);
  test.each(SERIALIZERS)('every complete message round-trips through %s', (ser) => {
    const s = serializerByName(ser)!;
    let checked = 0;
    for (const m of steps) {
      const arr = wireOf(m);
      if (!arr) continue;
      const msg = parseMessage(arr);
      expect(toArray(msg)).toEqual(arr);
      roundTrip(s, msg);
      checked++;
    }
    expect(checked).toBeGreaterThan(0);
  });
});
