/**
 * Peer router for comparison: fox-wamp (npm `fox-wamp`, JSON over WebSocket only), in its own
 * process. Prints `READY <url>`; same IPC hooks as the other server processes.
 */
import { createRequire } from 'module';
import * as path from 'path';
import { installServerProcHooks } from './proc-hooks';

interface FoxServer {
  on(ev: 'listening', cb: () => void): void;
  on(ev: 'error', cb: (e: Error) => void): void;
  address(): { port: number } | string | null;
}
interface FoxRouterCtor {
  new (): { listenWAMP(opts: { port: number; host: string }): FoxServer; setLogTrace?(on: boolean): void };
}

installServerProcHooks();
try {
  // Resolved at run time: fox-wamp is an optional devDependency without type declarations.
  const FoxRouter = createRequire(path.join(__dirname, '..', '..', 'package.json'))('fox-wamp') as FoxRouterCtor;
  const router = new FoxRouter();
  const server = router.listenWAMP({ port: Number(process.env.BENCH_PORT ?? 0), host: '127.0.0.1' });
  server.on('error', (e) => {
    console.error(`fox-wamp: ${e.message}`);
    process.exit(1);
  });
  server.on('listening', () => {
    const a = server.address();
    const port = typeof a === 'object' && a ? a.port : 0;
    process.stdout.write(`READY ws://127.0.0.1:${port}/ws\n`);
  });
} catch (e) {
  console.error(`fox-wamp cannot start: ${(e as Error).message}`);
  process.exit(1);
}
