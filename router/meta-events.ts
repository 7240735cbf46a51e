/**
 * Hooks through which the broker and dealer report changes of their state. The meta API module
 * implements them and publishes the `wamp.subscription.on_*` / `wamp.registration.on_*` events;
 * the broker and dealer never know about meta topics.
 */
import type { Dict } from '../wamp/messages';

export interface MetaSink {
  subscriptionCreated(session: number, details: Dict): void; // wamp.subscription.on_create
  subscribed(session: number, subscription: number): void; // wamp.subscription.on_subscribe
  unsubscribed(session: number, subscription: number): void; // wamp.subscription.on_unsubscribe
  subscriptionDeleted(session: number, subscription: number): void; // wamp.subscription.on_delete
  registrationCreated(session: number, details: Dict): void; // wamp.registration.on_create
  registered(session: number, registration: number): void; // wamp.registration.on_register
  unregistered(session: number, registration: number): void; // wamp.registration.on_unregister
  registrationDeleted(session: number, registration: number): void; // wamp.registration.on_delete
}

export const noMeta: MetaSink = {
  subscriptionCreated() {},
  subscribed() {},
  unsubscribed() {},
  subscriptionDeleted() {},
  registrationCreated() {},
  registered() {},
  unregistered() {},
  registrationDeleted() {},
};
