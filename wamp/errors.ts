/**
 * Standard WAMP error and reason URIs (WAMP spec, "Predefined URIs"), plus the few
 * Crossbar.io-specific ones that existing peers already understand.
 */
export const ErrorUri = {
  // Interaction
  INVALID_URI: 'wamp.error.invalid_uri',
  NO_SUCH_PROCEDURE: 'wamp.error.no_such_procedure',
  PROCEDURE_ALREADY_EXISTS: 'wamp.error.procedure_already_exists',
  NO_SUCH_REGISTRATION: 'wamp.error.no_such_registration',
  NO_SUCH_SUBSCRIPTION: 'wamp.error.no_such_subscription',
  NO_SUCH_SESSION: 'wamp.error.no_such_session',
  INVALID_ARGUMENT: 'wamp.error.invalid_argument',
  /** A callee's handler failed (Crossbar's and autobahn's URI for an uncaught exception). */
  RUNTIME_ERROR: 'wamp.error.runtime_error',
  /** ABORT reason (and ERROR) when a peer broke the protocol. */
  PROTOCOL_VIOLATION: 'wamp.error.protocol_violation',
  // Authorization / authentication
  NOT_AUTHORIZED: 'wamp.error.not_authorized',
  AUTHORIZATION_FAILED: 'wamp.error.authorization_failed',
  AUTHENTICATION_FAILED: 'wamp.error.authentication_failed',
  NO_AUTH_METHOD: 'wamp.error.no_auth_method',
  NO_SUCH_REALM: 'wamp.error.no_such_realm',
  NO_SUCH_ROLE: 'wamp.error.no_such_role',
  NO_SUCH_PRINCIPAL: 'wamp.error.no_such_principal',
  // Advanced RPC
  CANCELED: 'wamp.error.canceled',
  TIMEOUT: 'wamp.error.timeout',
  OPTION_NOT_ALLOWED: 'wamp.error.option_not_allowed',
  OPTION_DISALLOWED_DISCLOSE_ME: 'wamp.error.option_disallowed.disclose_me',
  NETWORK_FAILURE: 'wamp.error.network_failure',
  UNAVAILABLE: 'wamp.error.unavailable',
  NO_AVAILABLE_CALLEE: 'wamp.error.no_available_callee',
  FEATURE_NOT_SUPPORTED: 'wamp.error.feature_not_supported',
  PAYLOAD_SIZE_EXCEEDED: 'wamp.error.payload_size_exceeded',
  /** Crossbar: REGISTER of a procedure that exists with another invocation policy. */
  PROCEDURE_EXISTS_WITH_DIFFERENT_INVOCATION_POLICY: 'wamp.error.procedure_exists_with_different_invocation_policy',
  /** autobahn (client side): the call was made, or was pending, while the client had no session. */
  NO_SESSION: 'wamp.error.no_session',
  /** Sent to a caller whose callee's session ended while the call was pending. */
  CALLEE_LOST: 'wamp.error.canceled',
  /**
   * ERROR for a SUBSCRIBE / REGISTER that would take a session past the router's per-session
   * bound (`max_subscriptions_per_session` / `max_registrations_per_session`); args[0] says which.
   */
  LIMIT_EXCEEDED: 'sisock.error.limit_exceeded',
} as const;

export type ErrorUriValue = (typeof ErrorUri)[keyof typeof ErrorUri];

/** Reasons of GOODBYE / ABORT and of transport closes (WAMP "Predefined URIs", session close). */
export const CloseUri = {
  SYSTEM_SHUTDOWN: 'wamp.close.system_shutdown',
  CLOSE_REALM: 'wamp.close.close_realm',
  GOODBYE_AND_OUT: 'wamp.close.goodbye_and_out',
  NORMAL: 'wamp.close.normal',
  KILLED: 'wamp.close.killed',
  /** A session whose outbound queue overflowed (slow consumer). */
  SLOW_CONSUMER: 'sisock.close.slow_consumer',
  /** A session that did not answer auto-ping in time. */
  PING_TIMEOUT: 'sisock.close.ping_timeout',
  /** RawSocket: a frame larger than the peer announced it accepts. */
  FRAME_TOO_LARGE_FOR_PEER: 'sisock.close.frame_too_large_for_peer',
  /** RawSocket: a frame type the protocol does not define. */
  RAWSOCKET_PROTOCOL_ERROR: 'sisock.close.rawsocket_protocol_error',
  /** A frame larger than this side's maximum message size. */
  MESSAGE_TOO_LARGE: 'sisock.close.message_too_large',
} as const;

export type CloseUriValue = (typeof CloseUri)[keyof typeof CloseUri];
