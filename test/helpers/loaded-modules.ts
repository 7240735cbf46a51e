/**
 * Which modules a piece of code loads, seen from a fresh Node process (jest's module registry is not
 * node's): `script` runs as the body of an async function under tsx at the repository's root, then each
 * probe says whether a loaded file's path contains its string.
 */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

export function modulesLoadedBy<K extends string>(script: string, probes: Record<K, string>): Record<K, boolean> {
  const out = execFileSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '-e',
      `(async () => { ${script}; const ks = Object.keys(require.cache); const probes = ${JSON.stringify(probes)};` +
        'console.log(JSON.stringify(Object.fromEntries(Object.entries(probes).map(([k, s]) => [k, ks.some((f) => f.includes(s))])))); })()' +
        '.catch((e) => { console.error(e); process.exit(1); });',
    ],
    { cwd: path.resolve(__dirname, '../..'), encoding: 'utf8' },
  );
  return JSON.parse(out.trim().split('\n').pop() ?? '{}') as Record<K, boolean>;
}
