/**
 * WAMP outcomes → gRPC status codes, with one-line messages a gRPC client can show as they are.
 * The URI → kind table is client/errors.ts (shared with the Grafana bridge); kind → status here.
 *
 *   wamp.error.no_such_procedure on a node URI → NOT_FOUND (the node is not online)
 *   wamp.error.invalid_argument                → INVALID_ARGUMENT
 *   wamp.error.no_session, connection lost,
 *   client closed, unavailable, no callee      → UNAVAILABLE
 *   wamp.error.timeout (deadline passed)       → DEADLINE_EXCEEDED
 *   wamp.error.not_authorized                  → PERMISSION_DENIED
 *   anything else (runtime_error, bugs)        → INTERNAL
 */
import { status as Status, Metadata, type ServerErrorResponse } from '@grpc/grpc-js';
import { CallError, ErrorUri, classifyCallError, type CallErrorKind } from '../../client';

export class GrpcError extends Error {
  constructor(
    readonly code: Status,
    message: string,
  ) {
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

/** gRPC status of each kind of failed call (client/errors.ts has the URI → kind table). */
const GRPC_STATUS: Readonly<Record<CallErrorKind, Status>> = {
  'invalid-argument': Status.INVALID_ARGUMENT,
  'not-found': Status.NOT_FOUND,
  'permission-denied': Status.PERMISSION_DENIED,
  timeout: Status.DEADLINE_EXCEEDED,
  unavailable: Status.UNAVAILABLE,
  internal: Status.INTERNAL,
};

/**
 * The status for an error from a WAMP call made for `what` (e.g. `node "x": get_data`).
 * `node` is set when the call went to a node (no_such_procedure then means the node is not online;
 * otherwise a hub procedure is missing: UNAVAILABLE).
 */
export function toGrpcError(err: unknown, what: string, node?: string): GrpcError {
  if (err instanceof GrpcError) return err;
  if (err instanceof CallError) {
    const kind = classifyCallError(err);
    const code = GRPC_STATUS[kind];
    switch (kind) {
      case 'not-found':
        return node !== undefined
          ? new GrpcError(code, `node "${node}" is not online (no ${err.procedure})`)
          : new GrpcError(Status.UNAVAILABLE, `${what}: ${err.procedure} is not registered (is the hub running?)`);
      case 'unavailable':
        return err.uri === ErrorUri.NO_SESSION || err.uri === ErrorUri.CANCELED
          ? new GrpcError(code, `${what}: WAMP router unreachable (${callErrorText(err)})`)
          : new GrpcError(code, `${what}: ${callErrorText(err)}`);
      case 'timeout':
        return new GrpcError(code, `${what}: deadline exceeded`);
      case 'invalid-argument':
      case 'permission-denied':
      case 'internal':
        return new GrpcError(code, `${what}: ${callErrorText(err)}`);
    }
  }
  const message = err instanceof Error ? err.message : String(err);
  return new GrpcError(Status.INTERNAL, `${what}: internal error: ${firstLine(message)}`);
}
