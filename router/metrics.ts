/**
 * Router metrics for Prometheus.
 *
 * Hot path: the message loop only increments plain numbers in one `RouterStats` per router
 * (`countIn(type)`, `bytesIn += n`, …): no prom-client call and no labels object per message.
 * `registerRouterMetrics` creates prom-client metrics whose `collect()` callbacks copy those numbers
 * (and walk the session table for queue depths) when Prometheus scrapes.
 *
 *   sisock_router_sessions                          joined sessions (label realm)
 *   sisock_router_connections                       open connections, joined or not
 *   sisock_router_messages_received_total{type}     WAMP messages in, by type name
 *   sisock_router_messages_sent_total{type}         WAMP messages out, by type name
 *   sisock_router_bytes_received_total / _sent_total  frame payload bytes
 *   sisock_router_outbound_queue_bytes_max / _sum   bytes queued towards sessions (slowest, all)
 *   sisock_router_not_authorized_total              actions refused by the roles (label realm)
 *   sisock_router_protocol_violations_total         sessions aborted for a protocol violation
 *   sisock_router_slow_consumer_disconnects_total   sessions closed by max_outbound_bytes
 *   sisock_router_auth_failures_total               refused WAMP-CRA / ticket authentications
 *   sisock_router_auth_lockouts_total               handshakes refused while an address or authid is locked out
 *   sisock_router_connections_refused_total         connections over max_connections / max_connections_per_ip
 */
import { Counter, Gauge, Registry } from 'prom-client';
import { MessageName } from '../wamp/codes';
import { scrapedTotal } from '../common/metrics';

/** Message type codes go up to EVENT_RECEIVED (337). */
const TYPE_SLOTS = 512;

/** Plain counters, incremented inline by the router. */
export class RouterStats {
  /** message type code → messages received */
  readonly msgIn = new Float64Array(TYPE_SLOTS);
  /** message type code → messages sent */
  readonly msgOut = new Float64Array(TYPE_SLOTS);
  bytesIn = 0;
  bytesOut = 0;
  protocolViolations = 0;
  slowConsumerDisconnects = 0;

  /** One message of this type received (a code beyond the table is not counted). */
  countIn(type: number): void {
    const n = this.msgIn[type];
    if (n !== undefined) this.msgIn[type] = n + 1;
  }

  /** One message of this type sent. */
  countOut(type: number): void {
    const n = this.msgOut[type];
    if (n !== undefined) this.msgOut[type] = n + 1;
  }
}

/** Counters of sessions created outside a router (tests): counted, never read. */
export const DISCARDED_STATS = new RouterStats();

/** What the collectors read: structurally the Router (kept loose so this file does not import it). */
export interface RouterLike {
  readonly stats: RouterStats;
  readonly realms: Map<string, { readonly sessions: Map<number, { readonly queuedBytes: number }>; readonly refused: number }>;
  readonly connectionCount: number;
  readonly authThrottle?: { readonly failures: number; readonly lockouts: number };
  readonly admission?: { readonly refused: number };
}

/** Registers the router metrics in `registry` (default: a new one) and returns it. */
export function registerRouterMetrics(router: RouterLike, registry: Registry = new Registry()): Registry {
  const s = router.stats;
  const registers = [registry];
  const byType = (arr: Float64Array, c: Counter<'type'>): void => {
    c.reset();
    for (const [t, n] of arr.entries()) if (n > 0) c.inc({ type: MessageName[t] ?? String(t) }, n);
  };
  const total = (name: string, help: string, read: () => number): void => scrapedTotal(registry, name, help, read);

  new Gauge({
    name: 'sisock_router_sessions',
    help: 'Joined WAMP sessions',
    labelNames: ['realm'],
    registers,
    collect() {
      this.reset();
      for (const [name, r] of router.realms) this.set({ realm: name }, r.sessions.size);
    },
  });
  new Gauge({
    name: 'sisock_router_connections',
    help: 'Open transport connections (joined or in the handshake)',
    registers,
    collect() {
      this.set(router.connectionCount);
    },
  });
  new Counter({
    name: 'sisock_router_messages_received_total',
    help: 'WAMP messages received, by type',
    labelNames: ['type'],
    registers,
    collect() {
      byType(s.msgIn, this);
    },
  });
  new Counter({
    name: 'sisock_router_messages_sent_total',
    help: 'WAMP messages sent, by type',
    labelNames: ['type'],
    registers,
    collect() {
      byType(s.msgOut, this);
    },
  });
  total('sisock_router_bytes_received_total', 'Bytes of WAMP frames received', () => s.bytesIn);
  total('sisock_router_bytes_sent_total', 'Bytes of WAMP frames sent', () => s.bytesOut);
  total('sisock_router_protocol_violations_total', 'Sessions aborted with wamp.error.protocol_violation', () => s.protocolViolations);
  total(
    'sisock_router_slow_consumer_disconnects_total',
    'Sessions closed because their outbound queue exceeded max_outbound_bytes',
    () => s.slowConsumerDisconnects,
  );
  total('sisock_router_auth_failures_total', 'Refused WAMP-CRA and ticket authentications', () => router.authThrottle?.failures ?? 0);
  total(
    'sisock_router_auth_lockouts_total',
    'Handshakes refused while the address or authid is locked out after failures',
    () => router.authThrottle?.lockouts ?? 0,
  );
  total(
    'sisock_router_connections_refused_total',
    'Connections closed at once: over max_connections or max_connections_per_ip',
    () => router.admission?.refused ?? 0,
  );
  new Counter({
    name: 'sisock_router_not_authorized_total',
    help: 'Actions refused with wamp.error.not_authorized',
    labelNames: ['realm'],
    registers,
    collect() {
      this.reset();
      for (const [name, r] of router.realms) this.inc({ realm: name }, r.refused);
    },
  });
  const queues = (): { max: number; sum: number } => {
    let max = 0;
    let sum = 0;
    for (const r of router.realms.values()) {
      for (const sess of r.sessions.values()) {
        const q = sess.queuedBytes;
        sum += q;
        if (q > max) max = q;
      }
    }
    return { max, sum };
  };
  new Gauge({
    name: 'sisock_router_outbound_queue_bytes_max',
    help: 'Largest number of bytes queued towards one session',
    registers,
    collect() {
      this.set(queues().max);
    },
  });
  new Gauge({
    name: 'sisock_router_outbound_queue_bytes_sum',
    help: 'Bytes queued towards all sessions',
    registers,
    collect() {
      this.set(queues().sum);
    },
  });
  return registry;
}
