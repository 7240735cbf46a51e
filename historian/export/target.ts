/**
 * Where the exporter writes: one HTTP endpoint that takes line protocol.
 *
 *   influx1   InfluxDB 1.x          POST <url>/write?db=<db>[&rp=<rp>]&precision=<p>
 *                                   credentials: env SISOCK_INFLUX_USER / SISOCK_INFLUX_PASSWORD (Basic)
 *   influx2   InfluxDB 2.x and 3.x  POST <url>/api/v2/write?org=<org>&bucket=<bucket>&precision=<p>
 *                                   token: env SISOCK_INFLUX_TOKEN or --token-file (Authorization: Token …)
 *   victoria  VictoriaMetrics       POST <url>/write?db=<db>&precision=<p> (its InfluxDB-compatible
 *                                   endpoint; a metric is named <measurement>_<field>)
 *
 * A `user:password@` in the URL is taken as the credentials and never logged: `redactUrl`.
 * The answer is classified for the writer: `ok`; `bad` (400, 422: the database refuses some lines —
 * the writer splits the batch to find them); `too_large` (413: split, no dead letter unless one
 * line); `retry` (network error, timeout, 5xx, 401/403, 404 "database not found", 429: nothing is
 * lost, the writer backs off and tries again).
 */
import * as fs from 'node:fs';
import { ErrorCode, SisockError } from '../../common/errors';
import { redactUrl } from '../../common/redact';
import type { Precision } from './line-protocol';

export type TargetKind = 'influx1' | 'influx2' | 'victoria';

export interface TargetConfig {
  kind: TargetKind;
  url: string;
  db?: string;
  rp?: string;
  org?: string;
  bucket?: string;
  precision?: Precision;
  /** per request (default 10 s) */
  timeoutMs?: number;
  token?: string;
  user?: string;
  password?: string;
}

export type PostOutcome =
  | { kind: 'ok' }
  | { kind: 'bad'; status: number; message: string }
  | { kind: 'too_large'; status: number; message: string }
  | { kind: 'retry'; status: number | null; message: string };

export { redactUrl };

/** Credentials from env and files, never from a command line. */
export function credentialsFromEnv(c: TargetConfig, env: NodeJS.ProcessEnv = process.env, tokenFile?: string): TargetConfig {
  const out = { ...c };
  if (tokenFile) {
    try {
      out.token = fs.readFileSync(tokenFile, 'utf8').trim();
    } catch (e) {
      throw configError(`cannot read the token file ${tokenFile}: ${(e as Error).message}`);
    }
  } else if (env.SISOCK_INFLUX_TOKEN) out.token = env.SISOCK_INFLUX_TOKEN;
  if (env.SISOCK_INFLUX_USER) out.user = env.SISOCK_INFLUX_USER;
  if (env.SISOCK_INFLUX_PASSWORD) out.password = env.SISOCK_INFLUX_PASSWORD;
  return out;
}

const configError = (m: string): SisockError => new SisockError(ErrorCode.CONFIG_INVALID, m);

export class Target {
  readonly writeUrl: string;
  private readonly headers: Record<string, string>;
  readonly timeoutMs: number;
  readonly precision: Precision;

  constructor(readonly config: TargetConfig) {
    let u: URL;
    try {
      u = new URL(config.url);
    } catch {
      throw configError(`the database URL ${redactUrl(config.url)} is not a URL`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw configError(`the database URL must be http or https, not ${u.protocol}`);
    const user = config.user ?? (u.username ? decodeURIComponent(u.username) : undefined);
    const password = config.password ?? (u.password ? decodeURIComponent(u.password) : undefined);
    u.username = '';
    u.password = '';
    this.precision = config.precision ?? 'u';
    this.timeoutMs = config.timeoutMs ?? 10000;
    this.headers = { 'content-type': 'text/plain; charset=utf-8' };
    const base = u.toString().replace(/\/$/, '');
    const q = new URLSearchParams();
    if (config.kind === 'influx2') {
      if (!config.org || !config.bucket) throw configError('InfluxDB 2.x/3.x needs --org and --bucket');
      q.set('org', config.org);
      q.set('bucket', config.bucket);
      q.set('precision', this.precision === 'u' ? 'us' : this.precision);
      if (config.token) this.headers.authorization = `Token ${config.token}`;
      this.writeUrl = `${base}/api/v2/write?${q}`;
    } else {
      if (!config.db) throw configError(`${config.kind === 'influx1' ? 'InfluxDB 1.x' : 'VictoriaMetrics'} needs --db`);
      q.set('db', config.db);
      if (config.rp) q.set('rp', config.rp);
      q.set('precision', this.precision);
      if (config.token) this.headers.authorization = `Token ${config.token}`;
      else if (user !== undefined) this.headers.authorization = `Basic ${Buffer.from(`${user}:${password ?? ''}`).toString('base64')}`;
      this.writeUrl = `${base}/write?${q}`;
    }
  }

  /** For logs and metadata: the write URL without credentials. */
  get label(): string {
    return `${this.config.kind} ${redactUrl(this.writeUrl)}`;
  }

  async post(body: string): Promise<PostOutcome> {
    let r: Response;
    try {
      r = await fetch(this.writeUrl, { method: 'POST', body, headers: this.headers, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (e) {
      const err = e as Error & { cause?: { code?: string } };
      return { kind: 'retry', status: null, message: err.cause?.code ?? err.message };
    }
    if (r.status >= 200 && r.status < 300) {
      await r.arrayBuffer().catch(() => undefined);
      return { kind: 'ok' };
    }
    const text = (await r.text().catch(() => '')).slice(0, 2000);
    let message = text;
    try {
      const j = JSON.parse(text) as { error?: string; message?: string };
      message = j.error ?? j.message ?? text;
    } catch {
      /* not JSON */
    }
    if (r.status === 400 || r.status === 422) return { kind: 'bad', status: r.status, message };
    if (r.status === 413) return { kind: 'too_large', status: r.status, message };
    return { kind: 'retry', status: r.status, message };
  }
}
