import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { clientOptionsFromEnv, CallError, HandlerError, SisockClient, type RefusalInfo } from '../../client';
import { ErrorCode, SisockError } from '../../common/errors';
import { runHub } from '../../hub';
import { runDataNode } from '../../data-nodes/sdk';
import { parseConfig } from '../../router/config';
import { startRouter } from '../../router/server';
import { closeAll, MemorySource, newClient, opts, startTestRouter, waitFor } from './sisock-helpers';
import { freePort, REQUIRED } from './telemetry-helpers';
import { allowAllRole, oneRouterConfig, selfSignedCert } from '../helpers/router-setup';

const HAVE_OPENSSL = spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;
if (!HAVE_OPENSSL && !REQUIRED) console.warn('skipped: no openssl binary, so the wss test (it makes a certificate with it)');

describe('client options', () => {
  it('reads flags over env over defaults, secret from file or env', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sisock-'));
    const f = path.join(dir, 'secret');
    fs.writeFileSync(f, 's3cret\n');
    expect(clientOptionsFromEnv({}, {})).toEqual({ url: 'ws://127.0.0.1:8080/ws', realm: 'test_realm', uriBase: 'org.simonsobservatory' });
    expect(
      clientOptionsFromEnv({ secretFile: f }, { SISOCK_AUTHID: 'server', SISOCK_ROUTER: 'ws://h:1/ws', SISOCK_SECRET: 'env' }),
    ).toMatchObject({ url: 'ws://h:1/ws', authid: 'server', secret: 's3cret' });
    expect(
      clientOptionsFromEnv(
        { router: 'ws://x/ws', realm: 'R', uriBase: 'b' },
        { SISOCK_AUTHID: 'a', SISOCK_SECRET: 'e', SISOCK_REALM: 'Q' },
      ),
    ).toEqual({ url: 'ws://x/ws', realm: 'R', uriBase: 'b', authid: 'a', secret: 'e' });
    expect(() => clientOptionsFromEnv({}, { SISOCK_AUTHID: 'a' })).toThrow(/no secret/);
    expect(() => clientOptionsFromEnv({ ca: path.join(dir, 'nope') }, {})).toThrow(/cannot read CA/);
    fs.rmSync(dir, { recursive: true });
  });
});

describe('client over a real router', () => {
  it('calls, registers, publishes, subscribes; errors come back typed', async () => {
    const { router, url } = await startTestRouter();
    const a = newClient(url);
    const b = newClient(url);
    try {
      await a.register('com.x.add', (args) => (args[0] as number) + (args[1] as number));
      await b.whenReady(5000);
      expect(await b.call('com.x.add', [2, 3])).toBe(5);
      const err = await b.call('com.x.none').catch((e) => e);
      expect(err).toBeInstanceOf(CallError);
      expect((err as CallError).uri).toBe('wamp.error.no_such_procedure');
      const got: unknown[] = [];
      await b.subscribe('com.x.topic', (args) => got.push(args[0]));
      await waitFor(
        async () => {
          await a.publish('com.x.topic', [{ n: 1 }]);
          return got.length > 0;
        },
        3000,
        'event',
      );
      expect(got[0]).toEqual({ n: 1 });
    } finally {
      await closeAll(a, b);
      await router.close();
    }
  });

  it('reconnects forever: router stopped and started on the same port → back within 10 s, registrations restored', async () => {
    const started = await startTestRouter();
    const { url, port } = started;
    let router = started.router;
    const callee = newClient(url);
    const caller = newClient(url);
    try {
      await callee.register('com.x.ping', () => 'pong');
      await caller.whenReady(5000);
      expect(await caller.call('com.x.ping')).toBe('pong');
      await router.close();
      await waitFor(() => !caller.isReady && !callee.isReady, 5000, 'clients notice the router is gone');
      ({ router } = await startTestRouter(port));
      const t0 = Date.now();
      await waitFor(
        async () => (await caller.call('com.x.ping', [], {}, { timeoutMs: 1000 })) === 'pong',
        10000,
        'ping after router restart',
      );
      expect(Date.now() - t0).toBeLessThan(10000);
    } finally {
      await closeAll(callee, caller);
      await router.close();
    }
  });

  it('a node started before the router joins when it comes, and the hub lists it', async () => {
    // find a free port, then start the node while nothing listens there
    const probe = await startTestRouter();
    const port = probe.port;
    await probe.router.close();
    const url = `ws://127.0.0.1:${port}/ws`;
    const node = await runDataNode({ name: 'patient', description: 'came first', source: new MemorySource(2), client: opts(url) });
    const hub = await runHub({ client: opts(url) });
    const consumer = newClient(url);
    let router;
    try {
      await expect(consumer.whenReady(300)).rejects.toThrow(/no WAMP session/);
      ({ router } = await startTestRouter(port));
      await node.ready(10000);
      await waitFor(
        async () => (await consumer.call<unknown[]>(consumer.uri('consumer.get_data_node'))).length === 1,
        10000,
        'node listed',
      );
    } finally {
      await closeAll(node, hub, consumer);
      if (router) await router.close();
    }
  });

  (HAVE_OPENSSL || REQUIRED ? it : it.skip)('wss with a custom CA, WAMP-CRA and ticket auth', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sisock-tls-'));
    selfSignedCert(dir, { key: 'rsa', cn: '127.0.0.1', san: 'IP:127.0.0.1', keyFile: 'k.pem', certFile: 'c.pem' });
    const { config } = parseConfig(
      oneRouterConfig(
        [allowAllRole('server')],
        [
          {
            type: 'websocket',
            endpoint: {
              type: 'tcp',
              port: 0,
              interface: '127.0.0.1',
              tls: { key: path.join(dir, 'k.pem'), certificate: path.join(dir, 'c.pem') },
            },
            auth: {
              wampcra: { type: 'static', users: { server: { secret: 'cra-secret', role: 'server' } } },
              ticket: { type: 'static', principals: { t: { ticket: 'tick', role: 'server' } } },
            },
          },
        ],
      ),
    );
    const router = await startRouter(config);
    const url = router.urls[0]!;
    expect(url.startsWith('wss://')).toBe(true);
    const ca = fs.readFileSync(path.join(dir, 'c.pem'));
    const cra = new SisockClient({ ...opts(url), authid: 'server', secret: 'cra-secret', ca }).start();
    // a ticket user behind a router that also has WAMP-CRA, configured only by env as the Python SDK is
    fs.writeFileSync(path.join(dir, 'ticket'), 'tick\n');
    const fromEnv = clientOptionsFromEnv(
      {},
      {
        SISOCK_ROUTER: url,
        SISOCK_REALM: opts(url).realm,
        SISOCK_AUTHID: 't',
        SISOCK_SECRET_FILE: path.join(dir, 'ticket'),
        SISOCK_AUTHMETHODS: 'ticket',
        SISOCK_CA: path.join(dir, 'c.pem'),
      },
    );
    const ticket = new SisockClient({ ...opts(url), ...fromEnv }).start();
    const noCa = new SisockClient({ ...opts(url), authid: 'server', secret: 'cra-secret' }).start();
    try {
      await cra.whenReady(5000);
      await ticket.whenReady(5000);
      await cra.register('com.x.who', (_a, _k, d) => d.caller ?? 'anon');
      expect(await ticket.call('com.x.who')).toBeDefined();
      await expect(noCa.whenReady(500)).rejects.toThrow(/no WAMP session/);
    } finally {
      await closeAll(cra, ticket, noCa);
      await router.close();
      fs.rmSync(dir, { recursive: true });
    }
  });

  it('a wrong secret keeps retrying without crashing, and close() stops it', async () => {
    const { router, url } = await startTestRouter();
    const c = new SisockClient({ ...opts(url), authid: 'nobody', secret: 'x', authmethods: ['ticket'] }).start();
    try {
      await expect(c.whenReady(500)).rejects.toThrow(/no WAMP session/);
    } finally {
      await c.close();
      await router.close();
    }
  });
});

/** A pino logger that keeps its records, to count what was logged. */
function capturingLogger(): { logger: pino.Logger; lines: Array<{ level: number; msg: string; [k: string]: unknown }> } {
  const lines: Array<{ level: number; msg: string }> = [];
  const logger = pino(
    { level: 'debug' },
    {
      write: (s: string) => {
        lines.push(JSON.parse(s));
      },
    },
  );
  return { logger, lines };
}

describe('client: errors, refusals, readiness', () => {
  it('a registration/subscription refused for good is reported once, not retried every second', async () => {
    const { router, url } = await startTestRouter();
    const { logger, lines } = capturingLogger();
    const c = new SisockClient(opts(url, { logger }));
    const refusals: Array<[string, RefusalInfo]> = [];
    c.onError((err, info) => refusals.push([err.uri, info]));
    try {
      // made while disconnected: the promises resolve at once, the router refuses them on join
      await c.register('wamp.mine', () => 1); // reserved URI → invalid_uri
      await c.subscribe('com..bad', () => {}); // empty component → invalid_uri
      await c.register('com.x.fine', () => 'ok');
      await c.whenReady(5000);
      await waitFor(() => refusals.length === 2, 5000, 'both refusals');
      expect(await c.call('com.x.fine')).toBe('ok'); // the restore pass is over
      expect(c.retryPending).toBe(false); // nothing scheduled: a permanent refusal is not retried
      expect(refusals).toEqual([
        ['wamp.error.invalid_uri', { kind: 'register', uri: 'wamp.mine' }],
        ['wamp.error.invalid_uri', { kind: 'subscribe', uri: 'com..bad' }],
      ]);
      expect(lines.filter((l) => /will retry/.test(l.msg))).toEqual([]);
      expect(lines.filter((l) => l.level === 50 && /refused/.test(l.msg))).toHaveLength(2);
      expect(await c.call('com.x.fine')).toBe('ok');
      // while connected, the refusal rejects the awaited call (and nothing is kept for later)
      await expect(c.register('wamp.other', () => 1)).rejects.toMatchObject({ uri: 'wamp.error.invalid_uri' });
      await expect(c.subscribe('com..worse', () => {})).rejects.toMatchObject({ uri: 'wamp.error.invalid_uri' });
      expect(refusals).toHaveLength(2);
    } finally {
      await c.close();
      await router.close();
    }
  });

  it('a handler exception reaches the caller as a generic runtime_error; deliberate errors stay readable', async () => {
    const { router, url } = await startTestRouter();
    const { logger, lines } = capturingLogger();
    const callee = new SisockClient(opts(url, { logger })).start();
    const caller = newClient(url);
    try {
      await callee.whenReady(5000);
      await callee.register('com.x.leak', () => {
        throw new Error('connect postgres://admin:hunter2@db/prod failed');
      });
      await callee.register('com.x.deliberate', () => {
        throw new HandlerError('com.x.error.busy', 'try again later');
      });
      await callee.register('com.x.badarg', () => {
        throw new SisockError(ErrorCode.INVALID_ARGUMENT, 'n must be positive');
      });
      await caller.whenReady(5000);
      const leak = (await caller.call('com.x.leak').catch((e) => e)) as CallError;
      expect(leak.uri).toBe('wamp.error.runtime_error');
      expect(leak.args).toEqual(["internal error in com.x.leak; see the callee's log"]);
      expect(JSON.stringify(leak.args)).not.toMatch(/hunter2|postgres/);
      expect(lines.some((l) => l.msg === 'handler failed' && String(l.err).includes('hunter2'))).toBe(true);
      const deliberate = (await caller.call('com.x.deliberate').catch((e) => e)) as CallError;
      expect([deliberate.uri, deliberate.args]).toEqual(['com.x.error.busy', ['try again later']]);
      const badarg = (await caller.call('com.x.badarg').catch((e) => e)) as CallError;
      expect([badarg.uri, badarg.args]).toEqual(['wamp.error.invalid_argument', ['n must be positive']]);
    } finally {
      await closeAll(callee, caller);
      await router.close();
    }
  });

  it('whenReady() without a timeout rejects when the client is closed', async () => {
    const c = new SisockClient(opts(`ws://127.0.0.1:${await freePort()}/ws`)); // nobody listens there
    const waiting = c.whenReady();
    await c.close();
    await expect(waiting).rejects.toThrow(/closed/);
    await expect(c.whenReady()).rejects.toThrow(/closed/);
  });

  it('installSignalHandlers() twice keeps one pair of listeners', async () => {
    const c = new SisockClient(opts('ws://127.0.0.1:9/ws'));
    const before = [process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')];
    const undo1 = c.installSignalHandlers(() => {});
    const undo2 = c.installSignalHandlers(() => {});
    expect([process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')]).toEqual([before[0]! + 1, before[1]! + 1]);
    undo1(); // stale undo: the second pair stays
    expect(process.listenerCount('SIGINT')).toBe(before[0]! + 1);
    undo2();
    expect([process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')]).toEqual(before);
    await c.close();
  });
});
