/**
 * Credentials from the environment: `NAME` or, preferred for containers, `NAME_FILE` (a path whose
 * content, trailing newline stripped, is the secret: Docker/Kubernetes secrets). Never from a
 * command line: arguments are visible to every local user (`ps`) and end up in logs.
 */
import fs from 'node:fs';
import { ErrorCode, SisockError } from './errors';

/** The secret in env `name` or in the file named by env `name_FILE` (the file wins); undefined if neither. */
export function secretFromEnv(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const file = env[`${name}_FILE`];
  if (file) {
    try {
      return fs.readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new SisockError(ErrorCode.CONFIG_UNREADABLE, `cannot read ${name}_FILE ${file}: ${(err as Error).message}`);
    }
  }
  const v = env[name];
  return v === undefined || v === '' ? undefined : v;
}
