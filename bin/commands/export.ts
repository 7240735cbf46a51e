/**
 * `sisock export`: follows every node the hub lists (live + backfill on (re)appearance) and writes
 * its samples to InfluxDB 1.x, 2.x/3.x or VictoriaMetrics through a disk buffer.
 * `sisock export backfill --node N --from T --to T`: one node's range, then exit.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command } from 'commander';
import { addClientOptions, clientOptionsFromEnv, logLevelFrom, SisockClient, type CommonFlags } from '../../client';
import { parseRange, TIME_HELP } from '../../consumers/cli';
import { addOpsOptions, planOps, startOps, type OpsFlags } from '../../common/ops-http';
import { openExporter } from '../../historian/export';
import { backfillRange } from '../../historian/backfill';
import { Follower } from '../../historian/follow';
import { ErrorCode, SisockError } from '../../common/errors';
import { cliLogger, fail, nonNegativeNumber, positiveNumber, serveUntilSignal } from '../common';
import { addExportOptions, exporterOptionsFrom, type ExportFlags } from './export-options';

type RunFlags = CommonFlags &
  OpsFlags &
  ExportFlags & { url: string; dir: string; initialBackfill: number; exclude?: string; feeds?: boolean };

const DEFAULT_DIR = path.join(os.homedir(), '.local', 'share', 'sisock', 'export');

export function register(program: Command): void {
  const cmd = addOpsOptions(
    addExportOptions(
      addClientOptions(
        program
          .command('export')
          .description("write every node's samples to InfluxDB 1.x/2.x/3.x or VictoriaMetrics (line protocol, batched, disk-buffered)")
          .option('--url <url>', 'database URL, e.g. http://127.0.0.1:8086 (a user:password@ in it is used and never logged)')
          .option('--dir <dir>', `directory of the disk buffer and the dead-letter file (default ${DEFAULT_DIR})`, DEFAULT_DIR)
          .option('--initial-backfill <seconds>', 'history read from a node seen for the first time', nonNegativeNumber, 3600)
          .option('--exclude <regex>', 'node names not exported (default: the historian, which re-serves the others)', '^historian$')
          .option('--feeds', 'also export OCS feeds (observatory.<agent>.feeds.<feed>) as node "feeds"'),
      ),
    ),
  );
  cmd.addHelpText(
    'after',
    `
Files in --dir: buffer.sqlite (lines not yet written, per-node cursors) and dead-letters.jsonl
(lines the database refused, with the reason). docs/history.md explains naming and bounds.`,
  );
  cmd.action(async (f: RunFlags) => {
    await runExport(f);
  });

  // The database, naming and client flags are those of `sisock export` (commander gives them to the parent).
  const bf = cmd
    .command('backfill')
    .description("write one node's range to the database, then exit (like the observatory's g32influx)")
    .requiredOption('--node <name>', 'node to read')
    .requiredOption('--from <time>', `start (${TIME_HELP})`)
    .option('--to <time>', 'end (exclusive)', 'now')
    .option('--field <name...>', 'only these fields')
    .option('--chunk <seconds>', 'seconds read per get_data', positiveNumber, 3600);
  bf.addHelpText(
    'after',
    '\nTakes the flags of `sisock export` (--url, --db, --kind, --router …); --dir defaults to a new temporary directory.',
  );
  bf.action(async (own: { node: string; from: string; to: string; field?: string[]; chunk: number }) => {
    const f = { ...(cmd.opts() as RunFlags), ...own };
    const dirGiven = cmd.getOptionValueSource('dir') === 'cli' || cmd.getOptionValueSource('dir') === 'env';
    const log = cliLogger('export-backfill', logLevelFrom(f));
    let client: SisockClient | null = null;
    try {
      const { start, end } = parseRange(f.from, f.to, Date.now() / 1000);
      if (!f.url) throw new SisockError(ErrorCode.INVALID_ARGUMENT, 'give the database with --url, e.g. --url http://127.0.0.1:8086');
      const dir = dirGiven ? f.dir : path.join(os.tmpdir(), `sisock-backfill-${process.pid}-${Date.now()}`);
      const ex = openExporter({ ...exporterOptionsFrom(f.url, dir, f), logger: log });
      client = new SisockClient({ ...clientOptionsFromEnv(f), logger: log }).start();
      await client.whenReady(10000);
      const n = await backfillRange({ client, sink: ex, node: f.node, start, end, fields: f.field, chunkSeconds: f.chunk });
      const ok = await ex.flush(600000);
      const s = ex.stats();
      await ex.close(0);
      process.stdout.write(
        `backfill: ${f.node} ${n} samples, ${s.sent} lines written, ${s.deadLetters} dead letters, ${s.pending} pending\n`,
      );
      if (ok && !dirGiven) fs.rmSync(dir, { recursive: true, force: true });
      if (!ok)
        throw new Error(
          `the database did not take every line; ${s.pending} are kept in ${dir}; run \`sisock export --dir ${dir}\` to send them`,
        );
    } catch (e) {
      fail(e, log);
    } finally {
      if (client) await client.close();
    }
  });
}

async function runExport(f: RunFlags): Promise<void> {
  const log = cliLogger('export', logLevelFrom(f));
  let client: SisockClient;
  let ex;
  let exclude: RegExp | null = null;
  try {
    if (!f.url) throw new SisockError(ErrorCode.INVALID_ARGUMENT, 'give the database with --url, e.g. --url http://127.0.0.1:8086');
    exclude = f.exclude ? new RegExp(f.exclude) : null;
    ex = openExporter({ ...exporterOptionsFrom(f.url, f.dir, f), logger: log });
    client = new SisockClient({ ...clientOptionsFromEnv(f), logger: log });
  } catch (e) {
    await ex?.close(0);
    fail(e, log);
    return;
  }
  const exporter = ex;
  const follower = new Follower({
    client,
    sink: exporter,
    logger: log,
    initialBackfill: f.initialBackfill,
    feeds: !!f.feeds,
    exclude: (n) => exclude?.test(n) ?? false,
  });
  const ops = await startOps(planOps(f, 'export'), () => ({ ok: client.isReady && !exporter.writer.down, ...exporter.stats() }), log);
  await follower.start();
  log.info({ target: exporter.target.label, dir: f.dir }, 'exporter started');
  process.stdout.write(`export: ${exporter.target.label}\n`);
  await serveUntilSignal([{ close: () => exporter.close() }, ops, { close: () => client.close() }, { close: () => follower.close() }], log);
}
