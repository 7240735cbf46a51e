/**
 * The slow-consumer policy: a subscriber that stops reading is disconnected once more than
 * maxOutboundBytes are queued towards it, with reason sisock.close.slow_consumer, and the
 * router's queue for it does not grow past that bound (plus one frame).
 */
import { MessageType as T } from '../../wamp';
import { devConfig } from '../../router/config';
import { startRouter, type RunningRouter } from '../../router/server';
import { RawWampClient, type Kind } from '../helpers/raw-wamp-client';

const BOUND = 1024 * 1024;
let running: RunningRouter;

beforeAll(async () => {
  const cfg = devConfig({ port: 0, rawsocketPort: 0, realm: 'realm1' });
  cfg.maxOutboundBytes = BOUND;
  running = await startRouter(cfg);
});
afterAll(async () => {
  await running.close();
});

test.each<[Kind]>([['websocket'], ['rawsocket']])('a stuck %s subscriber is cut off at the bound', async (kind) => {
  const url = running.listeners.find((l) => l.kind === kind)!.url;
  const stuck = await RawWampClient.connect(kind, url, 'msgpack');
  const pub = await RawWampClient.connect(kind, url, 'msgpack');
  const healthy = await RawWampClient.connect(kind, url, 'msgpack');
  try {
    for (const c of [stuck, pub, healthy]) await c.join('realm1');
    for (const c of [stuck, healthy]) {
      c.send({ type: T.SUBSCRIBE, request: c.req(), options: {}, topic: 'com.test.flood' });
      await c.expect(T.SUBSCRIBED);
    }
    stuck.pause();
    const cutBefore = running.router.stats.slowConsumerDisconnects;
    const session = running.router.sessions.get(stuck.sessionId)!;
    const payload = new Uint8Array(64 * 1024);
    let maxQueued = 0;
    let published = 0;
    // Bounded: at most 4,000 × 64 KiB = 250 MiB offered; the cut-off comes far earlier.
    while (running.router.sessions.has(stuck.sessionId) && published < 4000) {
      pub.send({ type: T.PUBLISH, request: pub.req(), options: { acknowledge: true }, topic: 'com.test.flood', args: [payload] });
      await pub.expect(T.PUBLISHED);
      await healthy.expect(T.EVENT); // the healthy subscriber keeps up and keeps getting everything
      published++;
      maxQueued = Math.max(maxQueued, session.queuedBytes);
    }
    expect(running.router.sessions.has(stuck.sessionId)).toBe(false);
    expect(running.router.stats.slowConsumerDisconnects).toBe(cutBefore + 1); // cut by the policy, not by chance
    expect(maxQueued).toBeLessThanOrEqual(BOUND + 64 * 1024 + 1024);
    // The healthy subscriber and the publisher are unaffected.
    expect(running.router.sessions.has(healthy.sessionId)).toBe(true);
    expect(running.router.sessions.has(pub.sessionId)).toBe(true);
  } finally {
    for (const c of [stuck, pub, healthy]) c.close();
  }
});
