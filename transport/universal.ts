/**
 * Universal port: one TCP (or TLS) port for RawSocket and HTTP/WebSocket. The first byte decides:
 * 0x7F (RawSocket magic) → RawSocket; anything else → the socket is handed to an HTTP server (which
 * serves WebSocket upgrades and plain requests). With TLS the sniff happens after the TLS handshake,
 * so RawSocket-over-TLS and wss share the port too.
 */
import type { Server as HttpServer } from 'http';
import type { Socket } from 'net';
import { RAWSOCKET_MAGIC } from './rawsocket';

/** How long a new socket may stay silent before it is dropped (ms). */
export const SNIFF_TIMEOUT_MS = 10_000;

/**
 * Reads the first chunk of `socket`, then either calls `onRawSocket(socket, chunk)` or puts the chunk
 * back and emits the socket as a new connection of `http`.
 */
export function sniff(socket: Socket, http: HttpServer, onRawSocket: (socket: Socket, first: Buffer) => void): void {
  const timer = setTimeout(() => socket.destroy(), SNIFF_TIMEOUT_MS);
  timer.unref();
  const onError = (): void => {
    clearTimeout(timer);
  };
  const onClose = (): void => {
    clearTimeout(timer);
  };
  socket.once('error', onError);
  socket.once('close', onClose);
  socket.once('data', (chunk: Buffer) => {
    clearTimeout(timer);
    socket.off('error', onError);
    socket.off('close', onClose);
    socket.pause();
    if (chunk[0] === RAWSOCKET_MAGIC) {
      onRawSocket(socket, chunk);
      socket.resume();
      return;
    }
    // Hand over to the HTTP server with the bytes put back in front of the stream.
    socket.unshift(chunk);
    http.emit('connection', socket);
    socket.resume();
  });
}
