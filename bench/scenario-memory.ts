/**
 * Scenario 5: memory per idle session. The load process opens `sessions` WebSocket sessions
 * (HELLO/WELCOME each; plain connections for the relay), tells the orchestrator ('opened'),
 * which measures the server process, then waits for {cmd:'close'}.
 */
import type { LoadParams, LoadResult } from './common';
import { RawWampClient } from './wamp-raw-client';

function waitCmd(cmd: string): Promise<void> {
  return new Promise((resolve) => {
    const on = (m: unknown) => {
      if ((m as { cmd?: string })?.cmd === cmd) {
        process.off('message', on);
        resolve();
      }
    };
    process.on('message', on);
  });
}

export async function runMemory(p: LoadParams): Promise<LoadResult> {
  const base = { url: p.url, realm: p.realm, serializer: p.serializer, wamp: p.wamp, timeoutMs: 30000 };
  const clients: RawWampClient[] = [];
  const t0 = Date.now();
  let failed = 0;
  let firstError = '';
  const concurrency = 100;
  let next = 0;
  const deadline = t0 + p.durationMs;
  async function worker(): Promise<void> {
    while (next < p.sessions && Date.now() < deadline) {
      next++;
      try {
        clients.push(await RawWampClient.connect({ ...base, query: p.wamp ? undefined : 'role=idle' }));
      } catch (e) {
        failed++;
        if (!firstError) firstError = (e as Error).message;
        if (failed > 50) return;
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  const openSecs = (Date.now() - t0) / 1000;
  process.send?.({ type: 'opened', n: clients.length, failed, firstError, openSecs });
  await waitCmd('close');
  for (const c of clients) c.close();
  return { sessions: clients.length, failed, openSecs, firstError };
}
