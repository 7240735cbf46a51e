/**
 * Small helpers shared by the telemetry bridges (mqtt, sql, feed): config file loading (YAML or
 * JSON) with `${ENV}` placeholders, durations, and plain-object checks that name the JSON path.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import { ConfigError, ErrorCode, SisockError } from './errors';
import { NODE_NAME_RE, NODE_NAME_RULE } from '../contract/uris';

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Reads a YAML or JSON file (by extension; YAML is a superset of JSON, so anything else is parsed as
 * YAML). Throws SisockError CONFIG_UNREADABLE / ConfigError.
 */
export function readConfigFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new SisockError(ErrorCode.CONFIG_UNREADABLE, `cannot read config file ${file}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return path.extname(file).toLowerCase() === '.json' ? JSON.parse(text) : YAML.parse(text);
  } catch (err) {
    throw new ConfigError(path.basename(file), `not valid ${path.extname(file) === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message}`);
  }
}

/**
 * Replaces `${VAR}` and `${VAR:-default}` in every string of `v` by the environment's value, so
 * that configs carry no secrets. A missing variable without a default is an error naming the path.
 */
export function expandEnv(v: unknown, env: NodeJS.ProcessEnv, at = ''): unknown {
  if (typeof v === 'string') {
    return v.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_m, name: string, def: string | undefined) => {
      const val = env[name];
      if (val !== undefined && val !== '') return val;
      if (def !== undefined) return def;
      throw new ConfigError(at || '(root)', `environment variable ${name} is not set`);
    });
  }
  if (Array.isArray(v)) return v.map((x, i) => expandEnv(x, env, `${at}[${i}]`));
  if (isObj(v)) {
    const out: Obj = {};
    for (const [k, x] of Object.entries(v)) out[k] = expandEnv(x, env, at ? `${at}.${k}` : k);
    return out;
  }
  return v;
}

const UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, min: 60, h: 3600, d: 86400, w: 604800 };

/** `30`, `30s`, `15m`, `12h`, `7d`, `2w`, `500ms` → seconds. Returns null when not a duration. */
export function parseDurationSeconds(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v : null;
  if (typeof v !== 'string') return null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d|w)?\s*$/.exec(v);
  if (!m) return null;
  const unit = UNITS[m[2] ?? 's'];
  return unit === undefined ? null : Number(m[1]) * unit;
}

/** Small accessor that names JSON paths in its errors. */
export class Reader {
  constructor(
    readonly obj: Obj,
    readonly at: string,
  ) {}

  static root(v: unknown, at: string): Reader {
    if (!isObj(v)) throw new ConfigError(at || '(root)', 'must be a mapping (key: value)');
    return new Reader(v, at);
  }

  path(key: string): string {
    return this.at ? `${this.at}.${key}` : key;
  }

  has(key: string): boolean {
    return this.obj[key] !== undefined && this.obj[key] !== null;
  }

  /** Rejects keys outside `allowed` (typos must not pass silently). */
  only(allowed: string[]): this {
    for (const k of Object.keys(this.obj)) {
      if (!allowed.includes(k)) throw new ConfigError(this.path(k), `unknown key (allowed: ${allowed.join(', ')})`);
    }
    return this;
  }

  str(key: string, def?: string): string {
    const v = this.obj[key];
    if (v === undefined || v === null) {
      if (def !== undefined) return def;
      throw new ConfigError(this.path(key), 'is required');
    }
    if (typeof v !== 'string' || v === '') throw new ConfigError(this.path(key), 'must be a non-empty string');
    return v;
  }

  optStr(key: string): string | undefined {
    return this.has(key) && this.obj[key] !== '' ? this.str(key) : undefined;
  }

  num(key: string, def: number, min = -Infinity, max = Infinity): number {
    const v = this.obj[key];
    if (v === undefined || v === null) return def;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max)
      throw new ConfigError(this.path(key), `must be a number in [${min}, ${max}]`);
    return v;
  }

  bool(key: string, def: boolean): boolean {
    const v = this.obj[key];
    if (v === undefined || v === null) return def;
    if (typeof v !== 'boolean') throw new ConfigError(this.path(key), 'must be true or false');
    return v;
  }

  duration(key: string, def: number | null): number | null {
    const v = this.obj[key];
    if (v === undefined || v === null) return def;
    if (v === 0 || v === 'forever' || v === 'none') return null;
    const s = parseDurationSeconds(v);
    if (s === null) throw new ConfigError(this.path(key), `must be a duration like 90, 30s, 15m, 12h, 7d (got ${JSON.stringify(v)})`);
    return s;
  }

  oneOf<T extends string>(key: string, values: readonly T[], def: T): T {
    const v = this.obj[key];
    if (v === undefined || v === null) return def;
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v))
      throw new ConfigError(this.path(key), `must be one of ${values.join(', ')}`);
    return v as T;
  }

  child(key: string, optional = true): Reader | undefined {
    const v = this.obj[key];
    if (v === undefined || v === null) {
      if (optional) return undefined;
      throw new ConfigError(this.path(key), 'is required');
    }
    return Reader.root(v, this.path(key));
  }

  list(key: string, required = false): unknown[] {
    const v = this.obj[key];
    if (v === undefined || v === null) {
      if (required) throw new ConfigError(this.path(key), 'is required (a list)');
      return [];
    }
    if (!Array.isArray(v)) throw new ConfigError(this.path(key), 'must be a list');
    return v;
  }
}

/** A node name as the hub accepts it (contract NODE_NAME_RE). */
export function checkNodeName(name: string, at: string): string {
  if (!NODE_NAME_RE.test(name)) throw new ConfigError(at, `node name ${JSON.stringify(name)} must be non-empty, ${NODE_NAME_RULE}`);
  return name;
}

/** Bounded warning logger: at most `burst` lines per `windowMs`, then one summary of what was dropped. */
export class RateLimitedLog {
  private windowStart = 0;
  private count = 0;
  private suppressed = 0;
  constructor(
    private readonly emit: (obj: Obj, msg: string) => void,
    private readonly burst = 20,
    private readonly windowMs = 10000,
  ) {}

  log(obj: Obj, msg: string): void {
    const now = Date.now();
    if (now - this.windowStart > this.windowMs) {
      if (this.suppressed) this.emit({ suppressed: this.suppressed }, `${this.suppressed} similar messages suppressed`);
      this.windowStart = now;
      this.count = 0;
      this.suppressed = 0;
    }
    if (this.count++ < this.burst) this.emit(obj, msg);
    else this.suppressed++;
  }
}
