import { ErrorUri, HandlerError } from '../../client';
import { ErrorCode, SisockError } from '../../common/errors';
import type { Logger } from '../../common/log';
import { silentLogger } from '../../common/log';
import {
  ArgumentError,
  DataSourceError,
  InvalidRequestError,
  NotFoundError,
  TooLargeError,
  UnavailableError,
  toHandlerError,
} from '../../data-nodes/sdk';

/** A logger that records its warn() calls. */
function recordingLogger(): { log: Logger; warned: unknown[] } {
  const warned: unknown[] = [];
  const log = Object.assign(Object.create(silentLogger) as Logger, {
    warn: (obj: unknown) => {
      warned.push(obj);
    },
  });
  return { log, warned };
}

describe('toHandlerError: the one place a data source error becomes a WAMP error', () => {
  test.each([
    [new InvalidRequestError('bad window'), ErrorUri.INVALID_ARGUMENT, 'INVALID_REQUEST'],
    [new NotFoundError('table t not found'), ErrorUri.RUNTIME_ERROR, 'NOT_FOUND'],
    [new TooLargeError('more than max_rows'), ErrorUri.RUNTIME_ERROR, 'TOO_LARGE'],
    [new UnavailableError('database down'), ErrorUri.UNAVAILABLE, 'UNAVAILABLE'],
  ])('%s → %s, message unchanged', (err, uri, code) => {
    expect(err).toBeInstanceOf(DataSourceError);
    expect(err.code).toBe(code);
    const h = toHandlerError(err, 'n1', 'get_data', silentLogger);
    expect(h).toBeInstanceOf(HandlerError);
    expect(h.uri).toBe(uri);
    expect(h.message).toBe(err.message);
    expect(h.args).toEqual([err.message]);
  });

  test('argument errors are invalid_argument, prefixed with node and procedure', () => {
    expect(toHandlerError(new ArgumentError('start must be before end'), 'n1', 'get_data', silentLogger)).toMatchObject({
      uri: ErrorUri.INVALID_ARGUMENT,
      message: 'n1.get_data: start must be before end',
    });
    expect(toHandlerError(new SisockError(ErrorCode.INVALID_ARGUMENT, 'no such channel'), 'n1', 'get_fields', silentLogger)).toMatchObject({
      uri: ErrorUri.INVALID_ARGUMENT,
      message: 'n1.get_fields: no such channel',
    });
  });

  test('a HandlerError passes unchanged', () => {
    const h = new HandlerError('com.example.custom', 'custom');
    expect(toHandlerError(h, 'n1', 'get_data', silentLogger)).toBe(h);
  });

  test('anything else: logged, and the caller only learns "internal error"', () => {
    const { log, warned } = recordingLogger();
    const h = toHandlerError(new Error('connect ECONNREFUSED postgres://user:pw@db/x'), 'n1', 'get_data', log);
    expect(h.uri).toBe(ErrorUri.RUNTIME_ERROR);
    expect(h.message).toBe("internal error in n1.get_data; see the node's log");
    expect(warned).toHaveLength(1);
    expect(JSON.stringify(warned[0])).toContain('ECONNREFUSED');
  });
});
