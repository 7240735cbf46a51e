/**
 * The consumer CLI's human error line says the real reason, over real routers on port 0: a wrong
 * secret, a wrong realm, a router that wants credentials, no router, no hub; `get` with field globs
 * (`sim::*`); `call` of a node's procedure (sim.set_channel) with JSON arguments.
 */
import { parseConfig } from '../../router/config';
import { startRouter, type RunningRouter } from '../../router/server';
import { runHub, type HubHandle } from '../../hub';
import { runSimNode } from '../../data-nodes/sim';
import type { DataNodeHandle } from '../../data-nodes/sdk';
import {
  callProcedure,
  connect,
  expandTargets,
  fetchJoined,
  listNodeRows,
  parseCallArg,
  parseTargets,
  procedureUri,
} from '../../consumers/cli';
import type { SisockClient } from '../../client';
import { closeAll, opts, startTestRouter } from './sisock-helpers';
import { allowAllRole, oneRouterConfig } from '../helpers/router-setup';

describe('CLI error reasons', () => {
  let authRouter: RunningRouter;
  let authUrl: string;

  beforeAll(async () => {
    const { config } = parseConfig(
      oneRouterConfig(
        [allowAllRole('consumer')],
        [
          {
            type: 'websocket',
            endpoint: { type: 'tcp', port: 0, interface: '127.0.0.1' },
            auth: { ticket: { type: 'static', principals: { alice: { ticket: 'right', role: 'consumer' } } } },
          },
        ],
      ),
    );
    authRouter = await startRouter(config);
    authUrl = authRouter.urls[0] ?? '';
  });
  afterAll(async () => {
    await authRouter.close();
  });

  const attempt = (extra: Record<string, unknown>) => connect({ ...opts(authUrl), authmethods: ['ticket'], ...extra }, 5000);

  it('a wrong secret: "authentication failed for authid X"', async () => {
    await expect(attempt({ authid: 'alice', secret: 'wrong' })).rejects.toThrow(
      /^authentication failed for authid "alice" on ws:\/\/.*: check SISOCK_SECRET or --secret-file$/,
    );
  });

  it('a wrong realm: "no realm R"', async () => {
    await expect(attempt({ authid: 'alice', secret: 'right', realm: 'nosuch' })).rejects.toThrow(
      /^no realm "nosuch" on router ws:\/\/\S+: check --realm or SISOCK_REALM/,
    );
  });

  it('no credentials where the router wants them', async () => {
    await expect(connect({ ...opts(authUrl) }, 5000)).rejects.toThrow(/refused an anonymous session: .*give --authid and SISOCK_SECRET/);
  });

  it('the right secret connects', async () => {
    const c = await attempt({ authid: 'alice', secret: 'right' });
    await c.close();
  });

  it('no router: "unreachable", naming what to start', async () => {
    const { router, url } = await startTestRouter();
    await router.close(); // a port nobody listens on any more
    await expect(connect(opts(url), 5000)).rejects.toThrow(
      /^router ws:\/\/\S+ unreachable: is `sisock router` \(or the demo\) running there\?$/,
    );
  });
});

describe('CLI with a router but no hub, then with hub and sim', () => {
  let router: RunningRouter;
  let url: string;
  let client: SisockClient;
  let hub: HubHandle | undefined;
  let sim: DataNodeHandle | undefined;
  let stopSim: (() => void) | undefined;

  beforeAll(async () => {
    ({ router, url } = await startTestRouter());
    client = await connect(opts(url), 5000);
  });
  afterAll(async () => {
    stopSim?.();
    await closeAll(client, sim, hub);
    await router.close();
  });

  it('no hub: "no hub is running: start `sisock hub`"', async () => {
    await expect(listNodeRows(client, 3000)).rejects.toThrow('no hub is running: start `sisock hub` (or `sisock demo`)');
  });

  it("get 'sim::*' expands to every field of the node; call sim.set_channel switches a channel on", async () => {
    hub = await runHub({ client: opts(url) });
    const s = await runSimNode({ client: opts(url), rate: 20, seed: 1 });
    sim = s.node;
    stopSim = () => s.source.stop();
    await Promise.all([hub.ready(10000), sim.ready(10000)]);

    const all = await expandTargets(client, parseTargets(['sim::*']), 5000);
    expect(all.length).toBeGreaterThan(10);
    expect(all.map((t) => t.key)).toEqual([...all.map((t) => t.key)].sort());
    expect(all.map((t) => t.key)).toContain('sim::hv_ch0_voltage');
    const some = await expandTargets(client, parseTargets(['sim::hv_ch?_on', 'sim::hv_ch0_on']), 5000);
    expect(some.map((t) => t.key)).toEqual(['sim::hv_ch0_on', 'sim::hv_ch1_on', 'sim::hv_ch2_on', 'sim::hv_ch3_on']);
    await expect(expandTargets(client, parseTargets(['sim::nope*']), 5000)).rejects.toThrow(/no field of "sim" matches "nope\*"/);
    const now = Date.now() / 1000;
    const joined = await fetchJoined(client, parseTargets(['sim::hv_ch?_on']), {
      start: now - 60,
      end: now + 1,
      minStride: null,
      timeoutMs: 5000,
    });
    expect(joined.keys).toEqual(['sim::hv_ch0_on', 'sim::hv_ch1_on', 'sim::hv_ch2_on', 'sim::hv_ch3_on']);

    expect(procedureUri(client, 'sim.set_channel')).toBe(client.uri('consumer.sim.set_channel'));
    expect(() => procedureUri(client, 'set_channel')).toThrow(/not <node>.<procedure>/);
    expect(parseCallArg('{"on": true}')).toEqual({ on: true });
    expect(parseCallArg('hv')).toBe('hv');
    expect(parseCallArg('0')).toBe(0);
    await callProcedure(client, 'sim.set_channel', ['hv', 0, { on: true, voltage: 900 }], {}, 5000);
    const state = await callProcedure(client, 'sim.get_state', [], {}, 5000);
    expect(JSON.stringify(state)).toMatch(/900/);
    await expect(callProcedure(client, 'sim.nosuch', [], {}, 5000)).rejects.toThrow(/no procedure .*sim\.nosuch: is node "sim" online/);
    await expect(callProcedure(client, 'sim.set_channel', ['hv'], {}, 5000)).rejects.toThrow(
      /sim.set_channel answered wamp.error.invalid_argument: set_channel takes/,
    );
  });
});
