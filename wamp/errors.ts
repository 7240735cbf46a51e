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
  // Session close
  SYSTEM_SHUTDOWN: 'wamp.close.system_shutdown',
  CLOSE_REALM: 'wamp.close.close_realm',
  GOODBYE_AND_OUT: 'wamp.close.goodbye_and_out',
  NORMAL: 'wamp.close.normal',
  KILLED: 'wamp.close.killed',
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
  /** Sent to a caller whose callee's session ended while the call was pending. */
  CALLEE_LOST: 'wamp.error.canceled',
  /** Close reason for a session whose outbound queue overflowed (slow consumer). */
  SLOW_CONSUMER: 'sisock.close.slow_consumer',
  /**
   * ERROR for a SUBSCRIBE / REGISTER that would take a session past the router's per-session
   * bound (`max_subscriptions_per_session` / `max_registrations_per_session`); args[0] says which.
   */
  LIMIT_EXCEEDED: 'sisock.error.limit_exceeded',
  /** Close reason for a session that did not answer auto-ping in time. */
  PING_TIMEOUT: 'sisock.close.ping_timeout',
} as const;

export type ErrorUriValue = (typeof ErrorUri)[keyof typeof ErrorUri];
