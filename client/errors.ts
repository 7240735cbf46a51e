/**
 * What went wrong with a call, in the few kinds a consumer answers differently: one table from
 * WAMP error URIs (and the client's own transport failures) to a kind. The Grafana bridge turns a
 * kind into an HTTP status, the gRPC API into a status code; neither reads URIs itself.
 *
 *   kind               URIs                                              HTTP  gRPC
 *   invalid-argument   invalid_argument                                  400   INVALID_ARGUMENT
 *   not-found          no_such_procedure (the node is not online)        404   NOT_FOUND
 *   permission-denied  not_authorized, authorization_failed              403   PERMISSION_DENIED
 *   timeout            timeout (no answer in time)                       504   DEADLINE_EXCEEDED
 *   unavailable        no_session (router unreachable), canceled         503   UNAVAILABLE
 *                      (connection lost, client closed, callee gone),
 *                      unavailable, network_failure, no_available_callee
 *   internal           anything else (runtime_error, a callee's bug)     502   INTERNAL
 */
import { ErrorUri } from '../wamp/errors';
import { CallError } from './client';

export type CallErrorKind = 'invalid-argument' | 'not-found' | 'permission-denied' | 'timeout' | 'unavailable' | 'internal';

/** WAMP error URI → kind; a URI not listed is `internal`. */
const KIND_BY_URI: ReadonlyMap<string, CallErrorKind> = new Map<string, CallErrorKind>([
  [ErrorUri.INVALID_ARGUMENT, 'invalid-argument'],
  [ErrorUri.NO_SUCH_PROCEDURE, 'not-found'],
  [ErrorUri.NOT_AUTHORIZED, 'permission-denied'],
  [ErrorUri.AUTHORIZATION_FAILED, 'permission-denied'],
  [ErrorUri.TIMEOUT, 'timeout'],
  [ErrorUri.NO_SESSION, 'unavailable'],
  // also CALLEE_LOST (same URI): the callee's session ended while the call was pending
  [ErrorUri.CANCELED, 'unavailable'],
  [ErrorUri.UNAVAILABLE, 'unavailable'],
  [ErrorUri.NETWORK_FAILURE, 'unavailable'],
  [ErrorUri.NO_AVAILABLE_CALLEE, 'unavailable'],
]);

/** The kind of a failed call: a `CallError` by its URI; anything else (a bug, a bad answer) is `internal`. */
export function classifyCallError(err: unknown): CallErrorKind {
  if (err instanceof CallError) return KIND_BY_URI.get(err.uri) ?? 'internal';
  return 'internal';
}

/** The kind of an error URI (for errors that are not CallErrors but carry a WAMP URI). */
export function classifyErrorUri(uri: string): CallErrorKind {
  return KIND_BY_URI.get(uri) ?? 'internal';
}
