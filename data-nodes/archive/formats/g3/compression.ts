/**
 * Whole-file compression of G3 files (spt3g picks it by suffix; we sniff the magic bytes, which
 * also covers a renamed file): gzip (node:zlib), bzip2 (seek-bzip, pure JS) and xz. The output is
 * bounded (`maxBytes`) so a decompression bomb is refused instead of exhausting memory.
 *
 * xz: the only xz decoder available (`xz-decompress`) is a WebAssembly ReadableStream — asynchronous
 * only, while the archive's format interface decodes synchronously. `decompressSync` therefore
 * refuses xz with a clear "unsupported" error; `decompressAsync` handles it for callers that can wait.
 */
import { createRequire } from 'node:module';
import * as zlib from 'node:zlib';
import { G3FormatError } from './errors';
import { decodeLimitMessage, MAX_DECODED_BYTES } from '../types';

export type Compression = 'none' | 'gzip' | 'bzip2' | 'xz';

/** Default bound on a decompressed file (every format's: types.ts), far beyond any HK file OCS writes (they rotate hourly). */
export const DEFAULT_MAX_DECOMPRESSED = MAX_DECODED_BYTES;

export function sniffCompression(head: Uint8Array): Compression {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68) return 'bzip2';
  if (head[0] === 0xfd && head[1] === 0x37 && head[2] === 0x7a && head[3] === 0x58 && head[4] === 0x5a && head[5] === 0x00) return 'xz';
  return 'none';
}

interface BunzipOut {
  writeByte(b: number): void;
}
interface Bunzip {
  decode(input: Buffer, output: BunzipOut): unknown;
}
// seek-bzip ships no type declarations: load it through createRequire with the shape we use.
const bunzip = createRequire(__filename)('seek-bzip') as Bunzip;

function bzip2(content: Buffer, maxBytes: number, file: string): Buffer {
  const tooLarge = () => new G3FormatError('too-large', { file }, decodeLimitMessage('bzip2 content', maxBytes));
  const chunks: Buffer[] = [];
  // Chunks double up to 64 MiB, and never reach more than one byte past the bound: the byte that
  // crosses it is refused before anything more is allocated.
  let cur = Buffer.allocUnsafe(Math.max(1, Math.min(1 << 20, maxBytes + 1)));
  let pos = 0;
  let total = 0;
  const out: BunzipOut = {
    writeByte(b: number): void {
      if (pos === cur.length) {
        total += pos;
        chunks.push(cur);
        if (total > maxBytes) throw tooLarge();
        cur = Buffer.allocUnsafe(Math.max(1, Math.min(cur.length * 2, 64 << 20, maxBytes - total + 1)));
        pos = 0;
      }
      cur[pos++] = b;
    },
  };
  try {
    bunzip.decode(content, out);
  } catch (e) {
    if (e instanceof G3FormatError) throw e;
    throw new G3FormatError('corrupt', { file }, `bad bzip2 stream: ${(e as Error).message}`);
  }
  if (total + pos > maxBytes) throw tooLarge();
  chunks.push(cur.subarray(0, pos));
  return Buffer.concat(chunks, total + pos);
}

/** The decompressed bytes of a whole file (`content` itself when it is not compressed). */
export function decompressSync(
  content: Buffer,
  file: string,
  maxBytes = DEFAULT_MAX_DECOMPRESSED,
): { data: Buffer; compression: Compression } {
  const compression = sniffCompression(content);
  switch (compression) {
    case 'none':
      return { data: content, compression };
    case 'gzip':
      try {
        return { data: zlib.gunzipSync(content, { maxOutputLength: maxBytes }), compression };
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ERR_BUFFER_TOO_LARGE') throw new G3FormatError('too-large', { file }, decodeLimitMessage('gzip content', maxBytes));
        // A gzip file still being written ends early: keep what was decompressed.
        if (code === 'Z_BUF_ERROR') return { data: gunzipPartial(content, maxBytes), compression };
        throw new G3FormatError('corrupt', { file }, `bad gzip stream: ${(e as Error).message}`);
      }
    case 'bzip2':
      return { data: bzip2(content, maxBytes, file), compression };
    case 'xz':
      throw new G3FormatError(
        'unsupported',
        { file },
        'xz-compressed G3 files are not supported by the synchronous decoder ' +
          '(the available xz decoder is asynchronous only); decompress with `xz -d` or use decompressAsync',
      );
  }
}

/** The bytes a truncated gzip stream yields (what a writer has flushed so far). */
function gunzipPartial(content: Buffer, maxBytes: number): Buffer {
  return zlib.gunzipSync(content, { maxOutputLength: maxBytes, finishFlush: zlib.constants.Z_SYNC_FLUSH });
}

/** Like `decompressSync`, and xz too (WebAssembly stream decoder). */
export async function decompressAsync(
  content: Buffer,
  file: string,
  maxBytes = DEFAULT_MAX_DECOMPRESSED,
): Promise<{ data: Buffer; compression: Compression }> {
  if (sniffCompression(content) !== 'xz') return decompressSync(content, file, maxBytes);
  const { XzReadableStream } = await import('xz-decompress');
  const input = new Blob([content]).stream() as unknown as ReadableStream<Uint8Array>;
  const reader = new XzReadableStream(input).getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      total += r.value.length;
      if (total > maxBytes) {
        await reader.cancel();
        throw new G3FormatError('too-large', { file }, decodeLimitMessage('xz content', maxBytes));
      }
      chunks.push(r.value);
    }
  } catch (e) {
    if (e instanceof G3FormatError) throw e;
    throw new G3FormatError('corrupt', { file }, `bad xz stream: ${(e as Error).message}`);
  }
  return { data: Buffer.concat(chunks, total), compression: 'xz' };
}
