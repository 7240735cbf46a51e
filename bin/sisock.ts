#!/usr/bin/env node
/**
 * The `sisock` executable. Each command lives in `bin/commands/<name>.ts` and exports
 * `register(program)`; to add one, append a line to COMMANDS with the names it registers.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { redactSecrets, urlHasPassword } from '../common/redact';

interface CommandModule {
  register(program: Command): void;
}

/**
 * Each command module with the top-level commands it registers (test/unit/cli-commands.test.ts checks
 * the two agree), loaded when asked for: a command loads its own module only (with everything that one
 * imports: a web server, gRPC, MQTT, SQL drivers), so `sisock nodes` does not pay for the rest.
 */
export const COMMANDS: ReadonlyArray<{ names: readonly string[]; load: () => Promise<CommandModule> }> = [
  { names: ['router'], load: () => import('./commands/router') },
  { names: ['hub'], load: () => import('./commands/hub') },
  { names: ['node'], load: () => import('./commands/node') },
  { names: ['nodes', 'fields', 'get', 'tail', 'call'], load: () => import('./commands/consumer') },
  { names: ['demo'], load: () => import('./commands/demo') },
  { names: ['grafana'], load: () => import('./commands/grafana') },
  { names: ['web'], load: () => import('./commands/web') },
  { names: ['grpc'], load: () => import('./commands/grpc') },
  { names: ['export'], load: () => import('./commands/export') },
  { names: ['historian'], load: () => import('./commands/historian') },
];

/** The version in package.json (found upwards from here: works from bin/ and from dist/bin/). */
function packageVersion(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version ?? '0.0.0';
    if (path.dirname(dir) === dir) return '0.0.0';
  }
}

/**
 * The program with the command that `argv` (process.argv's shape) names, or with every command when it
 * names none of them (no argument, --help, `help`, a misspelt name: the list and the suggestions need all).
 */
export async function buildProgram(argv: readonly string[] = []): Promise<Command> {
  const program = new Command('sisock')
    .description('serve observatory and lab data over WAMP: router, hub, data nodes, consumers')
    .version(packageVersion())
    .showHelpAfterError();
  const named = COMMANDS.find((c) => c.names.includes(argv[2] ?? ''));
  for (const c of await Promise.all((named ? [named] : COMMANDS).map((x) => x.load()))) c.register(program);
  return program;
}

if (require.main === module) {
  if (process.argv.some(urlHasPassword)) {
    process.stderr.write(
      'sisock: warning: a password is on the command line (visible to every local user); ' +
        'use the environment instead (SISOCK_MQTT_PASSWORD, SISOCK_DB_PASSWORD, SISOCK_SQL_PASSWORD, each also as *_FILE)\n',
    );
  }
  buildProgram(process.argv)
    .then((program) => program.parseAsync(process.argv))
    .catch((e: unknown) => {
      process.stderr.write(`sisock: ${redactSecrets(e instanceof Error ? e.message : String(e))}\n`);
      process.exitCode = 1;
    });
}
