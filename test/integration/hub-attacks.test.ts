/**
 * The hub under attack over a real router: a session that claims another's session id, squats a
 * name another session serves, sends huge descriptions or too many names. Each attack is refused
 * with the standard error and a log line; the victim stays listed and discovery keeps working.
 */
import { Writable } from 'stream';
import pino from 'pino';
import { listNodes, CallError, type SisockClient } from '../../client';
import { runHub, type HubHandle } from '../../hub';
import { runDataNode, type DataNodeHandle } from '../../data-nodes/sdk';
import type { RunningRouter } from '../../router/server';
import { HubUri } from '../../contract';
import { ErrorUri } from '../../wamp/errors';
import { closeAll, MemorySource, newClient, opts, startTestRouter, waitFor } from './sisock-helpers';

describe('hub: ownership and bounds', () => {
  let router: RunningRouter;
  let url: string;
  let hub: HubHandle;
  let victim: DataNodeHandle;
  let attacker: SisockClient;
  let consumer: SisockClient;
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
        cb();
      },
    }),
  );
  const refusals = (procedure: string) => lines.filter((l) => l.msg === `${procedure} refused`);
  const errorOf = (p: Promise<unknown>) =>
    p.then(
      () => null,
      (e: unknown) => (e instanceof CallError ? e.uri : String(e)),
    );

  beforeAll(async () => {
    ({ router, url } = await startTestRouter());
    hub = await runHub({ client: opts(url), logger, limits: { maxNamesPerSession: 3 } });
    await hub.ready(5000);
    victim = await runDataNode({ name: 'victim', description: 'the real one', source: new MemorySource(3), client: opts(url) });
    await victim.ready(5000);
    attacker = newClient(url);
    consumer = newClient(url);
    await attacker.whenReady(5000);
    await consumer.whenReady(5000);
  });
  afterAll(async () => {
    await closeAll(victim, attacker, consumer, hub);
    await router.close();
  });

  const add = (c: SisockClient, args: unknown[]) => c.call<boolean>(c.uri(HubUri.DATA_NODE_ADD), args);
  const subtract = (c: SisockClient, args: unknown[]) => c.call<null>(c.uri(HubUri.DATA_NODE_SUBTRACT), args);
  const victimListed = async () => (await listNodes(consumer)).find((n) => n.name === 'victim');

  it("refuses data_node.add with another session's id (not_authorized, logged); the victim stays", async () => {
    const before = refusals(HubUri.DATA_NODE_ADD).length;
    const sid = victim.client.sessionId;
    expect(await errorOf(add(attacker, ['victim', 'overwritten', sid]))).toBe(ErrorUri.NOT_AUTHORIZED);
    expect(await errorOf(add(attacker, ['fresh', "in the victim's name", sid]))).toBe(ErrorUri.NOT_AUTHORIZED);
    expect(await victimListed()).toEqual({ name: 'victim', description: 'the real one' });
    expect((await listNodes(consumer)).some((n) => n.name === 'fresh')).toBe(false);
    expect(refusals(HubUri.DATA_NODE_ADD).length).toBe(before + 2);
    expect(refusals(HubUri.DATA_NODE_ADD).at(-1)).toMatchObject({
      level: 40,
      error: ErrorUri.NOT_AUTHORIZED,
      claimed: sid,
      caller: attacker.sessionId,
    });
  });

  it("refuses data_node.subtract with another session's id; the victim stays", async () => {
    const before = refusals(HubUri.DATA_NODE_SUBTRACT).length;
    expect(await errorOf(subtract(attacker, ['victim', victim.client.sessionId]))).toBe(ErrorUri.NOT_AUTHORIZED);
    expect(await victimListed()).toBeDefined();
    expect(refusals(HubUri.DATA_NODE_SUBTRACT).length).toBe(before + 1);
  });

  it("refuses a name whose get_data another live session serves, even with the caller's own id", async () => {
    // first make the hub forget the victim's entry (the victim subtracts itself), then squat
    await subtract(victim.client, ['victim', victim.client.sessionId]);
    expect(await victimListed()).toBeUndefined();
    expect(await errorOf(add(attacker, ['victim', 'squatter', attacker.sessionId]))).toBe(ErrorUri.NOT_AUTHORIZED);
    expect(await victimListed()).toBeUndefined();
    // the real node gets its name back
    expect(await add(victim.client, ['victim', 'the real one', victim.client.sessionId])).toBe(true);
    expect(await victimListed()).toEqual({ name: 'victim', description: 'the real one' });
  });

  it('refuses huge descriptions and bad names with invalid_argument; answers stay small', async () => {
    const huge = 'x'.repeat(6 * 1024 * 1024);
    const me = attacker.sessionId;
    for (let i = 0; i < 3; i++) expect(await errorOf(add(attacker, [`big${i}`, huge, me]))).toBe(ErrorUri.INVALID_ARGUMENT);
    for (const name of ['a.b', 'has space', 'x'.repeat(65), '', 7]) {
      expect(await errorOf(add(attacker, [name, '', me]))).toBe(ErrorUri.INVALID_ARGUMENT);
    }
    expect(await errorOf(add(attacker, ['ok', '', 'not a number']))).toBe(ErrorUri.INVALID_ARGUMENT);
    expect(await errorOf(subtract(attacker, [{}, me]))).toBe(ErrorUri.INVALID_ARGUMENT);
    const list = await listNodes(consumer);
    expect(JSON.stringify(list).length).toBeLessThan(10_000);
    expect(lines.some((l) => l.error === ErrorUri.INVALID_ARGUMENT)).toBe(true);
  });

  it('caps the names one session holds (limit_exceeded); other sessions still announce', async () => {
    const me = attacker.sessionId;
    for (let i = 0; i < 3; i++) expect(await add(attacker, [`mine${i}`, '', me])).toBe(true);
    expect(await errorOf(add(attacker, ['mine3', '', me]))).toBe(ErrorUri.LIMIT_EXCEEDED);
    expect(await add(consumer, ['other', '', consumer.sessionId])).toBe(true);
    expect(refusals(HubUri.DATA_NODE_ADD).some((l) => l.error === ErrorUri.LIMIT_EXCEEDED)).toBe(true);
    await waitFor(async () => (await listNodes(consumer)).length === 5, 2000, 'victim, three of mine, other');
  });

  it('get_data_node_metadata shows no session ids', async () => {
    const meta = await consumer.call<Array<Record<string, unknown>>>(consumer.uri(HubUri.GET_DATA_NODE_METADATA));
    expect(meta.length).toBe(5);
    for (const m of meta) expect(m).not.toHaveProperty('session_id');
    expect(meta.find((m) => m.name === 'victim')).toMatchObject({ available: true, description: 'the real one' });
  });

  it('drops every name of a session that leaves', async () => {
    await attacker.close();
    await waitFor(async () => (await listNodes(consumer)).length === 2, 2000, "attacker's names gone");
    expect(
      hub
        .nodes()
        .map((n) => n.name)
        .sort(),
    ).toEqual(['other', 'victim']);
  });
});
