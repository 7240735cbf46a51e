/**
 * The data-node SDK: give it a DataSource and a name, it does the rest.
 *
 *   const node = await runDataNode({ name: 'weather', description: 'APEX weather', source,
 *                                    client: clientOptionsFromEnv(flags), logger });
 *   node.push({ data: { temperature: [3.1] }, timeline: { weather: { t: [1700000000], finalized_until: 1700000000 } } });
 *   await node.close();
 *
 * `runDataNode` resolves at once (it does not wait for the router: a node started before the router
 * connects when the router comes); `await node.ready()` waits until it is registered and announced.
 *
 * On every WAMP session the node
 *   1. registers `<base>.consumer.<name>.get_fields`, `.get_data` and `.get_metadata`;
 *   2. subscribes to `<base>.hub.started` (hub/README.md: the hub publishes it, once
 *      its procedures are registered, whenever it starts) and re-announces when it fires;
 *   3. announces itself: `<base>.data_node.add(name, description, session_id)` (announce.ts).
 *
 * This module wires the pieces: announce.ts (the hub), fit.ts (results that fit one message),
 * errors.ts (errors → WAMP errors), args.ts (argument checks), chunk.ts (splitting).
 *
 * get_fields / get_data: times t <= 0 are now + t, intervals [start, end), arguments checked
 * (args.ts) → `wamp.error.invalid_argument` with a readable message; source failures → a WAMP
 * error, never a crash (errors.ts: a source throws InvalidRequestError, NotFoundError,
 * TooLargeError or UnavailableError with a message for the caller; any other exception is logged
 * and the caller only learns "internal error in <name>.<procedure>"). Results larger than
 * `maxMessageBytes` are cut or thinned to fit (fit.ts).
 *
 * Live data: `push(result)` publishes `result` (contract get_data shape) as the one positional
 * argument of `<base>.consumer.<name>.data`.
 */
import os from 'node:os';
import { SISOCK_VERSION } from '../../common/defaults';
import { silentLogger, type Logger } from '../../common/log';
import { NodeUri, STATUS_TIMEOUT_MS, boundNodeStatus, type NodeStatus } from '../../contract';
import { SisockClient, type ClientOptions, type InvocationDetails } from '../../client';
import { Announcer } from './announce';
import { parseGetDataArgs, parseGetFieldsArgs } from './args';
import { toHandlerError } from './errors';
import { ResultFitter } from './fit';
import { commandTitle } from '../../common/redact';
import { withTimeout } from '../../common/timeout';
import type { DataResult, DataSource, DataSourceExtras, FieldsResult, NodeMetadata } from './types';

export interface DataNodeOptions {
  /** Node name: the `<name>` in `<base>.consumer.<name>.*`. */
  name: string;
  description: string;
  source: DataSource & DataSourceExtras;
  /** Connection options (the SDK creates, owns and closes the client) or an existing client. */
  client: ClientOptions | SisockClient;
  logger?: Logger;
  /**
   * Largest message the node sends, in bytes (the router's max_message_size; default 1 MiB or env
   * SISOCK_MAX_MESSAGE_SIZE). Results are cut to fit with a margin.
   */
  maxMessageBytes?: number;
  /** Clock, UNIX seconds (tests). */
  now?: () => number;
  /** Process description for metadata (default: the command without its arguments, common/redact.ts commandTitle). */
  processTitle?: string;
}

export interface DataNodeHandle {
  readonly name: string;
  readonly client: SisockClient;
  /** Publishes live samples on `<base>.consumer.<name>.data` (dropped while disconnected). */
  push(result: DataResult): Promise<void>;
  /** Resolves when the procedures are registered and the hub has accepted the node. */
  ready(timeoutMs?: number): Promise<void>;
  /** True after the hub last answered data_node.add with true (on the current session). */
  readonly announced: boolean;
  metadata(): Promise<NodeMetadata>;
  /** data_node.subtract, unregister, GOODBYE (when the SDK owns the client), source.close(). */
  close(): Promise<void>;
}

export function defaultMaxMessageBytes(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env.SISOCK_MAX_MESSAGE_SIZE);
  return Number.isFinite(v) && v > 4096 ? v : 1024 * 1024;
}

function newestT(result: DataResult): number | null {
  let newest: number | null = null;
  for (const tl of Object.values(result.timeline)) {
    const last = tl.t[tl.t.length - 1] ?? null;
    if (last !== null && (newest === null || last > newest)) newest = last;
  }
  return newest;
}

function checkResultShape(r: unknown): DataResult {
  const res = r as DataResult;
  if (
    !res ||
    typeof res !== 'object' ||
    typeof res.data !== 'object' ||
    typeof res.timeline !== 'object' ||
    res.data === null ||
    res.timeline === null
  ) {
    throw new Error('data source returned a result without {data, timeline}');
  }
  return res;
}

export async function runDataNode(opts: DataNodeOptions): Promise<DataNodeHandle> {
  const log = (opts.logger ?? silentLogger).child({ node: opts.name });
  const ownsClient = !(opts.client instanceof SisockClient);
  const client = opts.client instanceof SisockClient ? opts.client : new SisockClient({ logger: log, ...opts.client });
  const now = opts.now ?? (() => Date.now() / 1000);
  const maxBytes = opts.maxMessageBytes ?? defaultMaxMessageBytes();
  const { name, description, source } = opts;
  const started = now();
  const uGetFields = client.uri(NodeUri.getFields(name));
  const uGetData = client.uri(NodeUri.getData(name));
  const uMeta = client.uri(NodeUri.getMetadata(name));
  const uLive = client.uri(NodeUri.live(name));

  let newestSample: number | null = null;
  let nFields: { value: number | null; at: number } | null = null;
  /** field → timeline, from the last all-time get_fields (to split results exactly). */
  let fieldTimeline: Record<string, string> | undefined;
  const announcer = new Announcer(client, name, description, log);
  const fitter = new ResultFitter({
    name,
    maxBytes,
    log,
    fieldTimeline: async () => {
      if (!fieldTimeline) await refreshFields().catch(() => {});
      return fieldTimeline;
    },
  });

  const noteNewest = (t: number | null) => {
    if (t !== null && Number.isFinite(t) && (newestSample === null || t > newestSample)) newestSample = t;
  };

  const wrap = async <T>(what: string, f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (err) {
      throw toHandlerError(err, name, what, log);
    }
  };

  const getFields = (args: unknown[], kwargs: Record<string, unknown>) =>
    wrap('get_fields', async () => {
      const { start, end } = parseGetFieldsArgs(args, kwargs, now());
      const res = (await source.getFields(start, end)) as FieldsResult;
      if (!Array.isArray(res) || res.length !== 2) throw new Error('data source returned get_fields result that is not [field, timeline]');
      return res;
    });

  const getData = (args: unknown[], kwargs: Record<string, unknown>, details: InvocationDetails) =>
    wrap('get_data', async () => {
      const a = parseGetDataArgs(args, kwargs, now());
      const ask = (stride: number | null) =>
        a.reduce
          ? source.getData(a.fields, a.start, a.end, stride, { reduce: a.reduce })
          : source.getData(a.fields, a.start, a.end, stride);
      const result = checkResultShape(await ask(a.minStride));
      // newest_sample only from raw samples: a thinned answer's times may be a source's own grid.
      if (a.minStride === null) noteNewest(newestT(result));
      const progress = details.progress;
      return fitter.fit(
        result,
        {
          start: a.start,
          end: a.end,
          minStride: a.minStride,
          progress: progress ? (piece) => progress(piece) : undefined,
          query: (stride) => Promise.resolve(ask(stride)),
        },
        checkResultShape,
      );
    });

  async function refreshFields(): Promise<number | null> {
    const t = now();
    if (nFields && t - nFields.at < 60) return nFields.value;
    const [fields] = (await source.getFields(1, t)) as FieldsResult;
    const map: Record<string, string> = {};
    for (const [f, info] of Object.entries(fields)) map[f] = info.timeline;
    fieldTimeline = map;
    nFields = { value: Object.keys(fields).length, at: t };
    return nFields.value;
  }

  async function metadata(): Promise<NodeMetadata> {
    let n: number | null = null;
    try {
      n = await refreshFields();
    } catch {
      n = nFields?.value ?? null;
    }
    if (source.newestSample) {
      try {
        noteNewest(await source.newestSample());
      } catch {
        /* keep what we saw */
      }
    }
    let status: NodeStatus | null = null;
    if (source.status) {
      try {
        status = boundNodeStatus(await withTimeout(Promise.resolve(source.status()), STATUS_TIMEOUT_MS, 'the status hook'));
      } catch (err) {
        log.debug({ err: String(err) }, 'the source could not report its status');
      }
    }
    return {
      name,
      description,
      host: os.hostname(),
      pid: process.pid,
      process: opts.processTitle ?? commandTitle(),
      sisock_version: SISOCK_VERSION,
      started,
      n_fields: n,
      newest_sample: newestSample,
      session_id: client.sessionId,
      ...(status ? { status } : {}),
    };
  }

  const handles = [
    await client.register(uGetFields, getFields),
    await client.register(uGetData, getData),
    await client.register(uMeta, () => metadata()),
    await announcer.subscribeHubStarted(),
  ];
  announcer.followSessions();
  client.start();
  if (client.isReady) void announcer.announce('client already open');

  let closing = false;
  const handle: DataNodeHandle = {
    name,
    client,
    get announced() {
      return announcer.announced;
    },
    async push(result: DataResult) {
      noteNewest(newestT(result));
      for (const p of fitter.pieces(result, fieldTimeline)) await client.publish(uLive, [p]);
    },
    ready: (timeoutMs?: number) => announcer.ready(timeoutMs),
    metadata,
    async close() {
      if (closing) return;
      closing = true;
      await announcer.withdraw();
      if (ownsClient) await client.close();
      else for (const h of handles) await h.remove();
      if (source.close) await Promise.resolve(source.close()).catch(() => {});
    },
  };
  return handle;
}
