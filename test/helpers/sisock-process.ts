/**
 * For tests that run `node dist/bin/sisock.js` as a real process: the build (type errors elsewhere
 * still emit, so only a missing dist/bin/sisock.js fails it) and a spawn that keeps the process's
 * output and tracks it in a set until it exits (the suite kills what is left).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export const ROOT = path.join(__dirname, '..', '..');
export const SISOCK = path.join(ROOT, 'dist', 'bin', 'sisock.js');

/** `tsc -p tsconfig.build.json`, its failure ignored (type errors elsewhere still emit): callers check SISOCK exists. */
export function buildDistLenient(): void {
  try {
    execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], {
      cwd: ROOT,
      stdio: 'ignore',
    });
  } catch {
    /* type errors elsewhere still emit; the existence check decides */
  }
}

export type OutProcess = ChildProcess & { out: string[] };

/** `node dist/bin/sisock.js ...args` in ROOT; stdout and stderr collected in `out`; in `children` until it exits. */
export function spawnSisock(args: string[], children: Set<ChildProcess>): OutProcess {
  const p = spawn(process.execPath, [SISOCK, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }) as OutProcess;
  p.out = [];
  p.stdout?.on('data', (b: Buffer) => p.out.push(b.toString()));
  p.stderr?.on('data', (b: Buffer) => p.out.push(b.toString()));
  children.add(p);
  p.on('exit', () => children.delete(p));
  return p;
}
