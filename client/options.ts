/**
 * Connection options of every sisock client program, and the helpers that fill them from the
 * environment and from commander flags (contract section 3):
 *
 *   --router URL      env SISOCK_ROUTER   (default ws://127.0.0.1:8080/ws)
 *   --realm R         env SISOCK_REALM    (default test_realm)
 *   --uri-base B      env SISOCK_URI_BASE (default org.simonsobservatory)
 *   --authid ID       env SISOCK_AUTHID
 *   --secret-file F   env SISOCK_SECRET_FILE, else env SISOCK_SECRET (the secret itself)
 *                     env SISOCK_AUTHMETHODS  methods offered with an authid, comma separated
 *                     (wampcra, ticket; default wampcra,ticket)
 *   --ca FILE         env SISOCK_CA       PEM of the CA that signed a self-signed router certificate
 *   --log-level L     env SISOCK_LOG_LEVEL
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import { DEFAULT_REALM, DEFAULT_ROUTER_URL, DEFAULT_URI_BASE } from '../common/defaults';
import { ErrorCode, SisockError } from '../common/errors';
import type { Logger } from '../common/log';

export type AuthMethod = 'anonymous' | 'ticket' | 'wampcra';
export type SerializerChoice = 'json' | 'msgpack';

export interface ClientOptions {
  /** ws:// or wss:// URL of the router. */
  url: string;
  realm: string;
  /** URI base, e.g. `org.simonsobservatory`; `client.uri('x')` is `<base>.x`. */
  uriBase: string;
  authid?: string;
  /** Ticket or WAMP-CRA secret. */
  secret?: string;
  /**
   * Methods offered in HELLO. Default: `['wampcra', 'ticket']` when authid and secret are set,
   * else `['anonymous']`.
   */
  authmethods?: AuthMethod[];
  /** PEM CA certificate(s) trusted for wss:// (self-signed router). */
  ca?: string | Buffer;
  /** Skip certificate verification (dev only). */
  insecure?: boolean;
  /**
   * Serializers offered, best first. Default ['json']: autobahn-js's MsgPack decodes large get_data results
   * 3-4x slower than JSON.parse, and a router offered both picks MsgPack.
   */
  serializers?: SerializerChoice[];
  /** Reconnect backoff (seconds): first delay, growth factor and cap. Defaults 0.2, 1.5, 3. */
  initialRetryDelay?: number;
  retryDelayGrowth?: number;
  maxRetryDelay?: number;
  /** How long `call` waits for a session when disconnected, ms (default 10000). */
  connectWaitMs?: number;
  logger?: Logger;
}

/** The raw values of the common flags as commander gives them. */
export interface CommonFlags {
  router?: string;
  realm?: string;
  uriBase?: string;
  authid?: string;
  secretFile?: string;
  ca?: string;
  logLevel?: string;
}

const AUTH_WITH_SECRET: readonly AuthMethod[] = ['wampcra', 'ticket'];

/** SISOCK_AUTHMETHODS ("ticket", "wampcra,ticket"…) → the methods offered; undefined when unset or empty. */
export function authMethodsFrom(value: string | undefined): AuthMethod[] | undefined {
  const methods = (value ?? '')
    .split(',')
    .map((m) => m.trim())
    .filter((m) => m !== '');
  if (methods.length === 0) return undefined;
  const out: AuthMethod[] = [];
  for (const m of methods) {
    const known = AUTH_WITH_SECRET.find((x) => x === m);
    if (!known) throw new SisockError(ErrorCode.CONFIG_INVALID, `SISOCK_AUTHMETHODS: unknown method "${m}" (wampcra, ticket)`);
    if (!out.includes(known)) out.push(known);
  }
  return out;
}

function readFileOrThrow(file: string, code: (typeof ErrorCode)[keyof typeof ErrorCode], what: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new SisockError(code, `cannot read ${what} file ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Options from flags (when given) over environment over defaults, the same variables as the
 * Python SDK (sdk/python/sisock/options.py). The secret comes from `--secret-file`, else
 * SISOCK_SECRET_FILE (trailing newline stripped), else SISOCK_SECRET; an authid without any secret
 * is an error (SISOCK_SECRET_MISSING). SISOCK_AUTHMETHODS chooses the methods offered with an
 * authid (an unknown one is SISOCK_CONFIG_INVALID).
 */
export function clientOptionsFromEnv(flags: CommonFlags = {}, env: NodeJS.ProcessEnv = process.env): ClientOptions {
  const opts: ClientOptions = {
    url: flags.router ?? env.SISOCK_ROUTER ?? DEFAULT_ROUTER_URL,
    realm: flags.realm ?? env.SISOCK_REALM ?? DEFAULT_REALM,
    uriBase: flags.uriBase ?? env.SISOCK_URI_BASE ?? DEFAULT_URI_BASE,
  };
  const authid = flags.authid ?? env.SISOCK_AUTHID;
  // checked even without an authid: a typo is said at once, not when an authid is added later
  authMethodsFrom(env.SISOCK_AUTHMETHODS);
  let secret: string | undefined;
  const secretFile = flags.secretFile || env.SISOCK_SECRET_FILE;
  if (secretFile) secret = readFileOrThrow(secretFile, ErrorCode.SECRET_MISSING, 'secret').replace(/\r?\n$/, '');
  else if (env.SISOCK_SECRET !== undefined && env.SISOCK_SECRET !== '') secret = env.SISOCK_SECRET;
  if (authid) {
    if (secret === undefined) {
      throw new SisockError(
        ErrorCode.SECRET_MISSING,
        `authid "${authid}" given but no secret: set SISOCK_SECRET_FILE or SISOCK_SECRET, or pass --secret-file FILE`,
      );
    }
    opts.authid = authid;
    opts.secret = secret;
    const methods = authMethodsFrom(env.SISOCK_AUTHMETHODS);
    if (methods) opts.authmethods = methods;
  }
  const caFile = flags.ca ?? env.SISOCK_CA;
  if (caFile) opts.ca = readFileOrThrow(caFile, ErrorCode.TLS_UNREADABLE, 'CA certificate');
  return opts;
}

/** Adds the common client flags to a commander command (call before `.action`). */
export function addClientOptions(cmd: Command): Command {
  return cmd
    .option('--router <url>', 'router WebSocket URL (env SISOCK_ROUTER)', undefined)
    .option('--realm <realm>', 'WAMP realm (env SISOCK_REALM)', undefined)
    .option('--uri-base <base>', 'URI base of the sisock API (env SISOCK_URI_BASE)', undefined)
    .option('--authid <id>', 'authentication id for ticket or WAMP-CRA (env SISOCK_AUTHID)', undefined)
    .option('--secret-file <file>', 'file holding the secret (env SISOCK_SECRET_FILE, else env SISOCK_SECRET)', undefined)
    .option('--ca <file>', 'PEM CA certificate that signed the router certificate (env SISOCK_CA)', undefined)
    .option('--log-level <level>', 'log level: trace, debug, info, warn, error, silent (env SISOCK_LOG_LEVEL)', undefined);
}

/** The log level from flags, env, or 'info'. */
export function logLevelFrom(flags: CommonFlags, env: NodeJS.ProcessEnv = process.env): string {
  return flags.logLevel ?? env.SISOCK_LOG_LEVEL ?? 'info';
}
