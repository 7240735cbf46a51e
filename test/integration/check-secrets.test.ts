/**
 * scripts/check-secrets.sh: passes on this repository, fails on planted secrets (in a temporary
 * git repository; the planted key is assembled at run time so that this file holds none).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');
const SCRIPT = path.join(ROOT, 'scripts', 'check-secrets.sh');
const BEGIN = ['-----BEGIN', 'EC PRIVATE', 'KEY-----'].join(' ');
const END = ['-----END', 'EC PRIVATE', 'KEY-----'].join(' ');

function check(dir: string): { code: number | null; out: string } {
  const r = spawnSync(SCRIPT, [dir], { encoding: 'utf8' });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

let tmp: string;
function repo(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(tmp, 'repo-'));
  expect(spawnSync('git', ['init', '-q', dir]).status).toBe(0);
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

const CLEAN = {
  'README.md': 'hello\n',
  'router-config/production.json': '{"users": {"server": {"secret": "${SISOCK_SERVER_SECRET}", "role": "server"}}}\n',
  '.env.example': 'SISOCK_SERVER_SECRET=change-me-server\nSISOCK_HUB_SECRET=\nGRAFANA_ADMIN_PASSWORD=change-me # here\nSISOCK_UID=1000\n',
  '.gitignore': '.env\n*.key\n',
};

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sisock-secrets-'));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('this repository has no committed secret or private key', () => {
  const r = check(ROOT);
  expect(r.out).toMatch(/check-secrets: ok/);
  expect(r.code).toBe(0);
});

test('a clean repository with placeholders passes; ignored key files do not count', () => {
  const dir = repo({ ...CLEAN, 'tls/server.key': `${BEGIN}\nMHcCAQEEI\n${END}\n`, '.env': 'SISOCK_SERVER_SECRET=real\n' });
  expect(check(dir).code).toBe(0);
});

test.each([
  ['a PEM private key in any file', { 'docs/notes.md': `oops\n${BEGIN}\nMHcCAQEEIB\n${END}\n` }, /docs\/notes\.md: matches/],
  ['a key file by name', { 'certs/site.p12': 'binary-ish' }, /certs\/site\.p12: key file/],
  ['an .env file', { 'deploy/.env.production': 'X=1\n' }, /\.env\.production: environment file/],
  [
    'an inline secret in a router config',
    { 'router-config/site.json': '{"secret": "hunter2hunter2"}\n' },
    /router-config\/site\.json: inline secret/,
  ],
  ['a real-looking value in .env.example', { '.env.example': 'SISOCK_HUB_SECRET=Zx8vQ2pL0rT5\n' }, /\.env\.example: a real-looking value/],
  ['an AWS access key id', { 'src/aws.ts': `const id = '${'AKIA'}${'ABCDEFGHIJKLMNOP'}';\n` }, /src\/aws\.ts: matches/],
])('fails on %s', (_what, files, message) => {
  const dir = repo({ ...CLEAN, ...files });
  const r = check(dir);
  expect(r.code).toBe(1);
  expect(r.out).toMatch(message);
  expect(r.out).toMatch(/FAILED/);
});
