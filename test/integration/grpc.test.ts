/**
 * `sisock grpc` end to end: router + hub + in-process SDK nodes + the gRPC server, all on port 0,
 * and a dynamic client loaded from the same sisock.proto.
 */
import { spawn } from 'node:child_process';
import { promises as dns } from 'node:dns';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { runHub, type HubHandle } from '../../hub';
import { runDataNode, type DataNodeHandle, type DataResult, type DataSource, type FieldsResult, type Sample } from '../../data-nodes/sdk';
import { loadSisockProto, startGrpcServer, type CallRecord, type RunningGrpcServer } from '../../consumers/grpc';
import { bindAddresses } from '../../consumers/grpc/server';
import { withTimeout } from '../../common/timeout';
import { waitFor } from '../helpers/wait';
import type { RunningRouter } from '../../router/server';
import { closeAll, opts, startTestRouter } from './sisock-helpers';
import { selfSignedCert } from '../helpers/router-setup';

const T0 = 1_700_000_000;
const DT = 0.001;

/**
 * Two timelines: `fast` (x = i, y = i / 2 at T0 + i * 1 ms, `n` rows) and `slow` (1 s: a string, a
 * bool and a number with a null every third sample). Samples are computed, not stored.
 */
class SyntheticSource implements DataSource {
  getDataCalls = 0;
  constructor(
    readonly n: number,
    readonly nSlow = 100,
  ) {}
  private t(i: number): number {
    return T0 + i * DT;
  }
  /** first index with t(i) >= time */
  private lower(time: number): number {
    let i = Math.min(this.n, Math.max(0, Math.ceil((time - T0) / DT)));
    while (i > 0 && this.t(i - 1) >= time) i--;
    while (i < this.n && this.t(i) < time) i++;
    return i;
  }
  getFields(): FieldsResult {
    return [
      {
        x: { description: 'index', timeline: 'fast', type: 'number', units: null },
        y: { description: 'half index', timeline: 'fast', type: 'number', units: 'V' },
        s: { description: null, timeline: 'slow', type: 'string', units: null },
        b: { description: null, timeline: 'slow', type: 'bool', units: null },
        z: { description: 'with nulls', timeline: 'slow', type: 'number', units: null },
      },
      { fast: { interval: DT, field: ['x', 'y'] }, slow: { interval: 1, field: ['s', 'b', 'z'] } },
    ];
  }
  getData(fields: string[], start: number, end: number, minStride: number | null): DataResult {
    this.getDataCalls++;
    const out: DataResult = { data: {}, timeline: {} };
    const i0 = this.lower(start);
    const i1 = this.lower(end);
    const step = minStride ? Math.max(1, Math.ceil(minStride / DT - 1e-9)) : 1;
    const idx: number[] = [];
    for (let i = i0; i < i1; i += step) idx.push(i);
    const slow: number[] = [];
    for (let k = 0; k < this.nSlow; k++) if (T0 + k >= start && T0 + k < end) slow.push(k);
    for (const f of fields) {
      if (f === 'x' || f === 'y') {
        out.data[f] = idx.map((i) => (f === 'x' ? i : i / 2));
        if (idx.length) out.timeline.fast = { t: idx.map((i) => this.t(i)), finalized_until: this.t(this.n - 1) };
      } else if (f === 's' || f === 'b' || f === 'z') {
        out.data[f] = slow.map((k): Sample => (f === 's' ? `s${k}` : f === 'b' ? k % 2 === 0 : k % 3 === 0 ? null : k * 1.5));
        if (slow.length) out.timeline.slow = { t: slow.map((k) => T0 + k), finalized_until: null };
      } else out.data[f] = [];
    }
    return out;
  }
}

interface Chunk {
  timeline: string;
  t: number[];
  columns: Array<{
    field: string;
    values: string;
    doubles?: { values: number[] };
    strings?: { values: string[] };
    bools?: { values: boolean[] };
    null_indices: number[];
  }>;
  finalized_until?: number;
  seq: number;
}

type AnyClient = grpc.Client & Record<string, any>;

function unary<T>(client: AnyClient, method: string, req: unknown, deadlineMs = 10000): Promise<T> {
  return new Promise((resolve, reject) => {
    client[method](req, { deadline: Date.now() + deadlineMs }, (err: grpc.ServiceError | null, res: T) =>
      err ? reject(err) : resolve(res),
    );
  });
}

interface StreamResult {
  chunks: Chunk[];
  error: grpc.ServiceError | null;
  trailer: grpc.Metadata | null;
}

function collect(stream: grpc.ClientReadableStream<Chunk>, onChunk?: (c: Chunk) => void): Promise<StreamResult> {
  return new Promise((resolve) => {
    const chunks: Chunk[] = [];
    let error: grpc.ServiceError | null = null;
    stream.on('data', (c: Chunk) => {
      chunks.push(c);
      onChunk?.(c);
    });
    stream.on('error', (e: grpc.ServiceError) => {
      error = e;
    });
    stream.on('status', (s: grpc.StatusObject) => {
      // 'status' comes after the last 'data'/'error'
      setImmediate(() => resolve({ chunks, error, trailer: s.metadata }));
    });
  });
}

/** The next 'callEnd' of `method` the server reports (register before acting). */
function nextCallEnd(server: RunningGrpcServer, method: CallRecord['method']): Promise<CallRecord> {
  return new Promise((resolve) => {
    const on = (r: CallRecord) => {
      if (r.method === method) {
        server.events.off('callEnd', on);
        resolve(r);
      }
    };
    server.events.on('callEnd', on);
  });
}

describe('sisock grpc', () => {
  const N = 750_000; // 2 fields → 1.5 million samples
  const CHUNK_POINTS = 20_000;
  let router: RunningRouter;
  let url: string;
  let hub: HubHandle;
  let big: DataNodeHandle;
  let stall: DataNodeHandle;
  let bad: DataNodeHandle;
  let server: RunningGrpcServer;
  let client: AnyClient;
  const source = new SyntheticSource(N);
  let releaseStall: () => void = () => {};
  const stallGate = new Promise<void>((r) => {
    releaseStall = r;
  });

  beforeAll(async () => {
    ({ router, url } = await startTestRouter());
    hub = await runHub({ client: opts(url) });
    big = await runDataNode({ name: 'Big', description: 'synthetic 1 kHz', source, client: opts(url, { serializers: ['json'] }) });
    stall = await runDataNode({
      name: 'stall',
      description: 'never answers get_data',
      client: opts(url),
      source: {
        getFields: () => source.getFields(),
        getData: async () => {
          await stallGate;
          return { data: {}, timeline: {} };
        },
      },
    });
    bad = await runDataNode({
      name: 'bad',
      description: 'fails',
      client: opts(url),
      source: {
        getFields: () => source.getFields(),
        getData: () => {
          throw new Error('disk gone\n    at somewhere (file.js:1:1)');
        },
      },
    });
    await Promise.all([big.ready(5000), stall.ready(5000), bad.ready(5000)]);
    server = await startGrpcServer({ client: opts(url), port: 0, chunkPoints: CHUNK_POINTS, windowPoints: 100_000 });
    const { Client } = loadSisockProto();
    client = new Client(server.address, grpc.credentials.createInsecure()) as AnyClient;
  }, 30000);

  afterAll(async () => {
    releaseStall();
    client?.close();
    await closeAll(server, big, stall, bad, hub);
    await router?.close();
  });

  it('lists the nodes with their metadata', async () => {
    const res = await unary<{ nodes: Array<Record<string, unknown>> }>(client, 'ListNodes', {});
    const byName = new Map(res.nodes.map((n) => [n.name as string, n]));
    expect([...byName.keys()].sort()).toEqual(['Big', 'bad', 'stall']);
    expect(byName.get('Big')).toMatchObject({
      name: 'Big',
      description: 'synthetic 1 kHz',
      pid: process.pid,
      n_fields: 5,
      available: true,
    });
    expect(typeof byName.get('Big')!.host).toBe('string');
    expect(typeof byName.get('Big')!.version).toBe('string');
    expect(byName.get('Big')!.started).toBeGreaterThan(1e9);
  });

  it('returns the fields and timelines', async () => {
    const res = await unary<{ fields: Array<Record<string, unknown>>; timelines: Array<Record<string, unknown>> }>(client, 'GetFields', {
      node: 'Big',
    });
    const y = res.fields.find((f) => f.name === 'y');
    expect(y).toMatchObject({ name: 'y', timeline: 'fast', type: 'NUMBER', units: 'V', description: 'half index' });
    expect(res.fields.find((f) => f.name === 's')).toMatchObject({ type: 'STRING', timeline: 'slow' });
    expect(res.fields.find((f) => f.name === 'b')).toMatchObject({ type: 'BOOL' });
    expect(res.fields.find((f) => f.name === 's')!.units).toBeUndefined();
    expect(res.timelines.find((t) => t.name === 'fast')).toMatchObject({ interval: DT, fields: ['x', 'y'] });
  });

  it('streams 1.5 million samples complete, in order, in bounded chunks', async () => {
    source.getDataCalls = 0;
    const ended = nextCallEnd(server, 'GetData');
    const stream = client.GetData(
      { node: 'Big', fields: ['x', 'y', 'nope'], start: T0, end: T0 + N * DT },
      { deadline: Date.now() + 60000 },
    );
    let next = 0;
    let maxPoints = 0;
    let seq = 0;
    let ordered = true;
    const res = await collect(stream, (c) => {
      if (c.seq !== seq++) ordered = false;
      expect(c.timeline).toBe('fast');
      const x = c.columns.find((col) => col.field === 'x')!.doubles!.values;
      const y = c.columns.find((col) => col.field === 'y')!.doubles!.values;
      maxPoints = Math.max(maxPoints, c.t.length * c.columns.length);
      for (let k = 0; k < c.t.length; k++) {
        if (x[k] !== next || y[k] !== next / 2 || c.t[k] !== T0 + next * DT) {
          ordered = false;
          break;
        }
        next++;
      }
    });
    expect(res.error).toBeNull();
    expect(ordered).toBe(true);
    expect(next).toBe(N);
    expect(maxPoints).toBeLessThanOrEqual(CHUNK_POINTS);
    expect(res.chunks.length).toBeGreaterThanOrEqual((2 * N) / CHUNK_POINTS);
    expect(res.chunks.every((c) => c.columns.every((col) => col.field !== 'nope'))).toBe(true);
    expect(res.trailer?.get('sisock-points')).toEqual([String(2 * N)]);
    const rec = await ended;
    expect(rec.code).toBe(grpc.status.OK);
    // fetched in several windows of the time range, not in one call
    expect(rec.nodeCalls).toBeGreaterThanOrEqual(10);
    expect(source.getDataCalls).toBe(rec.nodeCalls);
  }, 60000);

  it('honours max_chunk_points, min_stride, strings, bools and nulls', async () => {
    const res = await collect(client.GetData({ node: 'Big', fields: ['s', 'b', 'z'], start: T0, end: T0 + 100, max_chunk_points: 30 }));
    expect(res.error).toBeNull();
    expect(res.chunks.every((c) => c.t.length * c.columns.length <= 30)).toBe(true);
    const s: string[] = [];
    const b: boolean[] = [];
    const zNull: number[] = [];
    let rows = 0;
    for (const c of res.chunks) {
      const col = (f: string) => c.columns.find((x) => x.field === f)!;
      expect(col('s').values).toBe('strings');
      expect(col('b').values).toBe('bools');
      expect(col('z').values).toBe('doubles');
      s.push(...col('s').strings!.values);
      b.push(...col('b').bools!.values);
      for (const i of col('z').null_indices) zNull.push(rows + i);
      rows += c.t.length;
    }
    expect(rows).toBe(100);
    expect(s.slice(0, 3)).toEqual(['s0', 's1', 's2']);
    expect(b.slice(0, 3)).toEqual([true, false, true]);
    expect(zNull.slice(0, 3)).toEqual([0, 3, 6]);
    const thin = await collect(client.GetData({ node: 'Big', fields: ['x'], start: T0, end: T0 + 10, min_stride: 0.5 }));
    const xs = thin.chunks.flatMap((c) => c.columns[0]!.doubles!.values);
    expect(xs).toEqual(Array.from({ length: 20 }, (_, i) => i * 500));
  });

  it('stops asking the node when the client cancels mid-stream', async () => {
    source.getDataCalls = 0;
    const ended = nextCallEnd(server, 'GetData');
    const stream = client.GetData({ node: 'Big', fields: ['x', 'y'], start: T0, end: T0 + N * DT });
    const res = await collect(stream, () => {
      if (!stream.destroyed) stream.cancel();
    });
    expect(res.error?.code).toBe(grpc.status.CANCELLED);
    const rec = await ended; // after the last get_data the server made has settled
    expect(rec.code).toBe(grpc.status.CANCELLED);
    expect(rec.nodeCalls).toBeLessThanOrEqual(4); // the full range takes 15 windows
    expect(source.getDataCalls).toBe(rec.nodeCalls);
    // a later round trip to the same node: nothing else was asked of it
    await unary(client, 'GetFields', { node: 'Big' });
    expect(source.getDataCalls).toBe(rec.nodeCalls);
    expect(server.stats.activeCalls).toBe(0);
  }, 30000);

  it('pushes live samples to a subscriber', async () => {
    const ended = nextCallEnd(server, 'Subscribe');
    const stream = client.Subscribe({ node: 'Big', fields: ['x'] }) as grpc.ClientReadableStream<Chunk>;
    const sample: DataResult = {
      data: { x: [42, 43], y: [1, 2] },
      timeline: { fast: { t: [T0 + 1000, T0 + 1000.001], finalized_until: T0 + 1000 } },
    };
    // the server sends the response headers once its WAMP subscription is made
    stream.on('metadata', () => {
      void big.push(sample);
    });
    const got = await new Promise<Chunk>((resolve) => stream.once('data', resolve));
    expect(got.timeline).toBe('fast');
    expect(got.t).toEqual([T0 + 1000, T0 + 1000.001]);
    expect(got.columns.map((c) => c.field)).toEqual(['x']);
    expect(got.columns[0]!.doubles!.values).toEqual([42, 43]);
    expect(got.finalized_until).toBe(T0 + 1000);
    const done = collect(stream);
    stream.cancel();
    expect((await done).error?.code).toBe(grpc.status.CANCELLED);
    expect((await ended).code).toBe(grpc.status.CANCELLED);
  });

  it('NOT_FOUND for an unknown node', async () => {
    const e1 = await unary(client, 'GetFields', { node: 'nope' }).catch((e: grpc.ServiceError) => e);
    expect((e1 as grpc.ServiceError).code).toBe(grpc.status.NOT_FOUND);
    expect((e1 as grpc.ServiceError).details).toContain('"nope"');
    const r = await collect(client.GetData({ node: 'nope', fields: ['x'] }));
    expect(r.error?.code).toBe(grpc.status.NOT_FOUND);
    const s = await collect(client.Subscribe({ node: 'nope' }));
    expect(s.error?.code).toBe(grpc.status.NOT_FOUND);
  });

  it.each([
    [{ node: 'Big', fields: [] }, 'fields'],
    [{ node: '', fields: ['x'] }, 'node'],
    [{ node: 'a.b', fields: ['x'] }, 'node'],
    [{ node: 'Big', fields: ['x'], start: T0 + 10, end: T0 + 5 }, 'start must be before end'],
    [{ node: 'Big', fields: ['x'], start: T0, end: T0 + 5, min_stride: -1 }, 'min_stride'],
  ])('INVALID_ARGUMENT for %j', async (req, msg) => {
    const r = await collect(client.GetData(req));
    expect(r.error?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(r.error?.details).toContain(msg);
  });

  it('DEADLINE_EXCEEDED when the node is too slow, and the server gives up too', async () => {
    const ended = nextCallEnd(server, 'GetData');
    const r = await collect(client.GetData({ node: 'stall', fields: ['x'], start: T0, end: T0 + 1 }, { deadline: Date.now() + 1000 }));
    expect(r.error?.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    const rec = await ended;
    expect(rec.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    expect(rec.nodeCalls).toBeLessThanOrEqual(1); // the one get_data the node never answers (none if get_fields was late)
  });

  it('INTERNAL with a clean one-line message when the node fails', async () => {
    const r = await collect(client.GetData({ node: 'bad', fields: ['x'], start: T0, end: T0 + 1 }));
    expect(r.error?.code).toBe(grpc.status.INTERNAL);
    expect(r.error?.details).toContain('internal error in bad.get_data'); // the node keeps the detail in its log
    expect(r.error?.details).not.toContain('disk gone');
    expect(r.error?.details).not.toContain('\n');
    expect(r.error?.details).not.toContain('file.js');
  });

  it('serves TLS with --tls-cert/--tls-key', async () => {
    const tmp = mkdtempSync(path.join(tmpdir(), 'sisock-grpc-tls-'));
    try {
      selfSignedCert(tmp, { key: 'ec', cn: 'localhost', san: 'DNS:localhost,IP:127.0.0.1' });
      const cert = readFileSync(path.join(tmp, 'cert.pem'));
      const secure = await startGrpcServer({ client: opts(url), port: 0, tls: { cert, key: readFileSync(path.join(tmp, 'key.pem')) } });
      const c2 = new (loadSisockProto().Client)(secure.address, grpc.credentials.createSsl(cert)) as AnyClient;
      const plain = new (loadSisockProto().Client)(secure.address, grpc.credentials.createInsecure()) as AnyClient;
      try {
        const res = await unary<{ nodes: unknown[] }>(c2, 'ListNodes', {});
        expect(res.nodes).toHaveLength(3);
        const e = await unary(plain, 'ListNodes', {}, 2000).catch((err: grpc.ServiceError) => err);
        expect((e as grpc.ServiceError).code).toBe(grpc.status.UNAVAILABLE);
      } finally {
        c2.close();
        plain.close();
        await secure.close();
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('closes connections over the per-address cap at once; a freed slot serves again', async () => {
    const capped = await startGrpcServer({ client: opts(url), port: 0, connectionLimits: { maxConnectionsPerIp: 2 } });
    const hogs: net.Socket[] = [];
    const clients: AnyClient[] = [];
    const newClient = () => {
      // own subchannels: a shared one would still be backing off from the refused connection
      const c = new (loadSisockProto().Client)(capped.address, grpc.credentials.createInsecure(), {
        'grpc.use_local_subchannel_pool': 1,
      }) as AnyClient;
      clients.push(c);
      return c;
    };
    try {
      // two idle raw TCP connections from this address take both slots
      for (let i = 0; i < 2; i++)
        hogs.push(
          await new Promise<net.Socket>((resolve, reject) => {
            const s = net.connect(capped.port, '127.0.0.1', () => resolve(s));
            s.once('error', reject);
          }),
        );
      const e = await unary(newClient(), 'ListNodes', {}, 2000).catch((err: grpc.ServiceError) => err);
      expect((e as grpc.ServiceError).code).toBe(grpc.status.UNAVAILABLE);
      expect(capped.refusedConnections()).toBeGreaterThanOrEqual(1);
      // one slot freed: a new client is served (the server counts the close when it sees it)
      const gone = new Promise((resolve) => hogs[0]?.once('close', resolve));
      hogs[0]?.destroy();
      await gone;
      let ok: unknown = null;
      for (let i = 0; i < 50 && !ok; i++) ok = await unary(newClient(), 'ListNodes', {}, 2000).catch(() => null);
      expect(ok).toHaveProperty('nodes');
    } finally {
      for (const c of clients) c.close();
      for (const h of hogs) h.destroy();
      await capped.close();
    }
  });

  it('a host name is served on every address it resolves to (localhost: 127.0.0.1 and ::1), one port, caps shared', async () => {
    // this machine's localhost may resolve to 127.0.0.1 only: the resolver is made to give both, as most do
    const lookup = jest.spyOn(dns, 'lookup').mockResolvedValue([
      { address: '::1', family: 6 },
      { address: '127.0.0.1', family: 4 },
      { address: '127.0.0.1', family: 4 },
    ] as never);
    let both: RunningGrpcServer | null = null;
    const clients: AnyClient[] = [];
    try {
      both = await startGrpcServer({ client: opts(url), port: 0, host: 'localhost', connectionLimits: { maxConnections: 2 } });
      expect(lookup).toHaveBeenCalledWith('localhost', { all: true });
      for (const at of [`127.0.0.1:${both.port}`, `[::1]:${both.port}`]) {
        const c = new (loadSisockProto().Client)(at, grpc.credentials.createInsecure(), {
          'grpc.use_local_subchannel_pool': 1,
        }) as AnyClient;
        clients.push(c);
        expect(await unary(c, 'ListNodes', {}, 5000)).toHaveProperty('nodes');
      }
      // the total cap counts the connections of both addresses: a third is refused
      const third = new (loadSisockProto().Client)(`127.0.0.1:${both.port}`, grpc.credentials.createInsecure(), {
        'grpc.use_local_subchannel_pool': 1,
      }) as AnyClient;
      clients.push(third);
      const e = await unary(third, 'ListNodes', {}, 2000).catch((err: grpc.ServiceError) => err);
      expect((e as grpc.ServiceError).code).toBe(grpc.status.UNAVAILABLE);
    } finally {
      lookup.mockRestore();
      for (const c of clients) c.close();
      await both?.close();
    }
    expect(await bindAddresses('127.0.0.1')).toEqual(['127.0.0.1']);
    expect(await bindAddresses('::')).toEqual(['::']);
  });

  it('an address of the host that cannot be bound is left out; none bound is an error', async () => {
    // 192.0.2.1 (TEST-NET-1) is no address of this machine: listen fails with EADDRNOTAVAIL, as ::1 does where IPv6 is off
    const lookup = jest.spyOn(dns, 'lookup').mockResolvedValue([
      { address: '192.0.2.1', family: 4 },
      { address: '127.0.0.1', family: 4 },
    ] as never);
    let one: RunningGrpcServer | null = null;
    try {
      one = await startGrpcServer({ client: opts(url), port: 0, host: 'twohomes.test' });
      const c = new (loadSisockProto().Client)(`127.0.0.1:${one.port}`, grpc.credentials.createInsecure()) as AnyClient;
      try {
        expect(await unary(c, 'ListNodes', {}, 5000)).toHaveProperty('nodes');
      } finally {
        c.close();
      }
      lookup.mockResolvedValue([{ address: '192.0.2.1', family: 4 }] as never);
      await expect(startGrpcServer({ client: opts(url), port: 0, host: 'nohome.test' })).rejects.toThrow(/EADDRNOTAVAIL|192\.0\.2\.1/);
    } finally {
      lookup.mockRestore();
      await one?.close();
    }
  });

  it('close() ends connections that never spoke HTTP/2 (a silent peer cannot hold up a shutdown)', async () => {
    const srv = await startGrpcServer({ client: opts(url), port: 0 });
    const silent = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect(srv.port, '127.0.0.1', () => resolve(s));
      s.once('error', reject);
    });
    const ended = new Promise((resolve) => silent.once('close', resolve));
    const t0 = Date.now();
    const outcome = await withTimeout(
      srv.close().then(() => 'closed'),
      10_000,
      'close()',
    ).catch((e: Error) => e.message);
    silent.destroy();
    expect(outcome).toBe('closed');
    expect(Date.now() - t0).toBeLessThan(5000);
    await ended;
  });

  /** A raw HTTP/2 call of `method` on `session` whose reader never reads (the session's window is shut). */
  function stuckCall(session: http2.ClientHttp2Session, method: 'GetData' | 'Subscribe', request: object): http2.ClientHttp2Stream {
    const def = loadSisockProto().service[method]!;
    const msg = def.requestSerialize(request);
    const framed = Buffer.alloc(5 + msg.length);
    framed.writeUInt32BE(msg.length, 1);
    msg.copy(framed, 5);
    const st = session.request({ ':method': 'POST', ':path': def.path, 'content-type': 'application/grpc', te: 'trailers' });
    st.on('error', () => {});
    st.pause();
    st.end(framed);
    return st;
  }
  const stuckGetData = (session: http2.ClientHttp2Session) =>
    stuckCall(session, 'GetData', { node: 'Big', fields: ['x', 'y'], start: T0, end: T0 + N * DT });
  const stuckSession = (address: string) => {
    const session = http2.connect(`http://${address}`, { settings: { initialWindowSize: 0 } });
    session.on('error', () => {});
    return session;
  };

  it('a GetData its client cancelled gives its slot back at once, though its node has not answered', async () => {
    const srv = await startGrpcServer({ client: opts(url), port: 0, streamLimits: { maxStreamsPerIp: 1 } });
    const c = new (loadSisockProto().Client)(srv.address, grpc.credentials.createInsecure()) as AnyClient;
    try {
      const held = c.GetData({ node: 'stall', fields: ['x'], start: T0, end: T0 + 1 }) as grpc.ClientReadableStream<Chunk>;
      const done = collect(held);
      await waitFor(() => srv.stats.nodeGetDataCalls >= 1, 10000, 'the call at the node');
      held.cancel();
      expect((await done).error?.code).toBe(grpc.status.CANCELLED);
      // its WAMP call to the node still waits (the node never answers) ...
      expect(srv.stats.activeCalls).toBe(1);
      // ... but the address may stream again
      const ok = await collect(c.GetData({ node: 'Big', fields: ['x'], start: T0, end: T0 + 1 }, { deadline: Date.now() + 10000 }));
      expect(ok.error).toBeNull();
    } finally {
      c.close();
      await srv.close();
    }
  });

  it('drops a GetData reader that reads nothing for stallMs, with its connection; the server holds nothing after', async () => {
    const srv = await startGrpcServer({ client: opts(url), port: 0, streamLimits: { stallMs: 500 } });
    const session = stuckSession(srv.address);
    try {
      const closed = new Promise<void>((resolve) => session.once('close', () => resolve()));
      const ended = nextCallEnd(srv, 'GetData');
      stuckGetData(session);
      const rec = await ended;
      expect(rec.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
      expect(rec.details).toMatch(/the client's connection has taken nothing for 500 ms/);
      await withTimeout(closed, 10_000, 'the server closing the connection'); // what it had written and not sent is let go
      expect(srv.stats.activeCalls).toBe(0);
    } finally {
      session.destroy();
      await srv.close();
    }
  });

  it('GetData and Subscribe calls at once from one address are bounded (RESOURCE_EXHAUSTED beyond)', async () => {
    const srv = await startGrpcServer({ client: opts(url), port: 0, streamLimits: { maxStreamsPerIp: 2, stallMs: 60_000 } });
    const session = stuckSession(srv.address);
    const c = new (loadSisockProto().Client)(srv.address, grpc.credentials.createInsecure()) as AnyClient;
    try {
      stuckGetData(session);
      stuckGetData(session);
      await waitFor(() => srv.stats.nodeGetDataCalls >= 2, 10000, 'both stuck calls at the node');
      const r = await collect(c.GetData({ node: 'Big', fields: ['x'], start: T0, end: T0 + 1 }, { deadline: Date.now() + 10000 }));
      expect(r.error?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
      expect(r.error?.details).toMatch(/2 streaming calls open from this address \(at most 2\)/);
      // one ends: the address may stream again
      session.destroy();
      await waitFor(() => srv.stats.activeCalls === 0, 10000, 'the stuck calls to end');
      const ok = await collect(
        c.GetData({ node: 'Big', fields: ['x'], start: T0, end: T0 + 1 }, { deadline: Date.now() + 10000 }),
        () => {},
      );
      expect(ok).toBeDefined();
    } finally {
      c.close();
      session.destroy();
      await srv.close();
    }
  });

  it('a Subscribe reader that reads nothing is dropped once it is maxLiveBacklogBytes behind', async () => {
    const srv = await startGrpcServer({ client: opts(url), port: 0, maxLiveBacklog: 1_000_000, maxLiveBacklogBytes: 64 * 1024 });
    const session = stuckSession(srv.address);
    try {
      const st = stuckCall(session, 'Subscribe', { node: 'Big', fields: ['x'] });
      await new Promise<void>((resolve) => st.once('response', () => resolve())); // the server's WAMP subscription is made
      const ended = nextCallEnd(srv, 'Subscribe');
      let over = false;
      void ended.then(() => (over = true));
      const t = Array.from({ length: 1000 }, (_, i) => T0 + 2000 + i * DT);
      const sample: DataResult = { data: { x: t.map((_, i) => i) }, timeline: { fast: { t, finalized_until: null } } };
      for (let i = 0; i < 500 && !over; i++) await big.push(sample); // 16 KB a chunk
      const rec = await withTimeout(ended, 10_000, 'the Subscribe to end');
      expect(rec.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
      expect(rec.details).toMatch(/more than 65536 bytes behind; dropped/);
    } finally {
      session.destroy();
      await srv.close();
    }
  });

  it('a request that does not arrive whole within requestTimeoutMs closes its connection', async () => {
    const srv = await startGrpcServer({ client: opts(url), port: 0, connectionLimits: { requestTimeoutMs: 300 } });
    const session = http2.connect(`http://${srv.address}`);
    session.on('error', () => {});
    const c = new (loadSisockProto().Client)(srv.address, grpc.credentials.createInsecure()) as AnyClient;
    try {
      const closed = new Promise<void>((resolve) => session.once('close', () => resolve()));
      const st = session.request({
        ':method': 'POST',
        ':path': loadSisockProto().service.ListNodes!.path,
        'content-type': 'application/grpc',
        te: 'trailers',
      });
      st.on('error', () => {});
      // a message announced as 1000 bytes, of which 10 are sent, then nothing
      const head = Buffer.alloc(5);
      head.writeUInt32BE(1000, 1);
      st.write(Buffer.concat([head, Buffer.alloc(10)]));
      await withTimeout(closed, 10_000, 'the server closing the connection');
      // a whole message, never followed by the end of the request: not an arrival either
      const again = http2.connect(`http://${srv.address}`);
      again.on('error', () => {});
      const closedToo = new Promise<void>((resolve) => again.once('close', () => resolve()));
      const def = loadSisockProto().service.ListNodes!;
      const msg = def.requestSerialize({});
      const whole = Buffer.alloc(5 + msg.length);
      whole.writeUInt32BE(msg.length, 1);
      msg.copy(whole, 5);
      const st2 = again.request({ ':method': 'POST', ':path': def.path, 'content-type': 'application/grpc', te: 'trailers' });
      st2.on('error', () => {});
      st2.write(whole);
      await withTimeout(closedToo, 10_000, 'the server closing the second connection');
      // whole requests are served as before
      expect(await unary(c, 'ListNodes', {}, 5000)).toHaveProperty('nodes');
    } finally {
      c.close();
      session.destroy();
      await srv.close();
    }
  });

  it('a connection left after a protocol error (the peer gone, the server no longer reading) is closed by the keepalive ping', async () => {
    const srv = await startGrpcServer({ client: opts(url), port: 0, keepalive: { timeMs: 300, timeoutMs: 300 } });
    try {
      const s = net.connect(srv.port, '127.0.0.1');
      s.on('error', () => {});
      await new Promise<void>((resolve) => s.once('connect', () => resolve()));
      const closed = new Promise<void>((resolve) => s.once('close', () => resolve()));
      // preface, empty SETTINGS, then a DATA frame on stream 0: a connection error (GOAWAY PROTOCOL_ERROR)
      const settings = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);
      const data0 = Buffer.from([0, 0, 1, 0, 0, 0, 0, 0, 0, 0x61]);
      s.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), settings, data0]));
      s.on('data', () => {});
      s.end(); // the peer is done; only the server closing its side ends the socket
      await withTimeout(closed, 10_000, 'the server closing the socket');
    } finally {
      await srv.close();
    }
  });

  it('closes connections that have not sent their HTTP/2 greeting in time; a client that has keeps its connection', async () => {
    const srv = await startGrpcServer({ client: opts(url), port: 0, connectionLimits: { headersTimeoutMs: 500 } });
    const client = new (loadSisockProto().Client)(srv.address, grpc.credentials.createInsecure(), {
      'grpc.use_local_subchannel_pool': 1,
    }) as AnyClient;
    const peers: net.Socket[] = [];
    try {
      expect(await unary(client, 'ListNodes', {}, 5000)).toHaveProperty('nodes');
      // nothing; one byte; the 24-byte preface without its SETTINGS frame
      const closed = ['', 'P', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'].map(
        (greeting) =>
          new Promise<void>((resolve, reject) => {
            const s = net.connect(srv.port, '127.0.0.1', () => s.write(greeting));
            peers.push(s);
            s.on('data', () => {});
            s.once('error', reject);
            s.once('close', () => resolve());
          }),
      );
      await withTimeout(Promise.all(closed), 10_000, 'the server closing the three');
      expect(srv.silentConnections()).toBe(3);
      // the client's connection, older than the deadline, was not one of them and still serves
      expect(await unary(client, 'ListNodes', {}, 5000)).toHaveProperty('nodes');
      expect(srv.silentConnections()).toBe(3);
    } finally {
      client.close();
      for (const p of peers) p.destroy();
      await srv.close();
    }
  });

  it('UNAVAILABLE when the router is unreachable', async () => {
    const { router: r2, url: url2 } = await startTestRouter();
    await r2.close();
    const lonely = await startGrpcServer({ client: opts(url2), port: 0, connectWaitMs: 300 });
    const c2 = new (loadSisockProto().Client)(lonely.address, grpc.credentials.createInsecure()) as AnyClient;
    try {
      const e = await unary(c2, 'ListNodes', {}).catch((err: grpc.ServiceError) => err);
      expect((e as grpc.ServiceError).code).toBe(grpc.status.UNAVAILABLE);
      expect((e as grpc.ServiceError).details).toContain('unreachable');
      const d = await collect(c2.GetData({ node: 'Big', fields: ['x'] }));
      expect(d.error?.code).toBe(grpc.status.UNAVAILABLE);
    } finally {
      c2.close();
      await lonely.close();
    }
  });
});

/**
 * The command as a process, from the compiled CLI (`make test` builds dist/ first; SISOCK_TEST_DIST
 * points elsewhere). `--port 0` prints the real port.
 */
describe('sisock grpc command', () => {
  const dist = process.env.SISOCK_TEST_DIST ?? path.join(__dirname, '..', '..', 'dist');
  const cli = path.join(dist, 'bin', 'sisock.js');
  let router: RunningRouter;
  let url: string;
  let hub: HubHandle;
  beforeAll(async () => {
    if (!existsSync(path.join(dist, 'bin', 'commands', 'grpc.js')))
      throw new Error(`${dist}/bin/commands/grpc.js is missing: build first (make test)`);
    ({ router, url } = await startTestRouter());
    hub = await runHub({ client: opts(url) });
  });
  afterAll(async () => {
    await closeAll(hub);
    await router?.close();
  });

  it('prints "grpc: 127.0.0.1:PORT", serves, and stops on SIGTERM with 0', async () => {
    // sisock.proto is found from dist/ by walking up to package.json (tsc does not copy it)
    const child = spawn(process.execPath, [cli, 'grpc', '--port', '0', '--router', url, '--realm', 'test_realm', '--log-level', 'warn']);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const address = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /^grpc: (127\.0\.0\.1:\d+)$/m.exec(out);
          if (m) resolve(m[1]!);
        });
        child.once('exit', (code) => reject(new Error(`sisock grpc exited with ${code}`)));
      });
      expect(address).not.toBe('127.0.0.1:0');
      const c = new (loadSisockProto().Client)(address, grpc.credentials.createInsecure()) as AnyClient;
      try {
        expect(await unary(c, 'ListNodes', {})).toEqual({ nodes: [] });
      } finally {
        c.close();
      }
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
