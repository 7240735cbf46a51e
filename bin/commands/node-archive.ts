/**
 * `sisock node scan` and `sisock node archive`: the archive's scanner and reader node.
 *
 *   sisock node scan --db URL --data-dir DIR [--once] [--interval S] [--settle S] [--progress bar|log|none] [--rebuild-summaries]
 *                    [--direct-io auto|always|never]
 *   sisock node archive --db URL [--name NAME] [--data-dir DIR] [--cache-mb N] [--decode-workers N]  (+ client flags)
 *
 * `registerArchiveKinds(node)` adds both to the existing `node` command; `register(program)` does the
 * same for a program (finding or creating `node`), so it can sit in bin/sisock.ts's COMMANDS after node.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { addClientOptions, clientOptionsFromEnv, type CommonFlags } from '../../client';
import {
  DEFAULT_DB_URL,
  DEFAULT_DECODE_WORKERS,
  DIRECT_IO_MODES,
  runArchiveNode,
  runArchiveScanner,
  type DirectIo,
} from '../../data-nodes/archive';
import { addOpsOptions, type OpsFlags } from '../../common/ops-http';
import {
  addLogLevelOption,
  cliLogger,
  fail,
  nodeName,
  nonNegativeNumber,
  positiveNumber,
  serveNode,
  serveUntilSignal,
  workerCount,
} from '../common';

function progressMode(value: string): 'bar' | 'log' | 'none' {
  if (value !== 'bar' && value !== 'log' && value !== 'none') throw new InvalidArgumentError('must be bar, log or none');
  return value;
}

const DB_HELP =
  'index URL: sqlite:PATH or mysql://user@host:port/db (password: env SISOCK_DB_PASSWORD or SISOCK_DB_PASSWORD_FILE), ' +
  `optionally ?prefix=NAME_ (default ${DEFAULT_DB_URL})`;

interface ScanFlags {
  db: string;
  dataDir: string;
  once?: boolean;
  interval: number;
  settle: number;
  progress?: 'bar' | 'log' | 'none';
  logLevel?: string;
  rebuildSummaries?: boolean;
  directIo: DirectIo;
}
interface ArchiveFlags extends CommonFlags, OpsFlags {
  db: string;
  name: string;
  description?: string;
  dataDir?: string;
  cacheMb: number;
  decodeWorkers: number;
}

export function registerArchiveKinds(node: Command): void {
  const scan = addLogLevelOption(
    node
      .command('scan')
      .description(
        'index a directory tree of data files (sisock weather .dat, CSV/TSV, Arrow IPC, G3 housekeeping .g3/.g3.gz/.g3.bz2) into an SQLite or MySQL index',
      )
      .option('--db <url>', DB_HELP, DEFAULT_DB_URL)
      .requiredOption('--data-dir <dir>', 'root of the files to index')
      .option('--once', 'scan once and exit (default: rescan every --interval seconds until Ctrl-C)')
      .option('--interval <seconds>', 'seconds between rescans', positiveNumber, 60)
      .option('--settle <seconds>', 're-read files modified this recently before a scan on the next scan', nonNegativeNumber, 2)
      .option('--progress <mode>', 'bar (default on a terminal), log (JSON lines, default otherwise) or none', progressMode)
      .option('--rebuild-summaries', 'first scan: read every file again and rebuild its summary tiers (an index from before tiers)')
      .addOption(
        new Option(
          '--direct-io <mode>',
          'read files around the page cache (O_DIRECT): auto (from a local disk, a scan of more bytes than half the memory available, or of 256 MiB or more mostly not in the cache), always or never',
        )
          .choices(DIRECT_IO_MODES)
          .default('auto'),
      ),
  );
  scan.addHelpText(
    'after',
    `
Rescans are incremental. Each new or changed file's numeric fields get summary tiers (per-bucket
count/min/max/sum at 10 s … 1 d) in the index, so thinned get_data costs what it returns. Only one scanner may write an index at a time: a second one is refused
while the first holds its lease (renewed every 10 s, 30 s long). With --once, prints a JSON summary
on stdout, e.g. {"files":120,"added":3,"updated":1,...}.`,
  );
  scan.action(async (o: ScanFlags) => {
    const log = cliLogger('node-scan', o.logLevel);
    try {
      const h = await runArchiveScanner({
        db: o.db,
        dataDir: o.dataDir,
        once: !!o.once,
        intervalSeconds: o.interval,
        settleSeconds: o.settle,
        progress: o.progress,
        logger: log,
        rebuildSummaries: !!o.rebuildSummaries,
        directIo: o.directIo,
      });
      if (o.once) {
        const r = await h.first;
        await h.done;
        process.stdout.write(`${JSON.stringify(r)}\n`);
        return;
      }
      await Promise.race([serveUntilSignal([{ close: () => h.stop() }], log), h.done]);
    } catch (e) {
      fail(e, log);
    }
  });

  const archive = addOpsOptions(
    addClientOptions(
      node
        .command('archive')
        .description('serve an archive index (built by `sisock node scan`): get_fields from the index, get_data from the files')
        .option('--db <url>', DB_HELP, DEFAULT_DB_URL)
        .option('--name <name>', 'node name', nodeName, 'archive')
        .option('--description <text>', 'node description shown by `sisock nodes`')
        .option('--data-dir <dir>', 'root of the files here, when it differs from the one the scanner recorded')
        .option('--cache-mb <mb>', 'memory bound of the decoded-file cache, MiB', positiveNumber, 256)
        .option(
          '--decode-workers <n>',
          'threads that decode files of 1 MiB or more for requests (0: all on the serving thread)',
          workerCount,
          DEFAULT_DECODE_WORKERS,
        ),
    ),
  );
  archive.action((o: ArchiveFlags) =>
    serveNode('archive', o, (log) =>
      runArchiveNode({
        db: o.db,
        name: o.name,
        description: o.description,
        dataDir: o.dataDir,
        cacheBytes: Math.round(o.cacheMb * 1024 * 1024),
        decodeWorkers: o.decodeWorkers,
        client: { ...clientOptionsFromEnv(o), logger: log },
        logger: log,
      }),
    ),
  );
}
