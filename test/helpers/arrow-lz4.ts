/**
 * Arrow IPC files whose bodies are LZ4_FRAME-compressed, as pyarrow and pandas write Feather files by
 * default: apache-arrow's own writer, its buffers compressed by the reference `lz4` tool (Debian's lz4
 * package; `make test-deps` installs it) with the tool's `flags` (block size, checksums, content size).
 *
 * apache-arrow's writer (21) puts the *compressed* length in each buffer's 8-byte prefix, where the
 * format (and pyarrow, and Arrow C++, which checks it) has the uncompressed one; the prefixes are set
 * right here afterwards, so the files are what pyarrow writes.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { compressionRegistry, CompressionType, RecordBatchFileWriter, RecordBatchStreamWriter, type Table } from 'apache-arrow';
import { DictionaryBatch as FbDictionaryBatch } from 'apache-arrow/fb/dictionary-batch';
import { MessageHeader } from 'apache-arrow/fb/message-header';
import { RecordBatch as FbRecordBatch } from 'apache-arrow/fb/record-batch';
import { messages } from './arrow-ipc';

/** `b` as one LZ4 frame, by the `lz4` command-line tool. */
export function lz4Cli(b: Uint8Array, flags: string[] = []): Buffer {
  return execFileSync('lz4', ['-c', '-q', ...flags], { input: b, maxBuffer: 1 << 28 });
}

/** `table` as an Arrow IPC file or stream with LZ4_FRAME-compressed buffers (prefixes as the format has them). */
export function lz4Ipc(table: Table, form: 'file' | 'stream', flags: string[] = []): Buffer {
  // each frame's uncompressed length, by the frame's bytes (the writer compresses a record batch's
  // buffers before it writes the dictionaries it needs: not in the order of the messages)
  const raw = new Map<string, number>();
  const key = (b: Uint8Array) => createHash('sha1').update(b).digest('hex');
  const prev = compressionRegistry.get(CompressionType.LZ4_FRAME);
  compressionRegistry.set(CompressionType.LZ4_FRAME, {
    ...(prev ?? {}),
    encode: (b: Uint8Array) => {
      const frame = new Uint8Array(lz4Cli(b, flags));
      raw.set(key(frame), b.length);
      return frame;
    },
  });
  const options = { compressionType: CompressionType.LZ4_FRAME };
  const w = form === 'file' ? new RecordBatchFileWriter(options) : new RecordBatchStreamWriter(options);
  w.write(table);
  w.finish();
  const out = Buffer.from(w.toUint8Array(true));
  // each compressed buffer's prefix set, in every message
  for (const { at, bb, msg } of messages(out, form)) {
    const body = at + bb.capacity();
    const rb =
      msg.headerType() === MessageHeader.RecordBatch
        ? (msg.header(new FbRecordBatch()) as FbRecordBatch)
        : msg.headerType() === MessageHeader.DictionaryBatch
          ? (msg.header(new FbDictionaryBatch()) as FbDictionaryBatch).data()
          : null;
    for (let i = 0; rb && i < rb.buffersLength(); i++) {
      const b = rb.buffers(i)!;
      if (b.length() === 0n) continue;
      const p = body + Number(b.offset());
      if (out.readBigInt64LE(p) === -1n) continue; // stored as is
      const n = raw.get(key(out.subarray(p + 8, p + Number(b.length()))));
      if (n === undefined) throw new Error('a compressed buffer that was not compressed here');
      out.writeBigInt64LE(BigInt(n), p);
    }
  }
  return out;
}
