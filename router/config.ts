/**
 * Crossbar.io `config.json` (version 2) → a typed RouterConfig.
 *
 * Served: `workers[]` of type "router" with `realms[]` (roles, permissions, `options.uri_check`)
 * and `transports[]` of type web (its `paths.<p>` of type "websocket"), websocket, rawsocket and
 * universal; TCP endpoints with TLS; serializers; static anonymous / ticket / wampcra auth;
 * `max_message_size`, `auto_ping_interval`, `auto_ping_timeout`.
 *
 * Validation stops at the first invalid value, with a ConfigError naming its JSON path
 * (`workers[0].transports[1].endpoint.port: must be an integer in 0..65535`). Keys that are
 * unknown, or known to Crossbar.io but not used by sisock, give exactly one warning line each in
 * `warnings` (never an error, never silence).
 *
 * Secrets: `"secret": "${SISOCK_SERVER_SECRET}"` (and the same for tickets) is read from the
 * environment, as Crossbar.io does (`maybe_from_env`); a port may be `"$PORT"` (Crossbar.io
 * `_readenv`). An unset variable is a ConfigError naming the path.
 *
 * sisock's own settings live where Crossbar.io tolerates foreign content: `controller.extra.sisock`
 * (`max_outbound_bytes`, `max_subscriptions_per_session`, `max_registrations_per_session`, and the
 * RouterLimits knobs `max_connections`, `max_connections_per_ip`, `max_pre_auth_bytes`,
 * `auth_failures_before_lockout`, `auth_max_lockout_seconds`).
 * Strict URI checking per realm is Crossbar.io's own `options.uri_check`.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_POST_BODY_LIMIT, type HttpBridgeService } from './http-bridge';
import { ConfigError, ErrorCode, SisockError } from '../common/errors';
import type { SerializerName, TransportOptions } from '../transport/types';
import type { AuthConfig } from './auth';
import type { TicketPrincipal } from './auth/ticket';
import type { WampCraUser } from './auth/wampcra';
import { DEFAULT_MAX_OUTBOUND_BYTES } from './router';
import { DEFAULT_MAX_REGISTRATIONS_PER_SESSION, DEFAULT_MAX_SUBSCRIPTIONS_PER_SESSION } from './realm';
import { allowEverything, convertStarredUri, type Permission, type RoleConfig } from './roles';
import type { MatchPolicy } from '../wamp/uri';

export type { AuthConfig } from './auth';

/** The realm the original sisock (and OCS) used. */
export const DEFAULT_REALM = 'test_realm';
export const DEFAULT_PORT = 8080;
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_WS_PATH = '/ws';

/** Upper bound accepted for `max_subscriptions_per_session` / `max_registrations_per_session`. */
export const MAX_PER_SESSION_LIMIT = 10_000_000;

/** Crossbar.io's bounds on `max_message_size`: 1 byte .. 64 MiB. */
export const MAX_MESSAGE_SIZE_LIMIT = 64 * 1024 * 1024;
export const DEFAULT_TRANSPORT_OPTIONS: TransportOptions = {
  maxMessageSize: 16 * 1024 * 1024,
  autoPingInterval: 0,
  autoPingTimeout: 0,
  serializers: ['cbor', 'msgpack', 'json'],
};

export interface RealmConfig {
  name: string;
  roles: RoleConfig[];
  /** Crossbar.io realm `options.uri_check: "strict"`; default loose. */
  strictUris?: boolean;
}

/** TLS material as absolute file paths (resolved against the config file's directory). */
export interface TlsFiles {
  key: string;
  certificate: string;
  chainCertificates?: string[];
  caCertificates?: string[];
  ciphers?: string;
  dhparam?: string;
}

/** Serializers, options and auth of one side (WebSocket or RawSocket) of a listener. */
export interface ListenerSide {
  serializers: SerializerName[];
  options: TransportOptions;
  auth: AuthConfig;
}

export type TransportKind = 'websocket' | 'rawsocket' | 'universal';

export interface TransportConfig extends ListenerSide {
  /** universal: RawSocket and WebSocket on one port (the top-level fields are the WebSocket side). */
  kind: TransportKind;
  host: string;
  port: number;
  /** WebSocket path, e.g. '/ws'; '*' (ANY_PATH) for a plain websocket transport; '' for RawSocket. */
  path: string;
  tls?: TlsFiles;
  /** universal only: the RawSocket side. */
  rawsocket?: ListenerSide;
  /** JSON path of the transport in the config file, for messages. */
  source: string;
  /** `web` transport paths of type `caller` / `publisher` (Crossbar.io's HTTP bridge; router/http-bridge.ts). */
  httpBridge?: HttpBridgeService[];
}

export interface RouterConfig {
  realms: RealmConfig[];
  transports: TransportConfig[];
  /**
   * Slow-consumer bound per session, bytes (`controller.extra.sisock.max_outbound_bytes`); at
   * least twice the largest transport `max_message_size` (a config file below that is refused;
   * the default rises to it).
   */
  maxOutboundBytes: number;
  /** Subscriptions one session may hold (`controller.extra.sisock.max_subscriptions_per_session`). */
  maxSubscriptionsPerSession: number;
  /** Registrations one session may hold (`controller.extra.sisock.max_registrations_per_session`). */
  maxRegistrationsPerSession: number;
  /** Connection caps and authentication throttling (`controller.extra.sisock`); defaults when absent. */
  limits?: RouterLimits;
  /** The file it was loaded from, if any. */
  file?: string;
}

/**
 * `controller.extra.sisock` knobs against floods and guessing, each optional:
 * `max_connections` (10 000), `max_connections_per_ip` (1 000), `max_pre_auth_bytes` (65 536; 0 = off),
 * `auth_failures_before_lockout` (5), `auth_max_lockout_seconds` (300).
 */
export interface RouterLimits {
  maxConnections?: number;
  maxConnectionsPerIp?: number;
  maxPreAuthBytes?: number;
  authFailuresBeforeLockout?: number;
  authMaxLockoutMs?: number;
}

export interface LoadResult {
  config: RouterConfig;
  /** One line per unknown or ignored key, per unsupported item. */
  warnings: string[];
}

export interface ParseOptions {
  /** Directory relative paths (TLS files) are resolved against. Default: cwd. */
  baseDir?: string;
  /** Where `${VAR}` references are looked up. Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /** For messages only. */
  file?: string;
}

/** Reads and checks a Crossbar.io config file. */
export function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): LoadResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new SisockError(ErrorCode.CONFIG_UNREADABLE, `cannot read router config '${file}': ${(e as Error).message}`, { cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(file, `not valid JSON: ${(e as Error).message}`);
  }
  return parseConfig(json, { baseDir: path.dirname(path.resolve(file)), env, file });
}

/** Options of the dev router (`sisock router` without `--config`). */
export interface DevConfigOptions {
  port?: number;
  realm?: string;
  rawsocketPort?: number;
  host?: string;
  strictUris?: boolean;
}

/** Dev router: anonymous, one realm whose role `anonymous` may do everything. */
export function devConfig(o: DevConfigOptions = {}): RouterConfig {
  const host = o.host ?? DEFAULT_HOST;
  const side = (): ListenerSide => ({
    serializers: [...DEFAULT_TRANSPORT_OPTIONS.serializers],
    options: { ...DEFAULT_TRANSPORT_OPTIONS, autoPingInterval: 30, autoPingTimeout: 10 },
    auth: { anonymous: { role: 'anonymous' } },
  });
  const transports: TransportConfig[] = [
    { kind: 'websocket', host, port: o.port ?? DEFAULT_PORT, path: DEFAULT_WS_PATH, ...side(), source: '--port' },
  ];
  if (o.rawsocketPort !== undefined) {
    transports.push({ kind: 'rawsocket', host, port: o.rawsocketPort, path: '', ...side(), source: '--rawsocket-port' });
  }
  return {
    realms: [
      { name: o.realm ?? DEFAULT_REALM, roles: [{ name: 'anonymous', permissions: [allowEverything()] }], strictUris: o.strictUris },
    ],
    transports,
    maxOutboundBytes: defaultMaxOutboundBytes(transports),
    maxSubscriptionsPerSession: DEFAULT_MAX_SUBSCRIPTIONS_PER_SESSION,
    maxRegistrationsPerSession: DEFAULT_MAX_REGISTRATIONS_PER_SESSION,
  };
}

/** The largest `maxMessageSize` over every side of every transport, and where it is set. */
function largestMessageSize(transports: TransportConfig[]): { size: number; source: string } {
  let best = { size: 0, source: '' };
  for (const t of transports) {
    if (t.options.maxMessageSize > best.size) best = { size: t.options.maxMessageSize, source: t.source };
    const rs = t.rawsocket?.options.maxMessageSize;
    if (rs !== undefined && rs > best.size) best = { size: rs, source: `${t.source}.rawsocket` };
  }
  return best;
}

/**
 * `max_outbound_bytes` when the config does not set it: 16 MiB, or twice the largest
 * `max_message_size` of the transports if that is more (32 MiB with the default 16 MiB messages).
 */
export function defaultMaxOutboundBytes(transports: TransportConfig[]): number {
  return Math.max(DEFAULT_MAX_OUTBOUND_BYTES, 2 * largestMessageSize(transports).size);
}

// ---------------------------------------------------------------------------------------------
// Checking

type Obj = Record<string, unknown>;

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** JSON path of `key` under `base`: `a.b`, `a["x.y"]`, `a[3]`. */
function at(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  if (IDENT.test(key)) return base ? `${base}.${key}` : key;
  return `${base}[${JSON.stringify(key)}]`;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

/** Crossbar.io's realm name rule. */
const REALM_NAME = /^[A-Za-z][A-Za-z0-9_\-@.]{2,254}$/;
/** TransportConfig.path of a plain `websocket` transport: every request path is a WebSocket endpoint. */
export const ANY_PATH = '*';

/** Crossbar.io's rule for `paths` keys of a Web transport. */
const WEB_PATH = /^([a-z0-9A-Z_-]+|\/)$/;
/** Crossbar.io `maybe_from_env`: the whole value is `${NAME}`. */
const ENV_BRACED = /^\$\{(.+)\}$/;
/** Crossbar.io `_readenv` (ports): the whole value is `$NAME`. */
const ENV_BARE = /^\$([a-zA-Z_][a-zA-Z0-9_]*)$/;

interface KeySpec {
  /** keys sisock reads */
  used: readonly string[];
  /** keys Crossbar.io knows that sisock accepts without using (one line each) */
  ignored?: readonly string[];
  /** keys accepted without any line */
  silent?: readonly string[];
}

class Checker {
  readonly warnings: string[] = [];
  constructor(
    readonly env: NodeJS.ProcessEnv,
    readonly baseDir: string,
  ) {}

  warn(line: string): void {
    this.warnings.push(line);
  }

  obj(v: unknown, p: string): Obj {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError(p, `must be an object, not ${describe(v)}`);
    return v as Obj;
  }

  arr(v: unknown, p: string): unknown[] {
    if (!Array.isArray(v)) throw new ConfigError(p, `must be an array, not ${describe(v)}`);
    return v;
  }

  str(v: unknown, p: string, { nonEmpty = false } = {}): string {
    if (typeof v !== 'string') throw new ConfigError(p, `must be a string, not ${describe(v)}`);
    if (nonEmpty && v.length === 0) throw new ConfigError(p, 'must not be empty');
    return v;
  }

  bool(v: unknown, p: string): boolean {
    if (typeof v !== 'boolean') throw new ConfigError(p, `must be true or false, not ${describe(v)}`);
    return v;
  }

  int(v: unknown, p: string, min: number, max: number, unit = ''): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw new ConfigError(p, `must be an integer in ${min}..${max}${unit}, not ${describe(v)}`);
    }
    return v;
  }

  /** Warns once per key that sisock does not read. */
  keys(o: Obj, p: string, spec: KeySpec): void {
    for (const k of Object.keys(o)) {
      if (spec.used.includes(k) || spec.silent?.includes(k)) continue;
      if (spec.ignored?.includes(k)) this.warn(`${at(p, k)}: Crossbar.io setting not used by sisock; ignored`);
      else this.warn(`${at(p, k)}: unknown key; ignored`);
    }
  }

  /** `${VAR}` → the variable's value (Crossbar.io `maybe_from_env`); other strings as they are. */
  secret(v: unknown, p: string): string {
    const s = this.str(v, p, { nonEmpty: true });
    const m = ENV_BRACED.exec(s);
    if (m) {
      const name = m[1] ?? ''; // the pattern's one group always takes part in a match
      const value = this.env[name];
      if (value === undefined || value === '') {
        throw new ConfigError(p, `environment variable ${name} is not set (the config reads this secret from it)`);
      }
      return value;
    }
    if (ENV_BARE.test(s)) {
      this.warn(`${p}: "${s}" is used literally; Crossbar.io reads a secret from the environment only as "\${NAME}"`);
    }
    return s;
  }

  file(v: unknown, p: string): string {
    return path.resolve(this.baseDir, this.str(v, p, { nonEmpty: true }));
  }
}

/** Checks a parsed Crossbar.io config. */
export function parseConfig(json: unknown, opts: ParseOptions = {}): LoadResult {
  const c = new Checker(opts.env ?? process.env, opts.baseDir ?? process.cwd());
  const top = c.obj(json, '(top level)');
  c.keys(top, '', { used: ['version', 'workers', 'controller'], ignored: [] });

  if (!('version' in top)) throw new ConfigError('version', 'missing; sisock reads Crossbar.io config version 2 ("version": 2)');
  if (top.version !== 2) throw new ConfigError('version', `must be 2 (Crossbar.io config version 2), not ${describe(top.version)}`);

  let maxOutboundBytes: number | undefined;
  let maxSubscriptionsPerSession = DEFAULT_MAX_SUBSCRIPTIONS_PER_SESSION;
  let maxRegistrationsPerSession = DEFAULT_MAX_REGISTRATIONS_PER_SESSION;
  let limits: RouterLimits | undefined;
  if (top.controller !== undefined) {
    const ctl = c.obj(top.controller, 'controller');
    // Everything else in the controller is Crossbar.io's node management: accepted silently.
    if (ctl.extra !== undefined && typeof ctl.extra === 'object' && ctl.extra !== null && !Array.isArray(ctl.extra)) {
      const ext = (ctl.extra as Obj).sisock;
      if (ext !== undefined) {
        const s = c.obj(ext, 'controller.extra.sisock');
        c.keys(s, 'controller.extra.sisock', {
          used: ['max_outbound_bytes', 'max_subscriptions_per_session', 'max_registrations_per_session', ...LIMIT_KEYS],
        });
        limits = readLimits(c, s);
        if (s.max_outbound_bytes !== undefined) {
          maxOutboundBytes = c.int(
            s.max_outbound_bytes,
            'controller.extra.sisock.max_outbound_bytes',
            1024,
            Number.MAX_SAFE_INTEGER,
            ' bytes',
          );
        }
        if (s.max_subscriptions_per_session !== undefined) {
          maxSubscriptionsPerSession = c.int(
            s.max_subscriptions_per_session,
            'controller.extra.sisock.max_subscriptions_per_session',
            1,
            MAX_PER_SESSION_LIMIT,
          );
        }
        if (s.max_registrations_per_session !== undefined) {
          maxRegistrationsPerSession = c.int(
            s.max_registrations_per_session,
            'controller.extra.sisock.max_registrations_per_session',
            1,
            MAX_PER_SESSION_LIMIT,
          );
        }
      }
    }
  }

  if (!('workers' in top)) throw new ConfigError('workers', 'missing; a router needs a worker of type "router"');
  const workers = c.arr(top.workers, 'workers');
  const realms: RealmConfig[] = [];
  const transports: TransportConfig[] = [];
  let routerWorkers = 0;
  workers.forEach((w, i) => {
    const wp = at('workers', i);
    const worker = c.obj(w, wp);
    const type = c.str(worker.type, at(wp, 'type'));
    if (type !== 'router') {
      c.warn(`${wp}: worker of type "${type}" is not run by sisock (only "router" workers are); ignored`);
      return;
    }
    routerWorkers++;
    checkRouterWorker(c, worker, wp, realms, transports);
  });
  if (routerWorkers === 0) throw new ConfigError('workers', 'no worker of type "router"');
  if (realms.length === 0) throw new ConfigError(at(`workers`, 0) + '.realms', 'no realm defined; a router needs at least one');
  if (transports.length === 0) throw new ConfigError(at(`workers`, 0) + '.transports', 'no transport sisock can serve');

  // Roles that an authentication method hands out must exist somewhere, or every join fails.
  const roleNames = new Set(realms.flatMap((r) => r.roles.map((x) => x.name)));
  for (const t of transports) {
    for (const [side, auth] of [
      ['', t.auth],
      ['rawsocket ', t.rawsocket?.auth],
    ] as const) {
      if (!auth) continue;
      const given = [
        ...(auth.anonymous ? [auth.anonymous.role] : []),
        ...Object.values(auth.ticket?.principals ?? {}).map((x) => x.role),
        ...Object.values(auth.wampcra?.users ?? {}).map((x) => x.role),
      ];
      for (const r of new Set(given)) {
        if (!roleNames.has(r)) c.warn(`${t.source}: ${side}auth hands out role "${r}", which no realm defines; such sessions are refused`);
      }
    }
  }

  // The slow-consumer bound must leave room for the largest frame a transport admits, twice
  // (one being written, one queued behind it): below that, one legitimate large message would
  // close a healthy session. An explicit value below it is an error; the default rises to it.
  const largest = largestMessageSize(transports);
  if (maxOutboundBytes === undefined) {
    maxOutboundBytes = defaultMaxOutboundBytes(transports);
  } else if (maxOutboundBytes < 2 * largest.size) {
    throw new ConfigError(
      'controller.extra.sisock.max_outbound_bytes',
      `${maxOutboundBytes} bytes is less than twice the largest max_message_size (${largest.size} bytes, ${largest.source}); ` +
        `a single large message would close a healthy session as a slow ` +
        `consumer. Use at least ${2 * largest.size}, or lower max_message_size`,
    );
  }

  return {
    config: {
      realms,
      transports,
      maxOutboundBytes,
      maxSubscriptionsPerSession,
      maxRegistrationsPerSession,
      ...(limits ? { limits } : {}),
      file: opts.file,
    },
    warnings: c.warnings,
  };
}

const LIMIT_KEYS = [
  'max_connections',
  'max_connections_per_ip',
  'max_pre_auth_bytes',
  'auth_failures_before_lockout',
  'auth_max_lockout_seconds',
];

function readLimits(c: Checker, s: Obj): RouterLimits | undefined {
  const p = (k: string) => `controller.extra.sisock.${k}`;
  const out: RouterLimits = {};
  if (s.max_connections !== undefined) out.maxConnections = c.int(s.max_connections, p('max_connections'), 1, 10_000_000);
  if (s.max_connections_per_ip !== undefined)
    out.maxConnectionsPerIp = c.int(s.max_connections_per_ip, p('max_connections_per_ip'), 1, 10_000_000);
  if (s.max_pre_auth_bytes !== undefined)
    out.maxPreAuthBytes = c.int(s.max_pre_auth_bytes, p('max_pre_auth_bytes'), 0, MAX_MESSAGE_SIZE_LIMIT, ' bytes');
  if (s.auth_failures_before_lockout !== undefined) {
    out.authFailuresBeforeLockout = c.int(s.auth_failures_before_lockout, p('auth_failures_before_lockout'), 0, 1_000_000);
  }
  if (s.auth_max_lockout_seconds !== undefined) {
    out.authMaxLockoutMs = 1000 * c.int(s.auth_max_lockout_seconds, p('auth_max_lockout_seconds'), 1, 86_400, ' s');
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function checkRouterWorker(c: Checker, w: Obj, wp: string, realms: RealmConfig[], transports: TransportConfig[]): void {
  c.keys(w, wp, { used: ['type', 'realms', 'transports'], ignored: ['options', 'manhole', 'components', 'connections'], silent: ['id'] });
  if (w.options !== undefined) c.obj(w.options, at(wp, 'options'));

  const rs = w.realms === undefined ? [] : c.arr(w.realms, at(wp, 'realms'));
  rs.forEach((r, i) => {
    const realm = checkRealm(c, r, at(at(wp, 'realms'), i));
    if (realms.some((x) => x.name === realm.name))
      throw new ConfigError(at(at(at(wp, 'realms'), i), 'name'), `realm "${realm.name}" is defined twice`);
    realms.push(realm);
  });

  const ts = w.transports === undefined ? [] : c.arr(w.transports, at(wp, 'transports'));
  ts.forEach((t, i) => {
    const tc = checkTransport(c, t, at(at(wp, 'transports'), i));
    if (tc) transports.push(tc);
  });
}

function checkRealm(c: Checker, v: unknown, p: string): RealmConfig {
  const r = c.obj(v, p);
  c.keys(r, p, { used: ['name', 'roles', 'options'], ignored: ['store', 'stats', 'rlinks'], silent: ['id'] });
  const name = c.str(r.name, at(p, 'name'));
  if (!REALM_NAME.test(name))
    throw new ConfigError(at(p, 'name'), `"${name}" is not a valid realm name (Crossbar.io: ${REALM_NAME.source})`);
  const realm: RealmConfig = { name, roles: [] };
  if (r.options !== undefined) {
    const op = at(p, 'options');
    const o = c.obj(r.options, op);
    c.keys(o, op, { used: ['uri_check'], ignored: ['event_dispatching_chunk_size', 'enable_meta_api', 'bridge_meta_api'] });
    if (o.uri_check !== undefined) {
      const u = c.str(o.uri_check, at(op, 'uri_check'));
      if (u !== 'strict' && u !== 'loose') throw new ConfigError(at(op, 'uri_check'), `must be "strict" or "loose", not ${describe(u)}`);
      realm.strictUris = u === 'strict';
    }
  }
  const roles = r.roles === undefined ? [] : c.arr(r.roles, at(p, 'roles'));
  roles.forEach((x, i) => {
    const role = checkRole(c, x, at(at(p, 'roles'), i));
    if (realm.roles.some((y) => y.name === role.name))
      throw new ConfigError(at(at(at(p, 'roles'), i), 'name'), `role "${role.name}" is defined twice in realm "${name}"`);
    realm.roles.push(role);
  });
  if (realm.roles.length === 0) c.warn(`${p}: realm "${name}" defines no roles; every session will be refused`);
  return realm;
}

function checkRole(c: Checker, v: unknown, p: string): RoleConfig {
  const r = c.obj(v, p);
  if (r.authorizer !== undefined)
    throw new ConfigError(at(p, 'authorizer'), 'dynamic authorizers are not supported by sisock; use static permissions');
  c.keys(r, p, { used: ['name', 'permissions'], silent: ['id'] });
  const name = c.str(r.name, at(p, 'name'), { nonEmpty: true });
  const perms = r.permissions === undefined ? [] : c.arr(r.permissions, at(p, 'permissions'));
  return { name, permissions: perms.map((x, i) => checkPermission(c, x, at(at(p, 'permissions'), i))) };
}

const ACTIONS = ['call', 'register', 'publish', 'subscribe'] as const;

function checkPermission(c: Checker, v: unknown, p: string): Permission {
  const o = c.obj(v, p);
  // `cache` is honoured implicitly: sisock always caches static decisions.
  c.keys(o, p, { used: ['uri', 'match', 'allow', 'disclose'], silent: ['cache'] });
  if (o.cache !== undefined) c.bool(o.cache, at(p, 'cache'));
  let uri = c.str(o.uri, at(p, 'uri'));
  let match: MatchPolicy;
  if (o.match === undefined) {
    ({ uri, match } = convertStarredUri(uri));
  } else {
    const m = c.str(o.match, at(p, 'match'));
    if (m !== 'exact' && m !== 'prefix' && m !== 'wildcard')
      throw new ConfigError(at(p, 'match'), `must be "exact", "prefix" or "wildcard", not ${describe(m)}`);
    match = m;
  }
  const allow = { call: false, register: false, publish: false, subscribe: false };
  if (o.allow !== undefined) {
    const ap = at(p, 'allow');
    const a = c.obj(o.allow, ap);
    c.keys(a, ap, { used: ACTIONS });
    for (const k of ACTIONS) if (a[k] !== undefined) allow[k] = c.bool(a[k], at(ap, k));
  }
  const disclose = { caller: false, publisher: false };
  if (o.disclose !== undefined) {
    const dp = at(p, 'disclose');
    const d = c.obj(o.disclose, dp);
    c.keys(d, dp, { used: ['caller', 'publisher'] });
    for (const k of ['caller', 'publisher'] as const) if (d[k] !== undefined) disclose[k] = c.bool(d[k], at(dp, k));
  }
  return { uri, match, allow, disclose };
}

// --- transports ------------------------------------------------------------------------------

interface Endpoint {
  host: string;
  port: number;
  tls?: TlsFiles;
}

const WEBSOCKET_OPTIONS_IGNORED = [
  'allowed_origins',
  'allow_null_origin',
  'external_port',
  'enable_hybi10',
  'enable_rfc6455',
  'open_handshake_timeout',
  'close_handshake_timeout',
  'enable_webstatus',
  'validate_utf8',
  'mask_server_frames',
  'require_masked_client_frames',
  'apply_mask',
  'max_frame_size',
  'auto_fragment_size',
  'fail_by_drop',
  'echo_close_codereason',
  'tcp_nodelay',
  'auto_ping_size',
  'enable_flash_policy',
  'flash_policy',
  'compression',
  'require_websocket_subprotocol',
  'show_server_version',
  'max_connections',
  'per_message_compression',
] as const;

function checkTransport(c: Checker, v: unknown, p: string): TransportConfig | null {
  const t = c.obj(v, p);
  const type = c.str(t.type, at(p, 'type'));
  switch (type) {
    case 'web':
      return checkWeb(c, t, p);
    case 'websocket':
      return checkWebSocketTransport(c, t, p);
    case 'rawsocket':
      return checkRawSocketTransport(c, t, p);
    case 'universal':
      return checkUniversal(c, t, p);
    case 'mqtt':
    case 'flashpolicy':
    case 'websocket.testee':
    case 'stream.testee':
      c.warn(`${p}: transport of type "${type}" is not served by sisock; ignored`);
      return null;
    default:
      throw new ConfigError(at(p, 'type'), `must be one of "web", "websocket", "rawsocket", "universal", not ${describe(type)}`);
  }
}

function checkEndpoint(c: Checker, v: unknown, p: string): Endpoint {
  const e = c.obj(v, p);
  const type = e.type === undefined ? 'tcp' : c.str(e.type, at(p, 'type'));
  if (type !== 'tcp') throw new ConfigError(at(p, 'type'), `endpoint type "${type}" is not supported by sisock (only "tcp")`);
  c.keys(e, p, { used: ['type', 'port', 'interface', 'tls', 'version'], ignored: ['shared', 'backlog'] });
  if (e.port === undefined) throw new ConfigError(at(p, 'port'), 'missing');
  let portValue: unknown = e.port;
  if (typeof portValue === 'string') {
    const m = ENV_BARE.exec(portValue);
    if (!m)
      throw new ConfigError(
        at(p, 'port'),
        `must be an integer in 0..65535 or "$NAME" (an environment variable), not ${describe(portValue)}`,
      );
    const name = m[1] ?? ''; // the pattern's one group always takes part in a match
    const raw = c.env[name];
    if (raw === undefined || raw === '') throw new ConfigError(at(p, 'port'), `environment variable ${name} is not set`);
    if (!/^\d+$/.test(raw))
      throw new ConfigError(at(p, 'port'), `environment variable ${name} must be an integer in 0..65535, not ${describe(raw)}`);
    portValue = Number(raw);
  }
  const port = c.int(portValue, at(p, 'port'), 0, 65535);
  let version = 4;
  if (e.version !== undefined) {
    version = c.int(e.version, at(p, 'version'), 4, 6);
    if (version !== 4 && version !== 6) throw new ConfigError(at(p, 'version'), `must be 4 or 6, not ${version}`);
  }
  // Crossbar.io listens on every interface unless told otherwise.
  const host = e.interface === undefined ? (version === 6 ? '::' : '0.0.0.0') : c.str(e.interface, at(p, 'interface'), { nonEmpty: true });
  const ep: Endpoint = { host, port };
  if (e.tls !== undefined) {
    const tp = at(p, 'tls');
    const tls = c.obj(e.tls, tp);
    c.keys(tls, tp, { used: ['key', 'certificate', 'chain_certificates', 'ca_certificates', 'ciphers', 'dhparam'] });
    if (tls.key === undefined) throw new ConfigError(at(tp, 'key'), 'missing (path of the PEM private key)');
    if (tls.certificate === undefined) throw new ConfigError(at(tp, 'certificate'), 'missing (path of the PEM certificate)');
    const files: TlsFiles = { key: c.file(tls.key, at(tp, 'key')), certificate: c.file(tls.certificate, at(tp, 'certificate')) };
    if (tls.chain_certificates !== undefined) {
      files.chainCertificates = c
        .arr(tls.chain_certificates, at(tp, 'chain_certificates'))
        .map((x, i) => c.file(x, at(at(tp, 'chain_certificates'), i)));
    }
    if (tls.ca_certificates !== undefined) {
      files.caCertificates = c
        .arr(tls.ca_certificates, at(tp, 'ca_certificates'))
        .map((x, i) => c.file(x, at(at(tp, 'ca_certificates'), i)));
    }
    if (tls.ciphers !== undefined) files.ciphers = c.str(tls.ciphers, at(tp, 'ciphers'), { nonEmpty: true });
    if (tls.dhparam !== undefined) files.dhparam = c.file(tls.dhparam, at(tp, 'dhparam'));
    ep.tls = files;
  }
  return ep;
}

function checkSerializers(c: Checker, v: unknown, p: string): SerializerName[] {
  if (v === undefined) return [...DEFAULT_TRANSPORT_OPTIONS.serializers];
  const list = c.arr(v, p);
  const out: SerializerName[] = [];
  list.forEach((s, i) => {
    const name = c.str(s, at(p, i));
    if (name === 'json' || name === 'msgpack' || name === 'cbor') {
      if (!out.includes(name)) out.push(name);
    } else if (name === 'ubjson' || name === 'flatbuffers') c.warn(`${at(p, i)}: serializer "${name}" is not supported by sisock; ignored`);
    else throw new ConfigError(at(p, i), `must be one of "json", "msgpack", "cbor", not ${describe(name)}`);
  });
  if (out.length === 0) throw new ConfigError(p, 'lists no serializer sisock supports ("json", "msgpack", "cbor")');
  return out;
}

function checkMaxMessageSize(c: Checker, v: unknown, p: string): number {
  return c.int(v, p, 1, MAX_MESSAGE_SIZE_LIMIT, ' bytes');
}

/** Crossbar.io: milliseconds, 0 or ≥ 1000. TransportOptions: seconds. */
function checkMillis(c: Checker, v: unknown, p: string): number {
  const ms = c.int(v, p, 0, 86_400_000, ' milliseconds');
  if (ms !== 0 && ms < 1000) throw new ConfigError(p, `is in milliseconds; ${ms} is too small (0 disables, else at least 1000)`);
  return ms / 1000;
}

function checkWebSocketOptions(c: Checker, v: unknown, p: string, serializers: SerializerName[]): TransportOptions {
  const options: TransportOptions = { ...DEFAULT_TRANSPORT_OPTIONS, serializers };
  if (v === undefined) return options;
  const o = c.obj(v, p);
  c.keys(o, p, { used: ['max_message_size', 'auto_ping_interval', 'auto_ping_timeout'], ignored: WEBSOCKET_OPTIONS_IGNORED });
  if (o.max_message_size !== undefined) options.maxMessageSize = checkMaxMessageSize(c, o.max_message_size, at(p, 'max_message_size'));
  if (o.auto_ping_interval !== undefined) options.autoPingInterval = checkMillis(c, o.auto_ping_interval, at(p, 'auto_ping_interval'));
  if (o.auto_ping_timeout !== undefined) options.autoPingTimeout = checkMillis(c, o.auto_ping_timeout, at(p, 'auto_ping_timeout'));
  return options;
}

function checkAuth(c: Checker, v: unknown, p: string): AuthConfig {
  if (v === undefined) return {};
  const a = c.obj(v, p);
  const auth: AuthConfig = {};
  for (const [method, cfg] of Object.entries(a)) {
    const mp = at(p, method);
    if (method === 'anonymous' || method === 'ticket' || method === 'wampcra') {
      const o = c.obj(cfg, mp);
      const type = c.str(o.type, at(mp, 'type'));
      if (type === 'dynamic') throw new ConfigError(at(mp, 'type'), 'dynamic authenticators are not supported by sisock; use "static"');
      if (type !== 'static') throw new ConfigError(at(mp, 'type'), `must be "static", not ${describe(type)}`);
      if (method === 'anonymous') {
        c.keys(o, mp, { used: ['type', 'role'] });
        auth.anonymous = { role: o.role === undefined ? 'anonymous' : c.str(o.role, at(mp, 'role'), { nonEmpty: true }) };
      } else if (method === 'ticket') {
        c.keys(o, mp, { used: ['type', 'principals'] });
        const pp = at(mp, 'principals');
        const principals: Record<string, TicketPrincipal> = {};
        for (const [authid, pv] of Object.entries(c.obj(o.principals, pp))) {
          const ip = at(pp, authid);
          const pr = c.obj(pv, ip);
          c.keys(pr, ip, { used: ['ticket', 'role'] });
          if (pr.ticket === undefined) throw new ConfigError(at(ip, 'ticket'), 'missing');
          if (pr.role === undefined) throw new ConfigError(at(ip, 'role'), 'missing (the role this principal gets)');
          principals[authid] = { ticket: c.secret(pr.ticket, at(ip, 'ticket')), role: c.str(pr.role, at(ip, 'role'), { nonEmpty: true }) };
        }
        auth.ticket = { principals };
      } else {
        c.keys(o, mp, { used: ['type', 'users'] });
        const up = at(mp, 'users');
        const users: Record<string, WampCraUser> = {};
        for (const [authid, uv] of Object.entries(c.obj(o.users, up))) {
          const ip = at(up, authid);
          const u = c.obj(uv, ip);
          c.keys(u, ip, { used: ['secret', 'role', 'salt', 'iterations', 'keylen'] });
          if (u.secret === undefined) throw new ConfigError(at(ip, 'secret'), 'missing');
          if (u.role === undefined) throw new ConfigError(at(ip, 'role'), 'missing (the role this user gets)');
          const user: WampCraUser = {
            secret: c.secret(u.secret, at(ip, 'secret')),
            role: c.str(u.role, at(ip, 'role'), { nonEmpty: true }),
          };
          if (u.salt !== undefined) user.salt = c.str(u.salt, at(ip, 'salt'), { nonEmpty: true });
          if (u.iterations !== undefined) user.iterations = c.int(u.iterations, at(ip, 'iterations'), 1, 10_000_000);
          if (u.keylen !== undefined) user.keylen = c.int(u.keylen, at(ip, 'keylen'), 1, 1024, ' bytes');
          if (user.salt === undefined && (user.iterations !== undefined || user.keylen !== undefined)) {
            c.warn(`${ip}: iterations/keylen without salt have no effect`);
          }
          users[authid] = user;
        }
        auth.wampcra = { users };
      }
    } else if (['cryptosign', 'tls', 'cookie', 'scram', 'anonymous-proxy', 'cryptosign-proxy'].includes(method)) {
      c.warn(`${mp}: authentication method "${method}" is not supported by sisock; ignored`);
    } else {
      c.warn(`${mp}: unknown authentication method; ignored`);
    }
  }
  return auth;
}

/** A WebSocket service: a `web` path of type websocket, a `universal` websocket path, or a `websocket` transport. */
function checkWebSocketService(c: Checker, s: Obj, p: string, extraUsed: string[]): ListenerSide {
  c.keys(s, p, { used: ['type', 'serializers', 'options', 'auth', ...extraUsed], ignored: ['url', 'debug', 'cookie'], silent: ['id'] });
  const serializers = checkSerializers(c, s.serializers, at(p, 'serializers'));
  return {
    serializers,
    options: checkWebSocketOptions(c, s.options, at(p, 'options'), serializers),
    auth: checkAuth(c, s.auth, at(p, 'auth')),
  };
}

function checkRawSocketService(c: Checker, s: Obj, p: string, extraUsed: string[]): ListenerSide {
  c.keys(s, p, { used: ['type', 'serializers', 'max_message_size', 'auth', 'options', ...extraUsed], ignored: ['debug'], silent: ['id'] });
  const serializers = checkSerializers(c, s.serializers, at(p, 'serializers'));
  const options: TransportOptions = { ...DEFAULT_TRANSPORT_OPTIONS, serializers };
  if (s.max_message_size !== undefined) options.maxMessageSize = checkMaxMessageSize(c, s.max_message_size, at(p, 'max_message_size'));
  if (s.options !== undefined) {
    // Newer Crossbar.io versions also take RawSocket options here.
    const op = at(p, 'options');
    const o = c.obj(s.options, op);
    c.keys(o, op, { used: ['max_message_size', 'auto_ping_interval', 'auto_ping_timeout'], ignored: ['auto_ping_size'] });
    if (o.max_message_size !== undefined) options.maxMessageSize = checkMaxMessageSize(c, o.max_message_size, at(op, 'max_message_size'));
    if (o.auto_ping_interval !== undefined) options.autoPingInterval = checkMillis(c, o.auto_ping_interval, at(op, 'auto_ping_interval'));
    if (o.auto_ping_timeout !== undefined) options.autoPingTimeout = checkMillis(c, o.auto_ping_timeout, at(op, 'auto_ping_timeout'));
  }
  return { serializers, options, auth: checkAuth(c, s.auth, at(p, 'auth')) };
}

/** A `caller` or `publisher` path service (Crossbar.io's HTTP bridge). */
function checkBridgeService(c: Checker, s: Obj, sp: string, key: string, kind: 'caller' | 'publisher'): HttpBridgeService {
  c.keys(s, sp, { used: ['type', 'realm', 'role', 'options'] });
  const realm = c.str(s.realm, at(sp, 'realm'), { nonEmpty: true });
  const role = c.str(s.role, at(sp, 'role'), { nonEmpty: true });
  let bodyLimit = DEFAULT_POST_BODY_LIMIT;
  if (s.options !== undefined) {
    const op = at(sp, 'options');
    const o = c.obj(s.options, op);
    for (const k of ['key', 'secret', 'require_ip', 'require_tls']) {
      if (o[k] !== undefined && o[k] !== false) {
        throw new ConfigError(
          at(op, k),
          'signed or restricted HTTP bridge requests are not supported by sisock; ' +
            'remove it, or put the bridge behind a proxy that checks',
        );
      }
    }
    c.keys(o, op, {
      used: ['post_body_limit', 'key', 'secret', 'require_ip', 'require_tls'],
      ignored: ['timestamp_delta_limit'],
      silent: ['debug'],
    });
    if (o.post_body_limit !== undefined)
      bodyLimit = c.int(o.post_body_limit, at(op, 'post_body_limit'), 1, MAX_MESSAGE_SIZE_LIMIT, ' bytes');
  }
  return { path: key === '/' ? '/' : `/${key}`, kind, realm, role, bodyLimit };
}

/** The websocket path services among `paths` (bridge services into `bridges`); other services get one line each. */
function webSocketPaths(c: Checker, v: unknown, p: string, bridges: HttpBridgeService[] = []): Array<{ path: string; side: ListenerSide }> {
  const paths = c.obj(v, p);
  const found: Array<{ path: string; side: ListenerSide }> = [];
  for (const [key, sv] of Object.entries(paths)) {
    const sp = at(p, key);
    if (!WEB_PATH.test(key)) throw new ConfigError(sp, `"${key}" is not a valid path (Crossbar.io: ${WEB_PATH.source})`);
    const s = c.obj(sv, sp);
    const type = c.str(s.type, at(sp, 'type'));
    if (type === 'websocket') {
      found.push({ path: key === '/' ? '/' : `/${key}`, side: checkWebSocketService(c, s, sp, []) });
    } else if (type === 'caller' || type === 'publisher') {
      bridges.push(checkBridgeService(c, s, sp, key, type));
    } else {
      c.warn(`${sp}: web service of type "${type}" is not served by sisock; ignored`);
    }
  }
  return found;
}

function oneWebSocketPath(
  c: Checker,
  found: Array<{ path: string; side: ListenerSide }>,
  p: string,
): { path: string; side: ListenerSide } | undefined {
  for (const extra of found.slice(1))
    c.warn(`${p}: sisock serves one WebSocket path per transport; "${extra.path}" ignored (use a second transport)`);
  return found[0];
}

function checkWeb(c: Checker, t: Obj, p: string): TransportConfig | null {
  c.keys(t, p, { used: ['type', 'endpoint', 'paths'], ignored: ['options'], silent: ['id'] });
  if (t.endpoint === undefined) throw new ConfigError(at(p, 'endpoint'), 'missing');
  const ep = checkEndpoint(c, t.endpoint, at(p, 'endpoint'));
  if (t.paths === undefined) throw new ConfigError(at(p, 'paths'), 'missing');
  const bridges: HttpBridgeService[] = [];
  const ws = oneWebSocketPath(c, webSocketPaths(c, t.paths, at(p, 'paths'), bridges), at(p, 'paths'));
  if (!ws) {
    c.warn(`${p}: web transport without a "websocket" path; nothing for sisock to serve, ignored`);
    return null;
  }
  return { kind: 'websocket', ...ep, path: ws.path, ...ws.side, source: p, ...(bridges.length > 0 ? { httpBridge: bridges } : {}) };
}

function checkWebSocketTransport(c: Checker, t: Obj, p: string): TransportConfig {
  if (t.endpoint === undefined) throw new ConfigError(at(p, 'endpoint'), 'missing');
  const side = checkWebSocketService(c, t, p, ['endpoint']);
  const ep = checkEndpoint(c, t.endpoint, at(p, 'endpoint'));
  // A plain WebSocket transport answers at any path, as Crossbar.io does (OCS agents connect to
  // ws://host:8001/ws); its `url` only tells clients where to connect.
  return { kind: 'websocket', ...ep, path: ANY_PATH, ...side, source: p };
}

function checkRawSocketTransport(c: Checker, t: Obj, p: string): TransportConfig {
  if (t.endpoint === undefined) throw new ConfigError(at(p, 'endpoint'), 'missing');
  const side = checkRawSocketService(c, t, p, ['endpoint']);
  const ep = checkEndpoint(c, t.endpoint, at(p, 'endpoint'));
  return { kind: 'rawsocket', ...ep, path: '', ...side, source: p };
}

function checkUniversal(c: Checker, t: Obj, p: string): TransportConfig | null {
  c.keys(t, p, { used: ['type', 'endpoint', 'rawsocket', 'websocket', 'web'], ignored: ['mqtt'], silent: ['id'] });
  if (t.endpoint === undefined) throw new ConfigError(at(p, 'endpoint'), 'missing');
  const ep = checkEndpoint(c, t.endpoint, at(p, 'endpoint'));
  const rs =
    t.rawsocket === undefined ? undefined : checkRawSocketService(c, c.obj(t.rawsocket, at(p, 'rawsocket')), at(p, 'rawsocket'), []);
  const found: Array<{ path: string; side: ListenerSide }> = [];
  if (t.websocket !== undefined) {
    const wp = at(p, 'websocket');
    for (const [key, sv] of Object.entries(c.obj(t.websocket, wp))) {
      const sp = at(wp, key);
      if (!WEB_PATH.test(key)) throw new ConfigError(sp, `"${key}" is not a valid path (Crossbar.io: ${WEB_PATH.source})`);
      found.push({ path: key === '/' ? '/' : `/${key}`, side: checkWebSocketService(c, c.obj(sv, sp), sp, []) });
    }
  }
  if (t.web !== undefined) {
    const wp = at(p, 'web');
    const web = c.obj(t.web, wp);
    c.keys(web, wp, { used: ['paths'], ignored: ['options'], silent: ['id', 'type'] });
    if (web.paths !== undefined) found.push(...webSocketPaths(c, web.paths, at(wp, 'paths')));
  }
  const ws = oneWebSocketPath(c, found, p);
  if (!ws && !rs) {
    c.warn(`${p}: universal transport without "rawsocket" or a WebSocket path; nothing for sisock to serve, ignored`);
    return null;
  }
  if (!ws) return { kind: 'rawsocket', ...ep, path: '', ...rs!, source: p };
  if (!rs) return { kind: 'websocket', ...ep, path: ws.path, ...ws.side, source: p };
  return { kind: 'universal', ...ep, path: ws.path, ...ws.side, rawsocket: rs, source: p };
}
