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
 *   3. announces itself: `<base>.data_node.add(name, description, session_id)`; if the hub is not
 *      there yet the announcement is simply repeated on `hub.started`. A `false` answer (name held
 *      by another live node) is logged and retried every 5 s.
 *
 * get_fields / get_data: times t <= 0 are now + t, intervals [start, end), arguments checked
 * (args.ts) → `wamp.error.invalid_argument` with a readable message; source failures →
 * `wamp.error.runtime_error`, never a crash. A source signals a failure the caller may read by
 * throwing HandlerError (or SisockError INVALID_ARGUMENT); any other exception is logged and the
 * caller only learns "internal error in <name>.<procedure>" (messages of drivers and file systems
 * hold SQL, paths and connection strings). Results larger than `maxMessageBytes` are sent as
 * progressive results when the caller asked for progress (client `getData` merges them); otherwise
 * the node queries again with a min_stride computed from the first result so that the answer fits
 * (keys and shapes unchanged), correcting it at most once.
 *
 * Live data: `push(result)` publishes `result` (contract get_data shape) as the one positional
 * argument of `<base>.consumer.<name>.data`.
 */
import os from 'node:os';
import { SISOCK_VERSION } from '../../common/defaults';
import { ErrorCode, SisockError } from '../../common/errors';
import { silentLogger, type Logger } from '../../common/log';
import { ReadyGate } from '../../common/ready';
import { CallError, SisockClient, HandlerError, type ClientOptions, type InvocationDetails } from '../../client';
import { ArgumentError, parseGetDataArgs, parseGetFieldsArgs } from './args';
import { jsonSizeBound, splitResult } from './chunk';
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
  /** Process description for metadata (default: argv joined). */
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

export const INVALID_ARGUMENT = 'wamp.error.invalid_argument';
export const RUNTIME_ERROR = 'wamp.error.runtime_error';

export function defaultMaxMessageBytes(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env.SISOCK_MAX_MESSAGE_SIZE);
  return Number.isFinite(v) && v > 4096 ? v : 1024 * 1024;
}

function newestT(result: DataResult): number | null {
  let newest: number | null = null;
  for (const tl of Object.values(result.timeline)) {
    const last = tl.t.length ? tl.t[tl.t.length - 1]! : null;
    if (last !== null && (newest === null || last > newest)) newest = last;
  }
  return newest;
}

/** Rows of the longest timeline of `result` and the time they cover. */
function extent(result: DataResult): { rows: number; seconds: number } {
  let rows = 0;
  let seconds = 0;
  for (const tl of Object.values(result.timeline)) {
    if (tl.t.length <= rows) continue;
    rows = tl.t.length;
    seconds = tl.t[tl.t.length - 1]! - tl.t[0]!;
  }
  return { rows, seconds };
}

function checkResultShape(r: unknown): DataResult {
  const res = r as DataResult;
  if (!res || typeof res !== 'object' || typeof res.data !== 'object' || typeof res.timeline !== 'object' || res.data === null || res.timeline === null) {
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
  // margin for the WAMP envelope (message type, request id, details) and serializer differences
  const budget = Math.max(2048, Math.floor(maxBytes * 0.9) - 1024);
  const { name, description, source } = opts;
  const started = now();
  const base = `consumer.${name}`;
  const uGetFields = client.uri(`${base}.get_fields`);
  const uGetData = client.uri(`${base}.get_data`);
  const uMeta = client.uri(`${base}.get_metadata`);
  const uLive = client.uri(`${base}.data`);
  const uAdd = client.uri('data_node.add');
  const uSubtract = client.uri('data_node.subtract');
  const uHubStarted = client.uri('hub.started');

  let newestSample: number | null = null;
  let nFields: { value: number | null; at: number } | null = null;
  /** field → timeline, from the last all-time get_fields (to split results exactly). */
  let fieldTimeline: Record<string, string> | undefined;
  /** Open while the hub has accepted the node on the current session (`announced`). */
  const announcedGate = new ReadyGate((ms) => new Error(`data node ${name} not announced after ${ms} ms`));
  let announcing: Promise<void> | null = null;
  let announceTimer: NodeJS.Timeout | null = null;
  let closing = false;

  const noteNewest = (t: number | null) => {
    if (t !== null && Number.isFinite(t) && (newestSample === null || t > newestSample)) newestSample = t;
  };

  const wrap = async <T>(what: string, f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (err) {
      if (err instanceof ArgumentError) throw new HandlerError(INVALID_ARGUMENT, `${name}.${what}: ${err.message}`);
      if (err instanceof SisockError && err.code === ErrorCode.INVALID_ARGUMENT) throw new HandlerError(INVALID_ARGUMENT, `${name}.${what}: ${err.message}`);
      if (err instanceof HandlerError) throw err;
      // The detail (SQL, paths, connection strings) stays in the node's log.
      log.warn({ err: (err as Error)?.message ?? String(err), stack: (err as Error)?.stack, what }, 'data source failed');
      throw new HandlerError(RUNTIME_ERROR, `internal error in ${name}.${what}; see the node's log`);
    }
  };

  const getFields = (args: unknown[], kwargs: Record<string, unknown>) => wrap('get_fields', async () => {
    const { start, end } = parseGetFieldsArgs(args, kwargs, now());
    const res = (await source.getFields(start, end)) as FieldsResult;
    if (!Array.isArray(res) || res.length !== 2) throw new Error('data source returned get_fields result that is not [field, timeline]');
    return res;
  });

  const getData = (args: unknown[], kwargs: Record<string, unknown>, details: InvocationDetails) => wrap('get_data', async () => {
    const a = parseGetDataArgs(args, kwargs, now());
    let result = checkResultShape(await (a.reduce ? source.getData(a.fields, a.start, a.end, a.minStride, { reduce: a.reduce })
      : source.getData(a.fields, a.start, a.end, a.minStride)));
    // newest_sample only from raw samples: a thinned answer's times may be a source's own grid.
    if (a.minStride === null) noteNewest(newestT(result));
    let size = jsonSizeBound(result);
    if (size <= budget) return result;
    if (details.progress) {
      if (!fieldTimeline) await refreshFields().catch(() => {});
      const pieces = splitResult(result, budget, fieldTimeline, size);
      log.debug({ pieces: pieces.length, bytes: size }, 'get_data in progressive pieces');
      for (let i = 0; i < pieces.length - 1; i++) details.progress(pieces[i]);
      return pieces[pieces.length - 1];
    }
    // No progress: thin with a min_stride that makes it fit. The size shrinks about as the stride
    // grows, so the stride comes from the first result (its rows, the time they cover and its
    // size); one correction covers a source that thins less than asked (e.g. min and max per
    // stride: two rows where one was expected).
    const aim = budget * 0.7;
    const { rows, seconds } = extent(result);
    const covered = seconds > 0 ? seconds : a.end - a.start;
    let stride = Math.max((covered / Math.max(1, rows)) * (size / aim), a.minStride ?? 0, 1e-6);
    for (let query = 0; query < 2; query++) {
      if (query > 0) stride *= Math.max(1.5, size / aim);
      result = checkResultShape(await (a.reduce ? source.getData(a.fields, a.start, a.end, stride, { reduce: a.reduce })
        : source.getData(a.fields, a.start, a.end, stride)));
      size = jsonSizeBound(result);
      if (size <= budget) break;
    }
    if (size > budget) throw new HandlerError(RUNTIME_ERROR, `${name}.get_data: the result does not fit in ${maxBytes} bytes even thinned (${size} bytes at min_stride ${stride} s); ask for progressive results, fewer fields or a shorter interval`);
    log.debug({ stride, bytes: size }, 'get_data thinned to fit one message');
    return result;
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
    try { n = await refreshFields(); } catch { n = nFields?.value ?? null; }
    if (source.newestSample) {
      try { noteNewest(await source.newestSample()); } catch { /* keep what we saw */ }
    }
    return {
      name, description,
      host: os.hostname(),
      pid: process.pid,
      process: opts.processTitle ?? process.argv.slice(1).map((a) => a.replace(/^.*\/(dist\/)?bin\/sisock\.js$/, 'sisock')).join(' '),
      sisock_version: SISOCK_VERSION,
      started,
      n_fields: n,
      newest_sample: newestSample,
      session_id: client.sessionId,
    };
  }

  const registered = () => client.isReady;

  function scheduleAnnounce(delayMs: number): void {
    if (closing) return;
    if (announceTimer) clearTimeout(announceTimer);
    announceTimer = setTimeout(() => { announceTimer = null; void announce('retry'); }, delayMs);
  }

  function announce(why: string): Promise<void> {
    if (closing) return Promise.resolve();
    if (announcing) return announcing.then(() => (announcedGate.isOpen ? undefined : announce(why)));
    announcing = (async () => {
      const sid = client.sessionId;
      if (sid === null || !registered()) return;
      try {
        const ok = await client.call<boolean>(uAdd, [name, description, sid], {}, { timeoutMs: 10000 });
        if (client.sessionId !== sid) return;
        if (ok === true) {
          if (!announcedGate.isOpen) log.info({ why, session: sid }, 'announced to hub');
          announcedGate.open();
        } else {
          announcedGate.reset();
          log.error({ why }, `hub refused the name "${name}": another live node holds it; retrying every 5 s`);
          scheduleAnnounce(5000);
        }
      } catch (err) {
        announcedGate.reset();
        const uri = err instanceof CallError ? err.uri : '';
        if (uri === 'wamp.error.no_such_procedure') log.info('no hub yet; will announce when it starts');
        else { log.warn({ err: (err as Error).message }, 'announce failed; retrying'); scheduleAnnounce(2000); }
      }
    })().finally(() => { announcing = null; });
    return announcing;
  }

  const handles = [
    await client.register(uGetFields, getFields),
    await client.register(uGetData, getData),
    await client.register(uMeta, () => metadata()),
    await client.subscribe(uHubStarted, () => { announcedGate.reset(); void announce('hub started'); }),
  ];
  const undoClose = client.onClose(() => announcedGate.reset());
  const undoOpen = client.onOpen(() => announce('session open'));
  client.start();
  if (client.isReady) void announce('client already open');

  const handle: DataNodeHandle = {
    name,
    client,
    get announced() { return announcedGate.isOpen; },
    async push(result: DataResult) {
      noteNewest(newestT(result));
      const size = jsonSizeBound(result);
      const pieces = size > budget ? splitResult(result, budget, fieldTimeline, size) : [result];
      for (const p of pieces) await client.publish(uLive, [p]);
    },
    ready: (timeoutMs?: number) => announcedGate.wait(timeoutMs),
    metadata,
    async close() {
      if (closing) return;
      closing = true;
      if (announceTimer) clearTimeout(announceTimer);
      const sid = client.sessionId;
      if (sid !== null && announcedGate.isOpen) {
        await client.call(uSubtract, [name, sid], {}, { timeoutMs: 2000 }).catch(() => {});
      }
      announcedGate.close(new Error(`data node ${name} closed`));
      undoClose();
      undoOpen();
      if (ownsClient) await client.close();
      else for (const h of handles) await h.remove();
      if (source.close) await Promise.resolve(source.close()).catch(() => {});
    },
  };
  return handle;
}
