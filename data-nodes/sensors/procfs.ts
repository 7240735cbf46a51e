/**
 * Parsers for the Linux texts the sensors node reads (proc(5)): pure functions of the file contents,
 * so they are tested on fixtures. Anything unexpected gives null/empty rather than an exception: a
 * missing or odd file makes its fields absent, not the node fail.
 */

export interface CpuTimes {
  /** Jiffies spent idle (idle + iowait). */
  idle: number;
  /** All jiffies (user nice system idle iowait irq softirq steal; guest time is already in user). */
  total: number;
}

/** The aggregate `cpu` line of /proc/stat. */
export function parseProcStat(text: string): CpuTimes | null {
  for (const line of text.split('\n')) {
    if (!line.startsWith('cpu ')) continue;
    const n = line.trim().split(/\s+/).slice(1, 9).map(Number);
    if (n.some((x) => !Number.isFinite(x))) return null;
    const [user, nice, system, idle, iowait = 0, irq = 0, softirq = 0, steal = 0] = n;
    if (user === undefined || nice === undefined || system === undefined || idle === undefined) return null;
    return { idle: idle + iowait, total: user + nice + system + idle + iowait + irq + softirq + steal };
  }
  return null;
}

/** CPU busy percentage between two readings, or null (first reading, no time passed, counters reset). */
export function cpuUsagePercent(prev: CpuTimes | null, cur: CpuTimes | null): number | null {
  if (!prev || !cur) return null;
  const dTotal = cur.total - prev.total;
  const dIdle = cur.idle - prev.idle;
  if (!(dTotal > 0) || dIdle < 0 || dIdle > dTotal) return null;
  return 100 * (1 - dIdle / dTotal);
}

/** /proc/loadavg: the 1, 5 and 15 minute load averages. */
export function parseLoadavg(text: string): [number, number, number] | null {
  const n = text.trim().split(/\s+/).slice(0, 3).map(Number);
  return n.length === 3 && n.every(Number.isFinite) ? (n as [number, number, number]) : null;
}

/** /proc/meminfo as bytes by key (`MemTotal`, `MemAvailable`, …). Values in kB are converted. */
export function parseMeminfo(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z0-9_()]+):\s+(\d+)(?:\s+(kB))?\s*$/.exec(line);
    if (m?.[1] !== undefined) out.set(m[1], Number(m[2]) * (m[3] ? 1024 : 1));
  }
  return out;
}

export interface NetCounters {
  rxBytes: number;
  txBytes: number;
}

/** /proc/net/dev: byte counters by interface. */
export function parseNetDev(text: string): Map<string, NetCounters> {
  const out = new Map<string, NetCounters>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const iface = line.slice(0, colon).trim();
    const n = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
    // receive: bytes packets errs drop fifo frame compressed multicast; transmit: bytes …
    const [rxBytes, , , , , , , , txBytes] = n;
    if (iface === '' || rxBytes === undefined || txBytes === undefined || !Number.isFinite(rxBytes) || !Number.isFinite(txBytes)) continue;
    out.set(iface, { rxBytes, txBytes });
  }
  return out;
}

/** A counter's rate per second, or null when there is no previous reading or the counter went back. */
export function counterRate(prev: number | undefined, cur: number | undefined, dt: number): number | null {
  if (prev === undefined || cur === undefined || !(dt > 0) || cur < prev) return null;
  return (cur - prev) / dt;
}

/** A field-name-safe version of a hwmon chip or label name. */
export function sanitizeName(s: string): string {
  return (
    s
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '_')
      .replace(/^_+|_+$/g, '') || 'x'
  );
}
