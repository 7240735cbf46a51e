/**
 * The MQTT bridge as sisock data nodes: ingest (MQTT → store) plus one data node per node name
 * (the config's `node.name`, and any name a topic rule's `node: "{…}"` template produces, started
 * when its first field appears; all on one WAMP session).
 *
 * Procedures next to get_fields/get_data, on the default node:
 *   <base>.consumer.<name>.get_stats()   → counters: received, mapped, rejected by reason, inserted,
 *                                           duplicates, connected…
 *   <base>.consumer.<name>.get_dead_letters(limit=100, reason=null) → newest first:
 *                                           [{id, at, topic, reason, detail, size, payload}]
 * and one per configured command, on its node:
 *   <base>.consumer.<node>.<command>(param1, param2, …, {payload}) → {topic, payload}
 *       params positional (each checked against its `values`, else a plain topic-safe token),
 *       the payload as the last positional argument or as keyword arguments, checked against the
 *       command's JSON Schema, published as JSON with the command's QoS.
 */
import { SisockClient, HandlerError, ErrorUri, type ClientOptions } from '../../client';
import { silentLogger, type Logger } from '../../common/log';
import { runDataNode, type DataNodeHandle } from '../sdk';
import type { DataResult, DataSource, DataSourceExtras, FieldsResult, GetDataOptions } from '../sdk/types';
import type { CommandRule, MqttConfig } from './config';
import { MqttIngest } from './ingest';
import { MqttStore } from './store';
import { isObj } from '../../common/config-file';
import { NodeUri } from '../../contract';
import type { IClientOptions } from 'mqtt';

/** One node's view of the store. */
export class StoreSource implements DataSource, DataSourceExtras {
  constructor(
    private readonly store: MqttStore,
    readonly node: string,
    private readonly health?: () => Record<string, unknown>,
  ) {}
  getFields(start: number, end: number): FieldsResult {
    return this.store.getFields(this.node, start, end);
  }
  getData(fields: string[], start: number, end: number, minStride: number | null, options?: GetDataOptions): Promise<DataResult> {
    return this.store.getDataTiered(this.node, fields, start, end, minStride, options?.reduce ?? 'minmax');
  }
  newestSample(): number | null {
    return this.store.newestSample(this.node);
  }
  /** The ingest's loss figures for the node's metadata (they are per connection, shared by its nodes). */
  status(): Record<string, unknown> {
    return this.health ? this.health() : {};
  }
}

export interface MqttNodeOptions {
  config: MqttConfig;
  client: ClientOptions | SisockClient;
  logger?: Logger;
  /** false: no MQTT connection (tests drive `ingest.handle`). Default true. */
  connect?: boolean;
  mqttOptions?: Partial<IClientOptions>;
}

export interface MqttNodeHandle {
  readonly config: MqttConfig;
  readonly store: MqttStore;
  readonly ingest: MqttIngest;
  readonly client: SisockClient;
  /** node name → data node */
  readonly nodes: Map<string, DataNodeHandle>;
  /** The default node (config.node.name). */
  readonly node: DataNodeHandle;
  /** Every node started so far is announced, and MQTT is subscribed (when connecting). */
  ready(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const TOKEN = /^[A-Za-z0-9_.:-]{1,64}$/;

export function commandHandler(cmd: CommandRule, publish: (topic: string, payload: string, c: CommandRule) => Promise<void>) {
  return async (args: unknown[], kwargs: Record<string, unknown>): Promise<unknown> => {
    const n = cmd.params.length;
    const sig = `${cmd.name}(${[...cmd.params.map((p) => p.name), '{payload}'].join(', ')})`;
    if (!Array.isArray(args) || args.length < n || args.length > n + 1) {
      throw new HandlerError(
        ErrorUri.INVALID_ARGUMENT,
        `${sig}: expected ${n} or ${n + 1} positional arguments, got ${Array.isArray(args) ? args.length : 0}`,
      );
    }
    const caps: Record<string, string> = {};
    cmd.params.forEach((p, i) => {
      const v = args[i];
      if (p.values) {
        if (!p.values.some((x) => x === v || (typeof v === 'string' && String(x) === v))) {
          throw new HandlerError(
            ErrorUri.INVALID_ARGUMENT,
            `${sig}: ${p.name} must be one of ${p.values.map((x) => JSON.stringify(x)).join(', ')}, got ${JSON.stringify(v) ?? 'nothing'}`,
          );
        }
      } else if (!((typeof v === 'string' && TOKEN.test(v)) || (typeof v === 'number' && Number.isInteger(v)))) {
        throw new HandlerError(
          ErrorUri.INVALID_ARGUMENT,
          `${sig}: ${p.name} must be an integer or a word of letters, digits, _ . : - (got ${JSON.stringify(v) ?? 'nothing'})`,
        );
      }
      caps[p.name] = String(v);
    });
    let payload: unknown = args.length > n ? args[n] : undefined;
    const kw = isObj(kwargs) ? kwargs : {};
    if (payload !== undefined && Object.keys(kw).length)
      throw new HandlerError(ErrorUri.INVALID_ARGUMENT, `${sig}: payload given both positionally and as keyword arguments`);
    if (payload === undefined) payload = kw;
    if (cmd.validate && !cmd.validate(payload)) {
      const why = (cmd.validate.errors ?? []).map((e) => `${e.instancePath || 'payload'} ${e.message ?? 'invalid'}`).join('; ');
      throw new HandlerError(ErrorUri.INVALID_ARGUMENT, `${sig}: ${why}`);
    }
    const topic = cmd.topic.render(caps);
    const text = JSON.stringify(payload);
    try {
      await publish(topic, text, cmd);
    } catch (err) {
      throw new HandlerError(ErrorUri.RUNTIME_ERROR, `${sig}: publishing to ${topic} failed: ${(err as Error).message}`);
    }
    return { topic, payload };
  };
}

export async function runMqttNode(o: MqttNodeOptions): Promise<MqttNodeHandle> {
  const log = o.logger ?? silentLogger;
  const cfg = o.config;
  const ownsClient = !(o.client instanceof SisockClient);
  const client = o.client instanceof SisockClient ? o.client : new SisockClient({ logger: log, ...o.client });
  const store = new MqttStore(cfg.store, { logger: log });
  const nodes = new Map<string, DataNodeHandle>();
  const starting = new Map<string, Promise<DataNodeHandle>>();
  let closing = false;

  const ingest = new MqttIngest(cfg, store, {
    logger: log,
    mqttOptions: o.mqttOptions,
    onFlush: (r) => {
      for (const [node, res] of r.live) {
        const h = nodes.get(node);
        if (h) void h.push(res).catch((err) => log.debug({ err: String(err) }, 'live push failed'));
      }
    },
  });

  const startNode = (name: string): Promise<DataNodeHandle> => {
    let p = starting.get(name);
    if (p) return p;
    const description = name === cfg.node.name ? cfg.node.description : `${cfg.node.description} (${name})`;
    p = runDataNode({ name, description, source: new StoreSource(store, name, () => ingest.lossStatus()), client, logger: log }).then(
      (h) => {
        nodes.set(name, h);
        log.info({ node: name }, 'mqtt data node started');
        if (closing) void h.close();
        return h;
      },
    );
    starting.set(name, p);
    p.catch((err) => log.error({ err: String(err), node: name }, 'could not start data node'));
    return p;
  };

  try {
    const main = await startNode(cfg.node.name);
    const c = main.client;
    await c.register(c.uri(NodeUri.procedure(cfg.node.name, 'get_stats')), () => ingest.statsSnapshot());
    await c.register(c.uri(NodeUri.procedure(cfg.node.name, 'get_dead_letters')), (args, kwargs) => {
      const limit = args[0] ?? kwargs.limit ?? 100;
      const reason = args[1] ?? kwargs.reason ?? null;
      if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > 10000)
        throw new HandlerError(ErrorUri.INVALID_ARGUMENT, 'get_dead_letters(limit, reason): limit must be an integer 1..10000');
      if (reason !== null && typeof reason !== 'string')
        throw new HandlerError(ErrorUri.INVALID_ARGUMENT, 'get_dead_letters(limit, reason): reason must be a string or null');
      return store.deadLetters(limit, reason ?? undefined);
    });
    for (const cmd of cfg.commands) {
      await startNode(cmd.node);
      await c.register(
        c.uri(NodeUri.procedure(cmd.node, cmd.name)),
        commandHandler(cmd, (topic, payload, k) => ingest.publish(topic, payload, k.qos, k.retain)),
      );
    }
    store.onNewNode = (n) => void startNode(n);
    store.announceLoadedNodes();
    ingest.start(o.connect !== false);
  } catch (err) {
    for (const h of nodes.values()) await h.close().catch(() => {});
    if (ownsClient) await client.close();
    store.close();
    throw err;
  }

  return {
    config: cfg,
    store,
    ingest,
    client,
    nodes,
    get node() {
      return nodes.get(cfg.node.name)!;
    },
    async ready(timeoutMs = 10000) {
      await Promise.all([...starting.values()]);
      await Promise.all([...nodes.values()].map((h) => h.ready(timeoutMs)));
      if (o.connect !== false) await ingest.whenSubscribed(timeoutMs);
    },
    async close() {
      if (closing) return;
      closing = true;
      await ingest.close().catch((err) => log.warn({ err: String(err) }, 'mqtt close failed'));
      await Promise.allSettled([...starting.values()]);
      for (const h of nodes.values()) await h.close().catch(() => {});
      if (ownsClient) await client.close();
      store.close();
    },
  };
}
