/** The exporter's flags, shared by `sisock export` and `sisock historian --export-to`. */
import * as path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { credentialsFromEnv, type ExporterOptions, type TargetKind } from '../../historian/export';
import { positiveInteger, positiveNumber } from '../common';

export interface ExportFlags {
  kind: string;
  db?: string;
  rp?: string;
  org?: string;
  bucket?: string;
  tokenFile?: string;
  precision: string;
  measurement: string;
  fieldName: string;
  tag: string[];
  integerField: string[];
  batchLines: number;
  batchMs: number;
  bufferBytes: number;
  durable?: boolean;
}

const KINDS: TargetKind[] = ['influx1', 'influx2', 'victoria'];

function kind(v: string): string {
  if (!(KINDS as string[]).includes(v)) throw new InvalidArgumentError(`must be one of ${KINDS.join(', ')}`);
  return v;
}

function tag(v: string, prev: string[]): string[] {
  if (!/^[^=]+=.+$/.test(v)) throw new InvalidArgumentError('must be name=template, e.g. site=pton or node={node}');
  return [...prev, v];
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];

/** Adds the target, naming and buffer flags (`prefix` names the URL flag, e.g. "--to" or "--export-to"). */
export function addExportOptions(cmd: Command): Command {
  return cmd
    .option('--kind <kind>', `database kind: ${KINDS.join(', ')}`, kind, 'influx1')
    .option('--db <name>', 'database (InfluxDB 1.x, VictoriaMetrics)')
    .option('--rp <name>', 'retention policy (InfluxDB 1.x)')
    .option('--org <name>', 'organisation (InfluxDB 2.x/3.x)')
    .option('--bucket <name>', 'bucket (InfluxDB 2.x/3.x)')
    .option(
      '--token-file <file>',
      'file holding the API token (else env SISOCK_INFLUX_TOKEN); ' +
        'InfluxDB 1.x user and password: env SISOCK_INFLUX_USER, SISOCK_INFLUX_PASSWORD',
    )
    .option('--precision <p>', 'timestamp precision written: s, ms, u, ns', 'u')
    .option('--measurement <template>', 'measurement name; {node}, {field}, {timeline} are replaced', '{node}')
    .option('--field-name <template>', 'field key; {node}, {field}, {timeline} are replaced', '{field}')
    .option(
      '--tag <name=template>',
      'a tag on every line (repeatable), e.g. --tag site=pton --tag node={node} --tag host={meta.host} (also {field}, {timeline}, {status.<key>})',
      tag,
      [],
    )
    .option('--integer-field <field>', 'write this sisock field as an integer (repeatable); other numbers are floats', collect, [])
    .option('--batch-lines <n>', 'lines per write', positiveInteger, 5000)
    .option('--batch-ms <ms>', 'longest wait before a partial batch is written', positiveInteger, 1000)
    .option(
      '--buffer-bytes <n>',
      'bound of the disk buffer; beyond it the oldest lines are dropped (counted, logged)',
      positiveNumber,
      1024 ** 3,
    )
    .option('--durable', 'fsync every buffered batch (survives power loss, not only a crash)');
}

export function exporterOptionsFrom(url: string, dir: string, f: ExportFlags): ExporterOptions {
  if (!['s', 'ms', 'u', 'ns'].includes(f.precision)) throw new InvalidArgumentError('--precision must be s, ms, u or ns');
  const tags: Record<string, string> = {};
  for (const t of f.tag) {
    const i = t.indexOf('=');
    tags[t.slice(0, i)] = t.slice(i + 1);
  }
  const target = credentialsFromEnv(
    {
      kind: f.kind as TargetKind,
      url,
      db: f.db,
      rp: f.rp,
      org: f.org,
      bucket: f.bucket,
      precision: f.precision as 'u',
    },
    process.env,
    f.tokenFile,
  );
  return {
    target,
    dir: path.resolve(dir),
    naming: { measurement: f.measurement, field: f.fieldName, tags, integerFields: f.integerField },
    batchLines: f.batchLines,
    batchMs: f.batchMs,
    bufferBytes: f.bufferBytes,
    durable: f.durable ? 'full' : 'normal',
  };
}
