/** JSON-lines logging on stderr (pino), shared by every sisock command. */
import pino from 'pino';
import { redactObject, redactSecrets } from './redact';

export type Logger = pino.Logger;

export function createLogger(name: string, level: string = process.env.SISOCK_LOG_LEVEL ?? 'info'): Logger {
  return pino(redactingOptions({ name, level, base: { name } }), pino.destination({ fd: 2, sync: false }));
}

/**
 * pino options whose log lines carry no credentials: every string of the merged object and the
 * message go through redactSecrets (common/redact.ts), so a URL with `user:password@` is never logged.
 */
export function redactingOptions(o: pino.LoggerOptions): pino.LoggerOptions {
  return {
    ...o,
    formatters: { ...o.formatters, log: (obj: Record<string, unknown>) => redactObject(obj) },
    hooks: {
      logMethod(args: unknown[], method: (...a: unknown[]) => void) {
        method.apply(
          this,
          args.map((a) => (typeof a === 'string' ? redactSecrets(a) : a)),
        );
      },
    },
  };
}

/** A logger that drops everything: the default inside library code and tests. */
export const silentLogger: Logger = pino({ level: 'silent' });
