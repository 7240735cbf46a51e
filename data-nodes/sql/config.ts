/**
 * Config of `sisock node sql` (YAML or JSON): columns of an existing MySQL/MariaDB or PostgreSQL
 * table served as fields. Example (examples/battery-cycler.yaml):
 *
 *   node: { name: cycler, description: "Battery cycler measurements" }
 *   database:
 *     url: ${CYCLER_DB_URL}              # mysql://user@host:3306/db or postgres://user@host/db
 *     password: ${CYCLER_DB_PASSWORD:-}  # if not in the URL
 *   table: measurements                  # or schema.table
 *   time_column: ts                      # DATETIME/TIMESTAMP, or epoch seconds / ms (time_type)
 *   group_column: experiment_id          # optional: rows split into groups of fields
 *   field_name: "exp{group}_{field}"     # default "{group}_{field}" with groups, else "{field}"
 *   timeline: "exp{group}"               # default "{group}" with groups, else the table name
 *   columns:
 *     - { column: voltage, units: V }
 *     - { column: current, units: A }
 *     - { column: temperature, field: temp, units: C, description: "cell temperature" }
 *
 * Every identifier comes from this file only and must be a plain SQL identifier (letters, digits,
 * underscore; not starting with a digit; at most 64 characters); anything else is refused at
 * start (it could smuggle SQL in). Identifiers are also quoted in every statement, and every value
 * (time bounds, group values) is bound as a parameter.
 */
import { ConfigError } from '../../common/errors';
import { checkNodeName, expandEnv, readConfigFile, Reader } from '../../common/config-file';
import { secretFromEnv } from '../../common/secret-env';
import type { FieldType } from '../sdk/types';

export type TimeType = 'auto' | 'datetime' | 'epoch_s' | 'epoch_ms';

export interface SqlColumn {
  column: string;
  field: string;
  units: string | null;
  description: string | null;
  /** null: from the column's SQL type */
  type: FieldType | null;
}

export interface SqlConfig {
  node: { name: string; description: string };
  database: { url: string; kind: 'mysql' | 'postgres'; password?: string; pool: number; queryTimeoutMs: number };
  schema: string | null;
  table: string;
  timeColumn: string;
  timeType: TimeType;
  groupColumn: string | null;
  groups: Array<string | number> | null;
  fieldName: string;
  timeline: string;
  interval: number | null;
  columns: SqlColumn[];
  maxRows: number;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

export function checkIdentifier(v: unknown, at: string): string {
  if (typeof v !== 'string' || !IDENT.test(v)) {
    throw new ConfigError(
      at,
      `refused: ${JSON.stringify(v)} is not a plain SQL identifier (letters, ` +
        `digits, _; not starting with a digit; at most 64 characters)`,
    );
  }
  return v;
}

export function loadSqlConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): SqlConfig {
  return parseSqlConfig(readConfigFile(file), env);
}

export function parseSqlConfig(raw: unknown, env: NodeJS.ProcessEnv = process.env): SqlConfig {
  const r = Reader.root(expandEnv(raw, env), '').only([
    'node',
    'database',
    'table',
    'time_column',
    'time_type',
    'group_column',
    'groups',
    'field_name',
    'timeline',
    'interval',
    'columns',
    'max_rows',
  ]);
  const nr = r.child('node', false)!.only(['name', 'description']);
  const name = checkNodeName(nr.str('name'), nr.path('name'));
  const dr = r.child('database', false)!.only(['url', 'password', 'pool', 'query_timeout']);
  const url = dr.str('url');
  let kind: 'mysql' | 'postgres';
  if (/^(mysql|mariadb):\/\//.test(url)) kind = 'mysql';
  else if (/^postgres(ql)?:\/\//.test(url)) kind = 'postgres';
  else throw new ConfigError(dr.path('url'), 'must be mysql://… or postgres://…');
  const tableText = r.str('table');
  const parts = tableText.split('.');
  if (parts.length > 2) throw new ConfigError('table', `refused: ${JSON.stringify(tableText)} is not "table" or "schema.table"`);
  const table = checkIdentifier(parts[parts.length - 1], 'table');
  const schema = parts.length === 2 ? checkIdentifier(parts[0], 'table') : null;
  const timeColumn = checkIdentifier(r.obj.time_column, 'time_column');
  const groupColumn = r.has('group_column') ? checkIdentifier(r.obj.group_column, 'group_column') : null;
  const groups = r.has('groups') ? r.list('groups') : null;
  if (groups && !groups.every((g) => typeof g === 'string' || typeof g === 'number'))
    throw new ConfigError('groups', 'must be a list of strings or numbers');
  if (groups && !groupColumn) throw new ConfigError('groups', 'needs group_column');
  const cols = r.list('columns', true);
  if (cols.length === 0) throw new ConfigError('columns', 'needs at least one column');
  const columns: SqlColumn[] = cols.map((c, i) => {
    const at = `columns[${i}]`;
    if (typeof c === 'string') return { column: checkIdentifier(c, at), field: c, units: null, description: null, type: null };
    const cr = Reader.root(c, at).only(['column', 'field', 'units', 'description', 'type']);
    const column = checkIdentifier(cr.obj.column, cr.path('column'));
    const field = cr.str('field', column);
    if (!/^[^\s.#{}]+$/.test(field)) throw new ConfigError(cr.path('field'), 'must be a name without whitespace, dots, # or braces');
    return {
      column,
      field,
      units: cr.optStr('units') ?? null,
      description: cr.optStr('description') ?? null,
      type: cr.has('type') ? cr.oneOf('type', ['number', 'string', 'bool'] as const, 'number') : null,
    };
  });
  const seen = new Set<string>();
  for (const c of columns) {
    if (seen.has(c.field)) throw new ConfigError('columns', `field ${c.field} appears twice`);
    seen.add(c.field);
    if (c.column === timeColumn || c.column === groupColumn) throw new ConfigError('columns', `${c.column} is the time or group column`);
  }
  const fieldName = r.str('field_name', groupColumn ? '{group}_{field}' : '{field}');
  if (!fieldName.includes('{field}')) throw new ConfigError('field_name', 'must contain {field}');
  if (groupColumn && !fieldName.includes('{group}')) throw new ConfigError('field_name', 'must contain {group} when group_column is set');
  const timeline = r.str('timeline', groupColumn ? '{group}' : table);
  for (const [k, v] of [
    ['field_name', fieldName],
    ['timeline', timeline],
  ] as const) {
    const bad = [...v.matchAll(/\{([^}]*)\}/g)].map((m) => m[1]).filter((p) => p !== 'group' && p !== 'field');
    if (bad.length) throw new ConfigError(k, `unknown placeholder {${bad[0]}} (use {group}, {field})`);
  }
  const iv = r.duration('interval', null);
  return {
    node: { name, description: nr.str('description', `${kind === 'mysql' ? 'MySQL' : 'PostgreSQL'} table ${tableText}`) },
    database: {
      url,
      kind,
      password: dr.optStr('password') ?? secretFromEnv(env, 'SISOCK_SQL_PASSWORD') ?? undefined,
      pool: dr.num('pool', 4, 1, 100),
      queryTimeoutMs: (dr.duration('query_timeout', 30) ?? 30) * 1000,
    },
    schema,
    table,
    timeColumn,
    timeType: r.oneOf('time_type', ['auto', 'datetime', 'epoch_s', 'epoch_ms'] as const, 'auto'),
    groupColumn,
    groups: groups as Array<string | number> | null,
    fieldName,
    timeline,
    interval: iv,
    columns,
    maxRows: r.num('max_rows', 1_000_000, 1, 1e9),
  };
}
