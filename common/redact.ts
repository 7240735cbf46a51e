/**
 * Credentials out of everything shown or logged: `scheme://user:password@host` becomes
 * `scheme://user:***@host`, and `password=…` / `secret=…` / `token=…` query parameters become
 * `…=***`. One helper for every URL a program prints (broker, database, router URLs) and a
 * text variant for messages that may quote one (driver errors). createLogger applies it to
 * every string a log line carries.
 */

const REDACTED = '***';
/** `scheme://userinfo@`: userinfo with a password part (`user:pw`), up to the last `@` before the host. */
const USERINFO_RE = /([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@:]*):([^\s/?#]*)@/gi;
const QUERY_SECRET_RE = /([?&;](?:password|passwd|pwd|secret|token|access_token|api_key|apikey)=)[^&;#\s]*/gi;

/** `text` with every credential in a URL replaced by `***`. */
export function redactSecrets(text: string): string {
  if (!text.includes('@') && !text.includes('=')) return text;
  return text
    .replace(USERINFO_RE, (_m, scheme: string, user: string) => `${scheme}${user}:${REDACTED}@`)
    .replace(QUERY_SECRET_RE, `$1${REDACTED}`);
}

/** A URL for display: its password (if any) and secret query parameters replaced by `***`. */
export function redactUrl(url: string | URL): string {
  return redactSecrets(String(url));
}

/** Whether a URL carries a password in its userinfo (it should come from env or a file instead). */
export function urlHasPassword(url: string): boolean {
  USERINFO_RE.lastIndex = 0;
  const m = USERINFO_RE.exec(url);
  USERINFO_RE.lastIndex = 0;
  return m !== null && m[3] !== undefined && m[3] !== '';
}

/**
 * A log object with every string (top level, and inside arrays and plain objects down to
 * `depth` levels) redacted. Returns the same object when nothing changed.
 */
export function redactObject<T>(value: T, depth = 3): T {
  if (typeof value === 'string') return redactSecrets(value) as T;
  if (depth <= 0 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let changed = false;
    const out = value.map((v: unknown) => {
      const r = redactObject(v, depth - 1);
      if (r !== v) changed = true;
      return r;
    });
    return (changed ? out : value) as T;
  }
  if (value instanceof Error) {
    const msg = redactSecrets(value.message);
    if (msg === value.message) return value;
    const copy = new Error(msg);
    copy.name = value.name;
    copy.stack = value.stack === undefined ? undefined : redactSecrets(value.stack);
    return copy as T;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value;
  let out: Record<string, unknown> | null = null;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const r = redactObject(v, depth - 1);
    if (r !== v) (out ??= { ...(value as Record<string, unknown>) })[k] = r;
  }
  return (out ?? value) as T;
}

/**
 * The command a process runs, for display (node metadata `process`): the program and its
 * sub-commands up to the first option, never the arguments (they may hold credentials: a
 * `--broker mqtt://user:pw@…`, a `--db` URL), e.g. `sisock node mqtt`.
 */
export function commandTitle(argv: readonly string[] = process.argv): string {
  const words: string[] = [];
  for (const a of argv.slice(1)) {
    if (a.startsWith('-') || words.length >= 4) break;
    const w = a.replace(/^.*\/(dist\/)?bin\/sisock\.js$/, 'sisock');
    words.push(words.length === 0 ? w.replace(/^.*\//, '') : w);
  }
  return redactSecrets(words.join(' '));
}
