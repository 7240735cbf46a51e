/**
 * Small helpers shared by the listeners: the peer string of a socket (Crossbar style) and the
 * close reasons sisock uses on the transport level.
 */
import type { Socket } from 'net';
import { CloseUri } from '../wamp/errors';

/** Close reason when a peer does not answer an auto-ping in time. */
export const PING_TIMEOUT_REASON = CloseUri.PING_TIMEOUT;
/** Close reason when a listener shuts down. */
export const LISTENER_CLOSED_REASON = CloseUri.SYSTEM_SHUTDOWN;
/** How long a graceful close may take before the socket is destroyed (ms). */
export const CLOSE_GRACE_MS = 1000;

/** `tcp4:127.0.0.1:51234` / `tcp6:::1:51234`; IPv4-mapped IPv6 addresses are reported as tcp4. */
export function peerOf(socket: Socket): string {
  let addr = socket.remoteAddress ?? 'unknown';
  let family = socket.remoteFamily === 'IPv6' ? 'tcp6' : 'tcp4';
  if (addr.startsWith('::ffff:') && addr.includes('.')) {
    addr = addr.slice(7);
    family = 'tcp4';
  }
  return `${family}:${addr}:${socket.remotePort ?? 0}`;
}
