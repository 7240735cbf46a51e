/**
 * Errors of the program itself (not of a peer): a closed set of stable codes, each with a message
 * that says what to do. Errors a peer caused are not these: they go back to the peer as WAMP
 * ERROR/ABORT messages with a `wamp.error.*` URI.
 */
export const ErrorCode = {
  CONFIG_INVALID: 'SISOCK_CONFIG_INVALID',
  CONFIG_UNREADABLE: 'SISOCK_CONFIG_UNREADABLE',
  SECRET_MISSING: 'SISOCK_SECRET_MISSING',
  TLS_UNREADABLE: 'SISOCK_TLS_UNREADABLE',
  LISTEN_FAILED: 'SISOCK_LISTEN_FAILED',
  CONNECT_FAILED: 'SISOCK_CONNECT_FAILED',
  CALL_FAILED: 'SISOCK_CALL_FAILED',
  INVALID_ARGUMENT: 'SISOCK_INVALID_ARGUMENT',
  DATA_FILE_INVALID: 'SISOCK_DATA_FILE_INVALID',
  DATABASE: 'SISOCK_DATABASE',
} as const;

export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

export class SisockError extends Error {
  constructor(
    readonly code: ErrorCodeValue,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SisockError';
  }
}

/** A configuration file problem at a JSON path, e.g. `workers[0].transports[1].endpoint.port`. */
export class ConfigError extends SisockError {
  constructor(
    readonly path: string,
    problem: string,
  ) {
    super(ErrorCode.CONFIG_INVALID, `${path}: ${problem}`);
    this.name = 'ConfigError';
  }
}
