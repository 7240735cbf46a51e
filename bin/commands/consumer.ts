/**
 * The consumer CLI:
 *
 *   sisock nodes                                   nodes online, with metadata
 *   sisock fields <node> [--from T --to T]         a node's fields (default: all time)
 *   sisock get <node::field>… [--from T] [--to T] [--min-stride D] [--csv|--json|--tsv|--table]
 *   sisock tail <node::field>… [--count N] [--csv|--json|--tsv|--table]
 *   sisock call <node>.<procedure> [arg…] [--kwargs JSON]   a node's procedure (e.g. sim.set_channel)
 *
 * `get` and `tail` targets may be field globs (`sim::*`, `sim::hv_ch?_voltage`).
 * Output: an aligned table on a terminal, TSV with a header row otherwise; `--csv` has the columns
 * `time,unix,<node::field>…` (ISO 8601 UTC, UNIX seconds, values; empty when missing), `--json` is
 * one document (`tail --json`: one object per line). Errors: one line `sisock: …` on stderr saying
 * why (a wrong secret, an unknown realm, no hub, an unknown node or field), exit codes EXIT_HELP.
 * Every command takes the common client flags.
 */
import { Command } from 'commander';
import { addClientOptions, clientOptionsFromEnv, logLevelFrom, type CommonFlags, type SisockClient } from '../../client';
import {
  callProcedure,
  chooseFormat,
  connect,
  expandTargets,
  parseCallArg,
  fetchJoined,
  fieldsOfNode,
  listNodeRows,
  parseDuration,
  parseRange,
  parseTargets,
  renderFields,
  renderJoined,
  renderNodes,
  startTail,
  useColor,
  TIME_HELP,
  type OutputFormat,
} from '../../consumers/cli';
import { cliLogger, fail } from '../common';
import { ErrorCode, SisockError } from '../../common/errors';

interface OutputFlags {
  csv?: boolean;
  json?: boolean;
  tsv?: boolean;
  table?: boolean;
}
type Flags = CommonFlags & OutputFlags & { timeout: string };

/** Shown by every consumer command's --help. */
export const EXIT_HELP = `
Exit codes:
  0  done
  1  failed: router unreachable, authentication failed, no such realm, no hub, unknown node or
     field, a node that failed or did not answer (the reason is on stderr: "sisock: …")
  2  bad arguments or configuration (malformed node::field, time, duration, JSON; missing secret)`;

function addOutputOptions(cmd: Command): Command {
  cmd.addHelpText('after', EXIT_HELP);
  return cmd
    .option('--csv', 'CSV with a header row')
    .option('--json', 'JSON')
    .option('--tsv', 'tab-separated with a header row (the default when stdout is not a terminal)')
    .option('--table', 'aligned table (the default on a terminal)')
    .option('--timeout <duration>', 'give up connecting or waiting for an answer after this long', '10s');
}

function output(flags: OutputFlags): { format: OutputFormat; color: boolean } {
  const tty = process.stdout.isTTY === true;
  return { format: chooseFormat(flags, tty), color: useColor(tty) };
}

let pipeGuard = false;
/** `sisock get … | head`: a closed pipe ends the program quietly. */
function guardPipe(): void {
  if (pipeGuard) return;
  pipeGuard = true;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}

/** Connects, runs `fn`, closes; errors become one line on stderr and a non-zero exit code. */
async function withClient(flags: Flags, fn: (client: SisockClient, timeoutMs: number) => Promise<void>): Promise<void> {
  guardPipe();
  const log = cliLogger('sisock-cli', logLevelFrom({ logLevel: flags.logLevel ?? process.env.SISOCK_LOG_LEVEL ?? 'warn' }));
  let client: SisockClient | null = null;
  try {
    const timeoutMs = parseDuration(flags.timeout) * 1000;
    client = await connect({ ...clientOptionsFromEnv(flags), logger: log }, timeoutMs);
    await fn(client, timeoutMs);
  } catch (e) {
    fail(e);
  } finally {
    if (client) await client.close();
  }
}

function write(text: string): void {
  if (text) process.stdout.write(text);
}

export function register(program: Command): void {
  const nodes = addOutputOptions(
    addClientOptions(program.command('nodes').description('list the data nodes online (from the hub), with metadata')),
  );
  nodes.action(async (flags: Flags) => {
    await withClient(flags, async (client, timeoutMs) => {
      const { format, color } = output(flags);
      write(renderNodes(await listNodeRows(client, timeoutMs), format, color));
    });
  });

  const fields = addOutputOptions(
    addClientOptions(
      program
        .command('fields')
        .description("list a node's fields: timeline, sampling interval, type, units, description")
        .argument('<node>', 'node name (see `sisock nodes`)')
        .option('--from <time>', `only fields with data since (${TIME_HELP}); default all time`)
        .option('--to <time>', 'only fields with data before; default now'),
    ),
  );
  fields.action(async (node: string, flags: Flags & { from?: string; to?: string }) => {
    await withClient(flags, async (client, timeoutMs) => {
      const { format, color } = output(flags);
      let start = 1;
      let end = 0; // get_fields(1, 0): all time (contract)
      if (flags.from !== undefined || flags.to !== undefined) {
        ({ start, end } = parseRange(flags.from ?? '1', flags.to ?? 'now', Date.now() / 1000));
      }
      write(renderFields(await fieldsOfNode(client, node, start, end, timeoutMs), format, color));
    });
  });

  const get = addOutputOptions(
    addClientOptions(
      program
        .command('get')
        .description('fetch fields from one or more nodes, merged on time (outer join)')
        .argument('<node::field...>', "fields to fetch, e.g. weather::temperature sim::hv_ch0_voltage 'sim::*' (field globs: * ? {a,b})")
        .option('--from <time>', `start (${TIME_HELP})`, '-1h')
        .option('--to <time>', 'end (exclusive)', 'now')
        .option('--min-stride <duration>', 'at least this far between samples (the node keeps per-bucket min and max), e.g. 10s, 5m')
        .option('--history <node>', 'historian node asked for a node that is not online (a notice goes to stderr)', 'historian')
        .option('--no-history', 'never ask the historian'),
    ),
  );
  get.addHelpText(
    'after',
    `
Times: now, -1h, -30m, -2d, -1w, 2026-11-20 (midnight UTC), 2026-11-20T12:00Z, UNIX seconds.
Columns (tsv/csv): time (ISO 8601 UTC), unix (UNIX seconds), then one per node::field.`,
  );
  get.action(async (targets: string[], flags: Flags & { from: string; to: string; minStride?: string; history: string | false }) => {
    let parsed;
    try {
      const t = parseTargets(targets);
      const { start, end } = parseRange(flags.from, flags.to, Date.now() / 1000);
      const minStride = flags.minStride === undefined ? null : parseDuration(flags.minStride);
      parsed = { t, start, end, minStride };
    } catch (e) {
      fail(e);
      return;
    }
    const { t, start, end, minStride } = parsed;
    await withClient(flags, async (client, timeoutMs) => {
      const { format, color } = output(flags);
      const notice = (text: string) => process.stderr.write(`sisock: ${text}\n`);
      const history = flags.history === false ? null : flags.history;
      write(renderJoined(await fetchJoined(client, t, { start, end, minStride, timeoutMs, history, notice }), format, color));
    });
  });

  const call = addClientOptions(
    program
      .command('call')
      .description("call a node's procedure and print its answer as JSON, e.g. sisock call sim.set_channel hv 0 '{\"on\": true}'")
      .argument('<procedure>', '<node>.<procedure> (e.g. sim.set_channel, tracker.set_channel) or a full URI')
      .argument('[args...]', 'positional arguments, each JSON when it parses (1, true, "x", {"on": true}), else a string')
      .option('--kwargs <json>', 'keyword arguments as a JSON object, e.g. \'{"voltage": 900}\'')
      .option('--timeout <duration>', 'give up connecting or waiting for the answer after this long', '10s'),
  );
  call.addHelpText(
    'after',
    `
Examples:
  sisock call sim.set_channel hv 0 '{"on": true, "voltage": 1000}'
  sisock call sim.get_state
${EXIT_HELP}`,
  );
  call.action(async (procedure: string, args: string[], flags: Flags & { kwargs?: string }) => {
    let kwargs: Record<string, unknown> = {};
    try {
      if (flags.kwargs !== undefined) {
        const k = parseCallArg(flags.kwargs);
        if (k === null || typeof k !== 'object' || Array.isArray(k)) {
          throw new SisockError(ErrorCode.INVALID_ARGUMENT, `--kwargs must be a JSON object, e.g. '{"on": true}'; got ${flags.kwargs}`);
        }
        kwargs = k as Record<string, unknown>;
      }
    } catch (e) {
      fail(e);
      return;
    }
    await withClient(flags, async (client, timeoutMs) => {
      const answer = await callProcedure(client, procedure, args.map(parseCallArg), kwargs, timeoutMs);
      write(`${JSON.stringify(answer ?? null)}\n`);
    });
  });

  const tail = addOutputOptions(
    addClientOptions(
      program
        .command('tail')
        .description('print live samples as the nodes push them, one line per time, until Ctrl-C')
        .argument('<node::field...>', 'fields to follow')
        .option('-n, --count <n>', 'stop after this many lines'),
    ),
  );
  tail.addHelpText('after', '\nWith --json, one JSON object per line: {"time", "unix", "<node::field>": value, …}.');
  tail.action(async (targets: string[], flags: Flags & { count?: string }) => {
    let t;
    let count: number | undefined;
    try {
      t = parseTargets(targets);
      if (flags.count !== undefined) {
        count = Number(flags.count);
        if (!/^\d+$/.test(flags.count) || !Number.isSafeInteger(count) || count < 1)
          throw new SisockError(ErrorCode.INVALID_ARGUMENT, '--count must be a positive integer');
      }
    } catch (e) {
      fail(e);
      return;
    }
    const targetsParsed = t;
    await withClient(flags, async (client, timeoutMs) => {
      const { format, color } = output(flags);
      const running = await startTail(client, await expandTargets(client, targetsParsed, timeoutMs), {
        format,
        color,
        write,
        count,
        timeoutMs,
      });
      await new Promise<void>((resolve) => {
        const onSignal = () => resolve();
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        void running.done.then(() => {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          resolve();
        });
      });
      await running.stop();
    });
  });
}
