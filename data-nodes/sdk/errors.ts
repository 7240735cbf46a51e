/**
 * The errors a DataSource may throw on purpose, and the one place the SDK turns an error into the
 * WAMP error the caller gets. A source never spells a WAMP URI: it throws one of these, with a
 * message fit for the caller (no SQL, paths or connection strings: those go to the node's log).
 *
 *   class                 code               the caller gets
 *   InvalidRequestError   INVALID_REQUEST    wamp.error.invalid_argument (the request cannot be answered as asked)
 *   NotFoundError         NOT_FOUND          wamp.error.runtime_error (storage the node is configured for is gone)
 *   TooLargeError         TOO_LARGE          wamp.error.runtime_error (more than the node's bound; ask for less)
 *   UnavailableError      UNAVAILABLE        wamp.error.unavailable (storage unreachable for now; try again)
 *
 * Also mapped: the SDK's own argument checks (args.ts ArgumentError) and a SisockError
 * INVALID_ARGUMENT → invalid_argument, prefixed with `<node>.<procedure>:`; a client HandlerError
 * passes unchanged; anything else is logged and the caller only learns "internal error in
 * <node>.<procedure>" (wamp.error.runtime_error).
 */
import { ErrorCode, SisockError } from '../../common/errors';
import type { Logger } from '../../common/log';
import { ErrorUri, HandlerError } from '../../client';
import { ArgumentError } from './args';

export type DataSourceErrorCode = 'INVALID_REQUEST' | 'NOT_FOUND' | 'TOO_LARGE' | 'UNAVAILABLE';

/** Base of the closed set of errors a DataSource throws on purpose. */
export abstract class DataSourceError extends Error {
  abstract readonly code: DataSourceErrorCode;
}

/** The request cannot be answered as asked (a bad argument the SDK's checks cannot see). */
export class InvalidRequestError extends DataSourceError {
  readonly code = 'INVALID_REQUEST';
  override readonly name = 'InvalidRequestError';
}

/** Storage the node is configured for (a table, a column, a directory) is gone. */
export class NotFoundError extends DataSourceError {
  readonly code = 'NOT_FOUND';
  override readonly name = 'NotFoundError';
}

/** The answer would exceed one of the node's bounds (rows, bytes); the message says what to ask instead. */
export class TooLargeError extends DataSourceError {
  readonly code = 'TOO_LARGE';
  override readonly name = 'TooLargeError';
}

/** Storage is unreachable for now (database down, broker gone); the caller may try again. */
export class UnavailableError extends DataSourceError {
  readonly code = 'UNAVAILABLE';
  override readonly name = 'UnavailableError';
}

/** A get_data result that does not fit in one message even thinned (fit.ts). */
export class ResultTooLargeError extends TooLargeError {
  constructor(node: string, maxBytes: number, size: number, stride: number) {
    super(
      `${node}.get_data: the result does not fit in ${maxBytes} bytes even thinned (${size} bytes at min_stride ${stride} s); ` +
        'ask for progressive results, fewer fields or a shorter interval',
    );
  }
}

/** The WAMP error URI of each code. */
export const URI_OF_CODE: Readonly<Record<DataSourceErrorCode, string>> = {
  INVALID_REQUEST: ErrorUri.INVALID_ARGUMENT,
  NOT_FOUND: ErrorUri.RUNTIME_ERROR,
  TOO_LARGE: ErrorUri.RUNTIME_ERROR,
  UNAVAILABLE: ErrorUri.UNAVAILABLE,
};

/** The WAMP error for an error thrown while serving `<node>.<what>` (see the header). */
export function toHandlerError(err: unknown, node: string, what: string, log: Logger): HandlerError {
  const badArgument = err instanceof ArgumentError || (err instanceof SisockError && err.code === ErrorCode.INVALID_ARGUMENT);
  if (badArgument) return new HandlerError(ErrorUri.INVALID_ARGUMENT, `${node}.${what}: ${(err as Error).message}`);
  if (err instanceof DataSourceError) return new HandlerError(URI_OF_CODE[err.code], err.message);
  if (err instanceof HandlerError) return err;
  // The detail (SQL, paths, connection strings) stays in the node's log.
  log.warn({ err: (err as Error)?.message ?? String(err), stack: (err as Error)?.stack, what }, 'data source failed');
  return new HandlerError(ErrorUri.RUNTIME_ERROR, `internal error in ${node}.${what}; see the node's log`);
}
