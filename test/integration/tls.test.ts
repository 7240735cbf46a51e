/**
 * wss with the development CA: tls/make-certs.sh writes a CA and a server certificate into a
 * temporary directory (SISOCK_TLS_DIR; nothing is written into the repository), the router serves
 * router-config/production.json's wss transport with them, and the compiled `sisock` CLI (`make
 * test` builds dist/ first) connects with `--ca` and is refused without it.
 */
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfigFile } from '../../router/config';
import { startRouter, type RunningRouter } from '../../router/server';
import { runHub, type HubHandle } from '../../hub';
import { runDataNode, type DataNodeHandle } from '../../data-nodes/sdk';
import { MemorySource } from './sisock-helpers';

const ROOT = path.join(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'bin', 'sisock.js');
const ENV = {
  SISOCK_SERVER_SECRET: 't-server',
  SISOCK_HUB_SECRET: 't-hub',
  SISOCK_CONSUMER_SECRET: 't-consumer',
  SISOCK_NODE_WEATHER_SECRET: 't-weather',
  SISOCK_NODE_SIM_SECRET: 't-sim',
  SISOCK_NODE_ARCHIVE_SECRET: 't-archive',
  SISOCK_NODE_TRACKER_SECRET: 't-tracker',
  SISOCK_ADMIN_SECRET: 't-admin',
  SISOCK_OPERATOR_SECRET: 't-operator',
};

let dir: string;
let running: RunningRouter;
let url: string;
let hub: HubHandle;
let node: DataNodeHandle;

function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, SISOCK_LOG_LEVEL: 'silent', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sisock-tls-'));
  execFileSync(path.join(ROOT, 'tls', 'make-certs.sh'), ['router.example'], {
    env: { ...process.env, SISOCK_TLS_DIR: dir },
    stdio: 'pipe',
  });
  const { config } = loadConfigFile(path.join(ROOT, 'router-config', 'production.json'), ENV);
  const wss = config.transports[0]!;
  // production.json points at ../tls/server.*; the test uses its own copy.
  expect(wss.tls?.key).toBe(path.join(ROOT, 'tls', 'server.key'));
  wss.tls = { key: path.join(dir, 'server.key'), certificate: path.join(dir, 'server.crt') };
  wss.port = 0;
  wss.host = '127.0.0.1';
  config.transports = [wss];
  running = await startRouter(config);
  url = running.urls[0]!;
  const ca = fs.readFileSync(path.join(dir, 'ca.crt'));
  const common = { url, realm: 'test_realm', uriBase: 'org.simonsobservatory', ca, initialRetryDelay: 0.05, maxRetryDelay: 0.5 };
  hub = await runHub({ client: { ...common, authid: 'hub', secret: ENV.SISOCK_HUB_SECRET } });
  await hub.ready(5000);
  node = await runDataNode({
    name: 'weather',
    description: 'over wss',
    source: new MemorySource(5),
    client: { ...common, authid: 'weather', secret: ENV.SISOCK_NODE_WEATHER_SECRET },
  });
  await node.ready(5000);
});

afterAll(async () => {
  await node?.close();
  await hub?.close();
  await running?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('make-certs.sh wrote the CA and a server certificate with the SANs, keys private, into SISOCK_TLS_DIR only', () => {
  for (const f of ['ca.crt', 'ca.key', 'server.crt', 'server.key']) expect(fs.existsSync(path.join(dir, f))).toBe(true);
  expect(fs.statSync(path.join(dir, 'server.key')).mode & 0o077).toBe(0);
  const text = execFileSync('openssl', ['x509', '-in', path.join(dir, 'server.crt'), '-noout', '-ext', 'subjectAltName']).toString();
  expect(text).toContain('DNS:localhost');
  expect(text).toContain('IP Address:127.0.0.1');
  expect(text).toContain('DNS:router.example');
});

test('the router serves wss', () => {
  expect(url).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\/ws$/);
});

test('sisock nodes --ca verifies the router and lists the node', async () => {
  const r = await run(
    [
      'nodes',
      '--router',
      url,
      '--realm',
      'test_realm',
      '--authid',
      'consumer',
      '--ca',
      path.join(dir, 'ca.crt'),
      '--json',
      '--timeout',
      '5s',
    ],
    { SISOCK_SECRET: ENV.SISOCK_CONSUMER_SECRET },
  );
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout).map((n: { name: string }) => n.name)).toEqual(['weather']);
});

test('without --ca the certificate is not trusted and the command fails', async () => {
  const r = await run(['nodes', '--router', url, '--realm', 'test_realm', '--authid', 'consumer', '--json', '--timeout', '2s'], {
    SISOCK_SECRET: ENV.SISOCK_CONSUMER_SECRET,
    SISOCK_CA: '',
    NODE_EXTRA_CA_CERTS: '',
  });
  expect(r.code).not.toBe(0);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/sisock: .*unreachable/); // (the reason, an untrusted certificate, is not named yet)
});
