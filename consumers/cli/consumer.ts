/**
 * What the consumer commands do, over a connected SisockClient; bin/commands/consumer.ts only
 * parses arguments and prints. Every function returns text (or calls `write`) so it is testable
 * without a terminal.
 *
 *   nodes            the hub's list, with metadata when the hub has it (get_data_node_metadata),
 *                    else the contract's get_data_node
 *   fields <node>    get_fields as a table
 *   get <targets>    get_fields + get_data per node, outer join on time
 *   tail <targets>   live samples (`<base>.consumer.<node>.data`), one line per time
 *
 * Connecting (with the reason when refused) is connect.ts; `sisock call` is call.ts.
 */
import {
  CallError,
  ErrorUri,
  SisockClient,
  getData,
  getFields,
  listNodes,
  subscribeLive,
  type DataResult,
  type FieldsResult,
  type Handle,
} from '../../client';
import { ErrorCode, SisockError } from '../../common/errors';
import { withTimeout } from '../../common/timeout';
import { HubUri, type NodeMetadataEntry } from '../../contract';
import { globMatcher } from '../grafana/request';
import {
  outerJoin,
  renderCsv,
  renderTable,
  renderTsv,
  RowStream,
  type Joined,
  type OutputFormat,
  type Sample,
  type Series,
} from './format';
import { formatIso } from './time';

export interface Target {
  node: string;
  field: string;
  /** `node::field` */
  key: string;
}

const NO_SUCH_PROCEDURE = ErrorUri.NO_SUCH_PROCEDURE;

function usage(message: string): SisockError {
  return new SisockError(ErrorCode.INVALID_ARGUMENT, message);
}

/** `node::field` arguments. */
export function parseTargets(args: string[]): Target[] {
  if (args.length === 0) throw usage('give at least one node::field, e.g. weather::temperature');
  const out: Target[] = [];
  for (const a of args) {
    const i = a.indexOf('::');
    const node = i < 0 ? '' : a.slice(0, i);
    const field = i < 0 ? '' : a.slice(i + 2);
    if (!node || !field) throw usage(`"${a}" is not node::field (e.g. weather::temperature; \`sisock fields <node>\` lists them)`);
    const key = `${node}::${field}`;
    if (!out.some((t) => t.key === key)) out.push({ node, field, key });
  }
  return out;
}

/** A CallError about a node, as a message a human understands. */
function nodeError(node: string, err: unknown): unknown {
  if (err instanceof CallError && err.uri === NO_SUCH_PROCEDURE) {
    return new SisockError(ErrorCode.CALL_FAILED, `unknown node "${node}" (\`sisock nodes\` lists the nodes online)`);
  }
  if (err instanceof CallError) {
    const detail = err.args.length ? `: ${err.args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join('; ')}` : '';
    return new SisockError(ErrorCode.CALL_FAILED, `node "${node}" answered ${err.uri}${detail}`);
  }
  return err;
}

async function fieldsOf(client: SisockClient, node: string, start: number, end: number, timeoutMs: number): Promise<FieldsResult> {
  try {
    return await withTimeout(getFields(client, node, start, end), timeoutMs, `${node}.get_fields`);
  } catch (err) {
    throw nodeError(node, err);
  }
}

// ---- nodes ---------------------------------------------------------------------------------------

/** A row of `sisock nodes`: what the hub lists (contract NodeMetadataEntry), or names only from an original hub. */
export type NodeRow = Pick<NodeMetadataEntry, 'name' | 'description'> &
  Partial<Pick<NodeMetadataEntry, 'n_fields' | 'newest_sample' | 'host' | 'available'>>;

export async function listNodeRows(client: SisockClient, timeoutMs: number): Promise<NodeRow[]> {
  try {
    const meta = await withTimeout(client.call<NodeRow[]>(client.uri(HubUri.GET_DATA_NODE_METADATA)), timeoutMs, 'get_data_node_metadata');
    if (Array.isArray(meta)) return meta;
  } catch (err) {
    if (!(err instanceof CallError && err.uri === NO_SUCH_PROCEDURE)) throw err;
  }
  // A hub that only has the contract's procedure (e.g. the Python original).
  try {
    return await withTimeout(listNodes(client), timeoutMs, 'get_data_node');
  } catch (err) {
    if (err instanceof CallError && err.uri === NO_SUCH_PROCEDURE) throw noHub();
    throw err;
  }
}

function noHub(): SisockError {
  return new SisockError(ErrorCode.CALL_FAILED, 'no hub is running: start `sisock hub` (or `sisock demo`)');
}

export function renderNodes(rows: NodeRow[], format: OutputFormat, color: boolean): string {
  const sorted = [...rows].sort((a, b) => a.name.localeCompare(b.name));
  if (format === 'json') return JSON.stringify(sorted) + '\n';
  const header = ['name', 'fields', 'newest', 'host', 'description'];
  const body = sorted.map((r) => [
    r.name,
    r.n_fields === undefined || r.n_fields === null ? '' : String(r.n_fields),
    typeof r.newest_sample === 'number' ? formatIso(r.newest_sample) : '',
    r.host ?? '',
    r.description ?? '',
  ]);
  if (format === 'table') return renderTable(header, body, { rightAlign: [false, true], color });
  return format === 'csv' ? renderCsv(header, body) : renderTsv(header, body);
}

// ---- fields --------------------------------------------------------------------------------------

export async function fieldsOfNode(
  client: SisockClient,
  node: string,
  start: number,
  end: number,
  timeoutMs: number,
): Promise<FieldsResult> {
  return fieldsOf(client, node, start, end, timeoutMs);
}

export function renderFields(res: FieldsResult, format: OutputFormat, color: boolean): string {
  if (format === 'json') return JSON.stringify(res) + '\n';
  const [fields, timelines] = res;
  const header = ['field', 'timeline', 'interval', 'type', 'units', 'description'];
  const body = Object.entries(fields)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([f, info]) => {
      const iv = timelines[info.timeline]?.interval;
      return [f, info.timeline, iv === null || iv === undefined ? '' : String(iv), info.type, info.units ?? '', info.description ?? ''];
    });
  if (format === 'table') return renderTable(header, body, { rightAlign: [false, false, true], color });
  return format === 'csv' ? renderCsv(header, body) : renderTsv(header, body);
}

// ---- get -----------------------------------------------------------------------------------------

function byNode(targets: Target[]): Map<string, Target[]> {
  const m = new Map<string, Target[]>();
  for (const t of targets) {
    let list = m.get(t.node);
    if (!list) m.set(t.node, (list = []));
    list.push(t);
  }
  return m;
}

/** The (t, v) of one field of a get_data result, given field → timeline. */
function seriesOf(res: DataResult, field: string, timeline: string | undefined): { t: number[]; v: Sample[] } {
  const v = (res.data?.[field] ?? []) as Sample[];
  let tl = timeline;
  const tls = Object.keys(res.timeline ?? {});
  if (tl === undefined || !res.timeline[tl]) {
    // Not told: the one timeline of the result, or one whose length matches.
    tl = tls.length === 1 ? tls[0] : tls.find((name) => res.timeline[name]?.t.length === v.length);
  }
  const t = tl ? (res.timeline[tl]?.t ?? []) : [];
  const n = Math.min(t.length, v.length);
  return { t: t.slice(0, n), v: v.slice(0, n) };
}

export interface GetOptions {
  start: number;
  end: number;
  minStride: number | null;
  timeoutMs: number;
  /** Historian node asked when a node is not online (`sisock historian`); null: never. */
  history?: string | null;
  /** Told when an answer came from the historian. */
  notice?: (text: string) => void;
}

/** Does a target's field name a glob (`*`, `?`, `{a,b}`)? */
function isGlob(field: string): boolean {
  return /[*?{]/.test(field);
}

/**
 * Targets whose field is a glob (`sim::*`, `sim::hv_ch?_voltage`) → the node's matching fields
 * (sorted, from get_fields over all time); others unchanged. No match is an error that says so.
 */
export async function expandTargets(client: SisockClient, targets: Target[], timeoutMs: number): Promise<Target[]> {
  if (!targets.some((t) => isGlob(t.field))) return targets;
  const fieldsByNode = new Map<string, string[]>();
  for (const t of targets) {
    if (!isGlob(t.field) || fieldsByNode.has(t.node)) continue;
    const [all] = await fieldsOf(client, t.node, 1, 0, timeoutMs);
    fieldsByNode.set(t.node, Object.keys(all).sort());
  }
  const out: Target[] = [];
  for (const t of targets) {
    const names = isGlob(t.field) ? (fieldsByNode.get(t.node) ?? []).filter((f) => globMatcher(t.field).test(f)) : [t.field];
    if (names.length === 0) throw usage(`no field of "${t.node}" matches "${t.field}" (\`sisock fields ${t.node}\` lists them)`);
    for (const field of names) {
      const key = `${t.node}::${field}`;
      if (!out.some((x) => x.key === key)) out.push({ node: t.node, field, key });
    }
  }
  return out;
}

/** The fields of an offline node from the historian (`<node>.<field>`), or null when it has none of them. */
async function fromHistory(client: SisockClient, node: string, list: Target[], o: GetOptions): Promise<Map<string, Series> | null> {
  if (!o.history) return null;
  const names = list.map((t) => `${node}.${t.field}`);
  let res: DataResult;
  try {
    res = await getData(client, o.history, names, o.start, o.end, o.minStride, { timeoutMs: o.timeoutMs });
  } catch {
    return null;
  }
  if (names.every((n) => (res.data[n] ?? []).length === 0)) return null;
  const out = new Map<string, Series>();
  for (const t of list) {
    const s = seriesOf(res, `${node}.${t.field}`, `${node}.${t.field}`);
    out.set(t.key, { key: t.key, units: null, t: s.t, v: s.v });
  }
  o.notice?.(`node "${node}" is not online: its samples come from the historian "${o.history}"`);
  return out;
}

/** Fetches the targets from their nodes (in parallel) and joins them on time; field globs expand; an offline node's from the historian. */
export async function fetchJoined(client: SisockClient, targetsIn: Target[], o: GetOptions): Promise<Joined> {
  const targets = await expandTargets(client, targetsIn, o.timeoutMs);
  const series = new Map<string, Series>();
  await Promise.all(
    [...byNode(targets)].map(async ([node, list]) => {
      try {
        await fetchNode(client, node, list, o, series);
      } catch (err) {
        const h = err instanceof SisockError && err.message.startsWith('unknown node') ? await fromHistory(client, node, list, o) : null;
        if (!h) throw err;
        for (const [k, v] of h) series.set(k, v);
      }
    }),
  );
  return outerJoin(targets.map((t) => series.get(t.key)!));
}

async function fetchNode(client: SisockClient, node: string, list: Target[], o: GetOptions, series: Map<string, Series>): Promise<void> {
  let [info] = await fieldsOf(client, node, o.start, o.end, o.timeoutMs);
  const missing = list.filter((t) => !info[t.field]);
  if (missing.length) {
    // Not listed for this range: a field without data then, or no such field at all?
    const [all] = await fieldsOf(client, node, 1, 0, o.timeoutMs);
    const unknown = missing.filter((t) => !all[t.field]);
    if (unknown.length) {
      const names = unknown.map((t) => `"${t.key}"`).join(', ');
      throw usage(`unknown field${unknown.length > 1 ? 's' : ''} ${names} (\`sisock fields ${node}\` lists them)`);
    }
    info = { ...all, ...info };
  }
  let res: DataResult;
  try {
    const call = getData(
      client,
      node,
      list.map((t) => t.field),
      o.start,
      o.end,
      o.minStride,
      { timeoutMs: o.timeoutMs },
    );
    res = await withTimeout(call, o.timeoutMs + 1000, `${node}.get_data`);
  } catch (err) {
    throw nodeError(node, err);
  }
  for (const t of list) {
    const s = seriesOf(res, t.field, info[t.field]?.timeline);
    series.set(t.key, { key: t.key, units: info[t.field]?.units ?? null, t: s.t, v: s.v });
  }
}

// ---- tail ----------------------------------------------------------------------------------------

export interface TailOptions {
  format: OutputFormat;
  color: boolean;
  write: (text: string) => void;
  /** Stop after this many rows (resolves `done`). */
  count?: number;
  timeoutMs: number;
}

export interface Tail {
  /** Resolves after `count` rows (never without `count`). */
  done: Promise<void>;
  stop(): Promise<void>;
}

/** Subscribes to the targets' nodes and writes one line per sample time. */
export async function startTail(client: SisockClient, targets: Target[], o: TailOptions): Promise<Tail> {
  const nodes = byNode(targets);
  const timelineOf = new Map<string, Record<string, string>>(); // node → field → timeline
  const units: (string | null)[] = targets.map(() => null);
  for (const [node, list] of nodes) {
    const [all] = await fieldsOf(client, node, 1, 0, o.timeoutMs);
    const unknown = list.filter((t) => !all[t.field]);
    if (unknown.length) throw usage(`unknown field ${unknown.map((t) => `"${t.key}"`).join(', ')} (\`sisock fields ${node}\` lists them)`);
    const map: Record<string, string> = {};
    for (const [f, i] of Object.entries(all)) map[f] = i.timeline;
    timelineOf.set(node, map);
    targets.forEach((t, c) => {
      if (t.node === node) units[c] = all[t.field]?.units ?? null;
    });
  }
  const stream = new RowStream(
    targets.map((t) => t.key),
    units,
    o.format,
    o.color,
  );
  o.write(stream.header());
  let rows = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  const handles: Handle[] = [];
  for (const [node] of nodes) {
    const cols = targets.map((t, c) => ({ t, c })).filter(({ t }) => t.node === node);
    handles.push(
      await subscribeLive(client, node, (res) => {
        if (o.count !== undefined && rows >= o.count) return;
        if (!res || typeof res !== 'object' || typeof res.data !== 'object' || typeof res.timeline !== 'object') return;
        const byTime = new Map<number, Sample[]>();
        for (const { t, c } of cols) {
          const s = seriesOf(res, t.field, timelineOf.get(node)![t.field]);
          s.t.forEach((time, i) => {
            let row = byTime.get(time);
            if (!row) byTime.set(time, (row = targets.map(() => null)));
            row[c] = s.v[i] ?? null;
          });
        }
        for (const time of [...byTime.keys()].sort((a, b) => a - b)) {
          if (o.count !== undefined && rows >= o.count) break;
          o.write(stream.row(time, byTime.get(time)!));
          rows++;
        }
        if (o.count !== undefined && rows >= o.count) resolveDone();
      }),
    );
  }
  return {
    done,
    async stop() {
      for (const h of handles) await h.remove().catch(() => {});
    },
  };
}
