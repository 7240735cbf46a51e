/**
 * Hostile Arrow IPC files: each one below made apache-arrow 21 alone exhaust memory or loop forever
 * (checked by hand in a child process: killed by a 15 s timeout, or out of memory), from a few hundred
 * bytes to 64 KB; the second group got past a first version of the check (an adversarial read). The
 * archive's Arrow reader (formats/arrow-check.ts, arrow.ts) must refuse them with a FormatError at once.
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
  compressionRegistry,
  CompressionType,
  Dictionary,
  Field,
  RecordBatchStreamWriter,
  Int8,
  Null,
  Schema,
  SparseUnion,
  Struct,
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
import { DictionaryBatch as FbDictionaryBatch } from 'apache-arrow/fb/dictionary-batch';
import { Footer } from 'apache-arrow/fb/footer';
import { KeyValue } from 'apache-arrow/fb/key-value';
import { Message } from 'apache-arrow/fb/message';
import { MessageHeader } from 'apache-arrow/fb/message-header';
import { MetadataVersion } from 'apache-arrow/fb/metadata-version';
import { RecordBatch as FbRecordBatch } from 'apache-arrow/fb/record-batch';
import { Schema as FbSchema } from 'apache-arrow/fb/schema';
import { Struct_ } from 'apache-arrow/fb/struct-';
import { Type } from 'apache-arrow/fb/type';
import { Footer as FooterMeta, FileBlock } from 'apache-arrow/ipc/metadata/file';
import {
  BufferRegion,
  DictionaryBatch as DictionaryBatchMeta,
  FieldNode,
  Message as MessageMeta,
  RecordBatch as RecordBatchMeta,
} from 'apache-arrow/ipc/metadata/message';
import { lz4Ipc } from '../helpers/arrow-lz4';
import { messages, type Form, type Msg } from '../helpers/arrow-ipc';

const pad8 = (n: number) => (n + 7) & ~7;
const EOS = Buffer.from([255, 255, 255, 255, 0, 0, 0, 0]);

function valid(form: Form, dictionary = false): Buffer {
  const cols: Record<string, unknown> = { time: Float64Array.from([1.7e9, 1.7e9 + 1, 1.7e9 + 2]), v: Float64Array.from([1, 2, 3]) };
  if (dictionary) cols.s = vectorFromArray(['a', 'b', 'a'], new Dictionary(new Utf8(), new Int32()));
  return Buffer.from(tableToIPC(tableFromArrays(cols as Parameters<typeof tableFromArrays>[0]), form));
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
  return schemaStream(fb, [child]);
}

/** A stream of one schema message of `fields` (tables already in `fb`), built by hand: tables may be shared. */
function schemaStream(fb: Builder, fields: number[]): Buffer {
  const vec = FbSchema.createFieldsVector(fb, fields);
  FbSchema.startSchema(fb);
  FbSchema.addFields(fb, vec);
  const schema = FbSchema.endSchema(fb);
  Message.startMessage(fb);
  Message.addVersion(fb, MetadataVersion.V5);
  Message.addHeaderType(fb, MessageHeader.Schema);
  Message.addHeader(fb, schema);
  Message.addBodyLength(fb, BigInt(0));
  fb.finish(Message.endMessage(fb));
  const raw = Buffer.from(fb.asUint8Array());
  const head = Buffer.alloc(8);
  head.writeInt32LE(-1, 0);
  head.writeInt32LE(pad8(raw.length), 4);
  return Buffer.concat([head, raw, Buffer.alloc(pad8(raw.length) - raw.length), EOS]);
}

/** One IPC message (continuation marker, metadata length, metadata, body), from apache-arrow's own encoder. */
function message(header: Schema | RecordBatchMeta | DictionaryBatchMeta, body = new Uint8Array(0)): Buffer {
  const fb = MessageMeta.encode(MessageMeta.from(header, pad8(body.length)));
  const meta = pad8(fb.length + 8);
  const out = Buffer.alloc(meta + pad8(body.length));
  out.writeInt32LE(-1, 0);
  out.writeInt32LE(meta - 8, 4);
  out.set(fb, 8);
  out.set(body, meta);
  return out;
}
const batch = (rows: number, nodes: Array<[number, number]>, buffers: Array<[number, number]>) =>
  new RecordBatchMeta(
    rows,
    nodes.map(([l, n]) => new FieldNode(l, n)),
    buffers.map(([o, l]) => new BufferRegion(o, l)),
    null,
  );
const MAGIC = Buffer.from('ARROW1\0\0', 'latin1');

/** A file of `schema` and `messages` whose footer lists `dicts` and `batches` blocks, as given (indices into messages). */
function fileOf(schema: Schema, messages: Buffer[], dicts: number[], batches: number[]): Buffer {
  const at: number[] = [];
  let pos = MAGIC.length;
  for (const m of messages) {
    at.push(pos);
    pos += m.length;
  }
  const block = (i: number) => {
    const m = messages[i]!;
    const meta = m.readInt32LE(4) + 8;
    return new FileBlock(meta, m.length - meta, at[i]!);
  };
  const footer = FooterMeta.encode(new FooterMeta(schema, MetadataVersion.V5, batches.map(block), dicts.map(block)));
  const len = Buffer.alloc(4);
  len.writeInt32LE(footer.length);
  return Buffer.concat([MAGIC, ...messages, EOS, footer, len, MAGIC.subarray(0, 6)]);
}

/** One row of (time: Int32, a dictionary index: Int32), both 0; the index read at byte `indexAt` of the 8-byte body. */
const timeAndIndex = (indexAt: number) =>
  message(
    batch(
      1,
      [
        [1, 0],
        [1, 0],
      ],
      [
        [0, 0],
        [0, 4],
        [0, 0],
        [indexAt, 4],
      ],
    ),
    new Uint8Array(8),
  );

/** The first record batch's rows and every field node's length set to `rows` (its buffers left as they are). */
function withRows(b: Buffer, form: Form, rows: bigint): void {
  const m = firstBatch(b, form);
  const rb = m.msg.header(new FbRecordBatch()) as FbRecordBatch;
  b.writeBigInt64LE(rows, m.at + rb.bb_pos + m.bb.__offset(rb.bb_pos, 4));
  for (let i = 0; i < rb.nodesLength(); i++) b.writeBigInt64LE(rows, m.at + rb.nodes(i)!.bb_pos);
}

/** A table whose buffers LZ4 compresses (regular times, a constant column), as a compressed IPC file or stream. */
function compressible(form: Form): Buffer {
  const n = 4000;
  return lz4Ipc(tableFromArrays({ time: Float64Array.from({ length: n }, (_, i) => 1.7e9 + i), v: new Float64Array(n).fill(2.5) }), form);
}

/** Where the first compressed buffer of the first record batch has its 8-byte uncompressed length. */
function lz4Prefix(b: Buffer, form: Form): number {
  const m = firstBatch(b, form);
  const rb = m.msg.header(new FbRecordBatch()) as FbRecordBatch;
  const body = m.at + m.bb.capacity();
  for (let i = 0; i < rb.buffersLength(); i++) {
    const buf = rb.buffers(i)!;
    const at = body + Number(buf.offset());
    if (Number(buf.length()) >= 16 && b.readBigInt64LE(at) >= 0n) return at;
  }
  throw new Error('no compressed buffer');
}

/** A file written with the ZSTD codec (its buffers only look like zstd frames: the check refuses the codec first). */
function zstdLooking(): Buffer {
  const prev = compressionRegistry.get(CompressionType.ZSTD);
  compressionRegistry.set(CompressionType.ZSTD, { ...(prev ?? {}), encode: () => new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0, 0]) });
  const w = new RecordBatchStreamWriter({ compressionType: CompressionType.ZSTD });
  w.write(tableFromArrays({ time: Float64Array.from({ length: 100 }, (_, i) => i), v: new Float64Array(100) }));
  w.finish();
  return Buffer.from(w.toUint8Array(true));
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
      /metadata whose walk costs more than its \d+ bytes can hold/,
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

    // past a first version of the check:
    {
      // a message's own metadata entries claiming 2^31−1 (apache-arrow reads each: minutes)
      const schema = new Schema([new Field('time', new Float32(), false)]);
      const fb = MessageMeta.encode(new MessageMeta(0, MetadataVersion.V5, MessageHeader.Schema, schema, new Map([['k', 'v']])));
      const b = Buffer.alloc(8 + pad8(fb.length));
      b.writeInt32LE(-1, 0);
      b.writeInt32LE(pad8(fb.length), 4);
      b.set(fb, 8);
      const m = messages(b, 'stream')[0]!;
      const slot = m.msg.bb_pos + m.bb.__offset(m.msg.bb_pos, 12);
      b.writeInt32LE(0x7fffffff, m.at + slot + m.bb.readInt32(slot));
      cases.push(["a message's metadata entries: 2^31−1", Buffer.concat([b, EOS]), /2147483647 message metadata entries claimed/]);
    }
    {
      // 300 fields that are one table, whose 600 metadata entries are one entry of a 4 KB string: 10 KB of
      // metadata to decode 1.4 GB of strings
      const fb = new Builder(1024);
      const str = fb.createString('k'.repeat(4000));
      const kv = KeyValue.createKeyValue(fb, str, str);
      const md = FbField.createCustomMetadataVector(fb, Array<number>(600).fill(kv));
      const name = fb.createString('x');
      FbField.startField(fb);
      FbField.addName(fb, name);
      FbField.addCustomMetadata(fb, md);
      const field = FbField.endField(fb);
      const b = schemaStream(fb, Array<number>(300).fill(field));
      cases.push(['fields and metadata entries sharing one table', b, /metadata whose walk costs more than its \d+ bytes can hold/]);
    }
    {
      // a footer listing one batch 1000 times, its column nodes shorter than the batch: apache-arrow
      // back-fills a validity bitmap per column and listing
      const schema = new Schema(Array.from({ length: 8 }, (_, i) => new Field(`s${i}`, new Float32(), true)));
      const rb = message(batch(300, Array<[number, number]>(8).fill([0, 0]), Array<[number, number]>(16).fill([0, 0])));
      const repeated = fileOf(schema, [rb], [], Array<number>(1000).fill(0));
      cases.push(['a footer listing one batch 1000 times', repeated, /column 0 of 0 values in a record batch of 300 rows/]);
      cases.push([
        'column nodes shorter than their batch',
        fileOf(schema, [rb], [], [0]),
        /column 0 of 0 values in a record batch of 300 rows/,
      ]);
    }
    {
      // delta dictionary batches (apache-arrow concatenates the dictionary again at each: quadratic)
      const dict = new Dictionary(new Utf8(), new Int32(), 0);
      const schema = new Schema([new Field('time', new Int32(), false), new Field('d', dict, false)]);
      const body = new Uint8Array(16);
      body.set([0, 0, 0, 0, 1, 0, 0, 0, 97]); // offsets 0, 1; "a"
      const delta = message(
        new DictionaryBatchMeta(
          batch(
            1,
            [[1, 0]],
            [
              [0, 0],
              [0, 8],
              [8, 1],
            ],
          ),
          0,
          true,
        ),
        body,
      );
      const rows = timeAndIndex(0);
      cases.push([
        'a footer listing one delta dictionary 200 times',
        fileOf(schema, [delta, rows], Array<number>(200).fill(0), [1]),
        /footer blocks overlapping/,
      ]);
      const stream = Buffer.concat([message(schema), ...Array<Buffer>(300).fill(delta), rows, EOS]);
      cases.push(['a stream of 300 delta dictionaries', stream, /more than 256 delta dictionary batches/]);
    }
    {
      // 30 string columns sharing one offsets buffer (0, V, 0, V…) and one V-byte values buffer: 2000
      // strings of 40 KB each, 2.4 GB from 60 KB
      const R = 4000;
      const V = 40000;
      const off = pad8(4 * (R + 1));
      const body = new Uint8Array(off + V).fill(97, off);
      const dv = new DataView(body.buffer);
      for (let i = 0; i <= R; i++) dv.setInt32(4 * i, i % 2 ? V : 0, true);
      const nodes: Array<[number, number]> = [[R, 0]];
      const bufs: Array<[number, number]> = [
        [0, 0],
        [0, 4 * R],
      ];
      for (let c = 0; c < 30; c++) {
        nodes.push([R, 0]);
        bufs.push([0, 0], [0, off], [off, V]);
      }
      const schema = new Schema([
        new Field('time', new Int32(), false),
        ...Array.from({ length: 30 }, (_, c) => new Field(`s${c}`, new Utf8(), false)),
      ]);
      const b = Buffer.concat([message(schema), message(batch(R, nodes, bufs), body), EOS]);
      cases.push(['string columns sharing their buffers', b, /string values adding up to more than \d+ bytes can hold/]);
    }

    {
      // a dictionary batch of 3 rows whose values claim 2^27 (a mutation sweep: 1 s of decoding per 866 bytes)
      const b = valid('file', true);
      const m = messages(b, 'file').find((x) => x.msg.headerType() === MessageHeader.DictionaryBatch)!;
      const d = m.msg.header(new FbDictionaryBatch()) as FbDictionaryBatch;
      b.writeBigInt64LE(1n << 27n, m.at + d.data()!.nodes(0)!.bb_pos);
      cases.push(['a dictionary whose values outnumber its rows', b, /a dictionary of 134217728 values in a batch of \d+ rows/]);
    }

    // past the second version (a second adversarial read):
    {
      // a dictionary of lists whose one entry is a list of 2^31−1 nulls (712 bytes: String() of it ran out of memory)
      const dict = new Dictionary(new List(new Field('item', new Null(), true)), new Int32(), 0);
      const schema = new Schema([new Field('time', new Int32(), false), new Field('d', dict, false)]);
      const offsets = new Uint8Array(8);
      new DataView(offsets.buffer).setInt32(4, 0x7fffffff, true);
      const entries = message(
        new DictionaryBatchMeta(
          batch(
            1,
            [
              [1, 0],
              [0, 0],
            ],
            [
              [0, 0],
              [0, 8],
            ],
          ),
          0,
        ),
        offsets,
      );
      const rows = timeAndIndex(4);
      cases.push(['a dictionary of lists (skipped, not printed)', Buffer.concat([message(schema), entries, rows, EOS]), null]);
    }
    {
      // 300 Int8 columns of 8000 rows over one 8000-byte buffer: 2.4 million cells from 53 KB
      const R = 8000;
      const C = 300;
      const schema = new Schema([
        new Field('time', new Int32(), false),
        ...Array.from({ length: C }, (_, c) => new Field(`c${c}`, new Int8(), false)),
      ]);
      const nodes = Array<[number, number]>(C + 1).fill([R, 0]);
      const bufs = Array.from({ length: C + 1 }, (): Array<[number, number]> => [
        [0, 0],
        [0, R],
      ]).flat();
      const b = Buffer.concat([message(schema), message(batch(R, nodes, bufs), new Uint8Array(4 * R)), EOS]);
      cases.push(['columns sharing one buffer: more cells than bits', b, /2408000 cells \(rows × columns\) claimed in \d+ bytes/]);
    }
    {
      // a union type claiming type ids for children it does not have (apache-arrow builds an id table per listing)
      const schema = new Schema([
        new Field('time', new Int32(), false),
        new Field(
          'u',
          new SparseUnion(
            Array.from({ length: 64 }, (_, i) => i),
            [],
          ),
          true,
        ),
      ]);
      cases.push([
        'a union of no children with 64 type ids',
        Buffer.concat([message(schema), EOS]),
        /a union of 0 children with 64 type ids/,
      ]);
    }
    {
      // a dictionary of structs takes one field node (its indices), not one per child: the next column's
      // node is the third, here 7 values in a batch of 100 rows
      const dict = new Dictionary(new Struct(['a', 'b', 'c'].map((n) => new Field(n, new Int8(), true))), new Int8(), 0);
      const schema = new Schema([new Field('time', new Int32(), false), new Field('d', dict, true), new Field('x', new Int8(), true)]);
      const nodes: Array<[number, number]> = [
        [100, 0],
        [100, 0],
        [7, 0],
        [100, 0],
        [100, 0],
        [100, 0],
      ];
      const b = Buffer.concat([
        message(schema),
        message(batch(100, nodes, Array<[number, number]>(6).fill([0, 0])), new Uint8Array(8)),
        EOS,
      ]);
      cases.push(['the column after a dictionary of structs', b, /column 2 of 7 values in a record batch of 100 rows/]);
    }

    // past the third version (a third adversarial read): costs apache-arrow pays per record batch
    {
      // a stream repeating its schema message (apache-arrow then compares schemas at every batch)
      const schema = new Schema([new Field('time', new Int32(), false)]);
      cases.push([
        'a second schema message',
        Buffer.concat([message(schema), message(schema), EOS]),
        /a second schema message at byte \d+/,
      ]);
    }
    {
      // 1000 top-level fields and 5 empty batches: apache-arrow looks each field up among all, per batch
      const schema = new Schema(Array.from({ length: 1000 }, (_, i) => new Field(`n${i}`, new Null(), true)));
      const empty = message(batch(0, Array<[number, number]>(1000).fill([0, 0]), []));
      const b = Buffer.concat([message(schema), ...Array<Buffer>(5).fill(empty), EOS]);
      cases.push(['many empty batches of a wide schema', b, /record batches whose schema work \(\d+\) is more than \d+ bytes can hold/]);
    }
    {
      // a dictionary of 30,000 entries and 256 empty deltas: apache-arrow memoizes the whole at each
      const dict = new Dictionary(new Utf8(), new Int32(), 0);
      const schema = new Schema([new Field('time', new Int32(), false), new Field('d', dict, false)]);
      const entries = (rows: number, delta: boolean) =>
        message(
          new DictionaryBatchMeta(
            batch(
              rows,
              [[rows, 0]],
              [
                [0, 0],
                [0, 0],
                [0, 0],
              ],
            ),
            0,
            delta,
          ),
        );
      const b = Buffer.concat([message(schema), entries(30000, false), ...Array<Buffer>(256).fill(entries(0, true)), EOS]);
      cases.push(['a dictionary memoized again at 256 deltas', b, /dictionaries whose lengths after each batch add up to \d+/]);
    }

    // LZ4-compressed bodies (arrow-check.ts checkCompression, lz4.ts)
    for (const form of ['file', 'stream'] as const) {
      cases.push([`valid LZ4 ${form}`, compressible(form), null]);
      {
        const b = compressible(form);
        b.writeBigInt64LE(1n << 40n, lz4Prefix(b, form));
        cases.push([`LZ4 ${form}: a buffer declaring 2^40 bytes`, b, /compressed buffers declaring \d+ bytes in \d+: more than 256 times/]);
      }
      {
        const b = compressible(form);
        const at = lz4Prefix(b, form);
        b.writeBigInt64LE(b.readBigInt64LE(at) + 1n, at);
        cases.push([
          `LZ4 ${form}: a buffer declaring a byte more than its frame holds`,
          b,
          /an LZ4 buffer of \d+ bytes where its prefix declares \d+/,
        ]);
      }
      {
        const b = compressible(form);
        const at = lz4Prefix(b, form);
        b.writeBigInt64LE(b.readBigInt64LE(at) - 1n, at);
        cases.push([
          `LZ4 ${form}: a buffer declaring a byte less than its frame holds`,
          b,
          /damaged LZ4 data: more data than the \d+ bytes declared/,
        ]);
      }
      {
        // the frame's first block size (after magic, FLG, BD, header checksum: no content size here)
        const b = compressible(form);
        b.writeUInt32LE(0x7fffffff, lz4Prefix(b, form) + 8 + 7);
        cases.push([`LZ4 ${form}: a block of 2^31−1 bytes`, b, /damaged LZ4 data: a block of 2147483647 bytes/]);
      }
    }
    cases.push(['a ZSTD-compressed body', zstdLooking(), /ZSTD-compressed Arrow data is not supported \(LZ4 is\)/]);
    {
      // apache-arrow reads on past an end-of-stream marker: a batch of 200 M rows behind one (31 s, 3 GB)
      const b = valid('stream');
      withRows(b, 'stream', 200_000_000n);
      const at = firstBatch(b, 'stream').at - 8; // its continuation marker and length
      const hidden = Buffer.concat([b.subarray(0, at), EOS, b.subarray(at)]);
      cases.push(['a batch behind an end-of-stream marker', hidden, /200000000 rows claimed in \d+ bytes/]);
    }
    {
      // a Timestamp column of 2 rows holding one value, 2^60 ms: apache-arrow's get() throws a TypeError
      const ts = makeVector({ type: new TimestampMillisecond(), data: new BigInt64Array([1n << 60n]) });
      const b = Buffer.from(tableToIPC(new Table({ ts }), 'stream'));
      withRows(b, 'stream', 2n);
      cases.push(['a column whose buffer is shorter than its rows', b, /not a readable Arrow IPC file: .*safe/]);
    }

    const got = decodeApart(cases.map(([, b]) => b));
    expect(got).toHaveLength(cases.length);
    cases.forEach(([what, b, want], i) => {
      expect(b.length).toBeLessThan(256 * 1024); // small files: the cost is out of all proportion
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
      // LZ4-compressed bodies, small enough that mutations often land in the frames
      out.push(
        lz4Ipc(tableFromArrays({ time: Float64Array.from({ length: 64 }, (_, i) => 1.7e9 + i), v: new Float64Array(64).fill(1) }), form),
      );
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
