/**
 * WAMP RawSocket (WAMP spec "RawSocket Transport") over a TCP or TLS socket.
 *
 * Handshake: the client sends 4 bytes `0x7F, LLLL SSSS, 0, 0` (max length 2^(9+L), serializer S).
 * We answer `0x7F, LLLL SSSS, 0, 0` with our own max length, or `0x7F, EEEE 0000, 0, 0` and close on
 * error: 1 serializer unsupported, 2 max length unacceptable (never used: we accept any), 3 use of
 * reserved bits, 4 maximum connection count reached.
 * Frames: 1 byte (low 3 bits: 0 regular, 1 ping, 2 pong; high 5 bits reserved, must be 0) + 3-byte
 * big-endian length + payload. A ping is answered with a pong carrying the same payload. A frame
 * longer than our max (maxMessageSize) or a reserved bit closes the connection. Framing does not
 * care how TCP chunks the bytes (one byte at a time works).
 */
import type { Socket } from 'net';
import { CloseUri } from '../wamp/errors';
import { BaseConnection } from './connection';
import { CLOSE_GRACE_MS, peerOf } from './peer';
import { serializerByName, serializerByRawsocketId } from './serializers';
import type { ConnectionHandler, Serializer, SerializerName, TransportInfo, TransportOptions } from './types';

export const RAWSOCKET_MAGIC = 0x7f;
/** Time allowed for the RawSocket handshake's 4 bytes. */
const HANDSHAKE_TIMEOUT_MS = 10_000;
/** Pongs are not answered while more than this is waiting to be written to the peer. */
const MAX_UNREAD_PONG_BYTES = 1024 * 1024;
export const RawSocketError = {
  SERIALIZER_UNSUPPORTED: 1,
  MAX_LENGTH_UNACCEPTABLE: 2,
  RESERVED_BITS: 3,
  MAX_CONNECTIONS: 4,
} as const;

const FRAME_REGULAR = 0;
const FRAME_PING = 1;
const FRAME_PONG = 2;
/** The 3-byte length field caps every RawSocket frame. */
const MAX_FRAME = 0xffffff;

/** Length exponent L (0..15) we announce: the largest 2^(9+L) that does not exceed maxMessageSize. */
export function lengthExponent(maxMessageSize: number): number {
  const l = Math.floor(Math.log2(Math.max(512, maxMessageSize))) - 9;
  return Math.min(15, Math.max(0, l));
}

/** A byte queue over received chunks; takes frames out without quadratic re-concatenation. */
class ChunkQueue {
  private chunks: Buffer[] = [];
  length = 0;
  push(b: Buffer): void {
    if (b.length) {
      this.chunks.push(b);
      this.length += b.length;
    }
  }
  /** Byte at offset i (i < length). */
  at(i: number): number {
    for (const c of this.chunks) {
      const b = c[i];
      if (b !== undefined) return b;
      i -= c.length;
    }
    throw new RangeError('ChunkQueue.at out of range');
  }
  /** Removes and returns the first n bytes (n <= length). */
  take(n: number): Buffer {
    if (n > this.length) throw new RangeError('ChunkQueue.take beyond the queued bytes');
    this.length -= n;
    const first = this.chunks[0];
    if (!first) return Buffer.alloc(0); // n = 0 on an empty queue
    if (first.length === n) {
      this.chunks.shift();
      return first;
    }
    if (first.length > n) {
      this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let off = 0;
    while (off < n) {
      const c = this.chunks[0];
      if (!c) throw new RangeError('ChunkQueue out of chunks'); // cannot happen: n <= length checked above
      const k = Math.min(c.length, n - off);
      c.copy(out, off, 0, k);
      off += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    return out;
  }
}

export interface RawSocketOptions {
  options: TransportOptions;
  tls: boolean;
  /** Refuse with error 4 when this many RawSocket connections are open (default: no limit). */
  maxConnections?: number;
  /** Open connections of this listener (shared, for maxConnections and shutdown). */
  connections: Set<RawSocketConnection>;
}

export class RawSocketConnection extends BaseConnection {
  constructor(
    private readonly socket: Socket,
    serializer: Serializer,
    info: TransportInfo,
    /** Largest frame the peer accepts (from its handshake). */
    private readonly peerMax: number,
    options: TransportOptions,
  ) {
    super(socket, serializer, info, options);
  }

  get bufferedAmount(): number {
    return this.socket.writableLength;
  }

  protected write(frame: Buffer): void {
    if (frame.length > this.peerMax) {
      // The peer announced it cannot take this frame: the connection cannot go on (spec: drop it).
      this.close(1009, CloseUri.FRAME_TOO_LARGE_FOR_PEER);
      return;
    }
    this.writeFrame(FRAME_REGULAR, frame);
  }

  /** RawSocket has no close frame or code: half-close and let the peer end. */
  protected startClose(): void {
    this.socket.end();
  }

  protected destroy(): void {
    this.socket.destroy();
  }

  protected sendPing(): void {
    this.writeFrame(FRAME_PING, Buffer.alloc(0));
  }

  protected override fallbackReason(): string {
    return 'rawsocket closed';
  }

  /** @internal frames from the parser */
  frame(type: number, payload: Buffer): void {
    this.ping.activity();
    if (this.closed) return;
    if (type === FRAME_PING) {
      if (this.closing) return;
      // A peer that pings without reading our pongs would make us buffer without bound.
      if (this.socket.writableLength > MAX_UNREAD_PONG_BYTES) {
        this.abort(CloseUri.SLOW_CONSUMER);
        return;
      }
      this.writeFrame(FRAME_PONG, payload);
      return;
    }
    if (type === FRAME_PONG) return;
    if (!this.closing) this.onMessage(payload);
  }

  private writeFrame(type: number, payload: Buffer): void {
    this.batch.hold();
    const head = Buffer.allocUnsafe(4);
    head[0] = type;
    head.writeUIntBE(payload.length, 1, 3);
    this.socket.cork();
    this.socket.write(head);
    if (payload.length) this.socket.write(payload);
    this.socket.uncork();
  }
}

/**
 * Runs the RawSocket protocol on an accepted socket. `initial` holds bytes already read from it
 * (the universal port's sniffed first chunk).
 */
export function handleRawSocket(socket: Socket, opts: RawSocketOptions, handler: ConnectionHandler, initial?: Buffer): void {
  const options = opts.options;
  const allowed: SerializerName[] = options.serializers.length > 0 ? options.serializers : ['msgpack', 'cbor', 'json'];
  const ourMax = Math.min(options.maxMessageSize, MAX_FRAME);
  const queue = new ChunkQueue();
  let conn: RawSocketConnection | null = null;
  let dead = false;

  socket.setNoDelay(true);
  // The 4-byte handshake must arrive promptly; a silent peer is dropped (the router then bounds
  // HELLO → WELCOME on its own).
  const handshakeTimer = setTimeout(() => {
    if (!conn) {
      dead = true;
      socket.destroy();
    }
  }, HANDSHAKE_TIMEOUT_MS);
  handshakeTimer.unref();

  const fail = (code: number): void => {
    dead = true;
    socket.end(Buffer.from([RAWSOCKET_MAGIC, code << 4, 0, 0]));
    const t = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS);
    t.unref();
    socket.once('close', () => clearTimeout(t));
  };

  const handshake = (): boolean => {
    if (queue.length < 4) return false;
    const [magic, sizeAndSerializer = 0, reserved1, reserved2] = queue.take(4);
    if (magic !== RAWSOCKET_MAGIC) {
      dead = true;
      socket.destroy();
      return false;
    }
    if (reserved1 !== 0 || reserved2 !== 0) {
      fail(RawSocketError.RESERVED_BITS);
      return false;
    }
    const serializer = serializerByRawsocketId(sizeAndSerializer & 0x0f);
    if (!serializer || !allowed.includes(serializer.name)) {
      fail(RawSocketError.SERIALIZER_UNSUPPORTED);
      return false;
    }
    if (opts.maxConnections !== undefined && opts.connections.size >= opts.maxConnections) {
      fail(RawSocketError.MAX_CONNECTIONS);
      return false;
    }
    clearTimeout(handshakeTimer);
    const peerMax = 2 ** (9 + (sizeAndSerializer >> 4));
    socket.write(Buffer.from([RAWSOCKET_MAGIC, (lengthExponent(ourMax) << 4) | serializer.rawsocketId, 0, 0]));
    const info: TransportInfo = { type: 'rawsocket', protocol: serializer.subprotocol, peer: peerOf(socket), tls: opts.tls };
    conn = new RawSocketConnection(socket, serializerByName(serializer.name)!, info, peerMax, options);
    opts.connections.add(conn);
    handler(conn);
    return true;
  };

  const frames = (): void => {
    while (conn && !dead && queue.length >= 4) {
      const b0 = queue.at(0);
      const len = (queue.at(1) << 16) | (queue.at(2) << 8) | queue.at(3);
      if (b0 > FRAME_PONG) {
        dead = true;
        conn.abort(CloseUri.RAWSOCKET_PROTOCOL_ERROR);
        return;
      }
      if (len > ourMax) {
        dead = true;
        conn.abort(CloseUri.MESSAGE_TOO_LARGE);
        return;
      }
      if (queue.length < 4 + len) return;
      queue.take(4);
      conn.frame(b0, len ? queue.take(len) : Buffer.alloc(0));
    }
  };

  const onData = (chunk: Buffer): void => {
    if (dead) return;
    queue.push(chunk);
    if (!conn && !handshake()) return;
    frames();
  };

  socket.on('data', onData);
  socket.on('error', () => {
    /* 'close' follows */
  });
  socket.on('close', () => {
    dead = true;
    clearTimeout(handshakeTimer);
    if (conn) {
      opts.connections.delete(conn);
      conn.finish('rawsocket closed');
    }
  });
  if (initial && initial.length) onData(initial);
}
