/**
 * Assembles a running router from a RouterConfig: the Router, one realm per configured realm
 * with its RoleAuthorizer, and one listener per transport whose connections are handed to the
 * router with that transport's authentication methods.
 */
import { readFileSync } from 'node:fs';
import type * as http from 'node:http';
import { ErrorCode, SisockError } from '../common/errors';
import { silentLogger, type Logger } from '../common/log';
import { listen, type Listener, type ListenOptions } from '../transport';
import type { Connection } from '../transport/types';
import { createAuthMethods, type AuthMethod } from './auth';
import type { RouterConfig, TlsFiles } from './config';
import { RoleAuthorizer } from './roles';
import { Router } from './router';
import { httpBridge } from './http-bridge';

export interface RunningRouter {
  router: Router;
  /** One URL per served endpoint, e.g. `ws://127.0.0.1:8080/ws`, `rs://127.0.0.1:8081`. */
  urls: string[];
  listeners: Listener[];
  /** GOODBYE (wamp.close.system_shutdown) to every session, then stops every listener. */
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
}

interface TlsMaterial {
  key: Buffer;
  cert: Buffer;
  ca?: Buffer[];
  ciphers?: string;
  dhparam?: Buffer;
}

function readTlsFile(file: string, what: string, source: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new SisockError(ErrorCode.TLS_UNREADABLE, `${source}.endpoint.tls.${what}: cannot read '${file}': ${(e as Error).message}`, {
      cause: e,
    });
  }
}

/** Reads the TLS files of a transport (key, certificate + chain, CA certificates). */
export function readTls(files: TlsFiles, source: string): TlsMaterial {
  const key = readTlsFile(files.key, 'key', source);
  let cert = readTlsFile(files.certificate, 'certificate', source);
  if (files.chainCertificates?.length) {
    cert = Buffer.concat([cert, ...files.chainCertificates.map((f, i) => readTlsFile(f, `chain_certificates[${i}]`, source))]);
  }
  const out: TlsMaterial = { key, cert };
  if (files.caCertificates?.length) out.ca = files.caCertificates.map((f, i) => readTlsFile(f, `ca_certificates[${i}]`, source));
  if (files.ciphers) out.ciphers = files.ciphers;
  if (files.dhparam) out.dhparam = readTlsFile(files.dhparam, 'dhparam', source);
  return out;
}

const notFound: http.RequestListener = (_req, res) => {
  const body = 'This is a WAMP router (sisock). Nothing to see here.\n';
  res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
};

export async function startRouter(config: RouterConfig, opts: StartOptions = {}): Promise<RunningRouter> {
  const log = opts.logger ?? silentLogger;
  const router = new Router({
    maxOutboundBytes: config.maxOutboundBytes,
    maxSubscriptionsPerSession: config.maxSubscriptionsPerSession,
    maxRegistrationsPerSession: config.maxRegistrationsPerSession,
    logger: log,
    admission: { maxConnections: config.limits?.maxConnections, maxConnectionsPerIp: config.limits?.maxConnectionsPerIp },
    authThrottle: { freeFailures: config.limits?.authFailuresBeforeLockout, maxLockMs: config.limits?.authMaxLockoutMs },
  });
  const preAuth = config.limits?.maxPreAuthBytes;
  for (const r of config.realms) {
    router.addRealm(r.name, new RoleAuthorizer(r.roles), r.strictUris === undefined ? {} : { strictUris: r.strictUris });
  }

  // Read every TLS file before opening any port, so that a bad path fails fast and cleanly.
  const tls = config.transports.map((t) => (t.tls ? readTls(t.tls, t.source) : undefined));

  const listeners: Listener[] = [];
  const urls: string[] = [];
  const bridges: Array<{ close(): void }> = [];
  try {
    for (const [i, t] of config.transports.entries()) {
      const wsMethods = createAuthMethods(t.auth);
      const rsMethods: AuthMethod[] = t.rawsocket ? createAuthMethods(t.rawsocket.auth) : wsMethods;
      const handler = (conn: Connection): void => {
        router.accept(conn, { methods: conn.info.type === 'rawsocket' ? rsMethods : wsMethods });
      };
      const lo: ListenOptions = {
        kind: t.kind,
        host: t.host,
        port: t.port,
        path: t.path,
        options: preAuth === undefined ? t.options : { ...t.options, maxPreAuthBytes: preAuth },
        ...(t.rawsocket
          ? { rawsocketOptions: preAuth === undefined ? t.rawsocket.options : { ...t.rawsocket.options, maxPreAuthBytes: preAuth } }
          : {}),
        ...(tls[i] ? { tls: tls[i] } : {}),
      };
      if (t.httpBridge) {
        for (const b of t.httpBridge) {
          if (!router.realms.has(b.realm))
            throw new SisockError(ErrorCode.CONFIG_INVALID, `${t.source}: ${b.kind} path ${b.path}: no realm "${b.realm}" in this config`);
        }
        const bridge = httpBridge(router, t.httpBridge, notFound, log);
        bridges.push(bridge);
        lo.httpHandler = bridge.handler;
      }
      let listener: Listener;
      try {
        listener = await listen(lo, handler);
      } catch (e) {
        if (e instanceof SisockError) throw e;
        throw new SisockError(ErrorCode.LISTEN_FAILED, `${t.source}: cannot listen on ${t.host}:${t.port}: ${(e as Error).message}`, {
          cause: e,
        });
      }
      listeners.push(listener);
      const these =
        listener.rawsocketUrl && listener.rawsocketUrl !== listener.url ? [listener.url, listener.rawsocketUrl] : [listener.url];
      urls.push(...these);
      log.info(
        { transport: t.source, urls: these, tls: !!t.tls, auth: [...new Set([...wsMethods, ...rsMethods].map((m) => m.name))] },
        'listening',
      );
    }
  } catch (e) {
    router.close();
    await Promise.allSettled(listeners.map((l) => l.close()));
    throw e;
  }

  let closing: Promise<void> | undefined;
  return {
    router,
    urls,
    listeners,
    close(): Promise<void> {
      closing ??= (async () => {
        for (const b of bridges) b.close();
        router.close();
        await Promise.allSettled(listeners.map((l) => l.close()));
        log.info('router stopped');
      })();
      return closing;
    },
  };
}
