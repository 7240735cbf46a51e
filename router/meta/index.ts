/**
 * The WAMP meta API (session, subscription and registration meta procedures and events), served
 * by the router itself: procedures through the dealer's internal procedures, events through the
 * broker's internal publications. `installMetaApi` composes one MetaSink for `realm.meta`.
 */
import type { MetaSink } from '../meta-events';
import type { Realm } from '../realm';
import { installRegistrationMeta } from './registration-meta';
import { installSessionMeta } from './session-meta';
import { installSubscriptionMeta, subscriptionMetaSink } from './subscription-meta';

export { SessionMeta } from './session-meta';
export { RegistrationMeta } from './registration-meta';
export { SubscriptionMeta } from './subscription-meta';

export function installMetaApi(realm: Realm): void {
  installSessionMeta(realm);
  installSubscriptionMeta(realm);
  const registrations = installRegistrationMeta(realm);
  const subscriptions = subscriptionMetaSink(realm);
  const sink: MetaSink = { ...subscriptions, ...registrations };
  realm.meta = sink;
}
