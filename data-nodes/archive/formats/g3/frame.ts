/**
 * G3 frames (§3 of FORMAT.md): a file is a bare concatenation of frames, each one cereal archive of
 * endianness flag, version, entry count, frame type, entries (name + blob) and a CRC-32C over the
 * names and blobs. The reader walks entries without decoding them (a blob is a subarray); objects
 * are decoded on demand with `frameObject`. Every error names the file, frame and byte offset.
 */
import { createHash } from 'node:crypto';
import { Archive } from './archive';
import { ByteReader, utf8At } from './bytes';
import { readBody } from './classes';
import { crc32cAt } from './crc32c';
import { G3BoundsError, G3FormatError, type G3Warn } from './errors';
import { FRAME_TYPE_NAMES, type G3Object } from './types';

/** Longest entry name accepted (spt3g keys are short identifiers). */
export const MAX_NAME_BYTES = 4096;

export interface G3Frame {
  index: number;
  /** Byte offset in the decompressed stream. */
  offset: number;
  length: number;
  typeCode: number;
  /** Python's G3FrameType name ('Housekeeping', 'Scan', 'none'…) or the type's characters. */
  type: string;
  /** Entry name → blob (one archive holding one object), in file order. */
  entries: Map<string, Uint8Array>;
}

export interface FrameReadOptions {
  /** Named in every error. */
  file: string;
  warn?: G3Warn;
  /** Check each frame's CRC (default true). */
  checkCrc?: boolean;
  /**
   * A last frame that runs past the end of the data (a file still being written) ends the read
   * instead of throwing; `FrameList.partialTail` says how many bytes were left unread.
   */
  allowPartialTail?: boolean;
  /**
   * Also compute the stream's `frameFingerprint` (unverified: the frames' CRCs are checked or not as
   * `checkCrc` says) in the same walk, into `FrameList.fingerprint`: a decode of a file not indexed yet
   * walks its frames once instead of twice.
   */
  fingerprint?: boolean;
}

export interface FrameList {
  frames: G3Frame[];
  /** Bytes of an incomplete last frame left unread (allowPartialTail), else 0. */
  partialTail: number;
  /** `frameFingerprint(data, false)`, when asked for (`FrameReadOptions.fingerprint`) and the read succeeds. */
  fingerprint?: string;
}

function typeName(code: number): string {
  const known = FRAME_TYPE_NAMES[code];
  if (known) return known;
  let s = '';
  for (let c = code; c > 0; c = Math.floor(c / 256)) s = String.fromCharCode(c & 0xff) + s;
  return s || String(code);
}

/**
 * Reads one frame at `pos`; throws G3BoundsError (without location) on bad content. Without
 * `keepEntries` (a CRC check of a frame already read) the entries map stays empty. `gap` is given, in
 * order, the byte ranges its CRC does not cover (header, length words, the CRC), as they are walked.
 */
function readOne(
  data: Uint8Array,
  pos: number,
  index: number,
  checkCrc: boolean,
  keepEntries = true,
  gap?: (from: number, to: number) => void,
): G3Frame {
  const r = new ByteReader(data, pos);
  r.endianFlag();
  const version = r.u32('frame version');
  if (version > 1) throw new G3BoundsError('unsupported', `frame version ${version} (only 1 exists)`);
  const n = r.count32(16, 'frame entries');
  const typeCode = r.u32('frame type');
  const entries = new Map<string, Uint8Array>();
  let crc = 0;
  let from = pos;
  for (let i = 0; i < n; i++) {
    const nameLen = r.size(1, 'entry name');
    if (nameLen > MAX_NAME_BYTES) throw new G3BoundsError('corrupt', `entry name of ${nameLen} bytes (more than ${MAX_NAME_BYTES})`);
    // Offsets, not subarrays: only a kept blob becomes one.
    const nameAt = r.skip(nameLen, 'entry name');
    const blobLen = r.size(1, 'entry blob');
    const blobAt = r.skip(blobLen, 'entry blob');
    if (checkCrc) crc = crc32cAt(crc32cAt(crc, data, nameAt, nameAt + nameLen), data, blobAt, blobAt + blobLen);
    if (keepEntries) entries.set(utf8At(data, nameAt, nameLen), data.subarray(blobAt, blobAt + blobLen));
    if (gap) {
      gap(from, nameAt);
      gap(nameAt + nameLen, blobAt);
      from = blobAt + blobLen;
    }
  }
  const stored = r.u32('frame CRC');
  if (checkCrc && stored !== crc) {
    throw new G3BoundsError(
      'crc',
      `CRC mismatch: stored 0x${stored.toString(16).padStart(8, '0')}, computed 0x${crc.toString(16).padStart(8, '0')}`,
    );
  }
  gap?.(from, r.pos);
  return { index, offset: pos, length: r.pos - pos, typeCode, type: typeName(typeCode), entries };
}

/** All frames of a decompressed G3 stream. */
export function readFrames(input: Uint8Array, o: FrameReadOptions): FrameList {
  // A plain Uint8Array view: its subarrays are much cheaper than a Buffer's.
  const data = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  const frames: G3Frame[] = [];
  const fp = o.fingerprint ? new GapHash(data) : undefined;
  let pos = 0;
  while (pos < data.length) {
    const index = frames.length;
    try {
      const f = readOne(data, pos, index, o.checkCrc ?? true, true, fp?.gap);
      frames.push(f);
      pos += f.length;
    } catch (e) {
      if (!(e instanceof G3BoundsError)) throw e;
      if (o.allowPartialTail && (e.kind === 'truncated' || e.kind === 'bounds')) {
        o.warn?.(`frame ${index} at byte ${pos} is incomplete (${data.length - pos} bytes): the file is still being written or was cut`);
        fp?.gap(pos, data.length);
        return { frames, partialTail: data.length - pos, ...(fp ? { fingerprint: fp.digest() } : {}) };
      }
      throw new G3FormatError(e.kind, { file: o.file, frame: index, offset: pos }, e.message);
    }
  }
  return { frames, partialTail: 0, ...(fp ? { fingerprint: fp.digest() } : {}) };
}

/**
 * Checks the CRC of a frame that `readFrames` read with `checkCrc: false`, `data` the same bytes (a
 * plain Uint8Array view: see `readFrames`). Throws the unlocated G3BoundsError of `readOne`: the
 * caller drops it and decodes the file again the checked way, whose error is the answer.
 */
export function checkFrameCrc(data: Uint8Array, frame: G3Frame): void {
  readOne(data, frame.offset, frame.index, true, false);
}

/**
 * A fingerprint of a G3 stream's content, for the scanner to tell a file whose mtime changed but whose
 * content did not (file-summary.ts), without hashing every byte: the sha1 of every byte the frames' own
 * CRC-32C do not cover (each frame's header, its entries' length words, its stored CRC) and of an
 * incomplete last frame, whole. A frame's names and blobs are thus covered through its stored CRC: two
 * streams with the same fingerprint differ, if at all, only inside frames whose contents have the same
 * CRC-32C as each other, which is all spt3g itself checks of a frame (a random change keeps it with a
 * chance of 2^-32 per frame changed).
 *
 * With `verify` each frame's CRC is computed and compared with the stored one (as a decode does), for
 * a caller that will not decode the stream when the fingerprint matches: a frame whose content no
 * longer matches its CRC (a copy damaged in transit keeps the CRC it had) gives null, so the caller
 * decodes, and the decode reports the damage. Without it, only the entries are walked (a few
 * microseconds a frame). Null too when the stream is not made of frames (the caller hashes the bytes).
 */
export function frameFingerprint(input: Uint8Array, verify: boolean): string | null {
  const data = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  const fp = new GapHash(data);
  let pos = 0;
  while (pos < data.length) {
    try {
      pos += readOne(data, pos, 0, verify, false, fp.gap).length;
    } catch (e) {
      if (!(e instanceof G3BoundsError)) throw e;
      // a CRC that does not match (verify), or content that is not frames: the caller hashes the bytes
      if (e.kind !== 'truncated' && e.kind !== 'bounds') return null;
      fp.gap(pos, data.length); // an incomplete last frame (still being written): hashed whole
      break;
    }
  }
  return fp.digest();
}

/**
 * The sha1 of `frameFingerprint`: fed the uncovered byte ranges of a stream in order (`gap`, as
 * `readOne` walks them), then the stream's length (`digest`).
 */
class GapHash {
  private readonly h = createHash('sha1');
  // the uncovered bytes are gathered here and hashed a few KiB at a time (thousands of 8-byte updates cost more)
  private readonly gaps = new Uint8Array(4096);
  private g = 0;

  constructor(private readonly data: Uint8Array) {}

  readonly gap = (from: number, to: number): void => {
    const { gaps, data } = this;
    if (to - from > gaps.length - this.g) {
      this.h.update(gaps.subarray(0, this.g));
      this.g = 0;
      if (to - from > gaps.length) {
        this.h.update(data.subarray(from, to));
        return;
      }
    }
    let g = this.g;
    for (let i = from; i < to; i++) gaps[g++] = data[i] as number; // i < to <= data.length
    this.g = g;
  };

  digest(): string {
    this.h.update(this.gaps.subarray(0, this.g));
    // the stream's length too: a stream cut after a complete frame differs from its whole
    this.h.update(String(this.data.length));
    return this.h.digest('hex');
  }
}

/** Decodes one entry of a frame; undefined when the frame has no such entry. */
export function frameObject(frame: G3Frame, name: string, o: FrameReadOptions): G3Object | null | undefined {
  const blob = frame.entries.get(name);
  if (blob === undefined) return undefined;
  const warn = (m: string) => o.warn?.(`${o.file} frame ${frame.index} entry "${name}": ${m}`);
  try {
    return new Archive(blob, 0, blob.length, readBody, warn).single();
  } catch (e) {
    const where = { file: o.file, frame: frame.index, offset: frame.offset, entry: name };
    if (e instanceof G3BoundsError) throw new G3FormatError(e.kind, where, e.message);
    if (e instanceof RangeError) throw new G3FormatError('bounds', where, e.message);
    throw e;
  }
}

/** Every entry of a frame decoded, in file order. */
export function frameObjects(frame: G3Frame, o: FrameReadOptions): Map<string, G3Object | null> {
  const out = new Map<string, G3Object | null>();
  for (const name of frame.entries.keys()) out.set(name, frameObject(frame, name, o) ?? null);
  return out;
}
