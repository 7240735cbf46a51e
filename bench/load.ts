/**
 * Load-generator process: runs one scenario against one target (params as JSON in argv[2]) and
 * reports its result over IPC. Exits when done or when the orchestrator goes away.
 */
import type { LoadParams, LoadResult } from './common';
import { runRpc } from './scenario-rpc';
import { runLatency } from './scenario-latency';
import { runPubsub } from './scenario-pubsub';
import { runMemory } from './scenario-memory';

process.on('disconnect', () => process.exit(0));
process.on('uncaughtException', (e: Error) => {
  const msg = `uncaught: ${e.stack ?? String(e)}`.split('\n').slice(0, 4).join(' | ');
  if (process.send) process.send({ type: 'error', error: msg }, () => process.exit(1));
  else {
    console.error(msg);
    process.exit(1);
  }
});

async function main(): Promise<void> {
  const p = JSON.parse(process.argv[2] ?? '{}') as LoadParams;
  let r: LoadResult;
  switch (p.scenario) {
    case 'rpc':
      r = await runRpc(p);
      break;
    case 'latency':
      r = await runLatency(p);
      break;
    case 'pubsub':
      r = await runPubsub(p);
      break;
    case 'memory':
      r = await runMemory(p);
      break;
    default:
      throw new Error(`unknown scenario ${String((p as { scenario: unknown }).scenario)}`);
  }
  process.send?.({ type: 'result', result: r }, () => process.exit(0));
}

main().catch((e: unknown) => {
  process.send?.({ type: 'error', error: (e as Error).message ?? String(e) }, () => process.exit(1));
});
