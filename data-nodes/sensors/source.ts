/**
 * The sensors node's DataSource: this host's own telemetry, sampled every `interval` seconds into a
 * bounded ring buffer (one timeline, `sensors`) and pushed live through `onSample`.
 *
 * Fields (each present only when its source can be read at start-up, so a container without hwmon
 * simply has no `temp_*` fields):
 *   cpu_usage            %     busy share of all CPUs since the previous sample (/proc/stat deltas)
 *   load_1, load_5, load_15     load averages (/proc/loadavg)
 *   mem_used             %     (MemTotal - MemAvailable) / MemTotal (/proc/meminfo)
 *   mem_available        MiB
 *   swap_used            MiB   (only when there is swap)
 *   disk_used            %     of the file system holding `diskPath` (statfs, as df counts it)
 *   disk_free            GiB   available to unprivileged users
 *   net_<if>_rx, net_<if>_tx   B/s   byte rates per interface except lo (/proc/net/dev deltas)
 *   temp_<chip>_<label>  C     hwmon temperatures (/sys/class/hwmon/<hwmonN>/temp<i>_input)
 * Rates and cpu_usage are null in the first sample (no previous reading).
 */
import { promises as fsp } from 'fs';
import * as path from 'path';
import type { DataResult } from '../sdk/types';
import { silentLogger, type Logger } from '../../common/log';
import { PeriodicRingSource, RingSource, type RingFieldSpec } from '../sdk/ring-source';
import {
  counterRate,
  cpuUsagePercent,
  parseLoadavg,
  parseMeminfo,
  parseNetDev,
  parseProcStat,
  sanitizeName,
  type CpuTimes,
  type NetCounters,
} from './procfs';

export const SENSORS_TIMELINE = 'sensors';
export const DEFAULT_SENSORS_INTERVAL = 5;
export const DEFAULT_SENSORS_CAPACITY = 17280; // a day at the default interval

export interface SensorsOptions {
  /** Seconds between samples. Default 5. */
  interval?: number;
  /** Samples kept. Default 17280. */
  capacity?: number;
  procRoot?: string;
  sysRoot?: string;
  diskPath?: string;
  logger?: Logger;
  /** Clock in UNIX seconds; for tests. */
  now?: () => number;
  /** Called with each new sample in get_data shape (for the SDK's live push). */
  onSample?: (sample: DataResult) => void;
}

interface HwmonSensor {
  field: string;
  file: string;
}

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

async function readText(p: string): Promise<string | null> {
  try {
    return await fsp.readFile(p, 'utf8');
  } catch {
    return null;
  }
}

export class SensorsSource extends PeriodicRingSource {
  readonly interval: number;
  private hwmon: HwmonSensor[] = [];
  private netIfaces: { iface: string; rx: string; tx: string }[] = [];
  private prevCpu: CpuTimes | null = null;
  private prevNet: Map<string, NetCounters> | null = null;
  private prevT: number | null = null;
  private busy = false;
  private readonly procRoot: string;
  private readonly sysRoot: string;
  private readonly diskPath: string;
  private readonly logger: Logger;
  private readonly now: () => number;

  private constructor(private readonly opts: SensorsOptions) {
    super();
    this.interval = opts.interval ?? DEFAULT_SENSORS_INTERVAL;
    if (!(this.interval > 0) || !Number.isFinite(this.interval))
      throw new RangeError(`sensors interval must be > 0 seconds, got ${opts.interval}`);
    this.procRoot = opts.procRoot ?? '/proc';
    this.sysRoot = opts.sysRoot ?? '/sys';
    this.diskPath = opts.diskPath ?? '/';
    this.logger = opts.logger ?? silentLogger;
    this.now = opts.now ?? (() => Date.now() / 1000);
    this.onSample = opts.onSample;
  }

  /** Discovers which fields this host has. */
  static async create(opts: SensorsOptions = {}): Promise<SensorsSource> {
    const s = new SensorsSource(opts);
    const fields = await s.discover();
    s.ring = new RingSource(SENSORS_TIMELINE, s.interval, fields, opts.capacity ?? DEFAULT_SENSORS_CAPACITY);
    s.logger.info({ fields: fields.map((f) => f.name) }, 'sensors: fields discovered');
    return s;
  }

  private proc(p: string): string {
    return path.join(this.procRoot, p);
  }

  private async discover(): Promise<RingFieldSpec[]> {
    const fields: RingFieldSpec[] = [];
    const stat = await readText(this.proc('stat'));
    if (stat !== null && parseProcStat(stat)) {
      fields.push({ name: 'cpu_usage', description: 'CPU busy share, all CPUs, since the previous sample', units: '%' });
    }
    const load = await readText(this.proc('loadavg'));
    if (load !== null && parseLoadavg(load)) {
      for (const m of [1, 5, 15]) fields.push({ name: `load_${m}`, description: `${m}-minute load average`, units: null });
    }
    const mem = await readText(this.proc('meminfo'));
    if (mem !== null) {
      const mi = parseMeminfo(mem);
      if (mi.has('MemTotal') && mi.has('MemAvailable')) {
        fields.push({ name: 'mem_used', description: 'Memory in use: (MemTotal - MemAvailable) / MemTotal', units: '%' });
        fields.push({ name: 'mem_available', description: 'Memory available for new programs (MemAvailable)', units: 'MiB' });
      }
      if ((mi.get('SwapTotal') ?? 0) > 0 && mi.has('SwapFree')) {
        fields.push({ name: 'swap_used', description: 'Swap in use', units: 'MiB' });
      }
    }
    try {
      await fsp.statfs(this.diskPath);
      fields.push({ name: 'disk_used', description: `Disk space used on the file system of ${this.diskPath}`, units: '%' });
      fields.push({ name: 'disk_free', description: `Disk space available on the file system of ${this.diskPath}`, units: 'GiB' });
    } catch {
      /* no statfs: no disk fields */
    }
    const net = await readText(this.proc('net/dev'));
    if (net !== null) {
      const used = new Set<string>();
      for (const iface of [...parseNetDev(net).keys()].filter((i) => i !== 'lo').sort()) {
        const base = uniqueName(`net_${sanitizeName(iface)}`, used);
        const n = { iface, rx: `${base}_rx`, tx: `${base}_tx` };
        this.netIfaces.push(n);
        fields.push({ name: n.rx, description: `Bytes received per second on ${iface}`, units: 'B/s' });
        fields.push({ name: n.tx, description: `Bytes sent per second on ${iface}`, units: 'B/s' });
      }
    }
    this.hwmon = await this.discoverHwmon();
    for (const h of this.hwmon) fields.push({ name: h.field, description: `hwmon temperature ${h.file}`, units: 'C' });
    return fields;
  }

  private async discoverHwmon(): Promise<HwmonSensor[]> {
    const base = path.join(this.sysRoot, 'class', 'hwmon');
    let dirs: string[];
    try {
      dirs = (await fsp.readdir(base)).sort(naturalCompare);
    } catch {
      return [];
    }
    const out: HwmonSensor[] = [];
    const used = new Set<string>();
    for (const d of dirs) {
      const dir = path.join(base, d);
      const chip = sanitizeName((await readText(path.join(dir, 'name')))?.trim() || d);
      let entries: string[];
      try {
        entries = await fsp.readdir(dir);
      } catch {
        continue;
      }
      const inputs = entries.filter((e) => /^temp\d+_input$/.test(e)).sort(naturalCompare);
      for (const input of inputs) {
        const n = /^temp(\d+)_input$/.exec(input)![1];
        const file = path.join(dir, input);
        if ((await readText(file)) === null) continue; // unreadable sensor (some report EIO/ENODATA)
        const label = (await readText(path.join(dir, `temp${n}_label`)))?.trim();
        out.push({ field: uniqueName(`temp_${chip}_${sanitizeName(label || `temp${n}`)}`, used), file });
      }
    }
    return out;
  }

  /** Read everything once and append the sample. Returns the sample, or null if it was refused. */
  async sampleOnce(): Promise<DataResult | null> {
    const t = this.now();
    const row: Record<string, number | null> = {};
    const has = (f: string) => this.ring.buffer.has(f);
    const dt = this.prevT === null ? 0 : t - this.prevT;

    if (has('cpu_usage')) {
      const text = await readText(this.proc('stat'));
      const cur = text === null ? null : parseProcStat(text);
      row.cpu_usage = cpuUsagePercent(this.prevCpu, cur);
      this.prevCpu = cur;
    }
    if (has('load_1')) {
      const text = await readText(this.proc('loadavg'));
      const l = text === null ? null : parseLoadavg(text);
      [row.load_1, row.load_5, row.load_15] = l ?? [null, null, null];
    }
    if (has('mem_used')) {
      const text = await readText(this.proc('meminfo'));
      const mi = parseMeminfo(text ?? '');
      const total = mi.get('MemTotal');
      const avail = mi.get('MemAvailable');
      row.mem_used = total && avail !== undefined ? (100 * (total - avail)) / total : null;
      row.mem_available = avail !== undefined ? avail / MiB : null;
      if (has('swap_used')) {
        const st = mi.get('SwapTotal');
        const sf = mi.get('SwapFree');
        row.swap_used = st !== undefined && sf !== undefined ? (st - sf) / MiB : null;
      }
    }
    if (has('disk_used')) {
      try {
        const s = await fsp.statfs(this.diskPath);
        const used = (s.blocks - s.bfree) * s.bsize;
        const usable = used + s.bavail * s.bsize; // as df: used / (used + available to users)
        row.disk_used = usable > 0 ? (100 * used) / usable : null;
        row.disk_free = (s.bavail * s.bsize) / GiB;
      } catch {
        row.disk_used = row.disk_free = null;
      }
    }
    if (this.netIfaces.length) {
      const text = await readText(this.proc('net/dev'));
      const cur = text === null ? null : parseNetDev(text);
      for (const { iface, rx, tx } of this.netIfaces) {
        const p = this.prevNet?.get(iface);
        const c = cur?.get(iface);
        row[rx] = counterRate(p?.rxBytes, c?.rxBytes, dt);
        row[tx] = counterRate(p?.txBytes, c?.txBytes, dt);
      }
      this.prevNet = cur;
    }
    for (const h of this.hwmon) {
      const text = await readText(h.file);
      const v = text === null ? NaN : Number(text.trim());
      row[h.field] = Number.isFinite(v) ? v / 1000 : null;
    }
    this.prevT = t;
    const sample = this.ring.append(t, row);
    if (sample) this.onSample?.(sample);
    return sample;
  }

  /** start(): a sample now and then every `interval` seconds until stop(). */
  protected get periodMs(): number {
    return this.interval * 1000;
  }

  protected tick(): void {
    if (this.busy) return; // a slow file system: skip rather than pile up
    this.busy = true;
    this.sampleOnce()
      .catch((err) => this.logger.warn({ err: String(err) }, 'sensors: sample failed'))
      .finally(() => (this.busy = false));
  }
}

/** `name`, or `name_2`, `name_3`… when taken; records the result in `used`. */
function uniqueName(name: string, used: Set<string>): string {
  let n = name;
  for (let i = 2; used.has(n); i++) n = `${name}_${i}`;
  used.add(n);
  return n;
}

function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}
