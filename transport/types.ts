/**
 * The contract between transports (WebSocket, RawSocket, TLS, universal port) and the router.
 * A transport frames bytes and negotiates a serializer; it knows nothing about WAMP semantics.
 */

/** A WAMP serializer: one per subprotocol (`wamp.2.json`, `wamp.2.msgpack`, `wamp.2.cbor`). */
export interface Serializer {
  /** Short name as in Crossbar's `serializers` list: 'json' | 'msgpack' | 'cbor'. */
  readonly name: SerializerName;
  /** WebSocket subprotocol, e.g. 'wamp.2.json'. */
  readonly subprotocol: string;
  /** RawSocket serializer number (WAMP RawSocket: 1 JSON, 2 MsgPack, 3 CBOR). */
  readonly rawsocketId: number;
  /** Whether frames are binary (WebSocket binary frames) or text. */
  readonly binary: boolean;
  /** Encodes a message in array form. Integers stay integers on every serializer. */
  encode(message: unknown[]): Buffer;
  /** Decodes one frame into a value (normally an array). Throws on malformed input. */
  decode(frame: Buffer): unknown;
}

export type SerializerName = 'json' | 'msgpack' | 'cbor';

/** What the router may know about how a session is connected (for meta API `transport`). */
export interface TransportInfo {
  type: 'websocket' | 'rawsocket';
  protocol: string; // the negotiated subprotocol, e.g. 'wamp.2.json'
  peer: string; // e.g. 'tcp4:127.0.0.1:51234'
  tls: boolean;
  /** Set for WebSocket: the HTTP request headers, lower-cased names. */
  http_headers_received?: Record<string, string | string[] | undefined>;
}

/**
 * One open connection with a negotiated serializer. Created by a listener, handed to the
 * router, which sets `onMessage`/`onClose` right away.
 */
export interface Connection {
  readonly serializer: Serializer;
  readonly info: TransportInfo;
  /** Bytes accepted by `send` and not yet written to the socket. */
  readonly bufferedAmount: number;
  /** Sends one already-encoded frame. A no-op once the connection is closing. */
  send(frame: Buffer): void;
  /**
   * Closes gracefully (WebSocket close frame with code and reason; RawSocket: end) and destroys
   * the socket if the peer does not finish the close within a short grace period.
   */
  close(code?: number, reason?: string): void;
  /** Called with every complete inbound frame. */
  onMessage: (frame: Buffer) => void;
  /** Called once when the connection is gone, whoever closed it. */
  onClose: (reason: string) => void;
  /** The router welcomed the peer: the pre-authentication byte limit no longer applies. */
  authenticated?(): void;
}

/** Options every listener honours. */
export interface TransportOptions {
  /** Largest inbound frame in bytes; larger ones close the connection (WebSocket 1009). */
  maxMessageSize: number;
  /** Seconds between pings on an idle connection; 0 disables. */
  autoPingInterval: number;
  /** Seconds to wait for the pong before dropping the connection. */
  autoPingTimeout: number;
  /** Serializers offered on this transport, best first. */
  serializers: SerializerName[];
  /**
   * Bytes a peer may send before it is welcomed (HELLO, AUTHENTICATE and framing); more drops the
   * connection at once, before a large frame is buffered. Default 64 KiB; 0 = no limit.
   */
  maxPreAuthBytes?: number;
}

/** Something that accepts connections (the router). */
export type ConnectionHandler = (conn: Connection) => void;
