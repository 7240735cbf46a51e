/**
 * The one error type of the bridge's HTTP layer: a status and a message. Routes throw it; the
 * error handler (app.ts) answers `{"message": …}` with that status (Grafana shows `message` on the
 * panel). Anything else becomes a 500 or, when the router is gone, a 503.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const badRequest = (message: string): HttpError => new HttpError(400, message);
export const notFound = (message: string): HttpError => new HttpError(404, message);
export const unavailable = (message: string): HttpError => new HttpError(503, message);
