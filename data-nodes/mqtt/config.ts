/**
 * The MQTT bridge's config file (YAML or JSON): what Telegraf's `mqtt_consumer` + `json_v2` parser
 * do, in one readable file. Example (data-nodes/mqtt/examples/tracker-sim.yaml is the demo's):
 *
 *   node: { name: tracker, description: "Tracker DCS supplies" }   # default node of every topic
 *   broker:                                # --broker replaces url
 *     url: mqtt://127.0.0.1:1883
 *     client_id: sisock-tracker            # fixed id + clean: false = persistent session
 *     username: ${MQTT_USER:-}             # or env SISOCK_MQTT_USERNAME / SISOCK_MQTT_PASSWORD(_FILE)
 *     password: ${MQTT_PASSWORD:-}
 *   store: { path: tracker.sqlite, retention: 30d, batch_ms: 50, max_payload_bytes: 65536 }
 *   # also: max_fields_per_message (1000), max_fields_per_node (10000), max_rows (5000000, per
 *   # get_data), max_queue (1000000 samples kept while the store cannot write), dead_letters (10000)
 *   topics:
 *     - topic: "dcs/{supply}/ch{channel}/status"     # placeholders capture topic segments
 *       node: "{supply}"                              # optional: node name from the topic
 *       timeline: "{supply}_ch{channel}"
 *       time: { path: ts, unit: s }                   # or `time: arrival` (default)
 *       schema: { type: object, required: [ts] }      # optional JSON Schema (ajv)
 *       fields:
 *         - { name: "ch{channel}_voltage", path: voltage, type: number, units: V }
 *         - { name: "ch{channel}_on", path: state.on, type: bool }
 *       fields_from: { path: extra, prefix: "ch{channel}_" }   # every scalar leaf below `extra`
 *   commands:                                         # WAMP procedures that publish to MQTT
 *     - name: set_channel                             # <base>.consumer.<node>.set_channel
 *       topic: "dcs/{supply}/ch{channel}/set"
 *       params: [{ name: supply, values: [hv, lv] }, { name: channel, values: [0, 1, 2, 3] }]
 *       schema: { type: object, additionalProperties: false, properties: { on: { type: boolean } } }
 *
 * Relative paths (store.path, schema_file, broker.ca) are relative to the config file.
 */
import * as path from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import { ConfigError } from '../../common/errors';
import { checkNodeName, expandEnv, isObj, readConfigFile, Reader } from '../../common/config-file';
import { secretFromEnv } from '../../common/secret-env';
import { Template, TopicPattern } from './topic';
import type { FieldType } from '../sdk/types';

export type TimeUnit = 's' | 'ms' | 'us' | 'ns' | 'iso' | 'auto';

export interface FieldRule {
  name: Template;
  /** JSON path split into keys / indices; [] = the whole payload. */
  path: Array<string | number>;
  pathText: string;
  type: FieldType;
  units: Template | null;
  description: Template | null;
  required: boolean;
}

export interface FieldsFrom {
  path: Array<string | number>;
  prefix: Template;
  exclude: Set<string>;
  separator: string;
}

export interface TopicRule {
  index: number;
  pattern: TopicPattern;
  node: Template;
  timeline: Template;
  format: 'json' | 'value';
  time: { kind: 'arrival' } | { kind: 'path'; path: Array<string | number>; pathText: string; unit: TimeUnit };
  validate: ValidateFunction | null;
  fields: FieldRule[];
  fieldsFrom: FieldsFrom | null;
  /** seconds; 0 = off. Same (topic, payload) within the window counts as a duplicate. */
  dedupeWindow: number;
  /** JSON path of a per-topic message counter in the payload: jumps are counted as lost messages (sequence.ts). */
  sequence: Array<string | number> | null;
}

export interface CommandParam {
  name: string;
  values: Array<string | number> | null;
}

export interface CommandRule {
  name: string;
  node: string;
  topic: Template;
  params: CommandParam[];
  validate: ValidateFunction | null;
  qos: 0 | 1 | 2;
  retain: boolean;
  description: string | null;
}

export interface BrokerConfig {
  url: string | null;
  clientId: string;
  username?: string;
  password?: string;
  ca?: string;
  insecure: boolean;
  qos: 0 | 1 | 2;
  keepalive: number;
  reconnectPeriodMs: number;
  /**
   * MQTT protocol version (default 5). With 5 the client announces `receiveMaximum`, so a stock
   * Mosquitto (max_inflight_messages 20, max_queued_messages 1000) keeps a burst in flight instead
   * of queueing and dropping it; 4 for brokers without MQTT 5 (the client also falls back by itself).
   */
  protocolVersion: 4 | 5;
  /** MQTT 5 Receive Maximum: QoS 1/2 messages the broker may have in flight to us (default 65535). */
  receiveMaximum: number;
  /** Watch the broker's `$SYS/broker/publish/messages/dropped` counter and report increases (default true). */
  watchSys: boolean;
}

export interface StoreConfig {
  /** SQLite file, or ':memory:'. */
  path: string;
  /** seconds, or null = keep forever */
  retention: number | null;
  batchMs: number;
  batchSize: number;
  maxPayloadBytes: number;
  /** dead letters kept (newest) */
  deadLetters: number;
  /** values one message may yield (more → dead letter too_many_fields) */
  maxFieldsPerMessage: number;
  /** fields one node may have (a message adding more → dead letter too_many_fields) */
  maxFieldsPerNode: number;
  /** rows one get_data may read from the store (more → error asking for min_stride or a shorter range) */
  maxRows: number;
  /** Keep summary tiers of numeric fields with each batch (default true; false only to measure their cost). */
  summaries?: boolean;
  /** samples queued while the store cannot write (oldest dropped and counted beyond it) */
  maxQueue: number;
}

export interface MqttConfig {
  node: { name: string; description: string };
  broker: BrokerConfig;
  store: StoreConfig;
  topics: TopicRule[];
  commands: CommandRule[];
  /** unique subscription filters */
  filters: string[];
}

const ajv = new Ajv({ allErrors: false, strict: false });

/** `a.b[0].c`, `a.b.0.c`, `$` or '' (the whole payload) → keys. */
export function parsePath(text: string, at: string): Array<string | number> {
  if (text === '' || text === '$' || text === '.') return [];
  const out: Array<string | number> = [];
  const t = text.startsWith('$.') ? text.slice(2) : text;
  for (const part of t.split('.')) {
    const [, key = '', indexes = ''] = /^([^[\]]*)((?:\[\d+\])*)$/.exec(part) ?? [];
    if (key === '' && indexes === '') throw new ConfigError(at, `bad JSON path ${JSON.stringify(text)} (use a.b[0].c)`);
    if (key !== '') out.push(/^\d+$/.test(key) ? Number(key) : key);
    for (const idx of indexes.matchAll(/\[(\d+)\]/g)) out.push(Number(idx[1]));
  }
  return out;
}

function compileSchema(r: Reader, baseDir: string): ValidateFunction | null {
  let schema: unknown;
  if (r.has('schema') && r.has('schema_file')) throw new ConfigError(r.path('schema'), 'give schema or schema_file, not both');
  if (r.has('schema')) schema = r.obj.schema;
  else if (r.has('schema_file')) schema = readConfigFile(path.resolve(baseDir, r.str('schema_file')));
  else return null;
  if (!isObj(schema) && typeof schema !== 'boolean') throw new ConfigError(r.path('schema'), 'must be a JSON Schema object');
  try {
    return ajv.compile(schema as object);
  } catch (err) {
    throw new ConfigError(r.path(r.has('schema') ? 'schema' : 'schema_file'), `invalid JSON Schema: ${(err as Error).message}`);
  }
}

function qosOf(r: Reader, key: string, def: 0 | 1 | 2): 0 | 1 | 2 {
  const q = r.num(key, def, 0, 2);
  if (!Number.isInteger(q)) throw new ConfigError(r.path(key), 'must be 0, 1 or 2');
  return q as 0 | 1 | 2;
}

function compileTopic(raw: unknown, index: number, defaultNode: string, baseDir: string): TopicRule {
  const at = `topics[${index}]`;
  const r = Reader.root(raw, at).only([
    'topic',
    'node',
    'timeline',
    'format',
    'time',
    'schema',
    'schema_file',
    'fields',
    'fields_from',
    'dedupe_window',
    'sequence',
  ]);
  const pattern = new TopicPattern(r.str('topic'), r.path('topic'));
  const names = pattern.names;
  const node = new Template(r.str('node', defaultNode), names, r.path('node'));
  if (node.constant) checkNodeName(node.text, r.path('node'));
  const defaultTimeline = pattern.pattern.replace(/[/+#]+/g, '_').replace(/^_+|_+$/g, '') || 'mqtt';
  const timeline = new Template(r.str('timeline', defaultTimeline), names, r.path('timeline'));
  const format = r.oneOf('format', ['json', 'value'] as const, 'json');
  let time: TopicRule['time'] = { kind: 'arrival' };
  const tv = r.obj.time;
  if (tv !== undefined && tv !== null && tv !== 'arrival') {
    if (typeof tv === 'string') time = { kind: 'path', path: parsePath(tv, r.path('time')), pathText: tv, unit: 'auto' };
    else {
      const tr = Reader.root(tv, r.path('time')).only(['path', 'unit']);
      const p = tr.str('path');
      if (format === 'value') throw new ConfigError(r.path('time'), 'a plain value payload has no timestamp: use time: arrival');
      time = {
        kind: 'path',
        path: parsePath(p, tr.path('path')),
        pathText: p,
        unit: tr.oneOf('unit', ['s', 'ms', 'us', 'ns', 'iso', 'auto'] as const, 'auto'),
      };
    }
  }
  const fields: FieldRule[] = r.list('fields').map((f, j) => {
    const fr = Reader.root(f, r.path(`fields[${j}]`)).only(['name', 'path', 'type', 'units', 'description', 'required']);
    const pathText = fr.has('path') ? String(fr.obj.path) : format === 'value' ? '$' : fr.str('name');
    return {
      name: new Template(fr.str('name'), names, fr.path('name')),
      path: parsePath(pathText, fr.path('path')),
      pathText,
      type: fr.oneOf('type', ['number', 'string', 'bool'] as const, 'number'),
      units: fr.has('units') ? new Template(fr.str('units'), names, fr.path('units')) : null,
      description: fr.has('description') ? new Template(fr.str('description'), names, fr.path('description')) : null,
      required: fr.bool('required', false),
    };
  });
  let fieldsFrom: FieldsFrom | null = null;
  const ff = r.child('fields_from');
  if (ff) {
    ff.only(['path', 'prefix', 'exclude', 'separator']);
    if (format === 'value') throw new ConfigError(ff.at, 'fields_from needs JSON payloads');
    fieldsFrom = {
      path: parsePath(ff.has('path') ? String(ff.obj.path) : '', ff.path('path')),
      prefix: new Template(ff.has('prefix') ? String(ff.obj.prefix) : '', names, ff.path('prefix')),
      exclude: new Set(ff.list('exclude').map(String)),
      separator: ff.has('separator') ? String(ff.obj.separator) : '_',
    };
  }
  if (fields.length === 0 && !fieldsFrom) throw new ConfigError(at, 'needs fields (a list) or fields_from');
  const seen = new Set<string>();
  for (const [j, f] of fields.entries()) {
    if (f.name.constant && seen.has(f.name.text)) throw new ConfigError(r.path(`fields[${j}].name`), `field ${f.name.text} appears twice`);
    seen.add(f.name.text);
  }
  return {
    index,
    pattern,
    node,
    timeline,
    format,
    time,
    validate: compileSchema(r, baseDir),
    fields,
    fieldsFrom,
    dedupeWindow: r.duration('dedupe_window', 0) ?? 0,
    sequence: r.has('sequence') ? parsePath(r.str('sequence'), r.path('sequence')) : null,
  };
}

function compileCommand(raw: unknown, index: number, defaultNode: string, baseDir: string): CommandRule {
  const at = `commands[${index}]`;
  const r = Reader.root(raw, at).only(['name', 'node', 'topic', 'params', 'schema', 'schema_file', 'qos', 'retain', 'description']);
  const name = r.str('name');
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new ConfigError(r.path('name'), 'must be lower case letters, digits and _ (a URI component)');
  if (['get_fields', 'get_data', 'get_metadata', 'get_stats', 'get_dead_letters', 'data'].includes(name))
    throw new ConfigError(r.path('name'), `${name} is reserved`);
  const params: CommandParam[] = r.list('params').map((p, j) => {
    if (typeof p === 'string') return { name: p, values: null };
    const pr = Reader.root(p, r.path(`params[${j}]`)).only(['name', 'values']);
    const values = pr.has('values') ? pr.list('values') : null;
    if (values && !values.every((v) => typeof v === 'string' || typeof v === 'number'))
      throw new ConfigError(pr.path('values'), 'must be strings or numbers');
    return { name: pr.str('name'), values: values as Array<string | number> | null };
  });
  const topicText = r.str('topic');
  if (/[+#]/.test(topicText)) throw new ConfigError(r.path('topic'), 'a command topic cannot hold wildcards');
  const node = r.str('node', defaultNode);
  checkNodeName(node, r.path('node'));
  return {
    name,
    node,
    topic: new Template(
      topicText,
      params.map((p) => p.name),
      r.path('topic'),
    ),
    params,
    validate: compileSchema(r, baseDir),
    qos: qosOf(r, 'qos', 1),
    retain: r.bool('retain', false),
    description: r.optStr('description') ?? null,
  };
}

export interface LoadOptions {
  /** --broker URL (replaces broker.url) */
  brokerUrl?: string;
  env?: NodeJS.ProcessEnv;
  /** directory that relative paths are resolved against (default: the config file's) */
  baseDir?: string;
}

export function loadMqttConfigFile(file: string, o: LoadOptions = {}): MqttConfig {
  return parseMqttConfig(readConfigFile(file), { baseDir: path.dirname(path.resolve(file)), ...o });
}

export function parseMqttConfig(raw: unknown, o: LoadOptions = {}): MqttConfig {
  const env = o.env ?? process.env;
  const baseDir = o.baseDir ?? process.cwd();
  const r = Reader.root(expandEnv(raw, env), '').only(['node', 'broker', 'store', 'topics', 'commands']);
  const nr = r.child('node', false)!.only(['name', 'description']);
  const node = {
    name: checkNodeName(nr.str('name'), nr.path('name')),
    description: nr.str('description', `MQTT bridge ${nr.str('name')}`),
  };

  const br = r.child('broker') ?? Reader.root({}, 'broker');
  br.only([
    'url',
    'client_id',
    'username',
    'password',
    'ca',
    'insecure',
    'qos',
    'keepalive',
    'reconnect_period',
    'protocol_version',
    'receive_maximum',
    'watch_sys',
  ]);
  const url = o.brokerUrl ?? br.optStr('url') ?? null;
  if (url !== null && !/^(mqtts?|tcp|ssl|tls|wss?):\/\//.test(url))
    throw new ConfigError(
      o.brokerUrl ? '--broker' : 'broker.url',
      `must be mqtt://host:port or mqtts://host:port (got ${JSON.stringify(url)})`,
    );
  const username = br.optStr('username') || env.SISOCK_MQTT_USERNAME || undefined;
  const password = br.optStr('password') || secretFromEnv(env, 'SISOCK_MQTT_PASSWORD') || undefined;
  const broker: BrokerConfig = {
    url,
    clientId: br.str('client_id', `sisock-${node.name}`),
    username,
    password,
    ca: br.has('ca') ? path.resolve(baseDir, br.str('ca')) : undefined,
    insecure: br.bool('insecure', false),
    qos: qosOf(br, 'qos', 1),
    keepalive: br.num('keepalive', 30, 0, 65535),
    reconnectPeriodMs: (br.duration('reconnect_period', 1) ?? 1) * 1000,
    protocolVersion: br.num('protocol_version', 5, 4, 5) === 4 ? 4 : 5,
    receiveMaximum: br.num('receive_maximum', 65535, 1, 65535),
    watchSys: br.bool('watch_sys', true),
  };

  const sr = r.child('store') ?? Reader.root({}, 'store');
  sr.only([
    'path',
    'retention',
    'batch_ms',
    'batch_size',
    'max_payload_bytes',
    'dead_letters',
    'max_fields_per_message',
    'max_fields_per_node',
    'max_rows',
    'max_queue',
  ]);
  const sp = sr.str('path', `${node.name}.sqlite`);
  const store: StoreConfig = {
    path: sp === ':memory:' ? sp : path.resolve(baseDir, sp),
    retention: sr.duration('retention', 30 * 86400),
    batchMs: sr.num('batch_ms', 50, 1, 60000),
    batchSize: sr.num('batch_size', 10000, 1, 1e7),
    maxPayloadBytes: sr.num('max_payload_bytes', 256 * 1024, 16, 256 * 1024 * 1024),
    deadLetters: sr.num('dead_letters', 10000, 0, 1e8),
    maxFieldsPerMessage: sr.num('max_fields_per_message', 1000, 1, 1e6),
    maxFieldsPerNode: sr.num('max_fields_per_node', 10000, 1, 1e7),
    maxRows: sr.num('max_rows', 5_000_000, 1, 1e9),
    maxQueue: sr.num('max_queue', 1_000_000, 1, 1e8),
  };

  const topics = r.list('topics', true).map((t, i) => compileTopic(t, i, node.name, baseDir));
  if (topics.length === 0) throw new ConfigError('topics', 'needs at least one topic');
  const commands = r.list('commands').map((c, i) => compileCommand(c, i, node.name, baseDir));
  const names = new Set<string>();
  for (const c of commands) {
    const key = `${c.node}.${c.name}`;
    if (names.has(key)) throw new ConfigError('commands', `command ${c.name} of node ${c.node} appears twice`);
    names.add(key);
  }
  const filters = [...new Set(topics.map((t) => t.pattern.filter))];
  return { node, broker, store, topics, commands, filters };
}
