import type { Dict } from './messages';

/**
 * An error to send back to a peer as an ERROR message (for a request) or ABORT (during the
 * handshake). Handlers throw it; the dispatcher turns it into the message.
 */
export class WampError extends Error {
  constructor(
    readonly uri: string,
    message?: string,
    readonly args?: unknown[],
    readonly kwargs?: Dict,
  ) {
    super(message ?? uri);
    this.name = 'WampError';
  }

  /** Args as they go on the wire: the given ones, or the human message as the one positional arg. */
  wireArgs(): unknown[] | undefined {
    if (this.args !== undefined) return this.args;
    return this.message !== this.uri ? [this.message] : undefined;
  }
}
