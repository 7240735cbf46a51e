import { status as Status } from '@grpc/grpc-js';
import { CallError, ErrorUri, classifyCallError, classifyErrorUri, type CallErrorKind } from '../../client';
import { nodeCallError } from '../../consumers/grafana/catalogue';
import { HttpError } from '../../consumers/grafana/errors';
import { GrpcError, toGrpcError } from '../../consumers/grpc/errors';

const err = (uri: string, message = 'detail') => new CallError(uri, 'org.x.consumer.n.get_data', [message]);

/** Every kind, with the HTTP status and gRPC code both consumers must give it. */
const EXPECTED: Array<[string, CallErrorKind, number, Status]> = [
  [ErrorUri.INVALID_ARGUMENT, 'invalid-argument', 400, Status.INVALID_ARGUMENT],
  [ErrorUri.NO_SUCH_PROCEDURE, 'not-found', 404, Status.NOT_FOUND],
  [ErrorUri.NOT_AUTHORIZED, 'permission-denied', 403, Status.PERMISSION_DENIED],
  [ErrorUri.AUTHORIZATION_FAILED, 'permission-denied', 403, Status.PERMISSION_DENIED],
  [ErrorUri.TIMEOUT, 'timeout', 504, Status.DEADLINE_EXCEEDED],
  [ErrorUri.NO_SESSION, 'unavailable', 503, Status.UNAVAILABLE],
  [ErrorUri.CANCELED, 'unavailable', 503, Status.UNAVAILABLE],
  [ErrorUri.UNAVAILABLE, 'unavailable', 503, Status.UNAVAILABLE],
  [ErrorUri.NO_AVAILABLE_CALLEE, 'unavailable', 503, Status.UNAVAILABLE],
  [ErrorUri.RUNTIME_ERROR, 'internal', 502, Status.INTERNAL],
  ['com.example.custom_error', 'internal', 502, Status.INTERNAL],
];

describe('one classification of failed calls', () => {
  test.each(EXPECTED)('%s → %s → HTTP %d, gRPC %d', (uri, kind, http, code) => {
    expect(classifyErrorUri(uri)).toBe(kind);
    expect(classifyCallError(err(uri))).toBe(kind);
    const h = nodeCallError('n', err(uri));
    expect(h).toBeInstanceOf(HttpError);
    expect(h.status).toBe(http);
    expect(toGrpcError(err(uri), 'GetData', 'n').code).toBe(code);
  });

  test('anything that is not a CallError is internal (502 / INTERNAL), with its message', () => {
    expect(classifyCallError(new Error('boom'))).toBe('internal');
    expect(classifyCallError('text')).toBe('internal');
    expect(nodeCallError('n', new Error('boom'))).toMatchObject({ status: 502, message: 'node "n" failed: boom' });
    expect(toGrpcError(new Error('boom'), 'GetData')).toMatchObject({ code: Status.INTERNAL, message: 'GetData: internal error: boom' });
  });

  test('not_authorized is "permission denied", not a node failure', () => {
    expect(nodeCallError('n', err(ErrorUri.NOT_AUTHORIZED, 'role consumer may not call it')).message).toBe(
      'node "n": not allowed: role consumer may not call it',
    );
    expect(toGrpcError(err(ErrorUri.NOT_AUTHORIZED, 'no'), 'GetData', 'n').message).toBe('GetData: no');
  });

  test('messages: router lost vs node; a missing hub procedure is UNAVAILABLE in gRPC', () => {
    expect(nodeCallError('n', err(ErrorUri.NO_SESSION, 'down')).message).toBe('sisock router unreachable: down');
    expect(nodeCallError('n', err(ErrorUri.NO_AVAILABLE_CALLEE, 'busy')).message).toBe('node "n" unavailable: busy');
    expect(nodeCallError('n', err(ErrorUri.NO_SUCH_PROCEDURE)).message).toBe('node "n" is not online');
    expect(toGrpcError(err(ErrorUri.NO_SUCH_PROCEDURE), 'ListNodes').code).toBe(Status.UNAVAILABLE);
    expect(toGrpcError(err(ErrorUri.NO_SESSION, 'down'), 'GetData', 'n').message).toBe('GetData: WAMP router unreachable (down)');
  });

  test('an HttpError or GrpcError passes through unchanged', () => {
    const h = new HttpError(418, 'teapot');
    expect(nodeCallError('n', h)).toBe(h);
    const g = new GrpcError(Status.ABORTED, 'x');
    expect(toGrpcError(g, 'GetData')).toBe(g);
  });
});
