/**
 * The package as another project sees it: `npm pack` of this repository, the tarball extracted as
 * `node_modules/sisock` of a separate project, a TypeScript file compiled against its .d.ts (the
 * `types` field with classic resolution, the `exports` map with node16 resolution), and the
 * compiled file run: require('sisock') gives the SDK and the client.
 * The project lives under test-output/ so that the package's own dependencies (autobahn, ws, …)
 * resolve from this repository's node_modules, as they would from the project's after an install.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

jest.setTimeout(180000);

const CONSUMER_TS = `
import { runDataNode, createClient, getData, listNodes, downsampleMinMax, clientOptionsFromEnv, HubUri,
  type DataSource, type DataResult, type DataNodeHandle, type SisockClient } from 'sisock';

const source: DataSource = {
  getFields: () => [{ x: { description: null, timeline: 'tl', type: 'number', units: null } }, { tl: { interval: 1, field: ['x'] } }],
  getData: (fields: string[], start: number, end: number, minStride: number | null): DataResult => {
    const t = [start, start + 1];
    const s = downsampleMinMax(t, [[1, 2]], minStride);
    return { data: { x: s.columns[0] ?? [] }, timeline: { tl: { t: s.t, finalized_until: end } } };
  },
};
const start: (o: Parameters<typeof runDataNode>[0]) => Promise<DataNodeHandle> = runDataNode;
const client: (o: ReturnType<typeof clientOptionsFromEnv>) => SisockClient = createClient;
const read: typeof getData = getData;
console.log(JSON.stringify({ start: typeof start, client: typeof client, read: typeof read, list: typeof listNodes,
  hub: HubUri.DATA_NODE_ADD, sample: source.getData(['x'], 10, 20, null) }));
`;

describe('npm pack gives a package a separate project can depend on, with types', () => {
  let dir: string;

  beforeAll(() => {
    // The build is the package's `prepare`; run it here and pack without scripts.
    try {
      execFileSync(process.execPath, [TSC, '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'ignore' });
    } catch {
      /* checked below */
    }
    expect(fs.existsSync(path.join(ROOT, 'dist', 'index.d.ts'))).toBe(true);
    fs.mkdirSync(path.join(ROOT, 'test-output'), { recursive: true });
    dir = fs.mkdtempSync(path.join(ROOT, 'test-output', 'pack-'));
  });

  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('packs, compiles a consumer against the types (classic and node16 resolution) and runs it', () => {
    const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' });
    const [info] = JSON.parse(out) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const files = info!.files.map((f) => f.path);
    expect(files).toEqual(
      expect.arrayContaining(['package.json', 'dist/index.js', 'dist/index.d.ts', 'dist/bin/sisock.js', 'sdk/python/sisock/node.py']),
    );
    expect(files.some((f) => f.startsWith('dist/test/') || f.endsWith('.test.js') || f.startsWith('node_modules/'))).toBe(false);

    const pkg = path.join(dir, 'node_modules', 'sisock');
    fs.mkdirSync(pkg, { recursive: true });
    execFileSync('tar', ['xzf', path.join(dir, info!.filename), '-C', pkg, '--strip-components=1']);
    fs.writeFileSync(
      path.join(dir, 'package.json'),
      JSON.stringify({ name: 'consumer', private: true, dependencies: { sisock: 'file:sisock.tgz' } }),
    );
    fs.writeFileSync(path.join(dir, 'consumer.ts'), CONSUMER_TS);
    const common = [
      '--strict',
      '--target',
      'ES2022',
      '--skipLibCheck',
      '--types',
      'node',
      '--outDir',
      path.join(dir, 'out'),
      path.join(dir, 'consumer.ts'),
    ];
    execFileSync(process.execPath, [TSC, '--module', 'commonjs', '--moduleResolution', 'node', ...common], { cwd: dir, encoding: 'utf8' });
    execFileSync(process.execPath, [TSC, '--module', 'node16', '--moduleResolution', 'node16', '--noEmit', ...common], {
      cwd: dir,
      encoding: 'utf8',
    });
    // A wrong type against the package's declarations must fail: the types are really checked.
    fs.writeFileSync(path.join(dir, 'bad.ts'), "import { getData } from 'sisock';\nconst n: number = getData;\nexport { n };\n");
    let diagnostics = '';
    try {
      execFileSync(
        process.execPath,
        [TSC, '--noEmit', '--strict', '--types', 'node', '--moduleResolution', 'node', path.join(dir, 'bad.ts')],
        { cwd: dir, encoding: 'utf8', stdio: 'pipe' },
      );
    } catch (e) {
      diagnostics = String((e as { stdout?: string }).stdout);
    }
    expect(diagnostics).toMatch(/bad\.ts.*not assignable to type 'number'/);

    const ran = JSON.parse(
      execFileSync(process.execPath, [path.join(dir, 'out', 'consumer.js')], { cwd: dir, encoding: 'utf8' }),
    ) as Record<string, unknown>;
    expect(ran).toEqual({
      start: 'function',
      client: 'function',
      read: 'function',
      list: 'function',
      hub: 'data_node.add',
      sample: { data: { x: [1, 2] }, timeline: { tl: { t: [10, 11], finalized_until: 20 } } },
    });
    // require() resolves the package itself, not this repository's sources
    const where = execFileSync(process.execPath, ['-e', "console.log(require.resolve('sisock'))"], { cwd: dir, encoding: 'utf8' }).trim();
    expect(where).toBe(path.join(pkg, 'dist', 'index.js'));
  });
});
