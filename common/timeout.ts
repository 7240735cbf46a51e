/**
 * `withTimeout`: a promise, or a TimeoutError naming what did not answer after `ms`. The work itself
 * goes on (a promise cannot be cancelled); its late answer or error is dropped.
 */
import { ErrorCode, SisockError } from './errors';

export class TimeoutError extends SisockError {
  constructor(
    readonly what: string,
    readonly ms: number,
  ) {
    super(ErrorCode.CALL_FAILED, `${what}: no answer within ${ms / 1000} s`);
    this.name = 'TimeoutError';
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(what, ms)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
