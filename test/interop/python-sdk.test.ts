/**
 * The Python SDK (sdk/python/sisock) with Debian's /usr/bin/python3 + python3-autobahn, against
 * our router, hub and Grafana bridge over real sockets on port 0:
 *  - the guide's example node (Twisted) listed by the hub and read by `sisock get` (dist CLI);
 *  - an original sisock node's code (ApplicationRunner, __init__ calling ApplicationSession's)
 *    on the new base class, only its import resolved to sdk/python;
 *  - the asyncio and Twisted flavours: salted WAMP-CRA / ticket, [start, end), relative times,
 *    min_stride, bad arguments, a raising get_data (runtime_error without traceback, node keeps
 *    serving), metadata, live push, re-announce when the hub restarts, large results in
 *    progressive pieces or thinned.
 * Without python3-autobahn the suite is skipped with a message, except on CI (CI or
 * SISOCK_REQUIRE_SERVICES), where it fails.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { CallError, getData, getFields, listNodes, subscribeLive, SisockClient, type ClientOptions, type DataResult } from '../../client';
import { startBridge, type RunningBridge } from '../../consumers/grafana/server';
import { HubUri } from '../../contract';
import { runHub, type HubHandle } from '../../hub';
import { parseConfig } from '../../router/config';
import { startRouter, type RunningRouter } from '../../router/server';
import {
  JsonLinesProcess,
  makeCredentials,
  PYTHON,
  pythonAutobahnMissing,
  REALM,
  servicesRequired,
  startInteropRouter,
  type InteropRouter,
} from '../helpers/interop';
import { waitFor } from '../helpers/wait';
import { buildDistLenient } from '../helpers/sisock-process';
import { allowAllRole, oneRouterConfig, selfSignedCert } from '../helpers/router-setup';

const ROOT = path.join(__dirname, '..', '..');
const SDK = path.join(ROOT, 'sdk', 'python');
const PY_DIR = path.join(__dirname, 'python');
const SISOCK = path.join(ROOT, 'dist', 'bin', 'sisock.js');
const missing = pythonAutobahnMissing();
if (missing && !servicesRequired()) console.warn(`python-sdk suite skipped: ${missing}`);
const maybe = missing && !servicesRequired() ? describe.skip : describe;

jest.setTimeout(90000);

maybe('Python SDK nodes against our router, hub and bridge', () => {
  const creds = makeCredentials();
  let router: InteropRouter;
  let hub: HubHandle;
  let consumer: SisockClient;
  let bridge: RunningBridge;
  const procs: JsonLinesProcess[] = [];
  const clientOpts = (extra: Partial<ClientOptions> = {}): ClientOptions => ({
    url: router.ws,
    realm: REALM,
    uriBase: 'org.simonsobservatory',
    initialRetryDelay: 0.05,
    maxRetryDelay: 0.5,
    ...extra,
  });

  /** Starts a Python node; its settings (and secret) go through the environment, never the command line. */
  const spawnPy = (script: string, env: Record<string, string>): JsonLinesProcess => {
    const all: Record<string, string> = { PYTHONPATH: SDK, SISOCK_ROUTER: router.ws, SISOCK_REALM: REALM, ...env };
    const saved = new Map(Object.keys(all).map((k) => [k, process.env[k]]));
    Object.assign(process.env, all);
    try {
      const p = new JsonLinesProcess(PYTHON, [script]);
      procs.push(p);
      return p;
    } finally {
      for (const [k, v] of saved)
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
    }
  };
  const listed = (name: string) => waitFor(async () => (await listNodes(consumer)).some((n) => n.name === name), 20000, `${name} listed`);
  const callError = async (p: Promise<unknown>): Promise<CallError> => {
    try {
      await p;
    } catch (e) {
      if (e instanceof CallError) return e;
      throw e;
    }
    throw new Error('call succeeded');
  };

  beforeAll(async () => {
    if (missing) throw new Error(`python3-autobahn required here (CI/SISOCK_REQUIRE_SERVICES): ${missing}`);
    router = await startInteropRouter(creds);
    hub = await runHub({ client: clientOpts({ authid: creds.cra.authid, secret: creds.cra.secret }) });
    consumer = new SisockClient(clientOpts()).start();
    bridge = await startBridge({ client: clientOpts(), port: 0, host: '127.0.0.1', page: false, auth: {}, fieldsTtlMs: 200 });
  });

  afterAll(async () => {
    for (const p of procs) if (p.exitCode === null) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    await bridge?.close();
    await consumer?.close();
    await hub?.close();
    await router?.running.close();
  });

  it("the guide's example node is listed by the hub and read by `sisock get` (dist CLI); timing printed", async () => {
    buildDistLenient();
    expect(fs.existsSync(SISOCK)).toBe(true);
    const t0 = Date.now();
    spawnPy(path.join(SDK, 'examples', 'weather_files.py'), { SISOCK_AUTHID: creds.cra.authid, SISOCK_SECRET: creds.cra.secret });
    await listed('pyweather');
    const tListed = Date.now() - t0;
    const tCli = Date.now();
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        SISOCK,
        'get',
        'pyweather::humidity',
        '--from',
        '2026-10-18T00:00Z',
        '--to',
        '2026-10-18T06:00Z',
        '--router',
        router.ws,
        '--realm',
        REALM,
      ],
      { env: { ...process.env, SISOCK_LOG_LEVEL: 'warn' } },
    );
    const tRead = Date.now() - t0;
    const rows = stdout
      .trim()
      .split('\n')
      .filter((l) => /\d/.test(l) && !l.startsWith('time'));
    console.log(
      `python example node (asyncio): listed by the hub ${tListed} ms after its start; ` +
        `read by \`sisock get\` ${tRead} ms after its start ` +
        `(goal 2000 ms), of which the CLI process itself took ${Date.now() - tCli} ms`,
    );
    expect(rows.length).toBe(6); // hourly humidity, [00:00, 06:00)
    expect(stdout).toContain('2026-10-18T05:00:00');
    expect(stdout).not.toContain('2026-10-18T06:00:00');
  });

  it("an original sisock node's code runs on the new base class (Twisted, ApplicationRunner, unsalted WAMP-CRA)", async () => {
    const p = spawnPy(path.join(PY_DIR, 'original_style_node.py'), {
      NODE_NAME: 'original',
      SISOCK_AUTHID: creds.cra.authid,
      SISOCK_SECRET: creds.cra.secret,
    });
    await listed('original');
    expect((await listNodes(consumer)).find((n) => n.name === 'original')).toEqual({
      name: 'original',
      description: 'Original-style sisock node',
    });
    const [fields, timelines] = await getFields(consumer, 'original', 1, 0);
    expect(Object.keys(fields).sort()).toEqual(['therm_a', 'therm_b']);
    expect(timelines.therms!.field).toEqual(['therm_a', 'therm_b']);
    const r = await getData(consumer, 'original', ['therm_a', 'nope'], 1010, 1013);
    expect(r).toEqual({
      data: { therm_a: [21, 21.1, 21.2], nope: [] },
      timeline: { therms: { t: [1010, 1011, 1012], finalized_until: 1099 } },
    });
    // min_stride handled by the base class: min/max per 2*stride bucket on the stride grid
    const s = await getData(consumer, 'original', ['therm_b'], 1000, 1020, 5);
    expect(s.timeline.therms!.t).toEqual([1000, 1009, 1010, 1019]); // per 10 s bucket its max and min samples
    [4, 3.91, 3.9, 3.81].forEach((v, i) => expect(s.data.therm_b![i]).toBeCloseTo(v, 9));
    // a get_data that raises: runtime_error, short message, no traceback, no private detail
    const e = await callError(consumer.call(consumer.uri('consumer.original.get_data'), [['explode'], 1000, 1010]));
    expect(e.uri).toBe('wamp.error.runtime_error');
    const wire = JSON.stringify([e.message, e.args, e.kwargs]);
    expect(wire).toContain('internal error in original.get_data');
    expect(wire).not.toMatch(/Traceback|secret|on fire|\.py/);
    expect((await getData(consumer, 'original', ['therm_a'], 1000, 1002)).data.therm_a).toEqual([20, 20.1]);
    expect(p.exitCode).toBeNull();
    p.child.kill('SIGKILL');
    await waitFor(async () => !(await listNodes(consumer)).some((n) => n.name === 'original'), 5000, 'original removed');
  });

  describe.each([
    { flavour: 'asyncio', auth: 'salted WAMP-CRA' },
    { flavour: 'twisted', auth: 'ticket from SISOCK_SECRET_FILE' },
  ])('$flavour flavour ($auth)', ({ flavour, auth }) => {
    const name = `py_${flavour}`;
    let node: JsonLinesProcess;
    let secretDir: string;

    beforeAll(async () => {
      const env: Record<string, string> = { FLAVOUR: flavour, NODE_NAME: name, N: '50' };
      if (auth.startsWith('salted')) Object.assign(env, { SISOCK_AUTHID: creds.craSalted.authid, SISOCK_SECRET: creds.craSalted.secret });
      else {
        secretDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pysdk-'));
        const f = path.join(secretDir, 'secret');
        fs.writeFileSync(f, `${creds.ticket.secret}\n`, { mode: 0o600 });
        Object.assign(env, { SISOCK_AUTHID: creds.ticket.authid, SISOCK_SECRET_FILE: f, SISOCK_AUTHMETHODS: 'ticket' });
      }
      node = spawnPy(path.join(PY_DIR, 'pysdk_node.py'), env);
      await node.waitFor((l) => l.joined === true, 20000);
      await listed(name);
    });
    afterAll(() => {
      if (secretDir) fs.rmSync(secretDir, { recursive: true, force: true });
    });

    it('serves [start, end), relative times, min_stride; checks arguments', async () => {
      expect((await getData(consumer, name, ['x'], 1010, 1013)).data.x).toEqual([10, 11, 12]);
      const rel = await getData(consumer, name, ['x'], -3600, 0);
      expect(rel).toEqual({ data: { x: [] }, timeline: {} }); // samples are at t = 1000..1049
      const strided = await getData(consumer, name, ['x'], 1000, 1050, 10);
      // per bucket of 2 * 10 s its min and max samples at their real times
      expect(strided.timeline.tl!.t).toEqual([1000, 1019, 1020, 1039, 1040, 1049]);
      expect(strided.data.x).toEqual([0, 19, 20, 39, 40, 49]);
      const uri = consumer.uri(`consumer.${name}.get_data`);
      expect((await callError(consumer.call(uri, [['x'], 1000, 1010, -1]))).uri).toBe('wamp.error.invalid_argument');
      expect((await callError(consumer.call(uri, [['x'], 1010, 1000]))).uri).toBe('wamp.error.invalid_argument');
      expect((await callError(consumer.call(uri, ['x', 1000, 1010]))).uri).toBe('wamp.error.invalid_argument');
      expect((await callError(consumer.call(uri, [['x'], 1000, 1010], { min_stride: 'a' }))).uri).toBe('wamp.error.invalid_argument');
      expect((await callError(consumer.call(uri, [['x'], 1000, 1010, 0]))).uri).toBe('wamp.error.invalid_argument');
      expect((await callError(consumer.call(uri, [['x'], 1000, 1010, 5], { reduce: 'max' }))).uri).toBe('wamp.error.invalid_argument');
      const mean = await consumer.call<DataResult>(uri, [['x'], 1000, 1050], { min_stride: 10, reduce: 'mean' });
      expect(mean.timeline.tl!.t).toEqual([1004.5, 1014.5, 1024.5, 1034.5, 1044.5]);
      expect(mean.data.x).toEqual([4.5, 14.5, 24.5, 34.5, 44.5]);
      const kw = await consumer.call<DataResult>(uri, [], { field: ['x'], start: 1000, end: 1003, min_stride: null });
      expect(kw.data.x).toEqual([0, 1, 2]);
    });

    it('a raising get_data: runtime_error without traceback; NodeError passes its message; the node keeps serving', async () => {
      const uri = consumer.uri(`consumer.${name}.get_data`);
      const e = await callError(consumer.call(uri, [['boom'], 1000, 1010]));
      expect(e.uri).toBe('wamp.error.runtime_error');
      const wire = JSON.stringify([e.message, e.args, e.kwargs]);
      expect(wire).toContain(`internal error in ${name}.get_data`);
      expect(wire).not.toMatch(/Traceback|hunter2|secret|File "/);
      const n = await callError(consumer.call(uri, [['nodeerr'], 1000, 1010]));
      expect(n.uri).toBe('wamp.error.runtime_error');
      expect(JSON.stringify(n.args)).toContain('visible message');
      expect((await getData(consumer, name, ['x'], 1000, 1002)).data.x).toEqual([0, 1]);
      expect(node.exitCode).toBeNull();
      // NaN and infinities go out as null (a missing sample), not as invalid JSON
      expect((await getData(consumer, name, ['odd'], 1000, 1010)).data.odd).toEqual([null, null, 1]);
    });

    it('get_metadata has the NodeMetadata shape; live values arrive on consumer.<name>.data', async () => {
      const meta = await consumer.call<Record<string, unknown>>(consumer.uri(`consumer.${name}.get_metadata`));
      expect(meta).toMatchObject({ name, description: `Python SDK test node (${flavour})`, n_fields: 1, sisock_version: '0.1.0' });
      expect(typeof meta.pid).toBe('number');
      expect(typeof meta.session_id).toBe('number');
      expect(typeof meta.started).toBe('number');
      // the script's name without its arguments (they may hold secrets); the status hook, bounded
      expect(meta.process).toBe('python3 pysdk_node.py');
      expect(meta.status).toEqual({ ticks: expect.any(Number), mode: 'test' });
      // the hub lists it with that metadata, without the node's session id (consumers need not see it)
      const listing = await consumer.call<Array<Record<string, unknown>>>(consumer.uri(HubUri.GET_DATA_NODE_METADATA));
      const entry = listing.find((m) => m.name === name);
      expect(entry).toMatchObject({ name, available: true, pid: meta.pid });
      expect(entry).not.toHaveProperty('session_id');
      const got: DataResult[] = [];
      const h = await subscribeLive(consumer, name, (r) => got.push(r));
      await waitFor(() => got.length >= 2, 5000, 'live values');
      await h.remove();
      expect(got[0]!.data.x![0]).toBeLessThan(0);
      expect(got[0]!.timeline.tl!.t[0]).toBeGreaterThan(5000);
    });

    it('the Grafana bridge reads it', async () => {
      const res = await fetch(`${bridge.url}/query`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          range: { from: new Date(1000e3).toISOString(), to: new Date(1005e3).toISOString() },
          targets: [{ target: `${name}::x` }],
          maxDataPoints: 100,
        }),
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as Array<{ target: string; datapoints: number[][] }>;
      expect(body[0]!.datapoints.map((d) => d[0]).slice(0, 5)).toEqual([0, 1, 2, 3, 4]);
    });

    it('announces again when the hub restarts', async () => {
      const said = () => node.stderr + JSON.stringify(node.lines);
      const before = said().split('announced to hub (hub started').length;
      await hub.close();
      hub = await runHub({ client: clientOpts({ authid: creds.cra.authid, secret: creds.cra.secret }) });
      // the node's own data_node.add on hub.started (its log says so): the new hub would also list it
      // from the router's registrations alone, so the listing by itself proves nothing
      await waitFor(() => said().split('announced to hub (hub started').length > before, 10000, `${name} announced again`);
      await listed(name);
    });

    it('SIGTERM: data_node.subtract, GOODBYE, exit 0; the hub drops it', async () => {
      node.child.kill('SIGTERM');
      expect(await node.exited).toBe(0);
      await waitFor(async () => !(await listNodes(consumer)).some((n) => n.name === name), 5000, `${name} removed`);
    });
  });

  it('the live example (examples/live_values.py, asyncio) pushes values and serves what it pushed', async () => {
    const p = spawnPy(path.join(SDK, 'examples', 'live_values.py'), { NODE_NAME: 'pylive', PERIOD: '0.05' });
    await listed('pylive');
    const got: DataResult[] = [];
    const h = await subscribeLive(consumer, 'pylive', (r) => got.push(r));
    await waitFor(() => got.length >= 3, 10000, 'live values');
    await h.remove();
    const pushed = got.map((r) => r.timeline.live!.t[0]!);
    const served = await getData(consumer, 'pylive', ['sine'], -60, 0);
    expect(served.timeline.live!.t).toEqual(expect.arrayContaining(pushed));
    got.forEach((r) => expect(r.data.sine![0]).toBeCloseTo(Math.sin(r.timeline.live!.t[0]! / 60), 12));
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
  });

  it('large results: progressive pieces for callers asking for progress, thinned to fit for the others', async () => {
    const N = 200000;
    const p = spawnPy(path.join(PY_DIR, 'pysdk_node.py'), { FLAVOUR: 'asyncio', NODE_NAME: 'pybig', N: String(N), DT: '0.01' });
    await p.waitFor((l) => l.joined === true, 20000);
    const full = await getData(consumer, 'pybig', ['x'], 1000, 1000 + N * 0.01, null, { timeoutMs: 60000 });
    expect(full.data.x!.length).toBe(N);
    expect(full.timeline.tl!.t.length).toBe(N);
    expect(full.data.x![N - 1]).toBe(N - 1);
    const thin = await consumer.call<DataResult>(
      consumer.uri('consumer.pybig.get_data'),
      [['x'], 1000, 1000 + N * 0.01],
      {},
      { timeoutMs: 60000 },
    );
    const n = thin.data.x!.length;
    expect(n).toBeGreaterThan(100);
    expect(n).toBeLessThan(N);
    expect(Math.min(...(thin.data.x as number[]))).toBe(0);
    expect(Math.max(...(thin.data.x as number[]))).toBe(N - 1);
    expect(JSON.stringify(thin).length).toBeLessThan(1048576);
  });
  describe.each(['asyncio', 'twisted'])(
    'wss:// with a CA file (SISOCK_CA), and reconnecting when the router comes back (%s)',
    (flavour) => {
      let dir: string;
      let tlsRouter: RunningRouter | null = null;
      let config: ReturnType<typeof parseConfig>['config'];
      beforeAll(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pysdk-tls-'));
        selfSignedCert(dir, { key: 'rsa', cn: 'localhost', san: 'DNS:localhost,IP:127.0.0.1', keyFile: 'k.pem', certFile: 'c.pem' });
      });
      afterAll(async () => {
        await tlsRouter?.close();
        fs.rmSync(dir, { recursive: true, force: true });
      });
      const makeConfig = (port: number) =>
        parseConfig(
          oneRouterConfig(
            [allowAllRole('server')],
            [
              {
                type: 'websocket',
                endpoint: {
                  type: 'tcp',
                  port,
                  interface: '127.0.0.1',
                  tls: { key: path.join(dir, 'k.pem'), certificate: path.join(dir, 'c.pem') },
                },
                auth: { wampcra: { type: 'static', users: { server: { secret: creds.cra.secret, role: 'server' } } } },
              },
            ],
          ),
        ).config;

      it('joins over TLS trusting the given CA, serves, and comes back after a router restart', async () => {
        config = makeConfig(0);
        tlsRouter = await startRouter(config);
        const url = tlsRouter.urls[0]!.replace('127.0.0.1', 'localhost');
        expect(url.startsWith('wss://localhost:')).toBe(true);
        const node = spawnPy(path.join(PY_DIR, 'pysdk_node.py'), {
          FLAVOUR: flavour,
          NODE_NAME: 'pytls',
          N: '10',
          SISOCK_ROUTER: url,
          SISOCK_REALM: 'test_realm',
          SISOCK_AUTHID: 'server',
          SISOCK_SECRET: creds.cra.secret,
          SISOCK_CA: path.join(dir, 'c.pem'),
        });
        await node.waitFor((l) => l.joined === true, 20000);
        const ca = fs.readFileSync(path.join(dir, 'c.pem'));
        const c = new SisockClient({
          url,
          realm: 'test_realm',
          uriBase: 'org.simonsobservatory',
          authid: 'server',
          secret: creds.cra.secret,
          ca,
          initialRetryDelay: 0.05,
          maxRetryDelay: 0.5,
        }).start();
        try {
          expect((await getData(c, 'pytls', ['x'], 1000, 1003)).data.x).toEqual([0, 1, 2]);
          // the router goes away and comes back on the same port: the node reconnects (backoff) and registers again
          const port = Number(new URL(url).port);
          const joinedBefore = node.lines.filter((l) => l.joined === true).length;
          await tlsRouter.close();
          tlsRouter = await startRouter(makeConfig(port));
          await waitFor(() => node.lines.filter((l) => l.joined === true).length > joinedBefore, 20000, 'node joined again');
          await waitFor(
            async () => (await getData(c, 'pytls', ['x'], 1000, 1002).catch(() => null))?.data.x?.length === 2,
            10000,
            'served again',
          );
        } finally {
          await c.close();
          node.child.kill('SIGKILL');
          await node.exited;
        }
      });
    },
  );
});
