/**
 * Entry of a decode worker (decode-pool.ts): answers each `{ id, file }` with `{ id, result }`: for the
 * scanner, the file read (file-read.ts), then `summariseFile` (a decoded one as result-wire.ts makes it); for the reader (a ServeJob), the file
 * decoded whole (`serveIndexed`, its columns' memory transferred); says `{ ready: true }` once loaded.
 */
import { parentPort } from 'node:worker_threads';
import { FileReader, serveIndexed, type FileJob, type ServeJob, type ServeResult } from './file-read';
import type { SummaryResult } from './file-summary';
import { clearColumnPool } from './formats/column-pool';
import { toWire } from './result-wire';

const port = parentPort;
if (port) {
  const reader = new FileReader();
  // One job at a time, in the order posted: the pool's oldest job in flight is the one running, so a
  // worker that dies (e.g. out of memory on a huge .xz) is blamed on the right file, the memory of
  // several decompressions is never held at once, and the reader's one buffer serves every file (let
  // go after a second without a job: an idle worker holds no file's worth of memory; not at once, as
  // the queue runs empty each time the jobs received are done, before the next ones are taken in).
  let queue: Promise<void> = Promise.resolve();
  let pending = 0;
  let idle: NodeJS.Timeout | undefined;
  port.on('message', (m: { id: number; file: FileJob | ServeJob }) => {
    pending++;
    clearTimeout(idle);
    const job = m.file;
    queue = queue.then(() =>
      ('serve' in job
        ? serveIndexed(job).then(({ result, transfer }) => port.postMessage({ id: m.id, result }, transfer))
        : reader.run(job).then((result) => {
            // a decoded file's rows and tiers as columns and one buffer, moved (result-wire.ts)
            const { wire, transfer } = toWire(result);
            port.postMessage({ id: m.id, result: wire }, transfer);
          })
      )
        .then(
          () => {},
          (e: Error) =>
            port.postMessage({
              id: m.id,
              result:
                'serve' in job
                  ? ({ kind: 'failed', error: e.message } satisfies ServeResult)
                  : ({ kind: 'error', error: e.message } satisfies SummaryResult),
            }),
        )
        .finally(() => {
          if (--pending === 0)
            idle = setTimeout(() => {
              reader.release();
              clearColumnPool();
            }, 1000).unref();
        }),
    );
  });
  port.postMessage({ ready: true });
}
