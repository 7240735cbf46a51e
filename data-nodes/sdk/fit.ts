/**
 * The result fitter: makes a get_data answer fit in one WAMP message of at most `maxBytes`.
 *
 *   - fits already: sent as it is;
 *   - the caller asked for progressive results: cut into pieces (chunk.ts `splitResult`), all but
 *     the last sent as progress; the client merges them;
 *   - otherwise: asked again with a min_stride that makes it fit (keys and shapes unchanged). The
 *     size shrinks about as the stride grows, so the stride comes from the first result (its rows,
 *     the time they cover and its size); one correction covers a source that thins less than asked
 *     (e.g. min and max per stride: two rows where one was expected). Still too large: a
 *     ResultTooLargeError that says what to ask for instead.
 */
import type { Logger } from '../../common/log';
import { jsonSizeBound, splitResult } from './chunk';
import { ResultTooLargeError } from './errors';
import type { DataResult } from './types';

/** Bytes a result may take: `maxBytes` less a margin for the WAMP envelope and serializer differences. */
export function budgetFor(maxBytes: number): number {
  return Math.max(2048, Math.floor(maxBytes * 0.9) - 1024);
}

/** Rows of the longest timeline of `result` and the time they cover. */
export function extent(result: DataResult): { rows: number; seconds: number } {
  let rows = 0;
  let seconds = 0;
  for (const tl of Object.values(result.timeline)) {
    if (tl.t.length <= rows) continue;
    rows = tl.t.length;
    seconds = (tl.t[tl.t.length - 1] ?? 0) - (tl.t[0] ?? 0);
  }
  return { rows, seconds };
}

/** One get_data request, as the fitter needs it. */
export interface FitRequest {
  start: number;
  end: number;
  minStride: number | null;
  /** Present when the caller asked for progressive results: sends one piece. */
  progress?: (piece: DataResult) => void;
  /** Asks the source again with another min_stride. */
  query(minStride: number): Promise<DataResult>;
}

export interface FitterOptions {
  /** Node name (messages). */
  name: string;
  maxBytes: number;
  log: Logger;
  /** field → timeline (to split exactly), loaded on demand; undefined when unknown. */
  fieldTimeline(): Promise<Record<string, string> | undefined>;
}

export class ResultFitter {
  readonly budget: number;

  constructor(private readonly opts: FitterOptions) {
    this.budget = budgetFor(opts.maxBytes);
  }

  /** Pieces of `result` that each fit (one piece when it fits already); for live pushes. */
  pieces(result: DataResult, fieldTimeline: Record<string, string> | undefined): DataResult[] {
    const size = jsonSizeBound(result);
    return size > this.budget ? splitResult(result, this.budget, fieldTimeline, size) : [result];
  }

  /** The answer to send for `result` (see the header). */
  async fit(result: DataResult, req: FitRequest, validate: (r: unknown) => DataResult = (r) => r as DataResult): Promise<DataResult> {
    const { budget } = this;
    const { log } = this.opts;
    let size = jsonSizeBound(result);
    if (size <= budget) return result;
    if (req.progress) {
      const fieldTimeline = await this.opts.fieldTimeline().catch(() => undefined);
      const pieces = splitResult(result, budget, fieldTimeline, size);
      log.debug({ pieces: pieces.length, bytes: size }, 'get_data in progressive pieces');
      const last = pieces.pop() ?? result;
      for (const p of pieces) req.progress(p);
      return last;
    }
    const aim = budget * 0.7;
    const { rows, seconds } = extent(result);
    const covered = seconds > 0 ? seconds : req.end - req.start;
    let stride = Math.max((covered / Math.max(1, rows)) * (size / aim), req.minStride ?? 0, 1e-6);
    let out = result;
    for (let query = 0; query < 2; query++) {
      if (query > 0) stride *= Math.max(1.5, size / aim);
      out = validate(await req.query(stride));
      size = jsonSizeBound(out);
      if (size <= budget) break;
    }
    if (size > budget) throw new ResultTooLargeError(this.opts.name, this.opts.maxBytes, size, stride);
    log.debug({ stride, bytes: size }, 'get_data thinned to fit one message');
    return out;
  }
}
