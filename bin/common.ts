/**
 * Helpers every `sisock` command shares: argument parsers, the stderr logger, error → exit code,
 * and "serve until SIGINT/SIGTERM, then close cleanly".
 */
import { InvalidArgumentError, type Command } from 'commander';
import { ConfigError, ErrorCode, SisockError } from '../common/errors';
import { createLogger, type Logger } from '../common/log';
import { redactSecrets } from '../common/redact';
import { logLevelFrom, type CommonFlags } from '../client';
import { NODE_NAME_RE, NODE_NAME_RULE } from '../contract';
import type { DataNodeHandle } from '../data-nodes/sdk';
import type { OpsFlags } from '../common/ops-http';

/** Exit codes: 0 clean stop, 1 runtime failure, 2 bad configuration or arguments. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_CONFIG = 2;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** commander parser for a TCP port (0 = any free port). */
export function parsePort(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 65535) throw new InvalidArgumentError('must be an integer in 0..65535');
  return Number(value);
}

/** commander parser for a positive number (seconds, MiB, Hz …). */
export function positiveNumber(value: string): number {
  const v = Number(value);
  if (!/^\s*[\d.eE+-]+\s*$/.test(value) || !Number.isFinite(v) || v <= 0) throw new InvalidArgumentError('must be a positive number');
  return v;
}

/** commander parser for a number of threads: an integer in 0..64. */
export function workerCount(value: string): number {
  if (!/^\s*\d+\s*$/.test(value) || Number(value) > 64) throw new InvalidArgumentError('must be an integer in 0..64');
  return Number(value);
}

/** commander parser for a number >= 0. */
export function nonNegativeNumber(value: string): number {
  const v = Number(value);
  if (!/^\s*[\d.eE+-]+\s*$/.test(value) || !Number.isFinite(v) || v < 0) throw new InvalidArgumentError('must be a number >= 0');
  return v;
}

/** commander parser for a positive integer. */
export function positiveInteger(value: string): number {
  const v = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(v) || v < 1) throw new InvalidArgumentError('must be a positive integer');
  return v;
}

/** commander parser for a node name, as the hub accepts it (contract NODE_NAME_RE). */
export function nodeName(value: string): string {
  if (!NODE_NAME_RE.test(value)) throw new InvalidArgumentError(`must be a non-empty name, ${NODE_NAME_RULE}`);
  return value;
}

export function parseLogLevel(value: string): string {
  if (!LOG_LEVELS.includes(value)) throw new InvalidArgumentError(`must be one of ${LOG_LEVELS.join(', ')}`);
  return value;
}

/** Adds `--log-level` (env SISOCK_LOG_LEVEL, default info). */
export function addLogLevelOption(cmd: Command): Command {
  return cmd.option(
    '--log-level <level>',
    'log level of the JSON lines on stderr (env SISOCK_LOG_LEVEL)',
    parseLogLevel,
    process.env.SISOCK_LOG_LEVEL ?? 'info',
  );
}

export function cliLogger(name: string, level: string | undefined): Logger {
  return createLogger(name, level ?? process.env.SISOCK_LOG_LEVEL ?? 'info');
}

/** Exit code for an error that ends a command. */
export function exitCodeFor(e: unknown): number {
  if (e instanceof ConfigError) return EXIT_CONFIG;
  if (e instanceof SisockError) {
    const config: string[] = [
      ErrorCode.CONFIG_INVALID,
      ErrorCode.CONFIG_UNREADABLE,
      ErrorCode.SECRET_MISSING,
      ErrorCode.TLS_UNREADABLE,
      ErrorCode.INVALID_ARGUMENT,
    ];
    return config.includes(e.code) ? EXIT_CONFIG : EXIT_FAILURE;
  }
  return EXIT_FAILURE;
}

/** Prints an error for a human (one line on stderr, `sisock: <message>`) and sets the exit code. */
export function fail(e: unknown, log?: Logger): void {
  const message = redactSecrets(e instanceof Error ? e.message : String(e));
  if (log && !(e instanceof SisockError)) log.error({ err: e }, 'failed');
  process.stderr.write(`sisock: ${message}\n`);
  process.exitCode = exitCodeFor(e);
}

/** Something started by a command that must be closed on shutdown. */
export interface Closable {
  close(): Promise<void>;
}

/**
 * Waits for SIGINT or SIGTERM, then closes `things` in reverse order and lets the process end
 * with exit code 0. A second signal, or a close that takes longer than `graceMs`, exits at once.
 */
export function serveUntilSignal(things: Closable[], log: Logger, graceMs = 5000): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        process.exit(EXIT_FAILURE);
      }
      stopping = true;
      log.info({ signal }, 'shutting down');
      const force = setTimeout(() => {
        log.error({ graceMs }, 'shutdown took too long; exiting');
        process.exit(EXIT_FAILURE);
      }, graceMs);
      force.unref();
      void (async () => {
        for (const t of [...things].reverse()) {
          try {
            await t.close();
          } catch (e) {
            log.error({ err: e }, 'error while closing');
          }
        }
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        clearTimeout(force);
        process.exitCode = EXIT_OK;
        log.flush();
        resolve();
      })();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

/** Starts a node, prints `node: <name>` once announced, serves until a signal. */
export async function serveNode(
  kind: string,
  flags: CommonFlags & OpsFlags,
  start: (log: Logger) => Promise<{ node: DataNodeHandle }>,
): Promise<void> {
  const log = cliLogger(`node-${kind}`, logLevelFrom(flags));
  let node: DataNodeHandle | undefined;
  let ops;
  try {
    ({ node } = await start(log));
    const n = node;
    // loaded here: the consumer commands (nodes, get, tail…) import this module and serve no metrics
    const { planOps, startOps } = await import('../common/ops-http');
    ops = await startOps(planOps(flags, `node-${kind}`), () => ({ ok: n.client.isReady, node: n.name, router: n.client.options.url }), log);
  } catch (e) {
    await node?.close();
    fail(e, log);
    return;
  }
  const n = node;
  void n.ready().then(() => process.stdout.write(`node: ${n.name}\n`));
  await serveUntilSignal([ops, { close: () => n.close() }], log);
}
