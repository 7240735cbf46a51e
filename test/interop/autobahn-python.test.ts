/**
 * Interop with AutobahnPython (Debian python3-autobahn 22.7.1, Twisted flavour), a WAMP client
 * nobody here wrote: test/interop/python/scenarios.py runs every scenario with Python peers on
 * both ends, over WebSocket (JSON, MsgPack) and RawSocket (JSON, MsgPack), one process per
 * serializer × transport, all in parallel; then mixed scenarios put a Python callee/subscriber
 * against an autobahn-js caller/publisher.
 *
 * Without /usr/bin/python3 + python3-autobahn the suite is skipped with a message, except when
 * CI or SISOCK_REQUIRE_SERVICES is set: then it fails.
 */
import {
  JsonLinesProcess,
  makeCredentials,
  PYTHON,
  pythonAutobahnMissing,
  pythonCredentialArgs,
  REALM,
  runPythonScenarios,
  SCENARIOS_PY,
  servicesRequired,
  startInteropRouter,
  toRsUrl,
  type InteropRouter,
} from '../helpers/interop';
import { autobahn, closeAll, connect, rejection } from '../helpers/autobahn-js';

const missing = pythonAutobahnMissing();
const required = servicesRequired();

if (missing) {
  if (required) {
    test('AutobahnPython is installed (required: CI or SISOCK_REQUIRE_SERVICES is set)', () => {
      throw new Error(`AutobahnPython interop cannot run: ${missing}`);
    });
  } else {
    console.warn(`SKIPPED autobahn-python interop: ${missing}`);
    test.skip(`autobahn-python interop (skipped: ${missing})`, () => {});
  }
}

const SCENARIOS = [
  'join',
  'rpc',
  'call_error',
  'pubsub',
  'pattern',
  'progressive',
  'cancel',
  'timeout',
  'shared',
  'wampcra',
  'wampcra_salted',
  'ticket',
  'permission',
  'binary',
] as const;
type Scenario = (typeof SCENARIOS)[number];

interface Combo {
  name: string;
  transport: 'websocket' | 'rawsocket';
  serializer: 'json' | 'msgpack';
}
const COMBOS: Combo[] = [
  { name: 'WebSocket/json', transport: 'websocket', serializer: 'json' },
  { name: 'WebSocket/msgpack', transport: 'websocket', serializer: 'msgpack' },
  { name: 'RawSocket/json', transport: 'rawsocket', serializer: 'json' },
  { name: 'RawSocket/msgpack', transport: 'rawsocket', serializer: 'msgpack' },
];

const creds = makeCredentials();
const BYTES = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), Buffer.from('\0end')]);

/** What each scenario's JSON line must contain (scenarios.py also checks and sets `ok`). */
function expectScenario(name: Scenario, r: Record<string, unknown>, realmName: string): void {
  switch (name) {
    case 'join':
      expect(r).toMatchObject({ realm: realmName, authrole: 'anonymous', authmethod: 'anonymous' });
      break;
    case 'rpc':
      expect(r).toMatchObject({ result: [5], kwresult: { echo: { x: 'y' } }, no_such_procedure: 'wamp.error.no_such_procedure' });
      break;
    case 'call_error':
      expect(r).toMatchObject({ error: 'com.interop.error.custom', args: [1, 'two', [3]], kwargs: { foo: 'bar', nested: { n: [1, 2] } } });
      break;
    case 'pubsub':
      expect(r.subscriber).toEqual([
        { args: [1, 'excluded'], kwargs: { k: 'v' } },
        { args: [2, 'included'], kwargs: {} },
      ]);
      expect((r.publisher as unknown[])[0]).toEqual({ args: [2, 'included'], kwargs: {} });
      break;
    case 'pattern':
      expect((r.events as unknown[]).length).toBe(2);
      break;
    case 'progressive':
      expect(r).toMatchObject({
        progress: [
          [[0], { tag: 'p' }],
          [[1], { tag: 'p' }],
          [[2], { tag: 'p' }],
        ],
        result: 'done',
      });
      break;
    case 'cancel':
      expect(r).toMatchObject({ callee: 'interrupted', caller_error: 'wamp.error.canceled' });
      break;
    case 'timeout':
      expect(r).toMatchObject({ callee: 'interrupted', caller_error: 'wamp.error.canceled' });
      break;
    case 'shared':
      expect((r.sequence as string[]).slice().sort()).toEqual(['a', 'a', 'b', 'b']);
      break;
    case 'wampcra':
      expect(r).toMatchObject({ authid: creds.cra.authid, authrole: 'full', authmethod: 'wampcra' });
      break;
    case 'wampcra_salted':
      expect(r).toMatchObject({ authid: creds.craSalted.authid, authrole: 'full', authmethod: 'wampcra' });
      break;
    case 'ticket':
      expect(r).toMatchObject({ authid: creds.ticket.authid, authrole: 'full', authmethod: 'ticket' });
      break;
    case 'permission':
      expect(r).toMatchObject({ authrole: 'limited', allowed: 'fine', forbidden_error: 'wamp.error.not_authorized' });
      break;
    case 'binary':
      expect(r).toMatchObject({ callee_type: 'bytes', length: BYTES.length, b64: BYTES.toString('base64') });
      break;
  }
  if (['wampcra', 'wampcra_salted', 'ticket'].includes(name)) {
    expect(['wamp.error.not_authorized', 'wamp.error.authentication_failed']).toContain(r.wrong_secret);
  }
  expect(r.ok).toBe(true);
}

(missing ? describe.skip : describe)('AutobahnPython 22.7.1 (Twisted) against our router', () => {
  let router: InteropRouter;
  const results = new Map<string, Map<string, Record<string, unknown>>>();
  const stderrs = new Map<string, string>();
  const servers: JsonLinesProcess[] = [];

  const urlFor = (c: { transport: 'websocket' | 'rawsocket' }): string => (c.transport === 'websocket' ? router.ws : toRsUrl(router.rs));

  beforeAll(async () => {
    router = await startInteropRouter(creds);
    // One Python process per serializer × transport, all scenarios each, in parallel.
    await Promise.all(
      COMBOS.map(async (c, i) => {
        const { results: r, proc } = await runPythonScenarios(
          [
            '--url',
            urlFor(c),
            '--realm',
            REALM,
            '--serializer',
            c.serializer,
            '--transport',
            c.transport,
            '--scenario',
            SCENARIOS.join(','),
            '--prefix',
            `com.interop.py${i}`,
            ...pythonCredentialArgs(creds),
          ],
          90000,
        );
        results.set(c.name, r);
        stderrs.set(c.name, proc.stderr);
        await proc.stop();
      }),
    );
  }, 120000);

  afterAll(async () => {
    await closeAll();
    await Promise.all(servers.map((s) => s.stop()));
    await router?.running.close();
  });

  describe.each(COMBOS)('Python ↔ Python over $name', (combo) => {
    test.each(SCENARIOS)('%s', (name) => {
      const r = results.get(combo.name)?.get(name);
      if (!r) throw new Error(`no result line for ${name}; stderr:\n${stderrs.get(combo.name)}`);
      if (!r.ok) throw new Error(`${name} failed in Python: ${String(r.error)}\n${String(r.traceback ?? '')}`);
      expectScenario(name, r, REALM);
    });
  });

  // --- mixed: a Python callee/subscriber, an autobahn-js caller/publisher ---------------------

  const MIX = [
    {
      name: 'Python WebSocket/json ⇄ autobahn-js msgpack',
      transport: 'websocket' as const,
      serializer: 'json' as const,
      js: 'msgpack' as const,
    },
    {
      name: 'Python RawSocket/msgpack ⇄ autobahn-js json',
      transport: 'rawsocket' as const,
      serializer: 'msgpack' as const,
      js: 'json' as const,
    },
  ];

  describe.each(MIX)('$name', (mix) => {
    let py: JsonLinesProcess;
    const prefix = `com.interop.mix${mix.transport}`;

    beforeAll(async () => {
      py = new JsonLinesProcess(PYTHON, [
        SCENARIOS_PY,
        '--url',
        urlFor(mix),
        '--realm',
        REALM,
        '--serializer',
        mix.serializer,
        '--transport',
        mix.transport,
        '--scenario',
        'serve',
        '--prefix',
        prefix,
      ]);
      servers.push(py);
      const ready = await py.waitFor((l) => 'ready' in l, 20000);
      if (ready.ready !== true) throw new Error(`Python serve failed: ${JSON.stringify(ready)} ${py.stderr}`);
    }, 30000);

    afterEach(async () => {
      await closeAll();
    });

    test('register/call: JS caller, Python callee', async () => {
      const c = await connect(router.ws, REALM, mix.js);
      expect(await c.session.call(`${prefix}.mix.add`, [20, 22])).toBe(42);
    });

    test('call error with args/kwargs from a Python callee', async () => {
      const c = await connect(router.ws, REALM, mix.js);
      const e = await rejection(c.session.call(`${prefix}.mix.fail`, [1, 'two'], { k: [3] }));
      expect(e.error).toBe('com.interop.error.from_python');
      expect(e.args).toEqual([1, 'two']);
      expect(e.kwargs).toEqual({ k: [3] });
    });

    test('pub/sub: JS publishes, Python receives; Python publishes, JS receives', async () => {
      const c = await connect(router.ws, REALM, mix.js);
      const from = py.lines.length;
      await c.session.publish(`${prefix}.mix.topic`, ['hello', 1], { from: 'js' }, { acknowledge: true });
      const ev = await py.waitFor((l) => 'event' in l, 10000, from);
      expect(ev.event).toEqual({ args: ['hello', 1], kwargs: { from: 'js' }, topic: `${prefix}.mix.topic` });

      const got = new Promise<unknown[]>((resolve) => {
        void c.session
          .subscribe(`${prefix}.mix.from_py`, (args) => resolve(args))
          .then(async () => {
            expect(await c.session.call(`${prefix}.mix.publish`, ['back', 2])).toBe('published');
          });
      });
      expect(await got).toEqual(['back', 2]);
    });

    test('cancel (kill): the Python callee sees the INTERRUPT, the JS caller gets wamp.error.canceled', async () => {
      const c = await connect(router.ws, REALM, mix.js);
      const from = py.lines.length;
      const call = c.session.call(`${prefix}.mix.slow`, ['cancel-me']);
      await py.waitFor((l) => 'started' in l, 10000, from);
      call.cancel({ mode: 'kill' });
      const e = await rejection(call);
      expect(e.error).toBe('wamp.error.canceled');
      expect((await py.waitFor((l) => 'interrupted' in l, 10000, from)).interrupted).toEqual(['cancel-me']);
    });

    test('call timeout: the Python callee is interrupted, the JS caller gets wamp.error.canceled', async () => {
      const c = await connect(router.ws, REALM, mix.js);
      const from = py.lines.length;
      const e = await rejection(c.session.call(`${prefix}.mix.slow`, ['time-me-out'], {}, { timeout: 200 }));
      expect(e.error).toBe('wamp.error.canceled');
      expect((await py.waitFor((l) => 'interrupted' in l, 10000, from)).interrupted).toEqual(['time-me-out']);
    });

    test('binary payload across serializers', async () => {
      const c = await connect(router.ws, REALM, mix.js);
      // JSON carries bytes as "\0" + base64; the router must turn that into real bytes for a
      // MsgPack peer and back (both directions are exercised by the two MIX setups).
      const arg = mix.js === 'json' ? `\u0000${BYTES.toString('base64')}` : BYTES;
      const [kind, back] = await c.session.call<[string, unknown]>(`${prefix}.mix.echo_bytes`, [arg]);
      expect(kind).toBe('bytes');
      if (mix.js === 'json') expect(back).toBe(arg);
      else expect(Buffer.from(back as Uint8Array).equals(BYTES)).toBe(true);
    });
  });

  test('autobahn-js is the real library', () => {
    expect(typeof autobahn.Connection).toBe('function');
  });
});
