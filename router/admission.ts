/**
 * Connection caps: at most `maxConnections` open connections in all and `maxConnectionsPerIp` from
 * one source address (joined or still in the handshake). A connection over a cap is closed at
 * once (WebSocket 1013 "try again later"), counted, and logged at most a few times per window:
 * a flood cannot exhaust the router's file descriptors or its log.
 */
import type { Connection } from '../transport/types';
import { peerHost } from './auth/throttle';

export interface AdmissionOptions {
  /** default 10 000 */
  maxConnections?: number;
  /** default 1 000 */
  maxConnectionsPerIp?: number;
}

export const DEFAULT_MAX_CONNECTIONS = 10_000;
export const DEFAULT_MAX_CONNECTIONS_PER_IP = 1_000;

export class Admission {
  readonly maxConnections: number;
  readonly maxConnectionsPerIp: number;
  /** connection → its source address */
  private readonly open = new Map<Connection, string>();
  /** source address → open connections from it */
  private readonly perIp = new Map<string, number>();
  /** Connections refused by a cap (metrics). */
  refused = 0;

  constructor(o: AdmissionOptions = {}) {
    this.maxConnections = Math.max(1, o.maxConnections ?? DEFAULT_MAX_CONNECTIONS);
    this.maxConnectionsPerIp = Math.max(1, o.maxConnectionsPerIp ?? DEFAULT_MAX_CONNECTIONS_PER_IP);
  }

  get size(): number {
    return this.open.size;
  }

  connections(): Connection[] {
    return [...this.open.keys()];
  }

  /** Admits `conn`, or says which cap it would exceed (and counts the refusal). */
  admit(conn: Connection): string | null {
    const ip = peerHost(conn.info.peer);
    const n = this.perIp.get(ip) ?? 0;
    let why: string | null = null;
    if (this.open.size >= this.maxConnections) why = `the router holds ${this.open.size} connections, its limit (max_connections)`;
    else if (n >= this.maxConnectionsPerIp) why = `${n} connections from ${ip}, the limit per address (max_connections_per_ip)`;
    if (why !== null) {
      this.refused++;
      return why;
    }
    this.open.set(conn, ip);
    this.perIp.set(ip, n + 1);
    return null;
  }

  /** Forgets a connection (idempotent). */
  release(conn: Connection): void {
    const ip = this.open.get(conn);
    if (ip === undefined) return;
    this.open.delete(conn);
    const n = (this.perIp.get(ip) ?? 1) - 1;
    if (n <= 0) this.perIp.delete(ip);
    else this.perIp.set(ip, n);
  }

  clear(): void {
    this.open.clear();
    this.perIp.clear();
  }
}
