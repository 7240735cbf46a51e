/** JSON-lines logging on stderr (pino), shared by every sisock command. */
import pino from 'pino';

export type Logger = pino.Logger;

export function createLogger(name: string, level: string = process.env.SISOCK_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level, base: { name } }, pino.destination({ fd: 2, sync: false }));
}

/** A logger that drops everything: the default inside library code and tests. */
export const silentLogger: Logger = pino({ level: 'silent' });
