/**
 * The weather node's DataSource: a directory of archive files in the original sisock weather format
 * (see `format.ts`), one field per `*.dat` file, fields grouped into timelines by their header.
 *
 * Files are parsed once and kept in memory as typed arrays; a request looks at the directory again
 * (at most every `rescanMs`) and re-reads only files whose size or mtime changed, so an archive that
 * grows is served without a restart. A request touches only the samples in `[start, end)` (binary
 * search). Malformed lines are skipped and counted, logged once per file version.
 *
 * Replay (`replay: true`): the archive, whose span is rounded up to whole days (period P), is mapped
 * onto the sliding window `[now - P, now)`: real time t shows the archive at
 * `A0 + ((t - A0) mod P)`, where A0 is the UTC midnight on or before the first sample. The time of
 * day is preserved, so the diurnal cycle stays in phase; the window wraps once per period.
 */
import { promises as fsp } from 'fs';
import * as path from 'path';
import type { DataResult, DataSource, FieldInfo, FieldsResult, Sample, TimelineInfo } from '../sdk/types';
import { silentLogger, type Logger } from '../../common/log';
import { downsampleMinMax, lowerBound } from '../sdk/downsample';
import { medianInterval, parseWeatherFile, type ParsedWeatherFile } from './format';

export const WEATHER_FILE_SUFFIX = '.dat';
const DAY = 86400;

export interface WeatherSourceOptions {
  dataDir: string;
  logger?: Logger;
  /** Map the archive onto the last P seconds before now (see the header). Default false. */
  replay?: boolean;
  /** Clock in UNIX seconds; for tests. */
  now?: () => number;
  /** Minimum time between two looks at the directory, ms. Default 2000; 0 looks on every request. */
  rescanMs?: number;
}

interface FileEntry {
  field: string;
  path: string;
  mtimeMs: number;
  size: number;
  parsed: ParsedWeatherFile;
  /** Median spacing of the samples, seconds (null with fewer than two). */
  interval: number | null;
}

/** A stretch of archive time and the shift that maps it to real time. */
interface Segment {
  start: number;
  end: number;
  shift: number;
}

export class WeatherSource implements DataSource {
  private readonly files = new Map<string, FileEntry>(); // field name → its file
  private lastScan = -Infinity;
  private frame: { a0: number; period: number } | null = null;
  private scanning: Promise<void> | null = null;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly rescanMs: number;

  constructor(private readonly opts: WeatherSourceOptions) {
    this.logger = opts.logger ?? silentLogger;
    this.now = opts.now ?? (() => Date.now() / 1000);
    this.rescanMs = opts.rescanMs ?? 2000;
  }

  /** Look at the directory now (also done lazily by every request). Throws if it cannot be read. */
  async refresh(force = false): Promise<void> {
    if (!force && Date.now() - this.lastScan < this.rescanMs) return;
    if (this.scanning) return this.scanning;
    this.scanning = this.scan().finally(() => {
      this.scanning = null;
      this.lastScan = Date.now();
    });
    return this.scanning;
  }

  private async scan(): Promise<void> {
    const names = (await fsp.readdir(this.opts.dataDir)).filter((n) => n.endsWith(WEATHER_FILE_SUFFIX)).sort();
    const seen = new Set<string>();
    for (const name of names) {
      const field = name.slice(0, -WEATHER_FILE_SUFFIX.length);
      if (field === '') continue;
      const p = path.join(this.opts.dataDir, name);
      let st;
      try {
        st = await fsp.stat(p);
      } catch {
        continue; // vanished between readdir and stat
      }
      if (!st.isFile()) continue;
      seen.add(field);
      const old = this.files.get(field);
      if (old && old.mtimeMs === st.mtimeMs && old.size === st.size) continue;
      let content: Buffer;
      try {
        content = await fsp.readFile(p);
      } catch (err) {
        this.logger.warn({ file: p, err: String(err) }, 'weather: cannot read data file, skipped');
        continue;
      }
      const parsed = parseWeatherFile(content);
      if (parsed.badLines > 0) {
        this.logger.warn({ file: p, badLines: parsed.badLines, firstBadLine: parsed.firstBadLine }, 'weather: skipped malformed lines');
      }
      this.files.set(field, { field, path: p, mtimeMs: st.mtimeMs, size: st.size, parsed, interval: medianInterval(parsed.t) });
    }
    for (const field of [...this.files.keys()]) if (!seen.has(field)) this.files.delete(field);
    this.frame = this.replayFrame();
  }

  /** Field names currently known, sorted. */
  fieldNames(): string[] {
    return [...this.files.keys()].sort();
  }

  private timelineOf(e: FileEntry): string {
    return e.parsed.header.timeline ?? e.field;
  }

  /** timeline → its files, in field-name order. */
  private timelines(): Map<string, FileEntry[]> {
    const out = new Map<string, FileEntry[]>();
    for (const field of this.fieldNames()) {
      const e = this.files.get(field)!;
      const tl = this.timelineOf(e);
      let list = out.get(tl);
      if (!list) out.set(tl, (list = []));
      list.push(e);
    }
    return out;
  }

  private timelineInterval(entries: FileEntry[]): number | null {
    for (const e of entries) if (e.interval !== null) return e.interval;
    return null;
  }

  /** The archive's replay period and anchor, or null when there is no data. */
  private replayFrame(): { a0: number; period: number } | null {
    let lo = Infinity;
    let hi = -Infinity;
    let step = 0;
    for (const e of this.files.values()) {
      const [first] = e.parsed.t;
      const last = e.parsed.t.at(-1);
      if (first === undefined || last === undefined) continue;
      lo = Math.min(lo, first);
      hi = Math.max(hi, last);
      step = Math.max(step, e.interval ?? 0);
    }
    if (!Number.isFinite(lo)) return null;
    const a0 = Math.floor(lo / DAY) * DAY;
    const period = Math.max(1, Math.ceil((hi + step - a0) / DAY)) * DAY;
    return { a0, period };
  }

  /** The archive stretches to read for the real interval [start, end). */
  private segments(start: number, end: number): Segment[] {
    if (!this.opts.replay) return start < end ? [{ start, end, shift: 0 }] : [];
    const frame = this.frame;
    if (!frame) return [];
    const { a0, period } = frame;
    const now = this.now();
    const s = Math.max(start, now - period);
    const e = Math.min(end, now);
    if (!(s < e)) return [];
    const out: Segment[] = [];
    for (let k = Math.floor((s - a0) / period); a0 + k * period < e; k++) {
      const shift = k * period;
      const segStart = Math.max(s - shift, a0);
      const segEnd = Math.min(e - shift, a0 + period);
      if (segStart < segEnd) out.push({ start: segStart, end: segEnd, shift });
    }
    return out;
  }

  /** Samples of one file in the real interval [start, end), in time order. */
  private slice(e: FileEntry, segs: Segment[]): { t: number[]; v: Sample[] } {
    const t: number[] = [];
    const v: Sample[] = [];
    const { t: ft, v: fv } = e.parsed;
    for (const seg of segs) {
      const i0 = lowerBound(ft, seg.start);
      const i1 = lowerBound(ft, seg.end, i0);
      for (let i = i0; i < i1; i++) {
        const x = fv[i] ?? NaN;
        t.push(ft[i]! + seg.shift); // i < i1 <= ft.length
        v.push(Number.isNaN(x) ? null : x);
      }
    }
    return { t, v };
  }

  private hasSampleIn(e: FileEntry, segs: Segment[]): boolean {
    const ft = e.parsed.t;
    return segs.some((seg) => {
      const first = ft[lowerBound(ft, seg.start)];
      return first !== undefined && first < seg.end;
    });
  }

  /** The newest sample time (in replay: now, as the window ends there), or null without data. */
  newestSample(): number | null {
    if (this.opts.replay) return this.frame ? this.now() : null;
    let newest: number | null = null;
    for (const e of this.files.values()) {
      const last = e.parsed.t.at(-1);
      if (last !== undefined && (newest === null || last > newest)) newest = last;
    }
    return newest;
  }

  async getFields(start: number, end: number): Promise<FieldsResult> {
    await this.refresh();
    const segs = this.segments(start, end);
    const fields: Record<string, FieldInfo> = {};
    const timelines: Record<string, TimelineInfo> = {};
    for (const [tl, entries] of this.timelines()) {
      const present = entries.filter((e) => this.hasSampleIn(e, segs));
      if (present.length === 0) continue;
      timelines[tl] = { interval: this.timelineInterval(entries), field: present.map((e) => e.field) };
      for (const e of present) {
        fields[e.field] = {
          description: e.parsed.header.description,
          timeline: tl,
          type: 'number',
          units: e.parsed.header.units,
        };
      }
    }
    return [fields, timelines];
  }

  async getData(fields: string[], start: number, end: number, minStride: number | null): Promise<DataResult> {
    await this.refresh();
    const segs = this.segments(start, end);
    const result: DataResult = { data: {}, timeline: {} };
    const byTimeline = new Map<string, FileEntry[]>();
    for (const f of fields) {
      result.data[f] = [];
      const e = this.files.get(f);
      if (!e) continue;
      const tl = this.timelineOf(e);
      let list = byTimeline.get(tl);
      if (!list) byTimeline.set(tl, (list = []));
      if (!list.includes(e)) list.push(e);
    }
    for (const [tl, entries] of byTimeline) {
      const slices = entries.map((e) => this.slice(e, segs));
      if (slices.every((s) => s.t.length === 0)) continue;
      const merged = mergeOnTime(slices);
      const ds = downsampleMinMax(merged.t, merged.columns, minStride);
      entries.forEach((e, i) => (result.data[e.field] = ds.columns[i] ?? []));
      let finalized: number | null;
      if (this.opts.replay) finalized = this.now();
      else {
        finalized = -Infinity;
        for (const e of entries) finalized = Math.max(finalized, e.parsed.t.at(-1) ?? -Infinity);
        if (!Number.isFinite(finalized)) finalized = null;
      }
      result.timeline[tl] = { t: ds.t, finalized_until: finalized };
    }
    return result;
  }
}

/**
 * Outer join of several (t, v) series on time. When all have the same times (the usual case: files
 * of one timeline written together) that is a plain copy; otherwise a missing value is null.
 */
export function mergeOnTime(series: { t: number[]; v: Sample[] }[]): { t: number[]; columns: Sample[][] } {
  const first = series[0]?.t ?? [];
  const same = series.every((s) => s.t.length === first.length && s.t.every((x, i) => x === first[i]));
  if (same) return { t: first, columns: series.map((s) => s.v) };
  const all = new Set<number>();
  for (const s of series) for (const x of s.t) all.add(x);
  const t = [...all].sort((a, b) => a - b);
  const index = new Map(t.map((x, i) => [x, i]));
  const columns = series.map((s) => {
    const col: Sample[] = new Array(t.length).fill(null);
    s.t.forEach((x, i) => (col[index.get(x)!] = s.v[i] ?? null)); // every time of s is in index
    return col;
  });
  return { t, columns };
}
