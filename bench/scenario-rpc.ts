/**
 * Scenario 1: RPC calls/s with one pipelined caller and one callee through the target, `window`
 * calls kept in flight. Runs in the load process.
 */
import type { LoadParams, LoadResult } from './common';
import { RawWampClient, CODE } from './wamp-raw-client';
import { sleep, mark } from './common';

export const PROCEDURE = 'bench.echo';

export async function connectPair(p: LoadParams, cork: boolean): Promise<{ caller: RawWampClient; callee: RawWampClient }> {
  const base = { url: p.url, realm: p.realm, serializer: p.serializer, wamp: p.wamp, cork };
  const callee = await RawWampClient.connect({ ...base, query: p.wamp ? undefined : 'role=callee' });
  await callee.register(PROCEDURE);
  callee.serveEcho();
  const caller = await RawWampClient.connect({ ...base, query: p.wamp ? undefined : 'role=caller' });
  return { caller, callee };
}

export async function runRpc(p: LoadParams): Promise<LoadResult> {
  const { caller, callee } = await connectPair(p, true);
  let nextId = 1;
  let done = 0;
  let errors = 0;
  let stopped = false;
  let inflight = 0;
  caller.onFrame = (data) => {
    const [code] = caller.head(data);
    if (code === CODE.RESULT || code === CODE.YIELD) done++;
    else if (code === CODE.ERROR) errors++;
    else return;
    inflight--;
    if (!stopped) {
      caller.send(caller.callFrame(nextId++, PROCEDURE));
      inflight++;
    }
  };
  for (let i = 0; i < p.window; i++) {
    caller.send(caller.callFrame(nextId++, PROCEDURE));
    inflight++;
  }
  await sleep(p.warmupMs);
  const d0 = done;
  const t0 = process.hrtime.bigint();
  const c0 = mark('start');
  await sleep(p.durationMs);
  const d1 = done;
  const t1 = process.hrtime.bigint();
  const loadCpu = mark('end', c0, t1 - t0);
  stopped = true;
  // let in-flight calls drain (bounded)
  for (let i = 0; i < 50 && inflight > 0; i++) await sleep(20);
  caller.close();
  callee.close();
  const secs = Number(t1 - t0) / 1e9;
  return { callsPerSec: (d1 - d0) / secs, calls: d1 - d0, errors, undrained: inflight, loadCpu };
}
