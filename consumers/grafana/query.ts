/**
 * The query engine: a parsed /query → one `get_data` per node (all of that node's fields in one
 * call, nodes in parallel) → series in ascending time, downsampled to the point budget with
 * per-bucket min/max (downsample.ts), timestamps in ms.
 *
 * `min_stride` sent to nodes: span / maxDataPoints (mode `auto`), so a node that follows the SDK's
 * advice (per-bucket extremes, as the example nodes do) sends about maxDataPoints samples instead of
 * the raw range, and the bridge reduces that to at most maxDataPoints keeping the extremes. A node
 * that only thins would lose spikes there: run the bridge with `nodeStride: 'off'` for such nodes
 * (the bridge then fetches raw data and does all the reduction itself).
 */
import { getData, type DataResult, type FieldInfo, type SisockClient } from '../../client';
import type { Sample } from '../../client/data';
import { nodeCallError, type FieldCatalogue, type HubEvent } from './catalogue';
import { minMaxIndices } from './downsample';
import { badRequest, HttpError } from './errors';
import type { HistoryFallback } from './history';
import { compileFilters, splitTarget, type MsRange, type ParsedQuery, type ParsedTarget } from './request';

/** Grafana's QueryResultMeta, the part we send: notices shown on the panel. */
export interface QueryMeta {
  notices: Array<{ severity: 'info' | 'warning' | 'error'; text: string }>;
}
/** `error` and `meta` only on a target that could not be answered (see QueryEngine.query). */
export interface TimeSeriesResult {
  target: string;
  refId?: string;
  datapoints: Array<[Sample, number]>;
  error?: string;
  meta?: QueryMeta;
}
export interface TableColumn {
  text: string;
  type: 'time' | 'number' | 'string' | 'boolean';
}
export interface TableResult {
  type: 'table';
  refId?: string;
  target?: string;
  columns: TableColumn[];
  rows: Sample[][];
  error?: string;
  meta?: QueryMeta;
}
/** Notices on a series (the historian's among them). */
export type SeriesMeta = QueryMeta;
export type QueryResult = TimeSeriesResult | TableResult;

export interface QueryEngineOptions {
  /** `auto`: ask nodes for min_stride = span / maxDataPoints; `off`: always raw. */
  nodeStride?: 'auto' | 'off';
  /** Timeout of one get_data, ms (default 30000). */
  callTimeoutMs?: number;
  /** Most annotations in one answer (default 1000). */
  maxAnnotations?: number;
  /**
   * Most points (datapoints, table rows) in one /query answer, over all series (default
   * 5,000,000); more → 400 asking for a lower maxDataPoints or fewer targets.
   */
  maxTotalPoints?: number;
  /** Ask the historian for offline nodes and for ranges a node no longer holds (history.ts). */
  history?: HistoryFallback;
}

/** One requested field. */
interface Want {
  node: string;
  field: string;
  info: FieldInfo;
  name: string;
}

/** seconds → ms, keeping µs resolution without float noise (1700000000.1 → 1700000000100). */
export function toMs(t: number): number {
  return Math.round(t * 1e6) / 1e3;
}

/** The times and values of one field in a get_data answer, ascending. */
export function columnOf(res: DataResult, field: string, timeline: string | undefined): { t: number[]; v: Sample[] } {
  const v = res.data?.[field] ?? [];
  let t = timeline ? res.timeline?.[timeline]?.t : undefined;
  if (!t || t.length !== v.length) {
    // Timeline not named as expected: the one timeline of matching length.
    t = Object.values(res.timeline ?? {}).find((tl) => tl.t.length === v.length)?.t ?? [];
  }
  if (t.length !== v.length) return { t: [], v: [] };
  for (let i = 1; i < t.length; i++) {
    if (t[i]! < t[i - 1]!) {
      // 0 < i < length
      const rows = t.map((x, k) => [x, v[k] ?? null] as const).sort((a, b) => a[0] - b[0]); // stable
      return { t: rows.map(([x]) => x), v: rows.map(([, x]) => x) };
    }
  }
  return { t, v };
}

function columnType(info: FieldInfo | undefined): TableColumn['type'] {
  return info?.type === 'string' ? 'string' : info?.type === 'bool' ? 'boolean' : 'number';
}

export class QueryEngine {
  private readonly nodeStride: 'auto' | 'off';
  private readonly timeout: number;
  private readonly maxAnnotations: number;
  private readonly maxTotalPoints: number;
  private readonly history: HistoryFallback | undefined;

  constructor(
    readonly client: SisockClient,
    readonly catalogue: FieldCatalogue,
    opts: QueryEngineOptions = {},
  ) {
    this.nodeStride = opts.nodeStride ?? 'auto';
    this.timeout = opts.callTimeoutMs ?? 30000;
    this.maxAnnotations = opts.maxAnnotations ?? 1000;
    this.maxTotalPoints = opts.maxTotalPoints ?? 5_000_000;
    this.history = opts.history;
  }

  /** The catalogue's fields of a target; with a historian, those it holds of a node that is not online. */
  private async resolveTarget(node: string, field: string): Promise<Array<{ node: string; field: string; info: FieldInfo }>> {
    try {
      return await this.catalogue.resolve(node, field);
    } catch (err) {
      if (!this.history || !(err instanceof HttpError) || err.status !== 404) throw err;
      const r = await this.history.resolve(node, field);
      if (r.length === 0) throw err;
      return r;
    }
  }

  private timelineOf(node: string): (field: string) => string {
    const fields = this.catalogue.nodes().find((n) => n.name === node)?.fields;
    return (f) => fields?.[f]?.timeline ?? `${node}.${f}`;
  }

  /** get_data on each node once, in parallel: node → answer; the first failure rejects. */
  async fetch(byNode: Map<string, Set<string>>, range: MsRange, maxPoints: number): Promise<Map<string, DataResult>> {
    const settled = await this.fetchSettled(byNode, range, maxPoints);
    const out = new Map<string, DataResult>();
    for (const [node, r] of settled) {
      if (r instanceof HttpError) throw r;
      out.set(node, r);
    }
    return out;
  }

  /** get_data on each node once, in parallel: node → answer, or the error naming that node. */
  async fetchSettled(byNode: Map<string, Set<string>>, range: MsRange, maxPoints: number): Promise<Map<string, DataResult | HttpError>> {
    const start = range.from / 1000;
    const end = range.to / 1000;
    const stride = this.nodeStride === 'auto' && maxPoints > 0 ? (end - start) / maxPoints : null;
    const entries = await Promise.all(
      [...byNode].map(async ([node, fields]) => {
        try {
          const r = await getData(this.client, node, [...fields], start, end, stride, { timeoutMs: this.timeout });
          return [
            node,
            this.history ? await this.history.fillOlder(node, r, [...fields], this.timelineOf(node), start, stride) : r,
          ] as const;
        } catch (err) {
          const e = nodeCallError(node, err, this.timeout);
          if (this.history) {
            const why = e.status === 404 ? `node "${node}" is offline` : `node "${node}" failed (${e.message})`;
            const h = await this.history.getData(node, [...fields], this.timelineOf(node), start, end, stride, why).catch(() => null);
            if (h) return [node, h] as const;
          }
          return [node, e] as const;
        }
      }),
    );
    return new Map<string, DataResult | HttpError>(entries);
  }

  /**
   * Answers every target it can. A target whose pattern does not resolve, or whose node failed or
   * did not answer, gets an empty series (or table) carrying the reason twice: `error` (for people
   * with curl) and `meta.notices` (Grafana turns a series' meta into its data frame's meta and shows
   * notices on the panel). When nothing at all could be answered, the first failure is thrown
   * (its 4xx/5xx status and message), as it is for any failure with `strict` (Infinity endpoints).
   */
  async query(q: ParsedQuery, opts: { strict?: boolean } = {}): Promise<QueryResult[]> {
    await this.catalogue.ensureSynced();
    const allow = compileFilters(q.filters);
    // Identical targets (Grafana repeats them, so can a client) are answered once.
    const seen = new Set<string>();
    const targets = q.targets.filter((t) => {
      const key = JSON.stringify([t.target, t.refId ?? null, t.format, t.kind, t.maxDataPoints ?? null, t.annotations]);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    /** target → the fields it asked for, or why it cannot be resolved; each distinct pattern resolved once */
    const wantsOf = new Map<ParsedTarget, Want[] | HttpError>();
    const resolvedBy = new Map<string, Want[] | HttpError>();
    for (const target of targets) {
      if (target.kind === 'events') continue;
      const key = `${target.node}\u0000${target.field}`;
      let list = resolvedBy.get(key);
      if (!list) {
        try {
          const wants: Want[] = [];
          for (const r of await this.resolveTarget(target.node, target.field)) {
            if (allow(r.node, r.field)) wants.push({ ...r, name: `${r.node}::${r.field}` });
          }
          list = wants;
        } catch (err) {
          if (opts.strict || !(err instanceof HttpError) || err.status === 503) throw err;
          list = err;
        }
        resolvedBy.set(key, list);
      }
      wantsOf.set(target, list);
    }
    const byNode = new Map<string, Set<string>>();
    for (const list of resolvedBy.values()) {
      if (list instanceof HttpError) continue;
      for (const w of list) {
        let s = byNode.get(w.node);
        if (!s) byNode.set(w.node, (s = new Set()));
        s.add(w.field);
      }
    }
    const budget = Math.max(q.maxDataPoints, ...targets.map((t) => t.maxDataPoints ?? 0));
    const answers = byNode.size ? await this.fetchSettled(byNode, q.range, budget) : new Map<string, DataResult | HttpError>();
    const failures: HttpError[] = [];
    for (const list of resolvedBy.values()) if (list instanceof HttpError) failures.push(list);
    for (const a of answers.values()) if (a instanceof HttpError) failures.push(a);
    const first = failures[0];
    const anyAnswered = targets.some((t) => t.kind === 'events') || [...answers.values()].some((a) => !(a instanceof HttpError));
    if (first && (opts.strict || !anyAnswered)) throw first;

    let points = 0;
    const count = (n: number) => {
      points += n;
      if (points > this.maxTotalPoints) {
        throw badRequest(`the answer would have more than ${this.maxTotalPoints} points: lower maxDataPoints or query fewer targets`);
      }
    };
    const out: QueryResult[] = [];
    for (const target of targets) {
      if (target.kind === 'events') {
        const table = this.eventsTable(this.catalogue.events(q.range.from, q.range.to), target.refId);
        count(table.rows.length);
        out.push(table);
        continue;
      }
      const wants = wantsOf.get(target) ?? [];
      if (wants instanceof HttpError) {
        out.push(this.failed(target, [wants.message]));
        continue;
      }
      const problems: string[] = [];
      for (const w of wants) {
        const answer = answers.get(w.node);
        if (answer instanceof HttpError || !answer) {
          const why = answer?.message ?? `node "${w.node}" gave no answer`;
          if (!problems.includes(why)) problems.push(why);
          continue;
        }
        const notice = this.history?.noticeFor(answer);
        const meta = notice ? { meta: { notices: [{ severity: 'info' as const, text: notice }] } } : {};
        const { t, v } = columnOf(answer, w.field, w.info.timeline);
        if (target.annotations) {
          const table = this.changesTable(w.name, t, v, target.refId);
          count(table.rows.length);
          out.push(table);
          continue;
        }
        const max = target.maxDataPoints ?? q.maxDataPoints;
        const idx = minMaxIndices(t, v, max, q.range.from / 1000, q.range.to / 1000);
        count(idx.length);
        if (target.format === 'table') {
          // idx holds indexes of t (and v, of the same length)
          const rows: Sample[][] = idx.map((i) => [toMs(t[i]!), v[i] ?? null]);
          out.push({
            type: 'table',
            refId: target.refId,
            target: w.name,
            columns: [
              { text: 'Time', type: 'time' },
              { text: w.name, type: columnType(w.info) },
            ],
            rows,
            ...meta,
          });
        } else {
          const bool = w.info.type === 'bool';
          const datapoints: Array<[Sample, number]> = idx.map((i) => {
            const x = v[i] ?? null;
            return [bool && typeof x === 'boolean' ? (x ? 1 : 0) : x, toMs(t[i]!)];
          });
          out.push({ target: w.name, refId: target.refId, datapoints, ...meta });
        }
      }
      if (problems.length) out.push(this.failed(target, problems));
    }
    return out;
  }

  /** An empty answer for a target (or the part of it) that could not be answered, with the reasons. */
  private failed(target: ParsedTarget, reasons: string[]): QueryResult {
    const error = reasons.join('; ');
    const meta: QueryMeta = { notices: reasons.map((text) => ({ severity: 'error', text })) };
    if (target.format === 'table') return { type: 'table', refId: target.refId, target: target.target, columns: [], rows: [], error, meta };
    return { target: target.target, refId: target.refId, datapoints: [], error, meta };
  }

  /** Hub events as a table Grafana maps onto annotations (time, title, text, tags). */
  eventsTable(events: HubEvent[], refId?: string): TableResult {
    return {
      type: 'table',
      refId,
      target: 'events',
      columns: [
        { text: 'time', type: 'time' },
        { text: 'title', type: 'string' },
        { text: 'text', type: 'string' },
        { text: 'tags', type: 'string' },
      ],
      rows: events
        .slice(-this.maxAnnotations)
        .map((e) => [e.time, `${e.name} ${e.kind === 'added' ? 'online' : 'offline'}`, e.description, `sisock,node,${e.kind}`]),
    };
  }

  /** Indices where a field's value changes (the first sample counts), at most maxAnnotations. */
  changes(v: Sample[]): number[] {
    const idx: number[] = [];
    for (let i = 0; i < v.length && idx.length < this.maxAnnotations; i++) {
      if (v[i] === null || v[i] === undefined) continue;
      const last = idx.at(-1);
      if (last === undefined || v[i] !== v[last]) idx.push(i);
    }
    return idx;
  }

  changesTable(name: string, t: number[], v: Sample[], refId?: string): TableResult {
    return {
      type: 'table',
      refId,
      target: name,
      columns: [
        { text: 'time', type: 'time' },
        { text: 'title', type: 'string' },
        { text: 'text', type: 'string' },
        { text: 'tags', type: 'string' },
      ],
      rows: this.changes(v).map((i) => [toMs(t[i]!), name, String(v[i]), 'sisock']),
    };
  }

  /**
   * simple-json /annotations: '' or `events` → the node events the bridge saw; other free text →
   * those of them matching the text (or `[]`); `<node>::<field>`
   * → one annotation per change of the field's value (raw data, at most maxAnnotations).
   */
  async annotations(range: MsRange, query: string, annotation: Record<string, unknown>): Promise<Array<Record<string, unknown>>> {
    await this.catalogue.ensureSynced();
    if (!query.includes('::')) {
      // '' or `events`: every node event; any other free text: the events whose node, state or
      // description contains it (case-insensitive), or none. Never a 400: a text box is not a target.
      const needle = query === 'events' ? '' : query.toLowerCase();
      const title = (e: HubEvent) => `${e.name} ${e.kind === 'added' ? 'online' : 'offline'}`;
      return this.catalogue
        .events(range.from, range.to)
        .filter((e) => needle === '' || `${title(e)}\n${e.kind}\n${e.description}`.toLowerCase().includes(needle))
        .slice(-this.maxAnnotations)
        .map((e) => ({ annotation, time: e.time, title: title(e), text: e.description, tags: ['sisock', 'node', e.kind] }));
    }
    const { node, field } = splitTarget(query);
    const resolved = await this.catalogue.resolve(node, field);
    if (resolved.length > 20) throw badRequest(`annotation query "${query}" matches ${resolved.length} fields (at most 20)`);
    const byNode = new Map<string, Set<string>>();
    for (const r of resolved) {
      if (!byNode.has(r.node)) byNode.set(r.node, new Set());
      byNode.get(r.node)!.add(r.field);
    }
    const answers = await this.fetch(byNode, range, 0); // raw: every change counts
    const out: Array<Record<string, unknown>> = [];
    for (const r of resolved) {
      const { t, v } = columnOf(answers.get(r.node)!, r.field, r.info.timeline);
      for (const i of this.changes(v)) {
        out.push({ annotation, time: toMs(t[i]!), title: `${r.node}::${r.field}`, text: String(v[i]), tags: ['sisock', r.node] });
      }
    }
    return out.sort((a, b) => (a.time as number) - (b.time as number)).slice(0, this.maxAnnotations);
  }
}
