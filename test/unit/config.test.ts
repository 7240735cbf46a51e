import * as path from 'node:path';
import { ConfigError } from '../../common/errors';
import { devConfig, loadConfigFile, parseConfig, DEFAULT_REALM } from '../../router/config';
import { RoleAuthorizer } from '../../router/roles';

const CONFIG_DIR = path.join(__dirname, '..', '..', 'router-config');
const PROD_ENV = {
  SISOCK_SERVER_SECRET: 'server-s3cret',
  SISOCK_HUB_SECRET: 'hub-s3cret',
  SISOCK_CONSUMER_SECRET: 'consumer-s3cret',
  SISOCK_NODE_WEATHER_SECRET: 'weather-s3cret',
  SISOCK_NODE_SIM_SECRET: 'sim-s3cret',
  SISOCK_NODE_ARCHIVE_SECRET: 'archive-s3cret',
  SISOCK_NODE_TRACKER_SECRET: 'tracker-s3cret',
  SISOCK_ADMIN_SECRET: 'admin-s3cret',
  SISOCK_OPERATOR_SECRET: 'operator-s3cret',
};

/** A minimal valid config with `patch` applied to the worker / first transport. */
function minimal(transport: Record<string, unknown> = {}, worker: Record<string, unknown> = {}, top: Record<string, unknown> = {}) {
  return {
    version: 2,
    workers: [
      {
        type: 'router',
        realms: [{ name: 'realm1', roles: [{ name: 'anonymous', permissions: [{ uri: '', match: 'prefix', allow: { call: true } }] }] }],
        transports: [{ type: 'websocket', endpoint: { type: 'tcp', port: 9000 }, ...transport }],
        ...worker,
      },
    ],
    ...top,
  };
}

function errorOf(f: () => unknown): ConfigError {
  try {
    f();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('shipped configs', () => {
  test('dev.json loads without warnings', () => {
    const { config, warnings } = loadConfigFile(path.join(CONFIG_DIR, 'dev.json'), {});
    expect(warnings).toEqual([]);
    expect(config.realms.map((r) => r.name)).toEqual(['test_realm']);
    expect(config.transports).toHaveLength(1);
    expect(config.transports[0]).toMatchObject({
      kind: 'websocket',
      host: '127.0.0.1',
      port: 8080,
      path: '/ws',
      auth: { anonymous: { role: 'anonymous' } },
      options: { maxMessageSize: 16777216, autoPingInterval: 30, autoPingTimeout: 10 },
    });
  });

  test('production.json loads with its environment, least-privilege roles', () => {
    const { config, warnings } = loadConfigFile(path.join(CONFIG_DIR, 'production.json'), PROD_ENV);
    expect(warnings).toEqual([]);
    expect(config.maxOutboundBytes).toBe(33554432); // 2 × its max_message_size
    const [wss, plain] = config.transports;
    expect(wss!.tls).toEqual({
      key: path.resolve(CONFIG_DIR, '../tls/server.key'),
      certificate: path.resolve(CONFIG_DIR, '../tls/server.crt'),
    });
    expect(wss!.auth.wampcra?.users.server).toEqual({ secret: 'server-s3cret', role: 'server' });
    expect(Object.keys(wss!.auth.wampcra?.users ?? {}).sort()).toEqual([
      'admin',
      'archive',
      'consumer',
      'hub',
      'operator',
      'server',
      'sim',
      'tracker',
      'weather',
    ]);
    expect(plain!.tls).toBeUndefined();
    expect(plain).toMatchObject({ port: 8001, auth: { anonymous: { role: 'iocs_agent' } } });

    const a = new RoleAuthorizer(config.realms[0]!.roles);
    const B = 'org.simonsobservatory';
    expect(a.allows('server', 'anything.at.all', 'register')).toBe(true);
    expect(a.allows('consumer', `${B}.consumer.weather.get_data`, 'call')).toBe(true);
    expect(a.allows('consumer', `${B}.consumer.data_node_added`, 'subscribe')).toBe(true);
    expect(a.allows('consumer', `${B}.consumer.weather.get_data`, 'register')).toBe(false);
    expect(a.allows('consumer', `${B}.data_node.add`, 'call')).toBe(false);
    // read-only: reads and live topics, no control procedure; the operator may call those
    expect(a.allows('consumer', `${B}.consumer.sim.get_fields`, 'call')).toBe(true);
    expect(a.allows('consumer', `${B}.consumer.get_data_node`, 'call')).toBe(true);
    expect(a.allows('consumer', `${B}.consumer.sim.data`, 'subscribe')).toBe(true);
    expect(a.allows('consumer', `${B}.consumer.sim.set_channel`, 'call')).toBe(false);
    expect(a.allows('consumer', `${B}.consumer.tracker.reset_device`, 'call')).toBe(false);
    expect(a.allows('consumer', `${B}.consumer.sim.get_data`, 'subscribe')).toBe(false);
    expect(a.allows('operator', `${B}.consumer.sim.set_channel`, 'call')).toBe(true);
    expect(a.allows('operator', `${B}.consumer.sim.get_data`, 'call')).toBe(true);
    expect(a.allows('operator', `${B}.consumer.sim.set_channel`, 'register')).toBe(false);
    expect(a.allows('node_weather', `${B}.consumer.weather.get_data`, 'register')).toBe(true);
    expect(a.allows('node_weather', `${B}.consumer.other.get_data`, 'register')).toBe(false);
    expect(a.allows('node_weather', `${B}.data_node.add`, 'call')).toBe(true);
    expect(a.allows('node_weather', `${B}.data_node.add`, 'register')).toBe(false);
    expect(a.allows('hub', `${B}.data_node.add`, 'register')).toBe(true);
    expect(a.allows('hub', `${B}.consumer.data_node_added`, 'publish')).toBe(true);
    expect(a.allows('hub', 'wamp.session.on_leave', 'subscribe')).toBe(true);
    expect(a.allows('hub', 'wamp.session.get', 'call')).toBe(true);
    expect(a.allows('hub', 'wamp.session.kill', 'call')).toBe(false);
    expect(a.allows('admin', 'wamp.session.kill', 'call')).toBe(true);
    expect(a.allows('hub', `${B}.hub.started`, 'publish')).toBe(true);
    expect(a.allows('hub', `${B}.consumer.weather.get_metadata`, 'call')).toBe(true);
    expect(a.allows('hub', `${B}.consumer.weather.get_data`, 'call')).toBe(false);
    expect(a.allows('consumer', `${B}.hub.started`, 'subscribe')).toBe(true);
    expect(a.allows('consumer', `${B}.consumer.weather.data`, 'publish')).toBe(false);
    expect(a.allows('node_weather', `${B}.consumer.weather.data`, 'publish')).toBe(true);
    expect(a.allows('node_weather', `${B}.consumer.sim.data`, 'publish')).toBe(false);
    expect(a.allows('node_weather', `${B}.hub.started`, 'subscribe')).toBe(true);
    for (const n of ['sim', 'archive', 'tracker']) {
      expect(a.allows(`node_${n}`, `${B}.consumer.${n}.get_data`, 'register')).toBe(true);
      expect(a.allows(`node_${n}`, `${B}.consumer.weather.get_data`, 'register')).toBe(false);
    }
    expect(a.allows('iocs_agent', 'observatory.thermo1.feeds.temps', 'publish')).toBe(true);
    expect(a.allows('iocs_agent', `${B}.data_node.add`, 'call')).toBe(false);
  });

  test('production.json without its environment fails naming the path and the variable', () => {
    const e = errorOf(() => loadConfigFile(path.join(CONFIG_DIR, 'production.json'), {}));
    expect(e.path).toBe('workers[0].transports[0].paths.ws.auth.wampcra.users.server.secret');
    expect(e.message).toContain('SISOCK_SERVER_SECRET');
    const partial = { ...PROD_ENV, SISOCK_HUB_SECRET: '' };
    expect(errorOf(() => loadConfigFile(path.join(CONFIG_DIR, 'production.json'), partial)).message).toContain('SISOCK_HUB_SECRET');
  });

  test('the original sisock hub config loads; what sisock does not run is one warning each', () => {
    const original = {
      version: 2,
      workers: [
        {
          type: 'router',
          options: { pythonpath: ['..'] },
          realms: [
            {
              name: 'sisock',
              roles: [
                {
                  name: 'server',
                  permissions: [
                    {
                      uri: '',
                      match: 'prefix',
                      allow: { call: true, register: true, publish: true, subscribe: true },
                      disclose: { caller: false, publisher: false },
                      cache: true,
                    },
                  ],
                },
              ],
            },
          ],
          transports: [
            {
              type: 'web',
              endpoint: { type: 'tcp', port: 8080, tls: { key: 'server_key.pem', certificate: 'server_cert.pem' } },
              paths: {
                '/': { type: 'static', directory: '../www' },
                ws: {
                  type: 'websocket',
                  auth: { wampcra: { type: 'static', users: { server: { secret: 'inline-example', role: 'server' } } } },
                },
              },
            },
          ],
        },
        { type: 'container', options: { pythonpath: ['..'] }, components: [] },
      ],
    };
    const { config, warnings } = parseConfig(original, { baseDir: '/etc/sisock', env: {} });
    expect(config.transports[0]).toMatchObject({
      kind: 'websocket',
      host: '0.0.0.0',
      port: 8080,
      path: '/ws',
      tls: { key: '/etc/sisock/server_key.pem' },
    });
    expect(config.transports[0]!.auth.wampcra?.users.server?.secret).toBe('inline-example');
    expect(warnings).toEqual([
      'workers[0].options: Crossbar.io setting not used by sisock; ignored',
      'workers[0].transports[0].paths["/"]: web service of type "static" is not served by sisock; ignored',
      'workers[1]: worker of type "container" is not run by sisock (only "router" workers are); ignored',
    ]);
  });
});

describe('invalid values name their JSON path', () => {
  const cases: Array<[string, unknown, string]> = [
    ['port out of range', minimal({ endpoint: { type: 'tcp', port: 70000 } }), 'workers[0].transports[0].endpoint.port'],
    ['port not a number', minimal({ endpoint: { type: 'tcp', port: 'eighty' } }), 'workers[0].transports[0].endpoint.port'],
    ['port env unset', minimal({ endpoint: { type: 'tcp', port: '$SISOCK_TEST_PORT' } }), 'workers[0].transports[0].endpoint.port'],
    ['unix endpoint', minimal({ endpoint: { type: 'unix', path: '/tmp/x' } }), 'workers[0].transports[0].endpoint.type'],
    ['bad transport type', minimal({ type: 'carrier-pigeon' }), 'workers[0].transports[0].type'],
    ['bad serializer', minimal({ serializers: ['json', 'xml'] }), 'workers[0].transports[0].serializers[1]'],
    [
      'max_message_size too big',
      minimal({ options: { max_message_size: 100 * 1024 * 1024 } }),
      'workers[0].transports[0].options.max_message_size',
    ],
    ['ping in seconds by mistake', minimal({ options: { auto_ping_interval: 30 } }), 'workers[0].transports[0].options.auto_ping_interval'],
    [
      'tls without key',
      minimal({ endpoint: { type: 'tcp', port: 1, tls: { certificate: 'c.pem' } } }),
      'workers[0].transports[0].endpoint.tls.key',
    ],
    [
      'dynamic authenticator',
      minimal({ auth: { wampcra: { type: 'dynamic', authenticator: 'com.auth' } } }),
      'workers[0].transports[0].auth.wampcra.type',
    ],
    [
      'user without secret',
      minimal({ auth: { wampcra: { type: 'static', users: { 'joe.x': { role: 'anonymous' } } } } }),
      'workers[0].transports[0].auth.wampcra.users["joe.x"].secret',
    ],
    [
      'iterations not an integer',
      minimal({ auth: { wampcra: { type: 'static', users: { joe: { role: 'anonymous', secret: 's', salt: 'x', iterations: 1.5 } } } } }),
      'workers[0].transports[0].auth.wampcra.users.joe.iterations',
    ],
    ['version 1', { ...minimal(), version: 1 }, 'version'],
    [
      'no version',
      (() => {
        const m: Record<string, unknown> = minimal();
        delete m.version;
        return m;
      })(),
      'version',
    ],
    ['short realm name', minimal({}, { realms: [{ name: 'ab', roles: [] }] }), 'workers[0].realms[0].name'],
    [
      'bad match',
      minimal({}, { realms: [{ name: 'realm1', roles: [{ name: 'r', permissions: [{ uri: 'a.', match: 'regex' }] }] }] }),
      'workers[0].realms[0].roles[0].permissions[0].match',
    ],
    [
      'allow not boolean',
      minimal(
        {},
        { realms: [{ name: 'realm1', roles: [{ name: 'r', permissions: [{ uri: 'a.', match: 'prefix', allow: { call: 'yes' } }] }] }] },
      ),
      'workers[0].realms[0].roles[0].permissions[0].allow.call',
    ],
    [
      'dynamic authorizer',
      minimal({}, { realms: [{ name: 'realm1', roles: [{ name: 'r', authorizer: 'com.authz' }] }] }),
      'workers[0].realms[0].roles[0].authorizer',
    ],
    ['no router worker', { version: 2, workers: [{ type: 'guest', executable: 'x' }] }, 'workers'],
  ];
  test.each(cases)('%s', (_what, json, expectedPath) => {
    const e = errorOf(() => parseConfig(json, { env: {} }));
    expect(e.path).toBe(expectedPath);
    expect(e.message.startsWith(`${expectedPath}: `)).toBe(true);
  });

  test('the port message says what is allowed', () => {
    expect(errorOf(() => parseConfig(minimal({ endpoint: { type: 'tcp', port: 70000 } }), { env: {} })).message).toBe(
      'workers[0].transports[0].endpoint.port: must be an integer in 0..65535, not number 70000',
    );
  });
});

describe('accepted variations', () => {
  test('unknown and ignored keys give exactly one warning line each', () => {
    const json = minimal(
      { options: { enable_webstatus: false, max_message_size: 1000, frobnicate: 1 }, surprise: true },
      { colour: 'blue' },
      { controller: { options: { title: 'x' } } },
    );
    const { warnings } = parseConfig(json, { env: {} });
    expect(warnings.sort()).toEqual([
      'workers[0].colour: unknown key; ignored',
      'workers[0].transports[0].options.enable_webstatus: Crossbar.io setting not used by sisock; ignored',
      'workers[0].transports[0].options.frobnicate: unknown key; ignored',
      'workers[0].transports[0].surprise: unknown key; ignored',
    ]);
  });

  test('ports from the environment ("$NAME", as Crossbar.io) and secrets from "${NAME}"', () => {
    const json = minimal({
      endpoint: { type: 'tcp', port: '$SISOCK_TEST_PORT' },
      auth: { ticket: { type: 'static', principals: { joe: { ticket: '${JOE_TICKET}', role: 'anonymous' } } } },
    });
    const { config } = parseConfig(json, { env: { SISOCK_TEST_PORT: '9123', JOE_TICKET: 't0ps3cret' } });
    expect(config.transports[0]!.port).toBe(9123);
    expect(config.transports[0]!.auth.ticket?.principals.joe).toEqual({ ticket: 't0ps3cret', role: 'anonymous' });
  });

  test('"$NAME" as a secret is literal (as in Crossbar.io), with a warning', () => {
    const json = minimal({ auth: { wampcra: { type: 'static', users: { joe: { secret: '$JOE', role: 'anonymous' } } } } });
    const { config, warnings } = parseConfig(json, { env: { JOE: 'x' } });
    expect(config.transports[0]!.auth.wampcra?.users.joe?.secret).toBe('$JOE');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('workers[0].transports[0].auth.wampcra.users.joe.secret');
  });

  test('universal transport, rawsocket transport, strict URIs, sisock extension, starred URIs', () => {
    const json = {
      version: 2,
      controller: { extra: { sisock: { max_outbound_bytes: 2 * 16777216 + 1 } } },
      workers: [
        {
          type: 'router',
          realms: [
            {
              name: 'realm1',
              options: { uri_check: 'strict' },
              roles: [{ name: 'anonymous', permissions: [{ uri: 'com.*', allow: { call: true } }] }],
            },
          ],
          transports: [
            {
              type: 'universal',
              endpoint: { type: 'tcp', port: 9000, interface: '127.0.0.1' },
              rawsocket: { serializers: ['msgpack'], max_message_size: 4096 },
              websocket: {
                ws: { type: 'websocket', serializers: ['json'], options: { auto_ping_interval: 10000, auto_ping_timeout: 5000 } },
              },
            },
            {
              type: 'rawsocket',
              endpoint: { type: 'tcp', port: 9001 },
              serializers: ['cbor', 'ubjson'],
              auth: { anonymous: { type: 'static', role: 'anonymous' } },
            },
          ],
        },
      ],
    };
    const { config, warnings } = parseConfig(json, { env: {} });
    expect(config.maxOutboundBytes).toBe(2 * 16777216 + 1);
    expect(config.realms[0]!.strictUris).toBe(true);
    expect(config.realms[0]!.roles[0]!.permissions[0]).toMatchObject({ uri: 'com.', match: 'prefix' });
    expect(config.transports[0]).toMatchObject({
      kind: 'universal',
      host: '127.0.0.1',
      port: 9000,
      path: '/ws',
      serializers: ['json'],
      options: { autoPingInterval: 10, autoPingTimeout: 5 },
      rawsocket: { serializers: ['msgpack'], options: { maxMessageSize: 4096 } },
    });
    expect(config.transports[1]).toMatchObject({ kind: 'rawsocket', path: '', serializers: ['cbor'] });
    expect(warnings).toEqual(['workers[0].transports[1].serializers[1]: serializer "ubjson" is not supported by sisock; ignored']);
  });

  test('controller.extra.sisock per-session limits: defaults, values, validation', () => {
    const ext = (sisock: Record<string, unknown>) => minimal({}, {}, { controller: { extra: { sisock } } });
    const dflt = parseConfig(minimal(), { env: {} });
    expect(dflt.config).toMatchObject({ maxSubscriptionsPerSession: 10_000, maxRegistrationsPerSession: 10_000 });
    expect(devConfig()).toMatchObject({ maxSubscriptionsPerSession: 10_000, maxRegistrationsPerSession: 10_000 });
    const { config, warnings } = parseConfig(ext({ max_subscriptions_per_session: 250, max_registrations_per_session: 1 }), { env: {} });
    expect(warnings).toEqual([]);
    expect(config).toMatchObject({ maxSubscriptionsPerSession: 250, maxRegistrationsPerSession: 1 });
    for (const key of ['max_subscriptions_per_session', 'max_registrations_per_session']) {
      for (const bad of [0, -1, 1.5, '100', null, 10_000_001]) {
        const e = errorOf(() => parseConfig(ext({ [key]: bad }), { env: {} }));
        expect(e.path).toBe(`controller.extra.sisock.${key}`);
        expect(e.message).toContain('must be an integer in 1..10000000');
      }
    }
    expect(parseConfig(ext({ max_subscription_per_session: 5 }), { env: {} }).warnings).toEqual([
      'controller.extra.sisock.max_subscription_per_session: unknown key; ignored',
    ]);
  });

  test('max_outbound_bytes must be at least twice the largest max_message_size; the default rises to it', () => {
    const MiB = 1024 * 1024;
    const cfg = (outbound: number | undefined, rsSize = 4096) => ({
      version: 2,
      ...(outbound === undefined ? {} : { controller: { extra: { sisock: { max_outbound_bytes: outbound } } } }),
      workers: [
        {
          type: 'router',
          realms: [{ name: 'realm1', roles: [{ name: 'anonymous', permissions: [] }] }],
          transports: [
            { type: 'websocket', endpoint: { type: 'tcp', port: 9000 }, options: { max_message_size: MiB } },
            {
              type: 'universal',
              endpoint: { type: 'tcp', port: 9001 },
              rawsocket: { max_message_size: rsSize },
              websocket: { ws: { type: 'websocket', options: { max_message_size: 1024 } } },
            },
          ],
        },
      ],
    });
    // Exactly twice the largest (the websocket transport's 1 MiB) is fine.
    expect(parseConfig(cfg(2 * MiB), { env: {} }).config.maxOutboundBytes).toBe(2 * MiB);
    const e = errorOf(() => parseConfig(cfg(2 * MiB - 1), { env: {} }));
    expect(e.path).toBe('controller.extra.sisock.max_outbound_bytes');
    expect(e.message).toContain(
      `${2 * MiB - 1} bytes is less than twice the largest max_message_size (${MiB} bytes, workers[0].transports[0])`,
    );
    expect(e.message).toContain(`at least ${2 * MiB}`);
    // The largest may be the RawSocket side of a universal transport.
    const rs = errorOf(() => parseConfig(cfg(4 * MiB, 3 * MiB), { env: {} }));
    expect(rs.message).toContain(`(${3 * MiB} bytes, workers[0].transports[1].rawsocket)`);
    // Unset: 16 MiB, or twice the largest max_message_size when that is more.
    expect(parseConfig(cfg(undefined), { env: {} }).config.maxOutboundBytes).toBe(16 * MiB);
    expect(parseConfig(cfg(undefined, 64 * MiB), { env: {} }).config.maxOutboundBytes).toBe(128 * MiB);
    expect(parseConfig(minimal(), { env: {} }).config.maxOutboundBytes).toBe(32 * MiB); // default 16 MiB messages
    expect(devConfig().maxOutboundBytes).toBe(32 * MiB);
    // Every shipped config passes the rule.
    for (const f of ['dev.json', 'production.json']) {
      const { config } = loadConfigFile(path.join(CONFIG_DIR, f), PROD_ENV);
      for (const t of config.transports) {
        expect(config.maxOutboundBytes).toBeGreaterThanOrEqual(2 * t.options.maxMessageSize);
        if (t.rawsocket) expect(config.maxOutboundBytes).toBeGreaterThanOrEqual(2 * t.rawsocket.options.maxMessageSize);
      }
    }
  });

  test('a role handed out by auth but defined on no realm is a warning', () => {
    const { warnings } = parseConfig(minimal({ auth: { anonymous: { type: 'static', role: 'ghost' } } }), { env: {} });
    expect(warnings).toEqual(['workers[0].transports[0]: auth hands out role "ghost", which no realm defines; such sessions are refused']);
  });

  test('devConfig: anonymous, one realm, everything allowed', () => {
    const c = devConfig({ port: 0, rawsocketPort: 0 });
    expect(c.realms).toHaveLength(1);
    expect(c.realms[0]!.name).toBe(DEFAULT_REALM);
    expect(c.transports.map((t) => [t.kind, t.host, t.path])).toEqual([
      ['websocket', '127.0.0.1', '/ws'],
      ['rawsocket', '127.0.0.1', ''],
    ]);
    const a = new RoleAuthorizer(c.realms[0]!.roles);
    expect(a.allows('anonymous', 'any.uri', 'register')).toBe(true);
  });
});
