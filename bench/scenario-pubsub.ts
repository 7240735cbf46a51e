/**
 * Scenario 3: events delivered per second from one publisher to `subscribers` subscribers, all
 * WebSocket connections in the load process. The publisher keeps at most `window` events
 * undelivered (credit = events fully delivered), so nothing queues without bound.
 */
import type { LoadParams, LoadResult } from './common';
import { RawWampClient } from './wamp-raw-client';
import { sleep, mark } from './common';

export const TOPIC = 'bench.topic';

export async function runPubsub(p: LoadParams): Promise<LoadResult> {
  const base = { url: p.url, realm: p.realm, serializer: p.serializer, wamp: p.wamp };
  const subs: RawWampClient[] = [];
  let delivered = 0;
  const onEvent = () => {
    delivered++;
    pump();
  };
  for (let i = 0; i < p.subscribers; i += 20) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(20, p.subscribers - i) }, async () => {
        const s = await RawWampClient.connect({ ...base, query: p.wamp ? undefined : 'role=sub' });
        await s.subscribe(TOPIC);
        s.onFrame = onEvent;
        return s;
      }),
    );
    subs.push(...batch);
  }
  const pub = await RawWampClient.connect({ ...base, query: p.wamp ? undefined : 'role=pub' });
  const N = subs.length;
  let published = 0;
  let credit = 0; // extra events granted by the stall watchdog
  let stopped = false;
  let pumping = false;
  function pump(): void {
    if (stopped || pumping) return;
    const allowed = Math.floor(delivered / N) + p.window + credit;
    if (published >= allowed) return;
    pumping = true;
    pub.corkTick();
    while (published < allowed) pub.send(pub.publishFrame(++published, TOPIC));
    pumping = false;
  }
  let lastDelivered = -1;
  let stalls = 0;
  const watchdog = setInterval(() => {
    if (delivered === lastDelivered && !stopped) {
      stalls++;
      credit += p.window; // events were lost or dropped: keep the pipe moving
      pump();
    }
    lastDelivered = delivered;
  }, 200);
  pump();
  await sleep(p.warmupMs);
  const d0 = delivered;
  const p0 = published;
  const t0 = process.hrtime.bigint();
  const c0 = mark('start');
  await sleep(p.durationMs);
  const d1 = delivered;
  const p1 = published;
  const t1 = process.hrtime.bigint();
  const loadCpu = mark('end', c0, t1 - t0);
  stopped = true;
  clearInterval(watchdog);
  // let what is in flight arrive (bounded), then count what never did
  for (let i = 0; i < 50 && delivered < published * N; i++) await sleep(20);
  const lost = published * N - delivered;
  pub.close();
  for (const s of subs) s.close();
  const secs = Number(t1 - t0) / 1e9;
  return {
    deliveriesPerSec: (d1 - d0) / secs,
    publishesPerSec: (p1 - p0) / secs,
    subscribers: N,
    undelivered: lost,
    stalls,
    loadCpu,
  };
}
