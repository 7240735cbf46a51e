/**
 * startRouter from a Crossbar.io config, with autobahn-js (the reference client) over real
 * sockets: WAMP-CRA (unsalted and salted), ticket, and role enforcement.
 */
import WebSocket from 'ws';
import { parseConfig } from '../../router/config';
import { startRouter, type RunningRouter } from '../../router/server';
import { deriveKey } from '../../router/auth';
import { allowAllRole, oneRouterConfig } from '../helpers/router-setup';

(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;
const autobahn = require('autobahn');

const B = 'org.simonsobservatory';
const CONFIG = oneRouterConfig(
  [
    allowAllRole('server'),
    { name: 'consumer', permissions: [{ uri: `${B}.consumer.`, match: 'prefix', allow: { call: true, subscribe: true } }] },
  ],
  [
    {
      type: 'web',
      endpoint: { type: 'tcp', port: 0, interface: '127.0.0.1' },
      paths: {
        ws: {
          type: 'websocket',
          serializers: ['json', 'msgpack'],
          auth: {
            wampcra: {
              type: 'static',
              users: {
                server: { secret: '${TEST_SERVER_SECRET}', role: 'server' },
                consumer: {
                  secret: deriveKey('consumer-password', 'NaCl', 10, 32),
                  role: 'consumer',
                  salt: 'NaCl',
                  iterations: 10,
                  keylen: 32,
                },
              },
            },
            ticket: { type: 'static', principals: { agent: { ticket: '${TEST_TICKET}', role: 'consumer' } } },
          },
        },
      },
    },
  ],
);

let running: RunningRouter;
beforeAll(async () => {
  // autobahn-js narrates every close on the console.
  jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  const { config, warnings } = parseConfig(CONFIG, { env: { TEST_SERVER_SECRET: 'server-secret', TEST_TICKET: 'agent-ticket' } });
  expect(warnings).toEqual([]);
  running = await startRouter(config);
});
afterAll(async () => {
  await running.close();
  jest.restoreAllMocks();
});

type Session = {
  call(p: string, a?: unknown[]): Promise<unknown>;
  register(p: string, f: (...a: unknown[]) => unknown): Promise<unknown>;
  id: number;
};

/** Opens an autobahn connection; resolves with the session or rejects with the close reason. */
function connect(options: Record<string, unknown>): Promise<{ session: Session; close: () => Promise<void> }> {
  return new Promise((resolve, reject) => {
    const conn = new autobahn.Connection({ url: running.urls[0], realm: 'test_realm', max_retries: 0, ...options });
    let done = false;
    conn.onopen = (session: Session) => {
      done = true;
      resolve({
        session,
        close: () =>
          new Promise<void>((res) => {
            conn.onclose = () => {
              res();
              return true;
            };
            conn.close();
          }),
      });
    };
    conn.onclose = (reason: string, details: { reason?: string; message?: string }) => {
      if (!done) {
        done = true;
        reject(Object.assign(new Error(details?.message ?? reason), { reason: details?.reason ?? reason }));
      }
      return true; // no retry
    };
    conn.open();
  });
}

const craWith = (authid: string, password: string, salted: boolean) => ({
  authmethods: ['wampcra'],
  authid,
  onchallenge: (_session: unknown, method: string, extra: { challenge: string; salt?: string; iterations?: number; keylen?: number }) => {
    expect(method).toBe('wampcra');
    const key = salted ? autobahn.auth_cra.derive_key(password, extra.salt, extra.iterations, extra.keylen) : password;
    return autobahn.auth_cra.sign(key, extra.challenge);
  },
});

test('unsalted WAMP-CRA (the way existing sisock peers log in) joins as server', async () => {
  const { session, close } = await connect(craWith('server', 'server-secret', false));
  await session.register(`${B}.data_node.add`, () => true);
  expect(await session.call(`${B}.data_node.add`, ['n', 'd', 1])).toBe(true);
  await close();
});

test('salted WAMP-CRA joins; the consumer role may call but not register', async () => {
  const { session, close } = await connect(craWith('consumer', 'consumer-password', true));
  await expect(session.register(`${B}.consumer.x.get_data`, () => 1)).rejects.toMatchObject({ error: 'wamp.error.not_authorized' });
  await expect(session.call(`${B}.data_node.add`, [])).rejects.toMatchObject({ error: 'wamp.error.not_authorized' });
  await close();
});

test('a wrong secret and an unknown authid are refused alike', async () => {
  const wrong = await connect(craWith('server', 'not-the-secret', false)).then(
    () => null,
    (e: { reason: string; message: string }) => e,
  );
  const unknown = await connect(craWith('mallory', 'server-secret', false)).then(
    () => null,
    (e: { reason: string; message: string }) => e,
  );
  expect(wrong).toMatchObject({ reason: 'wamp.error.not_authorized' });
  expect(unknown).toMatchObject({ reason: wrong!.reason, message: wrong!.message });
});

test('ticket from the environment', async () => {
  const { close } = await connect({ authmethods: ['ticket'], authid: 'agent', onchallenge: () => 'agent-ticket' });
  await close();
});

describe('startRouter failures', () => {
  const plain = (port: number, extra: Record<string, unknown> = {}) =>
    parseConfig(
      {
        version: 2,
        workers: [
          {
            type: 'router',
            realms: [{ name: 'test_realm', roles: [{ name: 'anonymous', permissions: [] }] }],
            transports: [{ type: 'websocket', endpoint: { type: 'tcp', port, interface: '127.0.0.1', ...extra } }],
          },
        ],
      },
      { baseDir: '/nonexistent-dir', env: {} },
    ).config;

  test('a port in use is LISTEN_FAILED naming the transport', async () => {
    await expect(startRouter(plain(running.listeners[0]!.port))).rejects.toMatchObject({
      code: 'SISOCK_LISTEN_FAILED',
      message: expect.stringContaining('workers[0].transports[0]: cannot listen on 127.0.0.1:'),
    });
  });

  test('an unreadable TLS file is TLS_UNREADABLE naming the path, before any port opens', async () => {
    await expect(startRouter(plain(0, { tls: { key: 'key.pem', certificate: 'cert.pem' } }))).rejects.toMatchObject({
      code: 'SISOCK_TLS_UNREADABLE',
      message: expect.stringContaining("workers[0].transports[0].endpoint.tls.key: cannot read '/nonexistent-dir/key.pem'"),
    });
  });
});
