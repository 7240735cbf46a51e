/**
 * The archive as running programs: `runArchiveNode` (reader served through the SDK, for
 * `sisock node archive`) and `runArchiveScanner` (one scan, or a scan every `intervalSeconds`, for
 * `sisock node scan`).
 */
import * as path from 'node:path';
import type { ClientOptions, SisockClient } from '../../client';
import { keepFreedHeap } from '../../common/heap';
import { silentLogger, type Logger } from '../../common/log';
import { runDataNode, type DataNodeHandle } from '../sdk';
import { openIndexDb, type IndexDb } from './index-db';
import { MysqlIndexDb } from './index-db/mysql';
import { progressBar, progressLog, type ProgressReporter } from './progress';
import { ArchiveSource } from './reader';
import { Scanner, type ScanResult, type ScannerOptions } from './scanner';

export interface ArchiveNodeOptions {
  /** Index URL (sqlite:PATH, mysql://…) or an open index (then closed with the node). */
  db: string | IndexDb;
  name?: string;
  description?: string;
  /** Root of the files, when it differs from the one the scanner recorded (another machine's mount). */
  dataDir?: string;
  cacheBytes?: number;
  /** ArchiveSourceOptions.decodeWorkers. */
  decodeWorkers?: number;
  client: ClientOptions | SisockClient;
  logger?: Logger;
}

async function openChecked(db: string | IndexDb): Promise<IndexDb> {
  const idx = typeof db === 'string' ? openIndexDb(db) : db;
  if (idx instanceof MysqlIndexDb) {
    try {
      await idx.ping();
    } catch (e) {
      await idx.close().catch(() => {});
      throw new Error(`cannot connect to the index ${idx.location}: ${(e as Error).message}`);
    }
  }
  return idx;
}

export async function runArchiveNode(o: ArchiveNodeOptions): Promise<{ node: DataNodeHandle; source: ArchiveSource }> {
  const logger = o.logger ?? silentLogger;
  keepFreedHeap(); // file buffers and columns of every format are made and dropped by the dozen
  const db = await openChecked(o.db);
  const source = new ArchiveSource({ db, dataDir: o.dataDir, cacheBytes: o.cacheBytes, decodeWorkers: o.decodeWorkers, logger });
  try {
    await source.init();
  } catch (e) {
    await source.close().catch(() => {});
    throw e;
  }
  const name = o.name ?? 'archive';
  const root = o.dataDir ?? (await db.getMeta('data_dir')) ?? '(not scanned yet)';
  const description = o.description ?? `Archive of ${path.basename(root)} indexed in ${db.location}`;
  const node = await runDataNode({ name, description, source, client: o.client, logger });
  return { node, source };
}

export interface ArchiveScannerOptions extends Omit<ScannerOptions, 'db' | 'onProgress'> {
  db: string | IndexDb;
  /** One pass, then resolve (else rescan every intervalSeconds until stop()). */
  once?: boolean;
  intervalSeconds?: number;
  /** 'bar' (terminal), 'log' (JSON lines), 'none'; default: bar when stderr is a TTY. */
  progress?: 'bar' | 'log' | 'none';
}

export interface ArchiveScannerHandle {
  /** Resolves after the first pass. */
  readonly first: Promise<ScanResult>;
  /** Resolves when the loop ends (after `--once`'s pass, or stop()). */
  readonly done: Promise<void>;
  stop(): Promise<void>;
}

export async function runArchiveScanner(o: ArchiveScannerOptions): Promise<ArchiveScannerHandle> {
  const log = o.logger ?? silentLogger;
  keepFreedHeap(); // one file buffer per file, read and dropped
  const db = await openChecked(o.db);
  const mode = o.progress ?? (process.stderr.isTTY ? 'bar' : 'log');
  let reporter: ProgressReporter | null = mode === 'bar' ? progressBar() : mode === 'log' ? progressLog(log) : null;
  const exclude = [...(o.exclude ?? [])];
  if (db.location.startsWith('sqlite:')) exclude.push(path.resolve(db.location.slice('sqlite:'.length)));
  let scanner: Scanner;
  try {
    scanner = await Scanner.open({ ...o, db, exclude, logger: log, onProgress: reporter ? (p) => reporter!.update(p) : undefined });
  } catch (e) {
    await db.close().catch(() => {});
    throw e;
  }
  let stopping = false;
  let wake: (() => void) | null = null;
  let resolveFirst!: (r: ScanResult) => void;
  let rejectFirst!: (e: unknown) => void;
  const first = new Promise<ScanResult>((res, rej) => {
    resolveFirst = res;
    rejectFirst = rej;
  });
  first.catch(() => {});
  const done = (async () => {
    let n = 0;
    try {
      while (!stopping) {
        let r: ScanResult;
        try {
          r = await scanner.scan();
        } catch (e) {
          if (n === 0) throw e;
          log.error({ err: (e as Error).message }, 'scan failed; retrying at the next interval');
          r = null as unknown as ScanResult;
        } finally {
          reporter?.stop();
          if (mode === 'bar') reporter = progressBar();
        }
        if (n++ === 0) resolveFirst(r);
        if (o.once || stopping) break;
        await new Promise<void>((res) => {
          const timer = setTimeout(res, (o.intervalSeconds ?? 60) * 1000);
          wake = () => {
            clearTimeout(timer);
            res();
          };
        });
        wake = null;
      }
    } catch (e) {
      rejectFirst(e);
      throw e;
    } finally {
      await scanner.close();
      await db.close().catch(() => {});
    }
  })();
  done.catch(() => {});
  return {
    first,
    done,
    async stop() {
      stopping = true;
      const w = wake as (() => void) | null;
      if (w) w();
      await done.catch(() => {});
    },
  };
}
