/**
 * autobahn-js 26 expects a global, browser-style `WebSocket` (Node 22+). On Node 20 we supply one
 * from `ws`, before autobahn is required. The class differs from plain `ws` in two ways:
 *
 *  - it takes per-URL connection options (a custom CA for a self-signed router, `maxPayload`),
 *    registered with `setSocketOptions(url, …)`, because autobahn calls `new WebSocket(url, protocols)`
 *    with no way to pass options;
 *  - it always has an `error` listener: autobahn attaches none, and `ws` throws an unhandled `error`
 *    event when the handshake is refused (router not up yet). The `close` event that follows the
 *    error is what autobahn reacts to, so nothing is lost.
 */
import WebSocketImpl from 'ws';
import type { ClientOptions as WsClientOptions } from 'ws';

/** url → options for sockets opened to that url (last registration wins). */
const optionsByUrl = new Map<string, WsClientOptions>();

/** Listeners told about socket errors (so the wrapper can log them). */
const errorListeners = new Set<(url: string, err: Error) => void>();

export function setSocketOptions(url: string, options: WsClientOptions): void {
  optionsByUrl.set(url, options);
}

export function onSocketError(cb: (url: string, err: Error) => void): () => void {
  errorListeners.add(cb);
  return () => errorListeners.delete(cb);
}

export class SisockWebSocket extends WebSocketImpl {
  constructor(url: string | URL, protocols?: string | string[]) {
    const key = String(url);
    super(url, protocols, { ...(optionsByUrl.get(key) ?? {}) });
    this.on('error', (err: Error) => {
      for (const cb of errorListeners) {
        try {
          cb(key, err);
        } catch {
          /* a listener must not break the socket */
        }
      }
    });
  }
}

/** Installs the shim as `globalThis.WebSocket` unless the runtime already has a native one. */
export function installWebSocketShim(): void {
  const g = globalThis as unknown as { WebSocket?: unknown; __sisockWs?: boolean };
  if (g.__sisockWs) return;
  // Always use ours: the native Node 22 WebSocket cannot take a custom CA.
  g.WebSocket = SisockWebSocket;
  g.__sisockWs = true;
}

installWebSocketShim();
