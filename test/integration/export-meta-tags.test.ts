/**
 * The exporter's tags from node metadata, end to end without a database: the historian's follower
 * reads each node's get_metadata when it appears and hands it with the samples to the exporter's
 * naming, so `--tag host={meta.host}` and `--tag mqtt={status.mqtt_connected}` land on the lines.
 * Router, hub and a node on port 0.
 */
import os from 'node:os';
import { runHub, type HubHandle } from '../../hub';
import { runDataNode, type DataNodeHandle, type DataResult, type FieldsResult } from '../../data-nodes/sdk';
import { Follower } from '../../historian/follow';
import type { Sink, WriteOptions } from '../../historian/sink';
import { DEFAULT_NAMING, Namer } from '../../historian/export';
import type { SisockClient } from '../../client';
import type { RunningRouter } from '../../router/server';
import { closeAll, newClient, opts, startTestRouter, waitFor } from './sisock-helpers';

/** A sink that converts what it gets with the exporter's naming and keeps the lines. */
class LineSink implements Sink {
  readonly lines: string[] = [];
  readonly namer = new Namer({ ...DEFAULT_NAMING, tags: { host: '{meta.host}', up: '{status.up}', site: 'lab' } }, 's', new Map());
  cursor(): number | null {
    return null;
  }
  write(node: string, result: DataResult, o: WriteOptions = {}): void {
    this.lines.push(...this.namer.convert(node, result, o.fields, o.meta).lines);
  }
}

describe('exporter tags from node metadata (follower → naming)', () => {
  let router: RunningRouter;
  let hub: HubHandle;
  let node: DataNodeHandle;
  let client: SisockClient;
  let follower: Follower;
  const sink = new LineSink();
  const t0 = Math.floor(Date.now() / 1000) - 100;

  beforeAll(async () => {
    const r = await startTestRouter();
    router = r.router;
    hub = await runHub({ client: opts(r.url) });
    node = await runDataNode({
      name: 'tagged',
      description: 'tagged node',
      client: opts(r.url),
      source: {
        getFields: (): FieldsResult => [
          { v: { description: null, timeline: 'tl', type: 'number', units: null } },
          { tl: { interval: 1, field: ['v'] } },
        ],
        getData: (_f: string[], start: number, end: number): DataResult =>
          t0 >= start && t0 < end
            ? { data: { v: [1.5] }, timeline: { tl: { t: [t0], finalized_until: t0 } } }
            : { data: { v: [] }, timeline: {} },
        status: () => ({ up: true }),
      },
    });
    await node.ready(10000);
    client = newClient(r.url);
    await client.whenReady(10000);
    follower = new Follower({ client, sink, initialBackfill: 3600 });
    await follower.start();
  });
  afterAll(async () => {
    await follower?.close();
    await closeAll(client, node, hub);
    await router.close();
  });

  it('backfilled lines carry the host and status tags from get_metadata', async () => {
    await waitFor(() => sink.lines.length > 0, 10000, 'backfilled lines');
    const host = os.hostname().replace(/[ ,=]/g, (c) => `\\${c}`);
    expect(sink.lines[0]).toBe(`tagged,host=${host},site=lab,up=true v=1.5 ${t0}`);
  });
});
