/**
 * Connecting the CLI: a session, or one line that says why not (a wrong secret, an unknown realm,
 * a router that wants credentials or is not there).
 */
import { ErrorUri, SisockClient, type ClientOptions } from '../../client';
import { ErrorCode, SisockError } from '../../common/errors';

/**
 * A started client with a session, or a one-line error: fails at once when the first connection
 * attempt ends (router unreachable, session refused), else after `timeoutMs`.
 */
export async function connect(options: ClientOptions, timeoutMs: number): Promise<SisockClient> {
  const client = new SisockClient({ initialRetryDelay: 0.5, ...options });
  let undo: () => void = () => {};
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new SisockError(
              ErrorCode.CONNECT_FAILED,
              `cannot connect to router ${options.url} (realm ${options.realm}) within ${timeoutMs / 1000} s`,
            ),
          ),
        timeoutMs,
      );
      undo = client.onClose((reason, abort) => reject(connectError(options, reason, abort)));
      client.whenReady().then(resolve, reject);
    });
  } catch (err) {
    await client.close();
    throw err;
  } finally {
    clearTimeout(timer);
    undo();
  }
  return client;
}

/**
 * Why the router would not give us a session, in words: a wrong secret, an unknown realm, a router
 * that wants credentials, or one that is not there (the ABORT's reason URI, WAMP 4.x).
 */
export function connectError(options: ClientOptions, reason: string, abort?: { reason?: string; message?: string }): SisockError {
  const who = options.authid ? `authid "${options.authid}"` : 'an anonymous session';
  const said = abort?.message ? ` (router: ${abort.message})` : '';
  switch (abort?.reason) {
    case ErrorUri.AUTHENTICATION_FAILED:
    case ErrorUri.NOT_AUTHORIZED:
      return new SisockError(
        ErrorCode.CONNECT_FAILED,
        options.authid
          ? `authentication failed for authid "${options.authid}" on ${options.url}: check SISOCK_SECRET or --secret-file`
          : `router ${options.url} refused ${who}: give --authid and SISOCK_SECRET (or --secret-file)`,
      );
    case ErrorUri.NO_AUTH_METHOD:
      return new SisockError(
        ErrorCode.CONNECT_FAILED,
        `router ${options.url} refused ${who}: ` +
          (options.authid
            ? 'none of our authentication methods is enabled there'
            : 'it requires authentication: give --authid and SISOCK_SECRET (or --secret-file)') +
          said,
      );
    case ErrorUri.NO_SUCH_REALM:
      return new SisockError(
        ErrorCode.CONNECT_FAILED,
        `no realm "${options.realm}" on router ${options.url}: check --realm or SISOCK_REALM${said}`,
      );
    case ErrorUri.NO_SUCH_ROLE:
      return new SisockError(ErrorCode.CONNECT_FAILED, `router ${options.url} has no role for ${who} on realm "${options.realm}"${said}`);
    default:
      if (reason === 'unreachable') {
        return new SisockError(
          ErrorCode.CONNECT_FAILED,
          `router ${options.url} unreachable: is \`sisock router\` (or the demo) running there?`,
        );
      }
      return new SisockError(ErrorCode.CONNECT_FAILED, `router ${options.url} closed the connection (${abort?.reason ?? reason})${said}`);
  }
}
