import { ErrorUri } from './errors';

/**
 * A peer broke the protocol. The router answers with ABORT `wamp.error.protocol_violation`
 * carrying `message` and closes the connection (WAMP 3.3 / 4.x "Protocol Errors").
 */
export class ProtocolViolation extends Error {
  readonly uri = ErrorUri.PROTOCOL_VIOLATION;
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolViolation';
  }
}
