/**
 * The framing of an Arrow IPC file or stream, checked before apache-arrow reads it.
 *
 * apache-arrow (21) trusts what the file says, and a few hundred hostile bytes were enough to take the
 * process down (found by a fuzzing campaign on the archive's formats):
 *  - a record batch whose `buffers` or field-node count is 2^31−1 (ipc/metadata/message.js
 *    decodeBuffers/decodeFieldNodes build an object per entry: out of memory, SIGABRT after a minute);
 *  - an Arrow *file* whose footer points a record-batch block at a dictionary batch, or at a message of
 *    type NONE (ipc/reader.js: the file reader reads the same block again, forever);
 *  - schemas whose fields nest or share children (flatbuffer offsets can point back: exponential work).
 *
 * A second, adversarial read found more that got past a first version of this check: metadata entries
 * counted in the message but not checked (2^31 of them: minutes), fields and metadata entries sharing one
 * table (a 50 KB schema decoded for ~11 min), a footer listing one batch 1333 times with field nodes
 * shorter than the batch (apache-arrow back-fills a validity bitmap per column and batch: 5 GB from 64
 * KB), one delta dictionary batch listed 2600 times (apache-arrow re-concatenates the dictionary at each:
 * quadratic).
 *
 * So every message is walked here first, on the flatbuffer tables themselves (apache-arrow's own generated
 * readers, which read one field at a time and never loop over a count): each length and offset must lie
 * inside the bytes that hold it, each count must fit the metadata that claims it; a schema's walk (fields,
 * their names and metadata entries with their strings) costs at most 4 units per byte of metadata, so a
 * table or string shared many times is refused; each footer block must point inside the file at a message
 * of its kind, no two blocks overlap; a record batch has a field node per field of the schema, its
 * top-level ones of the batch's length, and the rows of the batches and dictionaries add up to no more
 * than the file's bytes;
 * at most MAX_DELTAS delta dictionary batches. What passes can still be wrong (values, types), which
 * apache-arrow then refuses with an error of its own: the caller turns both into a FormatError naming the
 * file. (String values shared between columns are bounded where they are read, arrow.ts.)
 */
import { createRequire } from 'node:module';
import type { ByteBuffer } from 'flatbuffers';
import type { Block } from 'apache-arrow/fb/block';
import type { Field as FbField } from 'apache-arrow/fb/field';
import type { KeyValue } from 'apache-arrow/fb/key-value';
import type { RecordBatch as FbRecordBatch } from 'apache-arrow/fb/record-batch';
import type { Schema as FbSchema } from 'apache-arrow/fb/schema';
import { FormatError, MAX_DECODED_BYTES } from './types';

/** MessageHeader of Message.fbs. */
const SCHEMA = 1;
const DICTIONARY_BATCH = 2;
const RECORD_BATCH = 3;
/** Not a MessageHeader: what checkMessage says of an end-of-stream marker. */
const EOS = -1;
const KIND: Record<number, string> = {
  [EOS]: 'end-of-stream marker',
  0: 'NONE',
  1: 'schema',
  2: 'dictionary batch',
  3: 'record batch',
  4: 'tensor',
  5: 'sparse tensor',
};

/** Bytes of the structs in the metadata vectors: FieldNode and Buffer (2 × int64), Block (int64, int32 + pad, int64). */
const NODE_BYTES = 16;
const BUFFER_BYTES = 16;
const BLOCK_BYTES = 24;
/** Nesting of a schema's fields beyond which a file is refused (Arrow's own C++ reader stops at 64). */
const MAX_DEPTH = 64;
/** Delta dictionary batches a file may hold (apache-arrow concatenates the dictionary again at each). */
export const MAX_DELTAS = 256;
/** A schema's walk may cost this many units per byte of its metadata (and `WALK_SLACK` more). */
const WALK_PER_BYTE = 4;
const WALK_SLACK = 4096;
/** flatbuffers' Encoding.UTF8_BYTES: a string field's bytes, not decoded. */
const UTF8_BYTES = 1;
/** Type of Schema.fbs: the two whose tables hold a vector or a string apache-arrow decodes per field. */
const TYPE_TIMESTAMP = 10;
const TYPE_UNION = 14;

const MAGIC = Buffer.from('ARROW1', 'latin1');

/** CompressionType and BodyCompressionMethod of Message.fbs. */
const LZ4_FRAME = 0;
const ZSTD = 1;
const METHOD_BUFFER = 0;
/**
 * Bytes the compressed buffers of a file may decompress to: this many times the file, and 1 Mi more.
 * LZ4 itself gives at most ~255 times its input; numbers and strings compress a few times, a constant
 * column a hundred or two. Every other bound here is per byte of the file and its decompressed bytes
 * together (`bytesOf`), so a compressed file costs what an uncompressed one this much bigger would.
 */
export const MAX_INFLATION = 256;

interface Fb {
  ByteBuffer: typeof ByteBuffer;
  Message: typeof import('apache-arrow/fb/message').Message;
  Footer: typeof import('apache-arrow/fb/footer').Footer;
  Schema: typeof FbSchema;
  RecordBatch: typeof FbRecordBatch;
  DictionaryBatch: typeof import('apache-arrow/fb/dictionary-batch').DictionaryBatch;
  KeyValue: typeof KeyValue;
  Union: typeof import('apache-arrow/fb/union').Union;
  Timestamp: typeof import('apache-arrow/fb/timestamp').Timestamp;
}
let fb: Fb | undefined;
/** apache-arrow's generated flatbuffer readers and its flatbuffers runtime, loaded with the first Arrow file. */
function lib(): Fb {
  if (fb) return fb;
  const req = createRequire(require.resolve('apache-arrow'));
  fb = {
    ByteBuffer: (req('flatbuffers') as typeof import('flatbuffers')).ByteBuffer,
    Message: (req('apache-arrow/fb/message') as typeof import('apache-arrow/fb/message')).Message,
    Footer: (req('apache-arrow/fb/footer') as typeof import('apache-arrow/fb/footer')).Footer,
    Schema: (req('apache-arrow/fb/schema') as typeof import('apache-arrow/fb/schema')).Schema,
    RecordBatch: (req('apache-arrow/fb/record-batch') as typeof import('apache-arrow/fb/record-batch')).RecordBatch,
    DictionaryBatch: (req('apache-arrow/fb/dictionary-batch') as typeof import('apache-arrow/fb/dictionary-batch')).DictionaryBatch,
    KeyValue: (req('apache-arrow/fb/key-value') as typeof import('apache-arrow/fb/key-value')).KeyValue,
    Union: (req('apache-arrow/fb/union') as typeof import('apache-arrow/fb/union')).Union,
    Timestamp: (req('apache-arrow/fb/timestamp') as typeof import('apache-arrow/fb/timestamp')).Timestamp,
  };
  return fb;
}

function bad(what: string): never {
  throw new FormatError(`damaged Arrow IPC data: ${what}`);
}

/** A flatbuffer's root table must start inside it. */
function rootedIn(bytes: Uint8Array, what: string): ByteBuffer {
  const f = lib();
  if (bytes.length < 8) bad(`${what} of ${bytes.length} bytes`);
  const bb = new f.ByteBuffer(bytes);
  const root = bb.readUint32(0);
  if (root < 4 || root + 4 > bytes.length) bad(`${what}: its root table at ${root} lies outside its ${bytes.length} bytes`);
  return bb;
}

/** A vector of `n` entries of `size` bytes must fit in the `bytes` of metadata holding it. */
function count(n: number, size: number, bytes: number, what: string): number {
  if (!(n >= 0) || n * size > bytes) bad(`${n} ${what} claimed in ${bytes} bytes of metadata`);
  return n;
}

/** The field nodes a schema's batches carry: `count` in all, the top-level fields' at `top` (pre-order). */
interface Layout {
  count: number;
  top: number[];
  /**
   * What apache-arrow redoes of the schema for each record batch (RecordBatch's ensureSameLengthData →
   * schema.assign: metadata maps copied, each top-level field looked up by name among all, every field
   * walked): fields, schema and top-level field metadata entries, and C²/2 for C top-level fields.
   */
  weight: number;
}

/** What reading a table's metadata entries and strings costs, charged against the walk's budget. */
class Walk {
  private left: number;
  constructor(private readonly bytes: number) {
    this.left = WALK_PER_BYTE * bytes + WALK_SLACK;
  }
  charge(units: number): void {
    this.left -= units;
    if (this.left < 0) bad(`metadata whose walk costs more than its ${this.bytes} bytes can hold (tables or strings shared, or looping)`);
  }
  /** `n` custom metadata entries, each charged with its key's and value's bytes. */
  entries(n: number, get: (i: number, kv: KeyValue) => KeyValue | null, what: string): void {
    count(n, 4, this.bytes, what);
    const kv = new (lib().KeyValue)();
    for (let i = 0; i < n; i++) {
      const e = get(i, kv);
      this.charge(8 + (e?.key(UTF8_BYTES)?.length ?? 0) + (e?.value(UTF8_BYTES)?.length ?? 0));
    }
  }
}

/** Walks a schema: counts, nesting, and the cost of its fields, names and metadata bounded by its size. */
function checkSchema(schema: FbSchema, bytes: number): Layout {
  const walk = new Walk(bytes);
  walk.entries(schema.customMetadataLength(), (i, kv) => schema.customMetadata(i, kv), 'schema metadata entries');
  count(schema.featuresLength(), 8, bytes, 'schema features');
  const layout: Layout = { count: 0, top: [], weight: schema.customMetadataLength() };
  const lib_ = lib();
  // `nodes`: the field has a field node of its own in a batch. A dictionary-encoded field has one (its
  // indices; apache-arrow's VectorLoader takes one), whatever the children of its value type.
  const visit = (f: FbField, depth: number, nodes: boolean): void => {
    if (depth > MAX_DEPTH) bad(`fields nested deeper than ${MAX_DEPTH}`);
    walk.charge(8 + (f.name(UTF8_BYTES)?.length ?? 0));
    if (nodes) layout.count++;
    layout.weight += 1 + (depth === 1 ? f.customMetadataLength() : 0);
    walk.entries(f.customMetadataLength(), (i, kv) => f.customMetadata(i, kv), 'field metadata entries');
    const n = count(f.childrenLength(), 4, bytes, 'child fields');
    // what apache-arrow decodes of the type, per field that lists it (a type table may be shared)
    const tt = f.typeType();
    if (tt === TYPE_UNION) {
      const u = f.type(new lib_.Union()) as InstanceType<Fb['Union']> | null;
      const ids = u?.typeIdsLength() ?? 0;
      if (ids > n) bad(`a union of ${n} children with ${ids} type ids`);
      walk.charge(4 * ids);
    } else if (tt === TYPE_TIMESTAMP) {
      const ts = f.type(new lib_.Timestamp()) as InstanceType<Fb['Timestamp']> | null;
      walk.charge(ts?.timezone(UTF8_BYTES)?.length ?? 0);
    }
    const dictionary = f.dictionary() !== null;
    for (let i = 0; i < n; i++) {
      const c = f.children(i);
      if (!c) bad('a missing child field');
      visit(c, depth + 1, nodes && !dictionary);
    }
  };
  const n = count(schema.fieldsLength(), 4, bytes, 'fields');
  for (let i = 0; i < n; i++) {
    const f = schema.fields(i);
    if (!f) bad('a missing field');
    layout.top.push(layout.count);
    visit(f, 1, true);
  }
  layout.weight += (n * n) / 2;
  return layout;
}

/** A bound of `k` per byte of the file, and 1 Mi more (small files have room for small schemas). */
const perByte = (w: Walked, k: number): number => k * bytesOf(w) + 2 ** 20;

/** The file's bytes and what its compressed buffers declare they decompress to. */
const bytesOf = (w: Walked): number => w.fileBytes + Number(w.inflated);

/** A record batch (or the empty one apache-arrow makes for a file without any) charged with its schema's weight. */
function chargeBatch(w: Walked, layout: Layout): void {
  w.work += layout.weight;
  if (w.work > perByte(w, 8))
    bad(
      `record batches whose schema work (${Math.round(w.work)}) is more than ${bytesOf(w)} bytes can hold (many batches of a big schema)`,
    );
}

/**
 * A compressed batch's buffers: the codec one apache-arrow is given (LZ4_FRAME, arrow.ts), each buffer
 * its 8-byte uncompressed length first (-1: stored as is), those lengths added to the walk's.
 */
function checkCompression(rb: FbRecordBatch, body: Uint8Array, w: Walked): void {
  const c = rb.compression();
  if (!c) return;
  const codec = c.codec() as number;
  if (codec === ZSTD)
    throw new FormatError(
      'ZSTD-compressed Arrow data is not supported (LZ4 is): write it with compression="lz4" (pyarrow and pandas Feather default) or "uncompressed"',
    );
  if (codec !== LZ4_FRAME) bad(`compression codec ${codec}`);
  if ((c.method() as number) !== METHOD_BUFFER) bad(`compression method ${c.method() as number}`);
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  for (let i = 0; i < rb.buffersLength(); i++) {
    const b = rb.buffers(i)!; // in the body: checkBatch
    const length = Number(b.length());
    if (length === 0) continue;
    if (length < 8) bad(`compressed buffer ${i} of ${length} bytes (shorter than its length prefix)`);
    const declared = view.getBigInt64(Number(b.offset()), true);
    if (declared === -1n) continue; // stored uncompressed
    if (declared < 0n) bad(`compressed buffer ${i} declaring ${declared} bytes`);
    w.inflated += declared;
  }
  if (w.inflated > BigInt(MAX_INFLATION * w.fileBytes + 2 ** 20))
    bad(`compressed buffers declaring ${w.inflated} bytes in ${w.fileBytes}: more than ${MAX_INFLATION} times`);
  if (w.inflated > BigInt(MAX_DECODED_BYTES))
    throw new FormatError(`compressed buffers declaring ${w.inflated} bytes: more than the ${MAX_DECODED_BYTES} a file may decode to`);
}

/**
 * A record batch's counts fit its metadata; its buffers lie inside its body (a compressed one's lengths
 * are added to the walk's: checkCompression); with the schema's `layout` (record batches, not
 * dictionaries), a node per field and the top-level ones of the batch's length. Its rows are added to the
 * walk's.
 */
function checkBatch(rb: FbRecordBatch | null, metaBytes: number, body: Uint8Array, layout: Layout | null, w: Walked): void {
  if (!rb) bad('a batch message without its batch');
  const buffers = count(rb.buffersLength(), BUFFER_BYTES, metaBytes, 'buffers');
  for (let i = 0; i < buffers; i++) {
    const b = rb.buffers(i);
    if (!b || b.offset() < 0n || b.length() < 0n || b.offset() + b.length() > BigInt(body.length))
      bad(`buffer ${i} (${b?.offset()}+${b?.length()}) outside its message body of ${body.length} bytes`);
  }
  checkCompression(rb, body, w);
  const rows = rb.length();
  if (rows < 0n) bad(`a batch of ${rows} rows`);
  const nodes = count(rb.nodesLength(), NODE_BYTES, metaBytes, 'field nodes');
  for (let i = 0; i < nodes; i++) {
    const node = rb.nodes(i);
    if (!node || node.length() < 0n || node.nullCount() < 0n || node.nullCount() > node.length())
      bad(`field node ${i} with a negative or inconsistent length`);
  }
  // a dictionary's values are its first node: of its length (the entries apache-arrow will hold)
  if (!layout && nodes > 0 && rb.nodes(0)?.length() !== rows)
    bad(`a dictionary of ${rb.nodes(0)?.length()} values in a batch of ${rows} rows`);
  // a time column holds a byte a row at the least (decompressed, as apache-arrow reads them)
  w.rows += rows;
  if (w.rows > BigInt(bytesOf(w))) throw new FormatError(`${w.rows} rows claimed in ${bytesOf(w)} bytes: a damaged Arrow file`);
  if (layout) {
    // every cell of a top-level column becomes a value at least (a number, a flag, a string): a bit a
    // cell at the least in the file, so more cells than 8 a byte (+ 1 Mi) means buffers shared between columns
    w.cells += rows * BigInt(layout.top.length);
    chargeBatch(w, layout);
    if (w.cells > BigInt(perByte(w, 8)))
      bad(`${w.cells} cells (rows × columns) claimed in ${bytesOf(w)} bytes (columns sharing their buffers?)`);
    // apache-arrow back-fills a validity bitmap for a column shorter than its batch: per column and batch
    if (nodes < layout.count) bad(`a record batch of ${nodes} field nodes for a schema of ${layout.count} fields`);
    for (const [k, i] of layout.top.entries()) {
      const len = rb.nodes(i)?.length();
      if (len !== rows) bad(`column ${k} of ${len} values in a record batch of ${rows} rows`);
    }
  }
  count(rb.variadicBufferCountsLength(), 8, metaBytes, 'variadic buffer counts');
}

/** What the walk of a file's messages carries from one to the next. */
interface Walked {
  /** The schema's field nodes (from the stream's schema message, or the file's footer). */
  layout: Layout | null;
  rows: bigint;
  /** Rows × top-level columns of the record batches. */
  cells: bigint;
  /** The schema work of the record batches (Layout.weight each). */
  work: number;
  batches: number;
  schemas: number;
  /** Each dictionary's length after its last batch (deltas append), and the sum over dictionary batches of it. */
  dictLength: Map<bigint, bigint>;
  dictWork: bigint;
  deltas: number;
  /** Bytes of the whole file or stream. */
  fileBytes: number;
  /** What the compressed buffers declare they decompress to (checkCompression). */
  inflated: bigint;
}

/**
 * The message at `pos` (with or without the 0xFFFFFFFF continuation marker), which must end by `end`.
 * Returns where the next one starts and its kind; kind EOS at an end-of-stream marker.
 */
function checkMessage(bytes: Uint8Array, pos: number, end: number, w: Walked): { next: number; kind: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (pos + 4 > end) bad(`a message at byte ${pos} cut short`);
  let len = view.getInt32(pos, true);
  let start = pos + 4;
  if (len === -1) {
    if (pos + 8 > end) bad(`a message at byte ${pos} cut short`);
    len = view.getInt32(pos + 4, true);
    start = pos + 8;
  }
  if (len === 0) return { next: start, kind: EOS };
  if (len < 0 || start + len > end) bad(`a message at byte ${pos} whose metadata (${len} bytes) runs past byte ${end}`);
  const f = lib();
  const meta = bytes.subarray(start, start + len);
  const msg = f.Message.getRootAsMessage(rootedIn(meta, `the metadata of the message at byte ${pos}`));
  const body = msg.bodyLength();
  const bodyStart = start + len;
  if (body < 0n || body > BigInt(end - bodyStart)) bad(`a message at byte ${pos} whose body (${body} bytes) runs past byte ${end}`);
  new Walk(len).entries(msg.customMetadataLength(), (i, kv) => msg.customMetadata(i, kv), 'message metadata entries');
  const bodyBytes = bytes.subarray(bodyStart, bodyStart + Number(body));
  const kind = msg.headerType();
  switch (kind) {
    case SCHEMA: {
      const s = msg.header(new f.Schema()) as FbSchema | null;
      if (!s) bad(`a schema message at byte ${pos} without its schema`);
      // apache-arrow's Table wants one schema; a second message only makes it compare schemas per batch
      if (++w.schemas > 1) bad(`a second schema message at byte ${pos}`);
      w.layout = checkSchema(s, len);
      break;
    }
    case RECORD_BATCH:
      if (!w.layout) bad(`a record batch at byte ${pos} before the schema`);
      w.batches++;
      checkBatch(msg.header(new f.RecordBatch()) as FbRecordBatch | null, len, bodyBytes, w.layout, w);
      break;
    case DICTIONARY_BATCH: {
      const d = msg.header(new f.DictionaryBatch()) as InstanceType<Fb['DictionaryBatch']> | null;
      // its entries too are decoded one by one: counted with the rows
      checkBatch(d?.data() ?? null, len, bodyBytes, null, w);
      if (d?.isDelta() && ++w.deltas > MAX_DELTAS) bad(`more than ${MAX_DELTAS} delta dictionary batches`);
      // apache-arrow concatenates a delta onto its dictionary and memoizes the whole (an array of its
      // length), kept by every batch read meanwhile: charged with the dictionary's length after it
      if (d) {
        const id = d.id();
        const length = (d.isDelta() ? (w.dictLength.get(id) ?? 0n) : 0n) + (d.data()?.length() ?? 0n);
        w.dictLength.set(id, length);
        w.dictWork += length;
        if (w.dictWork > BigInt(perByte(w, 16)))
          bad(`dictionaries whose lengths after each batch add up to ${w.dictWork} in ${bytesOf(w)} bytes`);
      }
      break;
    }
    default:
      bad(`a message of type ${KIND[kind] ?? kind} at byte ${pos} (expected a schema, dictionary or record batch)`);
  }
  return { next: bodyStart + Number(body), kind };
}

/**
 * Throws a FormatError when `bytes` (an Arrow IPC file or stream) is not safe to hand to apache-arrow.
 * Returns the bytes it holds decompressed: the file's own, and what its compressed buffers declare.
 */
export function checkArrowIpc(bytes: Uint8Array): number {
  const n = bytes.length;
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(n, 6));
  const w: Walked = {
    layout: null,
    rows: 0n,
    cells: 0n,
    work: 0,
    batches: 0,
    schemas: 0,
    dictLength: new Map(),
    dictWork: 0n,
    deltas: 0,
    fileBytes: n,
    inflated: 0n,
  };
  if (head.equals(MAGIC)) {
    checkFile(bytes, w);
    return bytesOf(w);
  }
  // a stream: a schema, then dictionary and record batches, to an end-of-stream marker or the end
  let pos = 0;
  let first = true;
  while (pos < n) {
    // apache-arrow reads on past an end-of-stream marker (ipc/reader.js: a stream reader that ends
    // reads the next messages when asked again, as tableFromIPC does): so does this walk
    const m = checkMessage(bytes, pos, n, w);
    if (first && m.kind !== SCHEMA) bad(`a stream starting with a ${KIND[m.kind]}, not its schema`);
    first = false;
    pos = m.next;
  }
  // a schema without batches: apache-arrow makes one empty batch of it
  if (w.layout && w.batches === 0) chargeBatch(w, w.layout);
  return bytesOf(w);
}

/**
 * The file form: magic, messages, footer, footer length, magic. The footer's schema and blocks are what
 * apache-arrow reads: each block a message of its kind, no two blocks overlapping.
 */
function checkFile(bytes: Uint8Array, w: Walked): void {
  const n = bytes.length;
  // "ARROW1" + 2 bytes of padding, … , footer, int32 footer length, "ARROW1"
  if (n < 8 + 4 + 6) bad(`an Arrow file of ${n} bytes (cut short?)`);
  if (!Buffer.from(bytes.buffer, bytes.byteOffset + n - 6, 6).equals(MAGIC)) bad('an Arrow file without its closing magic (cut short?)');
  const footerLength = new DataView(bytes.buffer, bytes.byteOffset, n).getInt32(n - 10, true);
  const footerStart = n - 10 - footerLength;
  if (footerLength <= 0 || footerStart < 8) bad(`a footer of ${footerLength} bytes in a file of ${n}`);
  const f = lib();
  const footer = f.Footer.getRootAsFooter(rootedIn(bytes.subarray(footerStart, n - 10), 'the footer'));
  const schema = footer.schema();
  if (!schema) bad('a footer without a schema');
  w.layout = checkSchema(schema, footerLength);
  new Walk(footerLength).entries(footer.customMetadataLength(), (i, kv) => footer.customMetadata(i, kv), 'footer metadata entries');
  const spans: Array<[number, number]> = [];
  const blocks = (what: string, len: number, get: (i: number) => Block | null, kind: number): void => {
    for (let i = 0; i < count(len, BLOCK_BYTES, footerLength, what); i++) {
      const b = get(i);
      const offset = b?.offset() ?? -1n;
      if (!b || offset < 8n || offset >= BigInt(footerStart)) bad(`${what} block ${i} at byte ${offset}, outside the file's messages`);
      const m = checkMessage(bytes, Number(offset), footerStart, w);
      if (m.kind !== kind) bad(`${what} block ${i} points at ${m.kind === EOS ? 'an end-of-stream marker' : `a ${KIND[m.kind]}`}`);
      spans.push([Number(offset), m.next]);
    }
  };
  blocks('dictionary', footer.dictionariesLength(), (i) => footer.dictionaries(i), DICTIONARY_BATCH);
  blocks('record batch', footer.recordBatchesLength(), (i) => footer.recordBatches(i), RECORD_BATCH);
  // apache-arrow reads each block; one message listed twice is read twice (a batch 1333 times: 5 GB)
  if (w.batches === 0) chargeBatch(w, w.layout);
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++)
    if (spans[i]![0] < spans[i - 1]![1]) bad(`footer blocks overlapping at bytes ${spans[i - 1]![0]} and ${spans[i]![0]}`);
}
