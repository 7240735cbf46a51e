/**
 * Entry of a scanner decode worker (decode-pool.ts): answers each `{ id, job }` with `{ id, result }`
 * from `summariseFile`, and says `{ ready: true }` once loaded.
 */
import { parentPort } from 'node:worker_threads';
import { summariseFile, type SummaryJob, type SummaryResult } from './file-summary';

const port = parentPort;
if (port) {
  port.on('message', (m: { id: number; job: SummaryJob }) => {
    summariseFile(m.job).then(
      (result) => port.postMessage({ id: m.id, result }),
      (e: Error) => port.postMessage({ id: m.id, result: { kind: 'error', error: e.message } satisfies SummaryResult }),
    );
  });
  port.postMessage({ ready: true });
}
