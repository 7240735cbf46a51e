/**
 * WAMP v2 message type codes (WAMP spec, section "Message Codes and Direction").
 * Basic profile: the twenty messages; advanced: CHALLENGE/AUTHENTICATE, CANCEL, INTERRUPT, EVENT_RECEIVED.
 */
export const MessageType = {
  HELLO: 1,
  WELCOME: 2,
  ABORT: 3,
  CHALLENGE: 4,
  AUTHENTICATE: 5,
  GOODBYE: 6,
  ERROR: 8,
  PUBLISH: 16,
  PUBLISHED: 17,
  SUBSCRIBE: 32,
  SUBSCRIBED: 33,
  UNSUBSCRIBE: 34,
  UNSUBSCRIBED: 35,
  EVENT: 36,
  EVENT_RECEIVED: 337,
  CALL: 48,
  CANCEL: 49,
  RESULT: 50,
  REGISTER: 64,
  REGISTERED: 65,
  UNREGISTER: 66,
  UNREGISTERED: 67,
  INVOCATION: 68,
  INTERRUPT: 69,
  YIELD: 70,
} as const;

export type MessageTypeName = keyof typeof MessageType;
export type MessageCode = (typeof MessageType)[MessageTypeName];

export const MessageName: Record<number, MessageTypeName> = Object.fromEntries(
  Object.entries(MessageType).map(([k, v]) => [v, k as MessageTypeName]),
) as Record<number, MessageTypeName>;
