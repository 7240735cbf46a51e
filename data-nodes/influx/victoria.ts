/**
 * VictoriaMetrics as a sisock data source (`sisock node influx --kind victoria`), over its Prometheus
 * query API: the same design as the InfluxDB source, another dialect.
 *
 * Naming: one field per series, named by its selector in Prometheus notation with sorted labels,
 * `<metric>{label="value",…}` (e.g. `cpu_usage_idle{cpu="cpu0",host="a"}`, or `weather_temperature`
 * without labels; a metric written as InfluxDB line protocol is `<measurement>_<field>`). All numbers;
 * each field its own timeline.
 *
 * get_data: raw → `/api/v1/export` (every stored sample of the series in [start, end)); with
 * min_stride s → `/api/v1/query_range` of `min_over_time(sel[2s])` and `max_over_time(sel[2s])` with
 * step 2s (VictoriaMetrics gives the value of the window that ends at each step: the min is placed at
 * the window's start, clamped into [start, end), the max s later), `avg_over_time(sel[s])` at the
 * window's middle for `reduce: 'mean'`. Windows are Prometheus's (left-open), so a thinned answer may
 * leave out a sample lying exactly on `start`.
 */
import { silentLogger, type Logger } from '../../common/log';
import { redactUrl } from '../../common/redact';
import type { DataResult, DataSource, FieldInfo, FieldsResult, GetDataOptions, Sample, TimelineInfo } from '../sdk/types';

export interface VictoriaSourceOptions {
  url: string;
  /** series selector of what is served (default every series: `{__name__=~".+"}`) */
  match?: string;
  maxFields?: number;
  refreshMs?: number;
  timeoutMs?: number;
  logger?: Logger;
}

/** `{__name__: "m", b: "2", a: "1"}` → `m{a="1",b="2"}`. */
export function selectorOf(labels: Record<string, string>): string {
  const name = labels.__name__ ?? '';
  const rest = Object.keys(labels)
    .filter((k) => k !== '__name__')
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k] ?? '')}`);
  return rest.length ? `${name}{${rest.join(',')}}` : name;
}

export class VictoriaSource implements DataSource {
  private readonly base: string;
  private readonly headers: Record<string, string> = {};
  private fields = new Map<string, Record<string, string>>();
  private loadedAt = 0;
  private readonly log: Logger;
  readonly label: string;

  constructor(readonly o: VictoriaSourceOptions) {
    const u = new URL(o.url);
    if (u.username) {
      const cred = `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`;
      this.headers.authorization = `Basic ${Buffer.from(cred).toString('base64')}`;
    }
    u.username = '';
    u.password = '';
    this.base = u.toString().replace(/\/$/, '');
    this.label = redactUrl(o.url);
    this.log = o.logger ?? silentLogger;
  }

  private async get(pathAndQuery: string): Promise<string> {
    let r: Response;
    try {
      r = await fetch(`${this.base}${pathAndQuery}`, { headers: this.headers, signal: AbortSignal.timeout(this.o.timeoutMs ?? 60000) });
    } catch (e) {
      throw new Error(
        `VictoriaMetrics ${this.label} unreachable: ${(e as Error & { cause?: { code?: string } }).cause?.code ?? (e as Error).message}`,
      );
    }
    const text = await r.text();
    if (!r.ok) throw new Error(`VictoriaMetrics ${this.label}: ${r.status} ${text.slice(0, 300)}`);
    return text;
  }

  private async schema(): Promise<void> {
    if (Date.now() - this.loadedAt < (this.o.refreshMs ?? 60000) && this.fields.size) return;
    // start=0 searches VictoriaMetrics' global index, which missed series whose samples all lie on a
    // day before the one they were written on (Debian's victoria-metrics: samples of 22:00 written after
    // midnight, a backfill); a range of the last 30 days searches its per-day index, which has them.
    // Both, merged.
    const max = this.o.maxFields ?? 20000;
    const fields = new Map<string, Record<string, string>>();
    const recent = String(Math.floor(Date.now() / 1000) - 30 * 86400);
    all: for (const start of ['0', recent]) {
      const q = new URLSearchParams({ 'match[]': this.o.match ?? '{__name__=~".+"}', start });
      const j = JSON.parse(await this.get(`/api/v1/series?${q}`)) as { data?: Array<Record<string, string>> };
      for (const labels of j.data ?? []) {
        const key = selectorOf(labels);
        if (fields.has(key)) continue;
        if (fields.size >= max) {
          this.log.warn({ maxFields: max }, 'more series than --max-fields; the rest is not served');
          break all;
        }
        fields.set(key, labels);
      }
    }
    this.fields = fields;
    this.loadedAt = Date.now();
  }

  async getFields(): Promise<FieldsResult> {
    await this.schema();
    const f: Record<string, FieldInfo> = {};
    const tl: Record<string, TimelineInfo> = {};
    for (const name of this.fields.keys()) {
      f[name] = { description: null, timeline: name, type: 'number', units: null };
      tl[name] = { interval: null, field: [name] };
    }
    return [f, tl];
  }

  private async range(query: string, start: number, end: number, step: number): Promise<Array<[number, number]>> {
    const q = new URLSearchParams({ query, start: String(start), end: String(end), step: `${step}s` });
    const j = JSON.parse(await this.get(`/api/v1/query_range?${q}`)) as { data?: { result?: Array<{ values: Array<[number, string]> }> } };
    return (j.data?.result?.[0]?.values ?? []).map(([t, v]) => [Number(t), Number(v)]);
  }

  async getData(fields: string[], start: number, end: number, minStride: number | null, options?: GetDataOptions): Promise<DataResult> {
    await this.schema();
    const out: DataResult = { data: {}, timeline: {} };
    for (const name of fields) {
      out.data[name] = [];
      if (!this.fields.has(name)) continue;
      const t: number[] = [];
      const v: Sample[] = [];
      if (minStride === null) {
        const q = new URLSearchParams({ 'match[]': name, start: String(start), end: String(end) });
        for (const line of (await this.get(`/api/v1/export?${q}`)).split('\n')) {
          if (!line) continue;
          const s = JSON.parse(line) as { values: number[]; timestamps: number[] };
          s.timestamps.forEach((ms, i) => {
            const x = ms / 1000;
            if (x >= start && x < end) {
              t.push(x);
              v.push(s.values[i] ?? null);
            }
          });
        }
      } else if (options?.reduce === 'mean') {
        for (const [x, y] of await this.range(`avg_over_time(${name}[${minStride}s])`, start + minStride, end, minStride)) {
          t.push(x - minStride / 2);
          v.push(y);
        }
      } else {
        const w = 2 * minStride;
        const mins = await this.range(`min_over_time(${name}[${w}s])`, start + w, end, w);
        const maxs = new Map(await this.range(`max_over_time(${name}[${w}s])`, start + w, end, w));
        for (const [x, mn] of mins) {
          const mx = maxs.get(x);
          t.push(Math.max(start, x - w));
          v.push(mn);
          if (mx !== undefined && mx !== mn) {
            t.push(Math.min(end - 1e-6, x - minStride));
            v.push(mx);
          }
        }
      }
      const order = t.map((_, i) => i).sort((a, b) => (t[a] ?? 0) - (t[b] ?? 0));
      out.data[name] = order.map((i) => v[i] ?? null);
      if (t.length) out.timeline[name] = { t: order.map((i) => t[i] ?? 0), finalized_until: null };
    }
    return out;
  }
}
