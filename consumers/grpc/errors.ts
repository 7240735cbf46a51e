/**
 * WAMP outcomes → gRPC status codes, with one-line messages a gRPC client can show as they are.
 *
 *   wamp.error.no_such_procedure on a node URI → NOT_FOUND (the node is not online)
 *   wamp.error.invalid_argument                → INVALID_ARGUMENT
 *   wamp.error.no_session, connection lost,
 *   client closed                              → UNAVAILABLE
 *   wamp.error.timeout (deadline passed)       → DEADLINE_EXCEEDED
 *   wamp.error.not_authorized                  → PERMISSION_DENIED
 *   anything else (runtime_error, bugs)        → INTERNAL
 */
import { status as Status, Metadata, type ServerErrorResponse } from '@grpc/grpc-js';
import { CallError, ErrorUri } from '../../client';

export class GrpcError extends Error {
  constructor(readonly code: Status, message: string) {
    super(message);
    this.name = 'GrpcError';
  }
  toResponse(): ServerErrorResponse {
    return Object.assign(new Error(this.message), { code: this.code, details: this.message, metadata: new Metadata() });
  }
}

export const invalidArgument = (m: string) => new GrpcError(Status.INVALID_ARGUMENT, m);

function firstLine(s: string, max = 300): string {
  const line = s.split('\n')[0] ?? '';
  return line.length > max ? `${line.slice(0, max)}…` : line;
}

function callErrorText(e: CallError): string {
  const detail = e.args.length ? e.args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join('; ') : e.uri;
  return firstLine(detail);
}

/**
 * The status for an error from a WAMP call made for `what` (e.g. `node "x": get_data`).
 * `node` is set when the call went to a node (no_such_procedure then means the node is not online).
 */
export function toGrpcError(err: unknown, what: string, node?: string): GrpcError {
  if (err instanceof GrpcError) return err;
  if (err instanceof CallError) {
    switch (err.uri) {
      case ErrorUri.NO_SUCH_PROCEDURE:
        return node !== undefined
          ? new GrpcError(Status.NOT_FOUND, `node "${node}" is not online (no ${err.procedure})`)
          : new GrpcError(Status.UNAVAILABLE, `${what}: ${err.procedure} is not registered (is the hub running?)`);
      case ErrorUri.INVALID_ARGUMENT:
        return new GrpcError(Status.INVALID_ARGUMENT, `${what}: ${callErrorText(err)}`);
      case ErrorUri.NO_SESSION:
      case ErrorUri.CANCELED:
        return new GrpcError(Status.UNAVAILABLE, `${what}: WAMP router unreachable (${callErrorText(err)})`);
      case ErrorUri.TIMEOUT:
        return new GrpcError(Status.DEADLINE_EXCEEDED, `${what}: deadline exceeded`);
      case ErrorUri.NOT_AUTHORIZED:
      case ErrorUri.AUTHORIZATION_FAILED:
        return new GrpcError(Status.PERMISSION_DENIED, `${what}: ${callErrorText(err)}`);
      default:
        return new GrpcError(Status.INTERNAL, `${what}: ${callErrorText(err)}`);
    }
  }
  const message = err instanceof Error ? err.message : String(err);
  return new GrpcError(Status.INTERNAL, `${what}: internal error: ${firstLine(message)}`);
}
