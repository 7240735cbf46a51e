/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): top functions by self time.
 * Usable alone: `node dist/bench/profile-summary.js FILE.cpuprofile [N]`.
 */
import * as fs from 'fs';
import * as path from 'path';

interface CpuNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: CpuNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface HotSpot {
  name: string;
  where: string;
  selfMs: number;
  pct: number;
}

function shortUrl(url: string): string {
  if (!url) return '';
  const u = url.replace(/^file:\/\//, '');
  const nm = u.lastIndexOf('node_modules/');
  if (nm >= 0) return u.slice(nm + 'node_modules/'.length);
  const root = path.join(__dirname, '..', '..') + path.sep;
  return u.startsWith(root) ? u.slice(root.length) : u;
}

export interface Summary {
  spots: HotSpot[];
  /** Top functions with a source location (JavaScript), i.e. without syscalls, GC, (program). */
  jsSpots: HotSpot[];
  files: HotSpot[];
  totalMs: number;
  idleMs: number;
}

export function summarise(file: string, top = 10): Summary {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, CpuNode>();
  for (const n of prof.nodes) byId.set(n.id, n);
  const self = new Map<number, number>(); // node id -> µs
  if (prof.samples && prof.timeDeltas) {
    // timeDeltas[i] is the time before sample i; attribute each interval to the following sample
    for (const [i, id] of prof.samples.entries()) {
      const dt = prof.timeDeltas[i + 1] ?? 0;
      self.set(id, (self.get(id) ?? 0) + Math.max(0, dt));
    }
  } else {
    const total = prof.endTime - prof.startTime;
    const hits = prof.nodes.reduce((a, n) => a + (n.hitCount ?? 0), 0) || 1;
    for (const n of prof.nodes) self.set(n.id, ((n.hitCount ?? 0) * total) / hits);
  }
  const agg = new Map<string, { name: string; where: string; us: number }>();
  const byFile = new Map<string, number>();
  let totalUs = 0;
  let idleUs = 0;
  for (const [id, us] of self) {
    const n = byId.get(id);
    if (!n) continue;
    const cf = n.callFrame;
    const name = cf.functionName || '(anonymous)';
    if (name === '(idle)') {
      idleUs += us;
      continue;
    }
    totalUs += us;
    const where = cf.url ? `${shortUrl(cf.url)}:${cf.lineNumber + 1}` : '';
    const key = `${name}|${where}`;
    const fileKey = cf.url ? shortUrl(cf.url) : name.startsWith('(') ? name : `(native) ${name}`;
    byFile.set(fileKey, (byFile.get(fileKey) ?? 0) + us);
    const a = agg.get(key) ?? { name, where, us: 0 };
    a.us += us;
    agg.set(key, a);
  }
  const toSpot = (a: { name: string; where: string; us: number }): HotSpot => ({
    name: a.name,
    where: a.where,
    selfMs: a.us / 1000,
    pct: (100 * a.us) / (totalUs || 1),
  });
  const sorted = [...agg.values()].sort((a, b) => b.us - a.us);
  const spots = sorted.slice(0, top).map(toSpot);
  const jsSpots = sorted
    .filter((a) => a.where !== '')
    .slice(0, top)
    .map(toSpot);
  const files = [...byFile.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([f, us]) => ({ name: f, where: '', selfMs: us / 1000, pct: (100 * us) / (totalUs || 1) }));
  return { spots, jsSpots, files, totalMs: totalUs / 1000, idleMs: idleUs / 1000 };
}

export function formatSpots(s: Summary): string {
  const lines = [
    `busy ${s.totalMs.toFixed(0)} ms, idle ${s.idleMs.toFixed(0)} ms; top self time:`,
    `  ${'self%'.padStart(6)}  ${'ms'.padStart(7)}  function  (location)`,
  ];
  for (const h of s.spots) {
    lines.push(`  ${h.pct.toFixed(1).padStart(5)}%  ${h.selfMs.toFixed(0).padStart(7)}  ${h.name}  ${h.where ? `(${h.where})` : ''}`);
  }
  lines.push('  JavaScript only (no syscalls/GC):');
  for (const h of s.jsSpots) {
    lines.push(`  ${h.pct.toFixed(1).padStart(5)}%  ${h.selfMs.toFixed(0).padStart(7)}  ${h.name}  (${h.where})`);
  }
  lines.push('  by file (self time):');
  for (const h of s.files) lines.push(`  ${h.pct.toFixed(1).padStart(5)}%  ${h.selfMs.toFixed(0).padStart(7)}  ${h.name}`);
  return lines.join('\n');
}

if (require.main === module) {
  const f = process.argv[2];
  if (!f) {
    console.error('usage: profile-summary FILE.cpuprofile [N]');
    process.exit(2);
  }
  console.log(formatSpots(summarise(f, Number(process.argv[3] ?? 10))));
}
