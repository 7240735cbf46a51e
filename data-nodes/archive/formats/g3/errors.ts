/**
 * The one error a G3 decode throws for bad content: it names the file, the frame (index and byte
 * offset in the decompressed stream) and, when known, the frame entry, so an operator can find the
 * broken spot. It is a `FormatError`, so the archive records the file as undecodable and goes on.
 */
import { FormatError } from '../types';

export interface G3Where {
  file: string;
  frame?: number;
  offset?: number;
  entry?: string;
}

export type G3ErrorKind = 'truncated' | 'bounds' | 'crc' | 'corrupt' | 'unsupported' | 'too-large';

export class G3FormatError extends FormatError {
  constructor(
    readonly kind: G3ErrorKind,
    readonly where: G3Where,
    problem: string,
  ) {
    const at = [
      where.frame !== undefined ? `frame ${where.frame}` : null,
      where.offset !== undefined ? `at byte ${where.offset}` : null,
      where.entry !== undefined ? `entry "${where.entry.slice(0, 80)}"` : null,
    ]
      .filter((s) => s !== null)
      .join(', ');
    super(`G3 file ${where.file}${at ? ` (${at})` : ''}: ${problem}`);
    this.name = 'G3FormatError';
  }
}

/** Thrown by the byte reader without a location; the frame reader adds file/frame/entry. */
export class G3BoundsError extends Error {
  constructor(
    readonly kind: G3ErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'G3BoundsError';
  }
}

/** A warning about content that was skipped (unknown type, FLAC timestream…). */
export type G3Warn = (message: string) => void;
