/**
 * common/heap.ts: after keepFreedHeap, big blocks made and dropped no longer make glibc's heap shrink
 * and grow again (each page faulted in anew). Counted in child processes (the thresholds are the
 * process's), with forced collections so the blocks are freed when dropped.
 *
 * The children run plain JavaScript (heap.ts transpiled here), not tsx: compiling on the fly frees
 * big blocks of its own, which raises glibc's threshold before the count starts (in a fresh clone the
 * run without keepFreedHeap then faulted 1,378 times instead of ~90,000). The blocks are 2 MiB, above
 * what a start of node frees, and a round's 16 MiB stays under the 32 MiB of free heap glibc then keeps.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import ts from 'typescript';

const glibc = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header?.glibcVersionRuntime;

const BLOCK = 2 * 2 ** 20;
const PER_ROUND = 8;
const ROUNDS = 10;

/** Minor page faults of ROUNDS rounds of PER_ROUND dropped BLOCK-byte buffers, in a fresh process. */
function faults(heapJs: string, raise: boolean): number {
  const script =
    `const { keepFreedHeap } = require(${JSON.stringify(heapJs)});` +
    `if (${raise}) keepFreedHeap();` +
    'gc();' +
    `const round = () => { let b = Array.from({ length: ${PER_ROUND} }, () => Buffer.allocUnsafeSlow(${BLOCK}).fill(1)); b = null; gc(); };` +
    'round();' +
    'const r0 = process.resourceUsage().minorPageFault;' +
    `for (let i = 0; i < ${ROUNDS}; i++) round();` +
    'console.log(process.resourceUsage().minorPageFault - r0);';
  return Number(execFileSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8' }).trim());
}

(glibc ? describe : describe.skip)('keepFreedHeap (glibc malloc)', () => {
  let dir = '';
  let heapJs = '';
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'sisock-heap-'));
    heapJs = path.join(dir, 'heap.js');
    const src = readFileSync(path.resolve(__dirname, '../../common/heap.ts'), 'utf8');
    writeFileSync(
      heapJs,
      ts.transpileModule(src, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText,
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('dropped 2 MiB buffers are not faulted in anew: at most a tenth of the faults without it', () => {
    const plain = faults(heapJs, false);
    const kept = faults(heapJs, true);
    const pages = (ROUNDS * PER_ROUND * BLOCK) / 4096;
    // Without it most pages of every round are faulted in anew; with it about a thousand in all. Not
    // every page without it: the first block freed raises glibc's thresholds in that run too, so some
    // rounds keep part of the heap (47-72 % of `pages` measured on this VM; 47 % failed a fresh-clone
    // CI run against a bound of half). A quarter still tells a run that faults its rounds in from one
    // that does not (where the second bound could not hold anyway).
    expect(plain).toBeGreaterThan(pages / 4);
    expect(kept).toBeLessThan(plain / 10);
  }, 30000);
});
