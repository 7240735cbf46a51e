/**
 * The Python SDK's own checks, run from jest with Debian's /usr/bin/python3: its unittest suite
 * (sdk/python/tests), `mypy --strict` on the package (sdk/python/pyproject.toml), and the same
 * downsampling answer as the TypeScript SDK (downsampleMinMax) on random inputs.
 * Skipped with a message without python3-autobahn (or without mypy, for that test), except on CI.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { downsampleMinMax } from '../../data-nodes/sdk/downsample';
import type { Sample } from '../../data-nodes/sdk';
import { PYTHON, pythonAutobahnMissing, servicesRequired } from '../helpers/interop';

const ROOT = path.join(__dirname, '..', '..');
const SDK = path.join(ROOT, 'sdk', 'python');
const MYPY = '/usr/bin/mypy';
const missing = pythonAutobahnMissing();
const required = servicesRequired();
if (missing && !required) console.warn(`python-sdk unit tests skipped: ${missing}`);
const maybe = missing && !required ? describe.skip : describe;

jest.setTimeout(180000);

maybe('Python SDK (sdk/python)', () => {
  it('unittest suite passes', () => {
    const r = spawnSync(PYTHON, ['-m', 'unittest', 'discover', '-s', path.join(SDK, 'tests'), '-v'], { cwd: SDK, encoding: 'utf8' });
    expect(`${r.stderr}`).toMatch(/Ran \d+ tests/);
    expect({ status: r.status, tail: r.stderr.slice(-3000) }).toMatchObject({ status: 0 });
  });

  (fs.existsSync(MYPY) || required ? it : it.skip)('mypy --strict finds no issue in the package', () => {
    const cache = path.join(ROOT, 'test-output', 'mypy-cache');
    const r = spawnSync(MYPY, ['--strict', '--cache-dir', cache, 'sisock'], { cwd: SDK, encoding: 'utf8' });
    expect(r.stdout).toMatch(/^Success: no issues found/m);
    expect(r.status).toBe(0);
  });

  it("the guide's example is the example file, in under 50 lines", () => {
    const guide = fs.readFileSync(path.join(ROOT, 'docs', 'writing-a-python-node.md'), 'utf8');
    const block = /```python\n([\s\S]*?)```/.exec(guide)?.[1];
    const file = fs.readFileSync(path.join(SDK, 'examples', 'weather_files.py'), 'utf8');
    expect(block).toBe(file);
    expect(file.trimEnd().split('\n').length).toBeLessThan(50);
  });

  it('downsamples exactly as the TypeScript SDK (random inputs)', () => {
    const cases = fc.sample(
      fc.record({
        steps: fc.array(fc.double({ min: 0, max: 5, noNaN: true }), { minLength: 0, maxLength: 60 }),
        t0: fc.integer({ min: -1000, max: 1000 }),
        values: fc.array(fc.oneof(fc.integer({ min: -50, max: 50 }), fc.constant(null), fc.boolean(), fc.constantFrom('a', 'b')), {
          minLength: 60,
          maxLength: 60,
        }),
        stride: fc.oneof(fc.constant(null), fc.double({ min: 0.1, max: 10, noNaN: true })),
      }),
      { numRuns: 200, seed: 16 },
    );
    const inputs = cases.map((c) => {
      const t: number[] = [];
      let x = c.t0;
      for (const s of c.steps) {
        x += s;
        t.push(x);
      }
      const col: Sample[] = t.map((_, i) => c.values[i] ?? null);
      const num: Sample[] = t.map((_, i) => (i * 7) % 13);
      return { t, columns: [col, num], stride: c.stride };
    });
    const script = [
      'import json, sys',
      `sys.path.insert(0, ${JSON.stringify(SDK)})`,
      'from sisock.downsample import downsample_min_max',
      'out = [downsample_min_max(c["t"], c["columns"], c["stride"]) for c in json.load(sys.stdin)]',
      'print(json.dumps([{"t": t, "columns": cols} for t, cols in out]))',
    ].join('\n');
    const r = spawnSync(PYTHON, ['-c', script], { input: JSON.stringify(inputs), encoding: 'utf8', maxBuffer: 64 << 20 });
    expect(r.stderr).toBe('');
    const py = JSON.parse(r.stdout) as Array<{ t: number[]; columns: Sample[][] }>;
    inputs.forEach((c, i) => expect(py[i]).toEqual(downsampleMinMax(c.t, c.columns, c.stride)));
  });
});
