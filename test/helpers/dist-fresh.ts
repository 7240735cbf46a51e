/**
 * For tests that run the compiled programs in dist/: builds dist/ (tsconfig.build.json) and fails,
 * saying which, when a compiled file is missing or older than its source (a build that did not
 * emit would otherwise leave a stale dist/ running behind a green test).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');

const isSource = (name: string): boolean => name.endsWith('.ts') && !name.endsWith('.d.ts') && !name.endsWith('.test.ts');

/** Source files (.ts, not .d.ts) under dir, recursively; a file named in `include` is itself. */
function sources(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  if (fs.statSync(dir).isFile()) return isSource(dir) ? [dir] : [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : sources(p);
    return isSource(e.name) ? [p] : [];
  });
}

/** Compiled files missing or older than their source, as `dist/...` paths relative to the root. */
export function staleDistFiles(root = ROOT): string[] {
  const build = JSON.parse(fs.readFileSync(path.join(root, 'tsconfig.build.json'), 'utf8')) as { include: string[] };
  const stale: string[] = [];
  for (const dir of build.include) {
    for (const src of sources(path.join(root, dir))) {
      const out = path.join(root, 'dist', path.relative(root, src)).replace(/\.ts$/, '.js');
      if (!fs.existsSync(out) || fs.statSync(out).mtimeMs < fs.statSync(src).mtimeMs) stale.push(path.relative(root, out));
    }
  }
  return stale;
}

/** Runs `tsc -p tsconfig.build.json`, then throws if dist/ is not up to date with the sources. */
export function buildDist(root = ROOT): void {
  let log = '';
  try {
    execFileSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], {
      cwd: root,
      encoding: 'utf8',
    });
  } catch (e) {
    // tsc still emits on type errors; whether dist/ is usable is decided below.
    log = String((e as { stdout?: string }).stdout ?? (e as Error).message);
  }
  const stale = staleDistFiles(root);
  if (stale.length) {
    throw new Error(
      `dist/ is stale after the build (${stale.length} files, e.g. ${stale.slice(0, 3).join(', ')}): ` +
        `run npx tsc -p tsconfig.build.json and fix what it reports.\n${log.slice(0, 2000)}`,
    );
  }
}
