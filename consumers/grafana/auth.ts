/**
 * Optional HTTP authentication of the bridge and CORS for direct browser access.
 *
 * From the environment (never from the repository):
 *   SISOCK_GRAFANA_BASIC_AUTH=user:pass    or SISOCK_GRAFANA_BASIC_AUTH_FILE=path (file holds user:pass)
 *   SISOCK_GRAFANA_TOKEN=secret            or SISOCK_GRAFANA_TOKEN_FILE=path     (bearer token)
 *   SISOCK_GRAFANA_CORS_ORIGIN=origin      (default `*`)
 * With neither set, every request is let in. With one or both, a request needs a matching
 * `Authorization: Basic …` or `Authorization: Bearer …` (or `?access_token=` for the page's
 * EventSource, which cannot set headers); else 401 `{"message"}`. CORS preflights (OPTIONS) never
 * need credentials. Comparisons are constant-time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ErrorCode, SisockError } from '../../common/errors';
import { secretFromEnv } from '../../common/secret-env';

export interface AuthConfig {
  basic?: { user: string; pass: string };
  token?: string;
}

const fromEnvOrFile = secretFromEnv;

export function authFromEnv(env: NodeJS.ProcessEnv = process.env): AuthConfig {
  const cfg: AuthConfig = {};
  const basic = fromEnvOrFile(env, 'SISOCK_GRAFANA_BASIC_AUTH');
  if (basic !== undefined) {
    const i = basic.indexOf(':');
    if (i <= 0 || i === basic.length - 1)
      throw new SisockError(ErrorCode.CONFIG_INVALID, 'SISOCK_GRAFANA_BASIC_AUTH must be user:password');
    cfg.basic = { user: basic.slice(0, i), pass: basic.slice(i + 1) };
  }
  const token = fromEnvOrFile(env, 'SISOCK_GRAFANA_TOKEN');
  if (token !== undefined) cfg.token = token.trim();
  return cfg;
}

export function authEnabled(cfg: AuthConfig): boolean {
  return cfg.basic !== undefined || cfg.token !== undefined;
}

/** Constant-time string equality (hashes first so lengths do not leak). */
function same(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** Does this request carry valid credentials? */
export function authorized(cfg: AuthConfig, header: string | undefined, queryToken: unknown): boolean {
  if (!authEnabled(cfg)) return true;
  const h = header ?? '';
  const [, schemeText, credentials = ''] = /^(\w+)\s+(.+)$/.exec(h.trim()) ?? [];
  const scheme = schemeText?.toLowerCase();
  if (cfg.basic && scheme === 'basic') {
    const decoded = Buffer.from(credentials, 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i >= 0 && same(decoded.slice(0, i), cfg.basic.user) && same(decoded.slice(i + 1), cfg.basic.pass)) return true;
  }
  if (cfg.token) {
    if (scheme === 'bearer' && same(credentials.trim(), cfg.token)) return true;
    if (typeof queryToken === 'string' && same(queryToken, cfg.token)) return true;
  }
  return false;
}

export function authMiddleware(cfg: AuthConfig): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.method === 'OPTIONS' || authorized(cfg, req.headers.authorization, (req.query as Record<string, unknown>)?.access_token)) {
      next();
      return;
    }
    const challenges: string[] = [];
    if (cfg.basic) challenges.push('Basic realm="sisock", charset="UTF-8"');
    if (cfg.token) challenges.push('Bearer realm="sisock"');
    res.setHeader('WWW-Authenticate', challenges.join(', '));
    res.status(401).json({ message: "authentication required: send the bridge's basic-auth credentials or bearer token" });
  };
}

/** CORS for Grafana's "Browser" access mode and the page opened from elsewhere. */
export function corsMiddleware(origin = '*'): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    res.setHeader('Access-Control-Allow-Origin', origin);
    if (origin !== '*') {
      res.setHeader('Vary', 'Origin');
      res.setHeader('Access-Control-Allow-Credentials', 'true');
    }
    res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
    res.setHeader('Access-Control-Allow-Headers', 'Content-Type, Authorization, Accept');
    res.setHeader('Access-Control-Max-Age', '600');
    if (req.method === 'OPTIONS') {
      res.status(204).end();
      return;
    }
    next();
  };
}
