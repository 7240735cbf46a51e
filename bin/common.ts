/**
 * Helpers every `sisock` command shares: argument parsers, the stderr logger, error → exit code,
 * and "serve until SIGINT/SIGTERM, then close cleanly".
 */
import { InvalidArgumentError, type Command } from 'commander';
import { ConfigError, ErrorCode, SisockError } from '../common/errors';
import { createLogger, type Logger } from '../common/log';

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

export function parseLogLevel(value: string): string {
  if (!LOG_LEVELS.includes(value)) throw new InvalidArgumentError(`must be one of ${LOG_LEVELS.join(', ')}`);
  return value;
}

/** Adds `--log-level` (env SISOCK_LOG_LEVEL, default info). */
export function addLogLevelOption(cmd: Command): Command {
  return cmd.option('--log-level <level>', 'log level of the JSON lines on stderr (env SISOCK_LOG_LEVEL)', parseLogLevel, process.env.SISOCK_LOG_LEVEL ?? 'info');
}

export function cliLogger(name: string, level: string | undefined): Logger {
  return createLogger(name, level ?? process.env.SISOCK_LOG_LEVEL ?? 'info');
}

/** Exit code for an error that ends a command. */
export function exitCodeFor(e: unknown): number {
  if (e instanceof ConfigError) return EXIT_CONFIG;
  if (e instanceof SisockError) {
    const config: string[] = [ErrorCode.CONFIG_INVALID, ErrorCode.CONFIG_UNREADABLE, ErrorCode.SECRET_MISSING, ErrorCode.TLS_UNREADABLE, ErrorCode.INVALID_ARGUMENT];
    return config.includes(e.code) ? EXIT_CONFIG : EXIT_FAILURE;
  }
  return EXIT_FAILURE;
}

/** Prints an error for a human (one line on stderr, `sisock: <message>`) and sets the exit code. */
export function fail(e: unknown, log?: Logger): void {
  const message = e instanceof Error ? e.message : String(e);
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
      if (stopping) { process.exit(EXIT_FAILURE); }
      stopping = true;
      log.info({ signal }, 'shutting down');
      const force = setTimeout(() => {
        log.error({ graceMs }, 'shutdown took too long; exiting');
        process.exit(EXIT_FAILURE);
      }, graceMs);
      force.unref();
      void (async () => {
        for (const t of [...things].reverse()) {
          try { await t.close(); } catch (e) { log.error({ err: e }, 'error while closing'); }
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
