/**
 * Scenario 2: sequential RPC round-trip latency (one call at a time), p50/p99 over `calls` calls
 * after `warmupCalls`, bounded by `durationMs`. Runs in the load process.
 */
import type { LoadParams, LoadResult } from './common';
import { CODE } from './wamp-raw-client';
import { connectPair, PROCEDURE } from './scenario-rpc';
import { percentile } from './common';

export async function runLatency(p: LoadParams): Promise<LoadResult> {
  const { caller, callee } = await connectPair(p, false);
  const samples = new Float64Array(p.calls);
  let n = 0;
  let warm = 0;
  let errors = 0;
  let id = 1;
  let t = process.hrtime.bigint();
  const deadline = Date.now() + p.durationMs + 2000;
  await new Promise<void>((resolve) => {
    const next = () => {
      t = process.hrtime.bigint();
      caller.send(caller.callFrame(id++, PROCEDURE));
    };
    caller.onFrame = (data) => {
      const now = process.hrtime.bigint();
      const [code] = caller.head(data);
      if (code === CODE.ERROR) errors++;
      else if (code !== CODE.RESULT && code !== CODE.YIELD) return;
      if (warm < p.warmupCalls) warm++;
      else samples[n++] = Number(now - t) / 1000; // µs
      if (n >= p.calls || Date.now() > deadline) resolve();
      else next();
    };
    next();
  });
  caller.close();
  callee.close();
  const s = samples.subarray(0, n).sort();
  let sum = 0;
  for (const x of s) sum += x;
  return {
    p50us: percentile(s, 0.5),
    p99us: percentile(s, 0.99),
    p999us: percentile(s, 0.999),
    meanUs: sum / n,
    calls: n,
    errors,
  };
}
