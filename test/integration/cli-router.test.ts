/**
 * `sisock router` as a process: runs the compiled CLI (`make test` builds dist/ first), reads the
 * printed URL, joins over a real WebSocket, and stops it with SIGTERM.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import WebSocket from 'ws';

const ROOT = path.join(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'bin', 'sisock.js');

const children: ChildProcessWithoutNullStreams[] = [];
afterEach(() => {
  // A failed test must not leave a router running.
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function run(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcessWithoutNullStreams {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, SISOCK_LOG_LEVEL: 'warn', ...env } });
  children.push(child);
  return child;
}

/** Resolves with the first stdout line matching `re`. */
function firstLine(child: ChildProcessWithoutNullStreams, re: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (d: Buffer): void => {
      buf += d.toString('utf8');
      const line = buf.split('\n').find((l) => re.test(l));
      if (line !== undefined) {
        child.stdout.off('data', onData);
        resolve(line);
      }
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited with ${code} before printing ${re}; stdout: ${buf}`)));
  });
}

function exitOf(child: ChildProcessWithoutNullStreams): Promise<{ code: number | null; stderr: string }> {
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString('utf8');
  });
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stderr })));
}

/** The next WAMP message on a JSON WebSocket. */
function nextMessage(ws: WebSocket): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    ws.once('message', (data) => resolve(JSON.parse(data.toString()) as unknown[]));
    ws.once('close', () => reject(new Error('closed')));
  });
}

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npx tsc -p tsconfig.build.json, or make test)`);
});

test('router --port 0 prints its real URL, welcomes a client, and stops on SIGTERM with GOODBYE and exit 0', async () => {
  const child = run(['router', '--port', '0', '--realm', 'realm1']);
  const exited = exitOf(child);
  const line = await firstLine(child, /^router: /);
  const m = /^router: (ws:\/\/127\.0\.0\.1:(\d+)\/ws)$/.exec(line);
  expect(m).not.toBeNull();
  expect(Number(m![2])).toBeGreaterThan(0);

  const ws = new WebSocket(m![1]!, ['wamp.2.json']);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  expect(ws.protocol).toBe('wamp.2.json');
  const welcome = nextMessage(ws);
  ws.send(JSON.stringify([1, 'realm1', { roles: { caller: {}, subscriber: {} } }]));
  const w = await welcome;
  expect(w[0]).toBe(2);
  expect(w[2]).toMatchObject({ realm: 'realm1', authrole: 'anonymous', authmethod: 'anonymous' });

  const goodbye = nextMessage(ws);
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  child.kill('SIGTERM');
  expect(await goodbye).toEqual([6, expect.any(Object), 'wamp.close.system_shutdown']);
  await closed;
  const { code } = await exited;
  expect(code).toBe(0);
});

test('a config error prints the JSON path and exits with code 2', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sisock-cli-'));
  try {
    const file = path.join(dir, 'config.json');
    writeFileSync(
      file,
      JSON.stringify({
        version: 2,
        workers: [
          {
            type: 'router',
            realms: [{ name: 'realm1', roles: [] }],
            transports: [{ type: 'websocket', endpoint: { type: 'tcp', port: 70000 } }],
          },
        ],
      }),
    );
    const { code, stderr } = await exitOf(run(['router', '--config', file]));
    expect(code).toBe(2);
    expect(stderr).toContain('workers[0].transports[0].endpoint.port: must be an integer in 0..65535');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a secret whose environment variable is unset exits with code 2 and names it', async () => {
  const env = {
    SISOCK_SERVER_SECRET: '',
    SISOCK_HUB_SECRET: '',
    SISOCK_CONSUMER_SECRET: '',
    SISOCK_NODE_WEATHER_SECRET: '',
    SISOCK_ADMIN_SECRET: '',
    SISOCK_OPERATOR_SECRET: '',
  };
  const { code, stderr } = await exitOf(run(['router', '--config', 'router-config/production.json'], env));
  expect(code).toBe(2);
  expect(stderr).toContain('SISOCK_SERVER_SECRET');
});
