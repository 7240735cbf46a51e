/**
 * `sisock call <node>.<procedure> [args…]`: a node's own procedures (e.g. sim.set_channel), with
 * JSON arguments, and errors that say which node or procedure is the problem.
 */
import { CallError, ErrorUri, type SisockClient } from '../../client';
import { ErrorCode, SisockError } from '../../common/errors';
import { CONSUMER_PREFIX } from '../../contract';

const NO_SUCH_PROCEDURE = ErrorUri.NO_SUCH_PROCEDURE;

function usage(message: string): SisockError {
  return new SisockError(ErrorCode.INVALID_ARGUMENT, message);
}

/** `sim.set_channel` → `<base>.consumer.sim.set_channel`; a full URI under the base stays as it is. */
export function procedureUri(client: SisockClient, procedure: string): string {
  const base = client.uri('');
  if (procedure.startsWith(base)) return procedure;
  if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+$/.test(procedure)) {
    throw usage(`"${procedure}" is not <node>.<procedure> (e.g. sim.set_channel; \`sisock nodes\` lists the nodes)`);
  }
  return client.uri(`${CONSUMER_PREFIX}${procedure}`);
}

/** A command-line argument as JSON when it parses (numbers, true, {"on": true}), else as a string. */
export function parseCallArg(a: string): unknown {
  try {
    return JSON.parse(a) as unknown;
  } catch {
    return a;
  }
}

/** Calls a node's procedure with positional (and keyword) arguments; the answer, or a one-line error. */
export async function callProcedure(
  client: SisockClient,
  procedure: string,
  args: unknown[],
  kwargs: Record<string, unknown>,
  timeoutMs: number,
): Promise<unknown> {
  const uri = procedureUri(client, procedure);
  const node = uri.slice(client.uri(CONSUMER_PREFIX).length).split('.')[0] ?? procedure;
  try {
    return await client.call<unknown>(uri, args, kwargs, { timeoutMs });
  } catch (err) {
    if (err instanceof CallError && err.uri === NO_SUCH_PROCEDURE) {
      throw new SisockError(
        ErrorCode.CALL_FAILED,
        `no procedure ${uri}: is node "${node}" online, and does it have that procedure? (\`sisock nodes\`)`,
      );
    }
    if (err instanceof CallError && err.uri === ErrorUri.TIMEOUT) {
      throw new SisockError(ErrorCode.CALL_FAILED, `node ${node} did not answer ${procedure} in ${timeoutMs / 1000} s`);
    }
    if (err instanceof CallError) {
      const detail = err.args.length ? `: ${err.args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join('; ')}` : '';
      const code = err.uri === ErrorUri.INVALID_ARGUMENT ? ErrorCode.INVALID_ARGUMENT : ErrorCode.CALL_FAILED;
      throw new SisockError(code, `${procedure} answered ${err.uri}${detail}`);
    }
    throw err;
  }
}
