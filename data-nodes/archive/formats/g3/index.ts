/**
 * The G3 archive format: spt3g frame files (`.g3`, whole-file `.g3.gz`/`.g3.bz2`/`.g3.xz`; xz only
 * through `decodeAsync`, which the scanner and reader use — see compression.ts) holding SO housekeeping data, read as
 * one timeline per (provider, block) with fields `<provider description>.<field>`.
 *
 * A file still being written ends in an incomplete frame: the complete frames are indexed, the tail
 * is counted as one bad row, and the scanner's recheck reads the file again once it has grown.
 * Non-HK frames (spt3g core types) are walked and checked (CRC) but give no timelines.
 */
import { decompressAsync, decompressSync, DEFAULT_MAX_DECOMPRESSED, sniffCompression } from './compression';
import { checkFrameCrc, frameFingerprint, readFrames, type FrameReadOptions } from './frame';
import { G3BoundsError, G3FormatError } from './errors';
import { HkReader } from './hk';
import { timelinesOf } from './timelines';
import { DecodeElsewhereError, MAX_WARNINGS, warningCollector, type DecodedFile, type FileContext, type FormatReader } from '../types';

export { G3FormatError } from './errors';
export { readFrames, frameObject, frameObjects, type G3Frame, type FrameReadOptions } from './frame';
export { HkReader, type HkProvider, type HkFrameInfo } from './hk';
export { decompressSync, decompressAsync, sniffCompression } from './compression';
export { timelinesOf } from './timelines';
export type { G3Object } from './types';

export interface G3DecodeOptions {
  /** Bound on the decompressed size (default 2 GiB). */
  maxBytes?: number;
  warn?: (m: string) => void;
}

/** Decodes one G3 file's bytes into archive timelines (xz: see `decodeG3Async`). */
export function decodeG3(content: Buffer, ctx: FileContext, o: G3DecodeOptions = {}): DecodedFile {
  const { data, compression } = decompressSync(content, ctx.relPath, o.maxBytes ?? ctx.decodeLimit ?? DEFAULT_MAX_DECOMPRESSED);
  // the fingerprint is of the frames as the file holds them: a compressed file's is the sha1 of its bytes
  return decodeFrames(data, compression === 'none' ? ctx : { ...ctx, fingerprint: false }, o);
}

/** Like `decodeG3`, and `.xz` files too (the only xz decoder is asynchronous). */
export async function decodeG3Async(content: Buffer, ctx: FileContext, o: G3DecodeOptions = {}): Promise<DecodedFile> {
  if (sniffCompression(content) !== 'xz') return decodeG3(content, ctx, o);
  return decodeFrames(
    (await decompressAsync(content, ctx.relPath, o.maxBytes ?? ctx.decodeLimit ?? DEFAULT_MAX_DECOMPRESSED)).data,
    { ...ctx, fingerprint: false },
    o,
  );
}

function decodeFrames(data: Buffer, ctx: FileContext, o: G3DecodeOptions): DecodedFile {
  // Warnings go to the caller's callback when given, else into the result (bounded) for the scanner to log.
  const collected: Pick<DecodedFile, 'warnings' | 'warningsDropped'> = {};
  const warn = o.warn ?? warningCollector(collected);
  const d = decodeFramesFast(data, ctx, warn) ?? decodeFramesChecked(data, ctx, warn);
  return { ...d, ...collected };
}

/**
 * The usual way: frames walked and HK read without their CRC, then each frame's CRC checked just
 * before its data is copied into the columns (its bytes come from memory once, then from cache).
 * Null on an error of bad content (G3FormatError; G3BoundsError and RangeError as `frameObject`
 * classes them): `decodeFramesChecked` then decodes the file again, CRCs first, and its error (or
 * result) is the answer. Any other error is a fault of this code and is thrown, not hidden by a
 * second decode. Warnings are held until this way succeeds.
 */
function decodeFramesFast(data: Buffer, ctx: FileContext, warnTo: (m: string) => void): DecodedFile | null {
  // held until this way succeeds, bounded as DecodedFile.warnings (a file of tiny frames each warning once)
  const held: Pick<DecodedFile, 'warnings' | 'warningsDropped'> = {};
  const warn = warningCollector(held);
  let decoded: DecodedFile;
  try {
    const fo: FrameReadOptions = {
      file: ctx.relPath,
      allowPartialTail: true,
      checkCrc: false,
      warn,
      fingerprint: ctx.fingerprint === true,
    };
    // a plain view, as readFrames reads: made once here for every frame's CRC check
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const { frames, partialTail, fingerprint } = readFrames(bytes, fo);
    const hk = new HkReader(warn);
    for (const f of frames) hk.add(f, fo);
    const checked = new Uint8Array(frames.length);
    const check = (i: number): void => {
      const f = frames[i];
      if (f && !checked[i]) {
        checked[i] = 1;
        checkFrameCrc(bytes, f);
      }
    };
    const timelines = timelinesOf(hk.providers, check, (m) => warn(`${ctx.relPath}: ${m}`));
    for (let i = 0; i < frames.length; i++) check(i);
    decoded = { timelines, badRows: (partialTail > 0 ? 1 : 0) + hk.orphanFrames, ...fingerprintOf(fingerprint) };
  } catch (e) {
    // bad content (or a CRC mismatch): the checked way gives the error
    if (e instanceof G3FormatError || e instanceof G3BoundsError || e instanceof RangeError) return null;
    throw e;
  }
  for (const m of held.warnings ?? []) warnTo(m);
  for (let k = 0; k < (held.warningsDropped ?? 0); k++) warnTo(`${ctx.relPath}: a warning past the first ${MAX_WARNINGS}`);
  return decoded;
}

/** CRCs first (readFrames), then HK: the reference decode, and the one that reports bad content. */
function decodeFramesChecked(data: Buffer, ctx: FileContext, warn: (m: string) => void): DecodedFile {
  const fo: FrameReadOptions = { file: ctx.relPath, allowPartialTail: true, warn, fingerprint: ctx.fingerprint === true };
  const { frames, partialTail, fingerprint } = readFrames(data, fo);
  const hk = new HkReader(warn);
  for (const f of frames) hk.add(f, fo);
  return {
    timelines: timelinesOf(hk.providers, undefined, (m) => warn(`${ctx.relPath}: ${m}`)),
    badRows: (partialTail > 0 ? 1 : 0) + hk.orphanFrames,
    ...fingerprintOf(fingerprint),
  };
}

/**
 * The format's fingerprint from `frameFingerprint`'s digest: 'g' is not a hex digit, so none equals the
 * sha1 an index of an older scanner holds.
 */
const g3Fingerprint = (digest: string): string => `g3${digest.slice(0, 38)}`;

/** DecodedFile.fingerprint, for a stream whose frames were fingerprinted as they were read. */
const fingerprintOf = (digest: string | undefined): Pick<DecodedFile, 'fingerprint'> =>
  digest === undefined ? {} : { fingerprint: g3Fingerprint(digest) };

/**
 * A compressed file where decoded bytes are limited (the scanner's own thread: FileContext.maxDecodedBytes):
 * for a decode worker, whatever its size (a bzip2 file of a few KB may hold gigabytes).
 */
function elsewhereIfCompressed(content: Buffer, ctx: FileContext): void {
  if (ctx.maxDecodedBytes !== undefined && sniffCompression(content) !== 'none') throw new DecodeElsewhereError('a compressed G3 file');
}

export const g3Format: FormatReader = {
  name: 'g3',
  extensions: ['.g3', '.g3.gz', '.g3.bz2', '.g3.xz'],
  sniff(head: Buffer): boolean {
    // An uncompressed frame: endianness flag, frame version 1, then a plausible entry count.
    if (head.length < 13) return false;
    return (
      (head[0] === 1 && head.readUInt32LE(1) === 1 && head.readUInt32LE(5) < 65536) ||
      (head[0] === 0 && head.readUInt32BE(1) === 1 && head.readUInt32BE(5) < 65536)
    );
  },
  decode(content: Buffer, ctx: FileContext): DecodedFile {
    elsewhereIfCompressed(content, ctx);
    return decodeG3(content, ctx);
  },
  decodeAsync(content: Buffer, ctx: FileContext): Promise<DecodedFile> {
    elsewhereIfCompressed(content, ctx);
    return decodeG3Async(content, ctx);
  },
  fingerprint(content: Buffer, verify: boolean): string | null {
    // a compressed file's frames are only known after its decompression: its bytes are hashed
    if (sniffCompression(content) !== 'none') return null;
    const fp = frameFingerprint(content, verify);
    return fp === null ? null : g3Fingerprint(fp);
  },
};
