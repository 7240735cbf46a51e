/**
 * common/heap.ts: after keepFreedHeap, arrays of ~0.7 MB made and dropped by the dozen no longer make
 * glibc's heap shrink and grow again (each page faulted in anew). Counted in child processes (the
 * thresholds are the process's), with forced collections so the arrays are freed when dropped.
 */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

const glibc = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header?.glibcVersionRuntime;

/** Minor page faults of 30 rounds of 20 dropped 0.7 MB buffers, in a fresh process. */
function faults(raise: boolean): number {
  const script =
    "const { keepFreedHeap } = require('./common/heap.ts');" +
    `if (${raise}) keepFreedHeap();` +
    'gc();' +
    'const round = () => { let cols = Array.from({ length: 20 }, () => Buffer.allocUnsafeSlow(700000).fill(1)); cols = null; gc(); };' +
    'for (let i = 0; i < 3; i++) round();' +
    'const r0 = process.resourceUsage().minorPageFault;' +
    'for (let i = 0; i < 30; i++) round();' +
    'console.log(process.resourceUsage().minorPageFault - r0);';
  const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', '-e', script], {
    cwd: path.resolve(__dirname, '../..'),
    encoding: 'utf8',
  });
  return Number(out.trim());
}

(glibc ? describe : describe.skip)('keepFreedHeap (glibc malloc)', () => {
  test('dropped 0.7 MB arrays are not faulted in anew: at most a tenth of the faults without it', () => {
    const plain = faults(false);
    const kept = faults(true);
    // 30 rounds × 20 × 0.7 MB: ~100,000 pages faulted in without it (a few hundred with it).
    expect(plain).toBeGreaterThan(30 * 20 * 100);
    expect(kept).toBeLessThan(plain / 10);
  }, 30000);
});
