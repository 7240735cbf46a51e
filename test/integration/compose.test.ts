/**
 * The deployment files: docker-compose.yaml alone and with docker-compose.crossbar.yaml validate
 * with Debian's docker-compose (`config -q`) given a generated env file, and fail without one;
 * their structure (health checks, depends_on conditions, the bridge's service name, no inline
 * secret) is checked by reading the YAML; the Dockerfiles' COPY sources exist and are not
 * excluded by .dockerignore. No Docker engine is needed.
 *
 * Without docker-compose the `config` checks are skipped with a message, except on CI (CI or
 * SISOCK_REQUIRE_SERVICES set), where they fail.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { servicesRequired } from '../helpers/interop';

const ROOT = path.join(__dirname, '..', '..');
const BASE = path.join(ROOT, 'docker-compose.yaml');
const CROSSBAR = path.join(ROOT, 'docker-compose.crossbar.yaml');

type Service = {
  image?: string;
  build?: unknown;
  command?: string[];
  healthcheck?: { test?: unknown; disable?: boolean };
  depends_on?: Record<string, { condition: string }>;
  environment?: Record<string, string>;
  ports?: string[];
  user?: string;
};
const compose = parse(fs.readFileSync(BASE, 'utf8'), { merge: true }) as { services: Record<string, Service> };
const services = compose.services;

function dockerCompose(): string | null {
  const r = spawnSync('docker-compose', ['version'], { encoding: 'utf8' });
  return r.status === 0
    ? null
    : `docker-compose not found (${r.error?.message ?? r.stderr.trim()}); ` +
        `install it: scripts/ensure-debian-packages.sh docker-compose`;
}

/** Every ${VAR:?…} of the compose files, with a dummy value. */
function testEnv(): string {
  const names = new Set<string>();
  for (const f of [BASE, CROSSBAR]) for (const m of fs.readFileSync(f, 'utf8').matchAll(/\$\{([A-Z0-9_]+):\?/g)) names.add(m[1]!);
  return [...names].map((n) => `${n}=test-${n.toLowerCase().replace(/_/g, '-')}`).join('\n') + '\n';
}

describe('docker-compose config', () => {
  const missing = dockerCompose();
  if (missing) {
    if (servicesRequired()) {
      test('docker-compose is installed (required: CI or SISOCK_REQUIRE_SERVICES is set)', () => {
        throw new Error(missing);
      });
    } else {
      console.warn(`SKIPPED docker-compose config: ${missing}`);
      test.skip(`docker-compose config (skipped: ${missing})`, () => {});
    }
    return;
  }
  let dir: string;
  let envFile: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sisock-compose-'));
    envFile = path.join(dir, 'test.env');
    fs.writeFileSync(envFile, testEnv());
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const run = (env: string, files: string[], extra: string[] = ['-q']) =>
    spawnSync('docker-compose', ['--env-file', env, ...files.flatMap((f) => ['-f', f]), 'config', ...extra], {
      cwd: ROOT,
      encoding: 'utf8',
      env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !/SECRET|PASSWORD/.test(k))),
    });

  test('docker-compose.yaml is valid', () => {
    const r = run(envFile, [BASE]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  test('with docker-compose.crossbar.yaml: valid, and the router is Crossbar.io on the same config', () => {
    const r = run(envFile, [BASE, CROSSBAR], []);
    expect(r.status).toBe(0);
    const merged = parse(r.stdout) as { services: Record<string, Service & { volumes: string[]; build: { dockerfile: string } }> };
    const router = merged.services.router!;
    expect(router.build.dockerfile).toBe('router-config/crossbar.Dockerfile');
    expect(router.volumes.join('\n')).toMatch(/router-config\/production\.json:\/node\/\.crossbar\/config\.json:ro/);
    expect(router.environment?.SISOCK_HUB_SECRET).toBe('test-sisock-hub-secret');
    expect(Object.keys(merged.services).sort()).toEqual(Object.keys(services).sort());
  });

  test('without the secrets it refuses, naming the variable', () => {
    const empty = path.join(dir, 'empty.env');
    fs.writeFileSync(empty, '');
    const r = run(empty, [BASE]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/set SISOCK_\w+_SECRET in \.env/);
  });
});

describe('docker-compose.yaml structure', () => {
  test('has every service of the demo deployment; the bridge is sisock-grafana, as the provisioned datasource says', () => {
    expect(Object.keys(services).sort()).toEqual([
      'archive',
      'grafana',
      'hub',
      'mariadb',
      'mosquitto',
      'mqtt',
      'router',
      'scan',
      'sim',
      'sisock-grafana',
      'weather',
    ]);
    const ds = fs.readFileSync(path.join(ROOT, 'consumers/grafana/provisioning/datasources/sisock.yaml'), 'utf8');
    expect(ds).toContain('url: http://sisock-grafana:5000');
    expect(services['sisock-grafana']!.command).toEqual(expect.arrayContaining(['grafana', '--port', '5000']));
  });

  test('every long-running service has a health check; dependencies wait for service_healthy', () => {
    for (const [name, s] of Object.entries(services)) {
      if (name === 'scan') {
        expect(s.healthcheck?.disable).toBe(true);
        continue;
      }
      expect([name, s.healthcheck?.test]).toEqual([name, expect.anything()]);
      for (const [dep, cond] of Object.entries(s.depends_on ?? {})) {
        expect([name, dep, cond.condition]).toEqual([name, dep, dep === 'scan' ? 'service_started' : 'service_healthy']);
      }
    }
    for (const name of ['hub', 'weather', 'sim', 'archive', 'mqtt', 'sisock-grafana'])
      expect(Object.keys(services[name]!.depends_on ?? {})).toContain('router');
    expect(Object.keys(services.grafana!.depends_on ?? {})).toEqual(['sisock-grafana']);
  });

  test('clients speak wss with the CA, each under its own authid; secrets only from the env file', () => {
    const authids: Record<string, string> = {
      hub: 'hub',
      weather: 'weather',
      sim: 'sim',
      archive: 'archive',
      mqtt: 'tracker',
      'sisock-grafana': 'consumer',
    };
    for (const [name, authid] of Object.entries(authids)) {
      const env = services[name]!.environment!;
      expect([name, env.SISOCK_ROUTER, env.SISOCK_CA, env.SISOCK_AUTHID]).toEqual([
        name,
        'wss://router:8080/ws',
        '/app/tls/ca.crt',
        authid,
      ]);
      expect(env.SISOCK_SECRET).toMatch(/^\$\{SISOCK_[A-Z_]+_SECRET:\?/);
    }
    const text = fs.readFileSync(BASE, 'utf8');
    for (const m of text.matchAll(/(SECRET|PASSWORD)[A-Z_]*:\s*(\S+)/g)) expect(m[2]).toMatch(/^\$\{[A-Z_]+:\?/);
    expect(services.router!.command).toEqual(['router', '--config', '/app/router-config/production.json']);
  });

  test('no credential on any command line: no ${…} in a command, no user:password@ in a URL', () => {
    for (const [name, svc] of Object.entries(services)) {
      const cmd = ([] as unknown[]).concat(svc.command ?? []).map(String);
      for (const arg of cmd) {
        expect([name, arg]).toEqual([name, expect.not.stringMatching(/\$\{/)]);
        expect([name, arg]).toEqual([name, expect.not.stringMatching(/:\/\/[^/@\s]*:[^/@\s]*@/)]);
      }
    }
    for (const name of ['scan', 'archive']) expect(services[name]!.environment?.SISOCK_DB_PASSWORD).toMatch(/^\$\{MARIADB_PASSWORD:\?/);
  });

  test('.env is git-ignored; .env.example names every variable the compose files require', () => {
    expect(fs.readFileSync(path.join(ROOT, '.gitignore'), 'utf8').split('\n')).toContain('.env');
    const example = fs.readFileSync(path.join(ROOT, '.env.example'), 'utf8');
    for (const line of testEnv().trim().split('\n')) expect(example).toMatch(new RegExp(`^${line.split('=')[0]}=`, 'm'));
  });
});

describe('Dockerfiles', () => {
  const rules = fs
    .readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  /** Docker's rule: the last matching line wins; `!` re-includes. */
  const isIgnored = (src: string) => {
    let ignored = false;
    for (const rule of rules) {
      const neg = rule.startsWith('!');
      const p = neg ? rule.slice(1) : rule;
      const re = new RegExp(
        `^${p
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replace(/\*\*\//g, '(.*/)?')
          .replace(/\*/g, '[^/]*')}(/|$)`,
      );
      if (re.test(src)) ignored = !neg;
    }
    return ignored;
  };

  test.each(['Dockerfile', 'router-config/crossbar.Dockerfile'])('%s: every COPY source exists and is in the build context', (file) => {
    const text = fs.readFileSync(path.join(ROOT, file), 'utf8').replace(/\\\n/g, ' ');
    const copies = text.split('\n').filter((l) => /^\s*COPY\s/.test(l) && !/--from=/.test(l));
    expect(copies.length).toBeGreaterThan(0);
    for (const line of copies) {
      const parts = line
        .trim()
        .split(/\s+/)
        .slice(1)
        .filter((p) => !p.startsWith('--'));
      for (const src of parts.slice(0, -1)) {
        expect([src, fs.existsSync(path.join(ROOT, src))]).toEqual([src, true]);
        expect([src, isIgnored(src)]).toEqual([src, false]);
      }
    }
  });

  test('Dockerfile: multi-stage, production dependencies only, non-root, health check, the runtime files', () => {
    const text = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    expect(text.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
    expect(text).toMatch(/npm ci --omit=dev/);
    expect(text).toMatch(/^USER node$/m);
    expect(text).toMatch(/^HEALTHCHECK /m);
    for (const f of ['consumers/grpc/sisock.proto', 'consumers/web/static', 'data-nodes/weather/example-data', 'router-config']) {
      expect(text).toMatch(new RegExp(`^COPY ${f.replace(/\./g, '\\.')} `, 'm'));
    }
    // The build stage compiles every folder tsconfig.build.json includes.
    const build = JSON.parse(fs.readFileSync(path.join(ROOT, 'tsconfig.build.json'), 'utf8')) as { include: string[] };
    for (const dir of build.include) expect([dir, text.includes(`COPY ${dir} ./${dir}`)]).toEqual([dir, true]);
    // bench/ is built only by `make bench` (tsconfig.bench.json), never into the image.
    expect(build.include).not.toContain('bench');
    expect(text).not.toMatch(/^COPY bench/m);
    expect(isIgnored('docs/examples')).toBe(false);
    expect(isIgnored('docs/deployment.md')).toBe(true);
    expect(isIgnored('tls/server.key')).toBe(true);
  });
});
