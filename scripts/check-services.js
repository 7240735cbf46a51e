#!/usr/bin/env node
/**
 * Checks that the external services the tests use are reachable (MariaDB, PostgreSQL, Mosquitto,
 * RabbitMQ), from the SISOCK_TEST_*_URL variables that .ci/run sets. With SISOCK_REQUIRE_SERVICES=1
 * (CI) an unreachable one is an error; otherwise it is reported as skipped.
 */
'use strict';
const net = require('node:net');

const services = [
  ['MariaDB', 'SISOCK_TEST_MYSQL_URL', 3306],
  ['PostgreSQL', 'SISOCK_TEST_PG_URL', 5432],
  ['Mosquitto', 'SISOCK_TEST_MQTT_URL', 1883],
  ['RabbitMQ', 'SISOCK_TEST_AMQP_URL', 5672],
];

function probe(host, port, timeoutMs = 3000) {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (ok, why) => {
      s.destroy();
      resolve({ ok, why });
    };
    s.setTimeout(timeoutMs, () => done(false, 'timed out'));
    s.once('connect', () => done(true));
    s.once('error', (e) => done(false, e.code || e.message));
  });
}

(async () => {
  const required = process.env.SISOCK_REQUIRE_SERVICES === '1';
  let failed = 0;
  for (const [name, envVar, defPort] of services) {
    const raw = process.env[envVar];
    if (!raw) {
      const msg = `${name}: ${envVar} not set; tests that need it are skipped`;
      if (required) {
        console.error(`ERROR ${msg}`);
        failed++;
      } else console.error(`skip  ${msg}`);
      continue;
    }
    let url;
    try {
      url = new URL(raw);
    } catch {
      console.error(`ERROR ${name}: ${envVar}='${raw}' is not a URL`);
      failed++;
      continue;
    }
    const port = Number(url.port || defPort);
    const r = await probe(url.hostname, port);
    if (r.ok) console.error(`ok    ${name} at ${url.hostname}:${port}`);
    else if (required) {
      console.error(`ERROR ${name} at ${url.hostname}:${port} is unreachable (${r.why})`);
      failed++;
    } else console.error(`skip  ${name} at ${url.hostname}:${port} unreachable (${r.why}); tests that need it are skipped`);
  }
  process.exit(failed ? 1 : 0);
})();
