/**
 * Crossbar.io's HTTP bridge services on a `web` transport: a path of type `caller` calls a
 * procedure and a path of type `publisher` publishes an event, each for an HTTP POST with a JSON
 * body, under the path's realm and role (as Crossbar documents them, so an OCS site's
 * crossbar_config.json runs unchanged):
 *
 *   POST /call     {"procedure": "com.example.add2", "args": [1, 2], "kwargs": {}}
 *        → 200 {"args": [3], "kwargs": {}}
 *   POST /publish  {"topic": "com.example.topic1", "args": ["hello"], "kwargs": {}}
 *        → 200 {"id": <publication id>}
 *
 * A WAMP error comes back as {"error": uri, "args": [...], "kwargs": {...}} with an HTTP status
 * by the error (not_authorized 403, no_such_procedure 404, invalid_argument/invalid_uri 400,
 * timeout/canceled 504, others 502). A body over the path's `options.post_body_limit` (default
 * 64 KiB) is 413; a method other than POST 405; a body that is not a JSON object 400. Each
 * service is one local WAMP session of the router (it joins the realm through the ordinary
 * handshake with the path's role, so the role's permissions decide what it may do); every refusal is
 * logged (rate-limited).
 */
import type * as http from 'node:http';
import { MessageType as T } from '../wamp/codes';
import { CloseUri, ErrorUri } from '../wamp/errors';
import { jsonSerializer } from '../transport/serializers';
import type { Connection, TransportInfo } from '../transport/types';
import { RateLimitedLog } from '../common/config-file';
import { silentLogger, type Logger } from '../common/log';
import { AnonymousAuth } from './auth/anonymous';
import type { Router } from './router';

export interface HttpBridgeService {
  /** URL path, e.g. '/call' */
  path: string;
  kind: 'caller' | 'publisher';
  realm: string;
  role: string;
  /** Largest request body, bytes. */
  bodyLimit: number;
}

export const DEFAULT_POST_BODY_LIMIT = 64 * 1024;
/** How long a bridged call may take, ms. */
const CALL_TIMEOUT_MS = 30_000;

const STATUS: Record<string, number> = {
  [ErrorUri.NOT_AUTHORIZED]: 403,
  [ErrorUri.NO_SUCH_PROCEDURE]: 404,
  [ErrorUri.INVALID_ARGUMENT]: 400,
  [ErrorUri.INVALID_URI]: 400,
  [ErrorUri.TIMEOUT]: 504,
  [ErrorUri.CANCELED]: 504,
};

type Waiter = (msg: unknown[]) => void;

/** A router session that lives in this process: frames go straight to and from the router. */
class LocalConnection implements Connection {
  readonly serializer = jsonSerializer;
  readonly info: TransportInfo = { type: 'websocket', protocol: 'wamp.2.json', peer: 'local:http-bridge', tls: false };
  readonly bufferedAmount = 0;
  onMessage: (frame: Buffer) => void = () => {};
  onClose: (reason: string) => void = () => {};
  /** request id → waiter for the RESULT / PUBLISHED / ERROR */
  readonly waiters = new Map<number, Waiter>();
  welcomed = false;
  closed = false;

  send(frame: Buffer): void {
    const m = this.serializer.decode(frame);
    if (!Array.isArray(m)) return;
    if (m[0] === T.WELCOME) {
      this.welcomed = true;
      return;
    }
    const id = m[0] === T.ERROR ? m[2] : m[1];
    if (typeof id !== 'number') return;
    const w = this.waiters.get(id);
    if (w) {
      this.waiters.delete(id);
      w(m);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.waiters.values()) w([T.ERROR, 0, 0, {}, ErrorUri.CANCELED, ['bridge session closed']]);
    this.waiters.clear();
    this.onClose('closed');
  }

  /** Sends a message to the router as the peer would. */
  deliver(msg: unknown[]): void {
    this.onMessage(this.serializer.encode(msg));
  }
}

class BridgeSession {
  private conn: LocalConnection | null = null;
  private nextId = 1;

  constructor(
    private readonly router: Router,
    private readonly service: HttpBridgeService,
  ) {}

  private open(): LocalConnection {
    if (this.conn && !this.conn.closed && this.conn.welcomed) return this.conn;
    const conn = new LocalConnection();
    this.router.accept(conn, { methods: [new AnonymousAuth({ role: this.service.role })] });
    conn.deliver([T.HELLO, this.service.realm, { roles: { caller: {}, publisher: {} } }]);
    if (!conn.welcomed) throw new Error(`the router did not welcome the ${this.service.kind} bridge on realm ${this.service.realm}`);
    this.conn = conn;
    return conn;
  }

  request(build: (id: number) => unknown[]): Promise<unknown[]> {
    const conn = this.open();
    const id = this.nextId++;
    if (this.nextId > 2 ** 53 - 1) this.nextId = 1;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        conn.waiters.delete(id);
        resolve([T.ERROR, 0, id, {}, ErrorUri.TIMEOUT, ['the call took too long']]);
      }, CALL_TIMEOUT_MS);
      timer.unref();
      conn.waiters.set(id, (m) => {
        clearTimeout(timer);
        resolve(m);
      });
      conn.deliver(build(id));
    });
  }

  close(): void {
    this.conn?.deliver([T.GOODBYE, {}, CloseUri.CLOSE_REALM]);
    this.conn?.close();
    this.conn = null;
  }
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  res.end(text);
}

function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      resolve(null);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        resolve(null);
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * An HTTP request listener serving `services`; other requests go to `fallback`. `close()` ends
 * the bridge sessions.
 */
export function httpBridge(
  router: Router,
  services: HttpBridgeService[],
  fallback: http.RequestListener,
  logger: Logger = silentLogger,
): { handler: http.RequestListener; close(): void } {
  const byPath = new Map(services.map((s) => [s.path, { s, session: new BridgeSession(router, s) }]));
  const log = new RateLimitedLog((obj, msg) => logger.warn(obj, msg), 20, 10_000);

  const handler: http.RequestListener = (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const entry = byPath.get(path);
    if (!entry) {
      fallback(req, res);
      return;
    }
    const refuse = (status: number, error: string, message: string) => {
      log.log({ path, peer: req.socket.remoteAddress, status, error, why: message }, 'http bridge request refused');
      send(res, status, { error, args: [message], kwargs: {} });
    };
    if (req.method !== 'POST') {
      refuse(405, ErrorUri.INVALID_ARGUMENT, `${entry.s.kind} bridge: POST a JSON body`);
      return;
    }
    void (async () => {
      const raw = await readBody(req, entry.s.bodyLimit);
      if (raw === null) {
        refuse(413, ErrorUri.PAYLOAD_SIZE_EXCEEDED, `request body over ${entry.s.bodyLimit} bytes (post_body_limit)`);
        return;
      }
      let body: unknown;
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        refuse(400, ErrorUri.INVALID_ARGUMENT, 'body is not JSON');
        return;
      }
      if (body === null || typeof body !== 'object' || Array.isArray(body)) {
        refuse(400, ErrorUri.INVALID_ARGUMENT, 'body must be a JSON object');
        return;
      }
      const b = body as Record<string, unknown>;
      const args = b.args === undefined ? [] : b.args;
      const kwargs = b.kwargs === undefined ? {} : b.kwargs;
      if (!Array.isArray(args) || kwargs === null || typeof kwargs !== 'object' || Array.isArray(kwargs)) {
        refuse(400, ErrorUri.INVALID_ARGUMENT, 'args must be a list and kwargs an object');
        return;
      }
      const uriKey = entry.s.kind === 'caller' ? 'procedure' : 'topic';
      const uri = b[uriKey];
      if (typeof uri !== 'string' || uri === '') {
        refuse(400, ErrorUri.INVALID_ARGUMENT, `"${uriKey}" must be a non-empty string`);
        return;
      }
      const reply = await entry.session.request((id) =>
        entry.s.kind === 'caller' ? [T.CALL, id, {}, uri, args, kwargs] : [T.PUBLISH, id, { acknowledge: true }, uri, args, kwargs],
      );
      if (reply[0] === T.RESULT) {
        send(res, 200, { args: reply[3] ?? [], kwargs: reply[4] ?? {} });
        return;
      }
      if (reply[0] === T.PUBLISHED) {
        send(res, 200, { id: reply[2] });
        return;
      }
      const error = typeof reply[4] === 'string' ? reply[4] : ErrorUri.RUNTIME_ERROR;
      const status = STATUS[error] ?? 502;
      if (status === 403) log.log({ path, peer: req.socket.remoteAddress, uri, error }, 'http bridge request refused');
      send(res, status, { error, args: reply[5] ?? [], kwargs: reply[6] ?? {} });
    })().catch((err: unknown) => {
      logger.error({ err: (err as Error).message, path }, 'http bridge failed');
      if (!res.headersSent) send(res, 500, { error: ErrorUri.RUNTIME_ERROR, args: ['internal error'], kwargs: {} });
    });
  };
  return {
    handler,
    close: () => {
      for (const e of byPath.values()) e.session.close();
    },
  };
}
