/**
 * Pieces of the tests that start a router from a Crossbar-style config with WAMP-CRA / ticket users:
 * a one-router, one-realm config built from roles and transports, an allow-everything role, and a
 * self-signed certificate for the TLS transports.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';

/** Every action allowed. */
export const ALLOW_ALL = { call: true, register: true, publish: true, subscribe: true };

/** A role that may do everything on every URI. */
export function allowAllRole(name: string): { name: string; permissions: Array<{ uri: string; match: string; allow: typeof ALLOW_ALL }> } {
  return { name, permissions: [{ uri: '', match: 'prefix', allow: ALLOW_ALL }] };
}

/** A Crossbar config (version 2) of one router worker with one realm (`test_realm` unless given). */
export function oneRouterConfig(roles: unknown[], transports: unknown[], realm = 'test_realm'): Record<string, unknown> {
  return { version: 2, workers: [{ type: 'router', realms: [{ name: realm, roles }], transports }] };
}

export interface CertOptions {
  /** `rsa` (rsa:2048) or `ec` (prime256v1). */
  key: 'rsa' | 'ec';
  /** Subject common name. */
  cn: string;
  /** subjectAltName value, e.g. `DNS:localhost,IP:127.0.0.1`. */
  san: string;
  keyFile?: string;
  certFile?: string;
}

/** Writes a self-signed certificate valid one day into `dir` with openssl; returns the key and certificate paths. */
export function selfSignedCert(dir: string, o: CertOptions): { keyPath: string; certPath: string } {
  const keyPath = path.join(dir, o.keyFile ?? 'key.pem');
  const certPath = path.join(dir, o.certFile ?? 'cert.pem');
  const keyArgs = o.key === 'rsa' ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      ...keyArgs,
      '-nodes',
      '-days',
      '1',
      '-subj',
      `/CN=${o.cn}`,
      '-addext',
      `subjectAltName=${o.san}`,
      '-keyout',
      keyPath,
      '-out',
      certPath,
    ],
    { stdio: 'ignore' },
  );
  return { keyPath, certPath };
}
