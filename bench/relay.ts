/**
 * Baseline "router": a bare `ws` server that only forwards frames, the practical limit for a
 * WebSocket router written on `ws` in Node.
 *
 * Roles come from the query string: `?role=caller|callee|pub|sub|idle`.
 * - caller → callee and callee → caller (one pair);
 * - pub → every sub (fan-out of the same frame);
 * - idle: holds the connection (memory baseline).
 * The subprotocol the client offers first is accepted (wamp.2.json / wamp.2.msgpack), frames keep
 * their text/binary kind.
 *
 * Run as a child process: prints `READY <port>`; answers IPC `{cmd:'mem'}` with memory usage.
 */
import { WebSocketServer, WebSocket } from 'ws';
import { installServerProcHooks } from './proc-hooks';

type Sock = { cork(): void; uncork(): void };

/**
 * With `cork`, frames sent to a connection during one tick go out in one writev (socket corked
 * until process.nextTick) instead of one syscall per frame.
 */
function sender(ws: WebSocket, cork: boolean): (data: Buffer, binary: boolean) => void {
  if (!cork) return (data, binary) => ws.send(data, { binary });
  const sock = (ws as unknown as { _socket: Sock })._socket;
  let corked = false;
  const uncork = () => {
    corked = false;
    sock.uncork();
  };
  return (data, binary) => {
    if (!corked) {
      corked = true;
      sock.cork();
      process.nextTick(uncork);
    }
    ws.send(data, { binary });
  };
}

export function startRelay(port: number, cork = false): Promise<WebSocketServer> {
  type Send = (data: Buffer, binary: boolean) => void;
  let caller: Send | undefined;
  let callee: Send | undefined;
  const subs = new Set<Send>();
  const wss = new WebSocketServer({
    port,
    host: '127.0.0.1',
    perMessageDeflate: false,
    clientTracking: false,
    handleProtocols: (protocols) => {
      for (const p of protocols) return p;
      return false;
    },
  });
  wss.on('connection', (ws, req) => {
    const role = new URL(req.url ?? '/', 'http://x').searchParams.get('role') ?? 'idle';
    ws.on('error', () => {});
    switch (role) {
      case 'caller':
        caller = sender(ws, cork);
        ws.on('message', (data: Buffer, isBinary) => callee?.(data, isBinary));
        ws.on('close', () => (caller = undefined));
        break;
      case 'callee':
        callee = sender(ws, cork);
        ws.on('message', (data: Buffer, isBinary) => caller?.(data, isBinary));
        ws.on('close', () => (callee = undefined));
        break;
      case 'sub': {
        const s = sender(ws, cork);
        subs.add(s);
        ws.on('close', () => subs.delete(s));
        break;
      }
      case 'pub':
        ws.on('message', (data: Buffer, isBinary) => {
          for (const s of subs) s(data, isBinary);
        });
        break;
      default:
        break;
    }
  });
  return new Promise((resolve, reject) => {
    wss.once('listening', () => resolve(wss));
    wss.once('error', reject);
  });
}

if (require.main === module) {
  installServerProcHooks();
  startRelay(Number(process.env.BENCH_PORT ?? 0), process.env.BENCH_RELAY_CORK === '1').then(
    (wss) => {
      const a = wss.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      process.stdout.write(`READY ws://127.0.0.1:${port}/ws\n`);
    },
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
