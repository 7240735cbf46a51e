/**
 * Roles and features the router announces in WELCOME.Details.roles (WAMP 13.x "Feature
 * Announcement"). Only what the router actually implements is listed here.
 */
export const BROKER_FEATURES = {
  publisher_identification: true,
  publisher_exclusion: true,
  subscriber_blackwhite_listing: true,
  pattern_based_subscription: true,
  session_meta_api: true,
  subscription_meta_api: true,
  payload_passthru_mode: true,
} as const;

export const DEALER_FEATURES = {
  caller_identification: true,
  progressive_call_results: true,
  call_timeout: true,
  call_canceling: true,
  pattern_based_registration: true,
  shared_registration: true,
  session_meta_api: true,
  registration_meta_api: true,
  payload_passthru_mode: true,
} as const;

export const ROUTER_ROLES = {
  broker: { features: BROKER_FEATURES },
  dealer: { features: DEALER_FEATURES },
} as const;
