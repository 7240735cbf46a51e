/**
 * The bridge's history fallback (`sisock grafana --history [NAME]`, option `history` of startBridge):
 * when a target names a node that is not online, or its get_data fails, or it no longer holds the
 * start of the range, the bridge asks the historian node (`sisock historian`, fields
 * `<node>.<field>`) and says so: the series gets `meta.notices` (Grafana shows them on the panel)
 * and the bridge logs it.
 *
 *   - resolve(node, field): the historian's fields of an offline node (glob patterns as usual);
 *   - offlineFields(online): every field it holds of nodes not online (for /search, /infinity/fields);
 *   - getData(node, fields, timelineOf, …): the historian's answer reshaped as the node's own
 *     (fields of one timeline on one time axis, null where a field has no sample at a time);
 *   - fillOlder(node, answer, …): prepends what the historian holds before the node's oldest sample.
 *
 * A historian that is itself away changes nothing: the original error or answer stands.
 */
import { getData, getFields, type DataResult, type FieldInfo, type SisockClient } from '../../client';
import type { Sample } from '../../contract';
import { silentLogger, type Logger } from '../../common/log';
import { compileGlob } from './pattern';

export const DEFAULT_HISTORY_NODE = 'historian';

export class HistoryFallback {
  /** answers (or node answers with a prefix) that came from the historian → why */
  private readonly served = new WeakMap<DataResult, string>();
  private readonly log: Logger;

  constructor(
    private readonly client: SisockClient,
    readonly node = DEFAULT_HISTORY_NODE,
    logger?: Logger,
    private readonly timeoutMs = 30000,
  ) {
    this.log = logger ?? silentLogger;
  }

  /** The notice for a series taken (partly) from the history, or undefined. */
  noticeFor(answer: DataResult | undefined): string | undefined {
    return answer ? this.served.get(answer) : undefined;
  }

  /** Fields of `nodePattern` (literal or glob) × `fieldPattern` the historian holds, as the node's own names. */
  async resolve(nodePattern: string, fieldPattern: string): Promise<Array<{ node: string; field: string; info: FieldInfo }>> {
    let fields: Record<string, FieldInfo>;
    try {
      [fields] = await getFields(this.client, this.node, 1, 0);
    } catch {
      return [];
    }
    const nm = compileGlob(nodePattern);
    const fm = compileGlob(fieldPattern);
    const out: Array<{ node: string; field: string; info: FieldInfo }> = [];
    for (const [q, info] of Object.entries(fields)) {
      const dot = q.indexOf('.');
      if (dot <= 0) continue;
      const node = q.slice(0, dot);
      const field = q.slice(dot + 1);
      if (nm(node) && fm(field)) out.push({ node, field, info: { ...info, timeline: q } });
    }
    return out;
  }

  /**
   * The fields the historian holds of nodes that are not online (`online`: the names of those that
   * are), so /search and /infinity/fields still list a stopped node's fields. The historian's own
   * node is never listed as one of them.
   */
  async offlineFields(online: ReadonlySet<string>): Promise<Array<{ node: string; field: string; info: FieldInfo }>> {
    const all = await this.resolve('*', '*');
    return all.filter((x) => !online.has(x.node) && x.node !== this.node);
  }

  /** The historian's samples of `node`'s fields, shaped like the node's answer (timelines from `timelineOf`). */
  async getData(
    node: string,
    fields: string[],
    timelineOf: (field: string) => string,
    start: number,
    end: number,
    stride: number | null,
    why: string,
  ): Promise<DataResult> {
    const h = await getData(
      this.client,
      this.node,
      fields.map((f) => `${node}.${f}`),
      start,
      end,
      stride,
      { timeoutMs: this.timeoutMs },
    );
    const out = regroup(node, fields, timelineOf, h);
    this.served.set(out, `from the historian: ${why}`);
    this.log.info({ node, fields: fields.length, why }, 'answered from the historian');
    return out;
  }

  /** Prepends the historian's samples before the node's oldest one (per timeline), when it has any. */
  async fillOlder(
    node: string,
    answer: DataResult,
    fields: string[],
    timelineOf: (field: string) => string,
    start: number,
    stride: number | null,
  ): Promise<DataResult> {
    const slack = Math.max(2 * (stride ?? 0), 1);
    const byTl = new Map<string, string[]>();
    for (const f of fields) {
      const tl = timelineOf(f);
      const list = byTl.get(tl) ?? [];
      list.push(f);
      byTl.set(tl, list);
    }
    let filled = false;
    for (const [tl, fs] of byTl) {
      const first = answer.timeline[tl]?.t[0] ?? Infinity;
      if (!(first > start + slack)) continue;
      const end = Number.isFinite(first) ? first : start + 1e12;
      let h: DataResult;
      try {
        h = await getData(
          this.client,
          this.node,
          fs.map((f) => `${node}.${f}`),
          start,
          Math.min(end, Date.now() / 1000 + 1),
          stride,
          { timeoutMs: this.timeoutMs },
        );
      } catch {
        return answer;
      }
      const older = regroup(node, fs, () => tl, h);
      const ot = older.timeline[tl]?.t ?? [];
      if (ot.length === 0) continue;
      filled = true;
      const cur = answer.timeline[tl];
      const n = cur?.t.length ?? 0;
      answer.timeline[tl] = { t: [...ot, ...(cur?.t ?? [])], finalized_until: cur?.finalized_until ?? null };
      for (const f of fs) {
        const mine = answer.data[f];
        answer.data[f] = [
          ...(older.data[f] ?? new Array<Sample>(ot.length).fill(null)),
          ...(mine && mine.length === n ? mine : new Array<Sample>(n).fill(null)),
        ];
      }
    }
    if (filled) {
      this.served.set(answer, `older part from the historian: node "${node}" no longer holds it`);
      this.log.info({ node }, 'older part of the range from the historian');
    }
    return answer;
  }
}

/** Historian answer (`<node>.<field>`, one timeline each) → the node's shape: fields of a timeline on one axis. */
function regroup(node: string, fields: string[], timelineOf: (field: string) => string, h: DataResult): DataResult {
  const out: DataResult = { data: {}, timeline: {} };
  const byTl = new Map<string, string[]>();
  for (const f of fields) {
    const tl = timelineOf(f);
    byTl.set(tl, [...(byTl.get(tl) ?? []), f]);
  }
  for (const [tl, fs] of byTl) {
    const all = new Set<number>();
    for (const f of fs) for (const t of h.timeline[`${node}.${f}`]?.t ?? []) all.add(t);
    const t = [...all].sort((a, b) => a - b);
    const pos = new Map(t.map((x, i) => [x, i]));
    for (const f of fs) {
      const col = new Array<Sample>(t.length).fill(null);
      const ft = h.timeline[`${node}.${f}`]?.t ?? [];
      const fv = h.data[`${node}.${f}`] ?? [];
      ft.forEach((x, i) => {
        const at = pos.get(x);
        if (at !== undefined) col[at] = fv[i] ?? null;
      });
      out.data[f] = t.length ? col : [];
    }
    if (t.length) out.timeline[tl] = { t, finalized_until: null };
  }
  return out;
}
