#!/usr/bin/env node
/**
 * The `sisock` executable. Each command lives in `bin/commands/<name>.ts` and exports
 * `register(program)`; to add one, import it and append it to COMMANDS (one line each).
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { redactSecrets, urlHasPassword } from '../common/redact';
import * as consumer from './commands/consumer';
import * as demo from './commands/demo';
import * as exporter from './commands/export';
import * as historian from './commands/historian';
import * as grafana from './commands/grafana';
import * as grpc from './commands/grpc';
import * as hub from './commands/hub';
import * as node from './commands/node';
import * as router from './commands/router';
import * as web from './commands/web';

interface CommandModule {
  register(program: Command): void;
}

const COMMANDS: CommandModule[] = [router, hub, node, consumer, demo, grafana, web, grpc, exporter, historian];

/** The version in package.json (found upwards from here: works from bin/ and from dist/bin/). */
function packageVersion(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version ?? '0.0.0';
    if (path.dirname(dir) === dir) return '0.0.0';
  }
}

export function buildProgram(): Command {
  const program = new Command('sisock')
    .description('serve observatory and lab data over WAMP: router, hub, data nodes, consumers')
    .version(packageVersion())
    .showHelpAfterError();
  for (const c of COMMANDS) c.register(program);
  return program;
}

if (require.main === module) {
  if (process.argv.some(urlHasPassword)) {
    process.stderr.write(
      'sisock: warning: a password is on the command line (visible to every local user); ' +
        'use the environment instead (SISOCK_MQTT_PASSWORD, SISOCK_DB_PASSWORD, SISOCK_SQL_PASSWORD, each also as *_FILE)\n',
    );
  }
  buildProgram()
    .parseAsync(process.argv)
    .catch((e: unknown) => {
      process.stderr.write(`sisock: ${redactSecrets(e instanceof Error ? e.message : String(e))}\n`);
      process.exitCode = 1;
    });
}
