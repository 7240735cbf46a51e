/**
 * Hostile Arrow IPC files: each one below made apache-arrow 21 alone exhaust memory or loop forever
 * (checked by hand in a child process: killed by a 15 s timeout, or out of memory), from a few hundred
 * bytes. The archive's Arrow reader (formats/arrow-check.ts) must refuse them with a FormatError at once.
 * They are built from valid files by patching their flatbuffers in place, at positions found with
 * apache-arrow's own generated readers. Then a seeded sweep of truncations and mutations: every decode
 * returns or throws a FormatError. The decodes run in a child process with a deadline and a heap cap
 * (test/fixtures/arrow-decode.ts), so that a regression fails here rather than hanging jest.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ByteBuffer, Builder } from 'flatbuffers';
import {
  Dictionary,
  Field,
  Float32,
  Int32,
  List,
  makeVector,
  Table,
  tableFromArrays,
  tableToIPC,
  TimestampMillisecond,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import { Field as FbField } from 'apache-arrow/fb/field';
import { Footer } from 'apache-arrow/fb/footer';
import { Message } from 'apache-arrow/fb/message';
import { MessageHeader } from 'apache-arrow/fb/message-header';
import { MetadataVersion } from 'apache-arrow/fb/metadata-version';
import { RecordBatch as FbRecordBatch } from 'apache-arrow/fb/record-batch';
import { Schema as FbSchema } from 'apache-arrow/fb/schema';
import { Struct_ } from 'apache-arrow/fb/struct-';
import { Type } from 'apache-arrow/fb/type';

type Form = 'file' | 'stream';

function valid(form: Form, dictionary = false): Buffer {
  const cols: Record<string, unknown> = { time: Float64Array.from([1.7e9, 1.7e9 + 1, 1.7e9 + 2]), v: Float64Array.from([1, 2, 3]) };
  if (dictionary) cols.s = vectorFromArray(['a', 'b', 'a'], new Dictionary(new Utf8(), new Int32()));
  return Buffer.from(tableToIPC(tableFromArrays(cols as Parameters<typeof tableFromArrays>[0]), form));
}

interface Msg {
  /** Where the metadata starts in the file. */
  at: number;
  bb: ByteBuffer;
  msg: Message;
}

/** The messages of a stream, or of a file's body (apache-arrow's file writer puts the first at byte 8). */
function messages(b: Buffer, form: Form): Msg[] {
  const out: Msg[] = [];
  const end = form === 'file' ? b.length - 10 - b.readInt32LE(b.length - 10) : b.length;
  for (let pos = form === 'file' ? 8 : 0; pos + 8 <= end;) {
    let len = b.readInt32LE(pos);
    let at = pos + 4;
    if (len === -1) {
      len = b.readInt32LE(pos + 4);
      at = pos + 8;
    }
    if (len <= 0) break;
    const bb = new ByteBuffer(b.subarray(at, at + len));
    const msg = Message.getRootAsMessage(bb);
    out.push({ at, bb, msg });
    pos = at + len + Number(msg.bodyLength());
  }
  return out;
}

function firstBatch(b: Buffer, form: Form): Msg {
  const m = messages(b, form).find((x) => x.msg.headerType() === MessageHeader.RecordBatch);
  if (!m) throw new Error('no record batch');
  return m;
}

/** A record batch whose vector in vtable `slot` (6: field nodes, 8: buffers) claims 2^31−1 entries. */
function hugeCount(form: Form, slot: 6 | 8): Buffer {
  const b = valid(form);
  const m = firstBatch(b, form);
  const rb = m.msg.header(new FbRecordBatch()) as FbRecordBatch;
  const field = rb.bb_pos + m.bb.__offset(rb.bb_pos, slot);
  b.writeInt32LE(0x7fffffff, m.at + field + m.bb.readInt32(field));
  return b;
}

function footerOf(b: Buffer): { footer: Footer; at: number } {
  const at = b.length - 10 - b.readInt32LE(b.length - 10);
  return { footer: Footer.getRootAsFooter(new ByteBuffer(b.subarray(at, b.length - 10))), at };
}

/** A stream whose one field has `fan` children that are all the same field, `depth` levels deep. */
function sharedChildren(depth: number, fan: number): Buffer {
  const fb = new Builder(1024);
  let child = -1;
  for (let d = 0; d < depth; d++) {
    const name = fb.createString(`f${d}`);
    Struct_.startStruct_(fb);
    const st = Struct_.endStruct_(fb);
    const kids = child < 0 ? -1 : FbField.createChildrenVector(fb, Array<number>(fan).fill(child));
    FbField.startField(fb);
    FbField.addName(fb, name);
    FbField.addNullable(fb, true);
    FbField.addTypeType(fb, Type.Struct_);
    FbField.addType(fb, st);
    if (kids >= 0) FbField.addChildren(fb, kids);
    child = FbField.endField(fb);
  }
  const fields = FbSchema.createFieldsVector(fb, [child]);
  FbSchema.startSchema(fb);
  FbSchema.addFields(fb, fields);
  const schema = FbSchema.endSchema(fb);
  Message.startMessage(fb);
  Message.addVersion(fb, MetadataVersion.V5);
  Message.addHeaderType(fb, MessageHeader.Schema);
  Message.addHeader(fb, schema);
  Message.addBodyLength(fb, BigInt(0));
  fb.finish(Message.endMessage(fb));
  const raw = Buffer.from(fb.asUint8Array());
  const meta = Buffer.concat([raw, Buffer.alloc((8 - (raw.length % 8)) % 8)]);
  const head = Buffer.alloc(8);
  head.writeInt32LE(-1, 0);
  head.writeInt32LE(meta.length, 4);
  const eos = Buffer.alloc(8);
  eos.writeInt32LE(-1, 0);
  return Buffer.concat([head, meta, eos]);
}

type Outcome = { i: number; ok?: true; error?: string; message?: string };

/** Each buffer decoded in a child process (60 s for all, 512 MB of heap); what each gave. */
function decodeApart(buffers: Buffer[]): Outcome[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sisock-arrow-'));
  try {
    const pack = path.join(dir, 'pack');
    fs.writeFileSync(
      pack,
      Buffer.concat(
        buffers.flatMap((b) => {
          const n = Buffer.alloc(4);
          n.writeUInt32LE(b.length);
          return [n, b];
        }),
      ),
    );
    let out: string;
    try {
      out = execFileSync(
        process.execPath,
        ['--max-old-space-size=512', '--import', 'tsx', path.join(__dirname, '../fixtures/arrow-decode.ts'), pack],
        {
          cwd: path.resolve(__dirname, '../..'),
          encoding: 'utf8',
          timeout: 60000,
          maxBuffer: 64 * 2 ** 20,
        },
      );
    } catch (e) {
      const x = e as { signal?: string; status?: number; stderr?: string };
      throw new Error(
        `the decodes did not finish (signal ${x.signal}, status ${x.status}): a loop or a blow-up\n${String(x.stderr).slice(-2000)}`,
      );
    }
    return out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Outcome);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('Arrow IPC files that apache-arrow alone cannot survive', () => {
  test('each is refused with a FormatError saying what is wrong; the files they are made from decode', () => {
    const cases: Array<[string, Buffer, RegExp | null]> = [];
    for (const form of ['file', 'stream'] as const) {
      for (const dict of [false, true]) cases.push([`valid ${form}${dict ? ' with a dictionary' : ''}`, valid(form, dict), null]);
      // out of memory: an object built per claimed entry
      cases.push([`${form}: 2^31−1 buffers`, hugeCount(form, 8), /2147483647 buffers claimed in \d+ bytes of metadata/]);
      cases.push([`${form}: 2^31−1 field nodes`, hugeCount(form, 6), /2147483647 field nodes claimed in \d+ bytes of metadata/]);
    }
    {
      // an endless loop: the file reader reads the same block again
      const b = valid('file', true);
      const { footer, at } = footerOf(b);
      const dict = footer.dictionaries(0)!;
      const batch = footer.recordBatches(0)!;
      b.copy(b, at + batch.bb_pos, at + dict.bb_pos, at + dict.bb_pos + 24); // Block: offset, metadata length, body length
      cases.push(["a footer's record-batch block at the dictionary batch", b, /record batch block 0 points at a dictionary batch/]);
    }
    {
      const b = valid('file');
      const m = firstBatch(b, 'file');
      b[m.at + m.msg.bb_pos + m.bb.__offset(m.msg.bb_pos, 6)] = MessageHeader.NONE;
      cases.push(['a record batch message of type NONE', b, /a message of type NONE at byte 8/]);
    }
    // 2^40 field visits from 1.8 KB; a nested schema that shares nothing passes the walk
    cases.push([
      'fields sharing their children, 40 deep',
      sharedChildren(40, 2),
      /a schema visiting more fields than its \d+ bytes can hold/,
    ]);
    cases.push(['fields nested 100 deep', sharedChildren(100, 1), /fields nested deeper than 64/]);
    cases.push(['fields nested 3 deep, no time column', sharedChildren(3, 1), /no time column/]);
    {
      const b = valid('file');
      const { footer, at } = footerOf(b);
      b.writeBigInt64LE(BigInt(b.length), at + footer.recordBatches(0)!.bb_pos);
      cases.push(['a footer block past the end', b, /record batch block 0 at byte \d+, outside the file's messages/]);
    }
    const s = valid('stream');
    cases.push(['a cut stream', s.subarray(0, s.length - 40), /runs past byte/]);
    const f = valid('file');
    cases.push(['a cut file', f.subarray(0, f.length - 3), /without its closing magic/]);

    const got = decodeApart(cases.map(([, b]) => b));
    expect(got).toHaveLength(cases.length);
    cases.forEach(([what, b, want], i) => {
      expect(b.length).toBeLessThan(8192);
      const o = got[i]!;
      if (want === null) expect({ what, ...o }).toEqual({ what, i, ok: true });
      else {
        expect({ what, error: o.error }).toEqual({ what, error: 'FormatError' });
        expect(o.message).toMatch(want);
      }
    });
  });
});

describe('Arrow IPC: a seeded sweep of cut and mutated files', () => {
  function corpus(): Buffer[] {
    const out: Buffer[] = [];
    for (const form of ['file', 'stream'] as const) {
      out.push(valid(form), valid(form, true));
      const ts = makeVector({ type: new TimestampMillisecond(), data: new BigInt64Array([1n, 2n, 3n, 4n]) });
      const t = new Table({
        ts,
        x: vectorFromArray([1, null, 3, 4], new Float32()),
        b: vectorFromArray([true, false, null, true]),
        l: vectorFromArray([[1], [2, 3], [], null], new List(new Field('i', new Int32(), true))),
      });
      out.push(Buffer.from(tableToIPC(t, form)));
    }
    return out;
  }

  test('every decode returns or throws a FormatError', () => {
    let seed = 12345;
    const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const pick = <T>(a: T[]): T => a[Math.floor(rnd() * a.length)]!;
    const interesting = [0, 1, -1, 8, 16, 255, 0xffff, 1 << 20, 0x7fffffff, -0x80000000];
    const inputs: Array<[string, Buffer]> = [];
    const files = corpus();
    for (const [k, f] of files.entries()) for (let n = 0; n < f.length; n += 3) inputs.push([`file ${k} cut at ${n}`, f.subarray(0, n)]);
    for (let i = 0; i < 4000; i++) {
      const b = Buffer.from(pick(files));
      const m = Math.floor(rnd() * 3);
      if (m === 0) for (let k = 1 + Math.floor(rnd() * 4); k > 0; k--) b[Math.floor(rnd() * b.length)]! ^= 1 << Math.floor(rnd() * 8);
      else if (m === 1) b.writeInt32LE(pick(interesting) | 0, Math.floor(rnd() * (b.length - 4)));
      else b.writeBigInt64LE(BigInt(pick(interesting)) << BigInt(Math.floor(rnd() * 32)), Math.floor(rnd() * (b.length - 8)) & ~7);
      inputs.push([`mutation ${i}`, b]);
    }
    const got = decodeApart(inputs.map(([, b]) => b));
    expect(got).toHaveLength(inputs.length);
    const others = got.filter((o) => !o.ok && o.error !== 'FormatError').map((o) => `${inputs[o.i]![0]}: ${o.error}: ${o.message}`);
    expect(others).toEqual([]);
    expect(got.filter((o) => o.error === 'FormatError').length).toBeGreaterThan(2000);
  });
});
