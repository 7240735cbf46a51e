/**
 * The WAMP Subscription Meta API (WAMP 16.x "Subscription Meta API"): the `wamp.subscription.*`
 * procedures, served through the dealer's internal procedures, and the `wamp.subscription.on_*`
 * events, published through the broker.
 *
 * As in Crossbar.io, subscriptions to the router's own topics (`wamp.*`) are invisible to callers
 * whose authrole is not `trusted`, and never cause meta events.
 */
import { MetaUri } from '../../wamp/meta-uris';
import { ErrorUri } from '../../wamp/errors';
import type { Dict } from '../../wamp/messages';
import { WampError } from '../../wamp/wamp-error';
import type { MatchPolicy } from '../../wamp/uri';
import { isMetaTopic, subscriptionDetails, type Subscription } from '../broker';
import type { InternalProcedure } from '../dealer';
import type { MetaSink } from '../meta-events';
import type { Realm } from '../realm';
import type { Session } from '../session';

/** The subscription meta API's URIs (declared once in wamp/meta-uris.ts). */
export const SubscriptionMeta = MetaUri.subscription;

/** The MetaSink methods of subscriptions, publishing the four meta events through the broker. */
export type SubscriptionMetaSink = Pick<MetaSink, 'subscriptionCreated' | 'subscribed' | 'unsubscribed' | 'subscriptionDeleted'>;

export function subscriptionMetaSink(realm: Realm): SubscriptionMetaSink {
  return {
    subscriptionCreated: (session, details) => {
      realm.broker.publishInternal(SubscriptionMeta.ON_CREATE, [session, details]);
    },
    subscribed: (session, id) => {
      realm.broker.publishInternal(SubscriptionMeta.ON_SUBSCRIBE, [session, id]);
    },
    unsubscribed: (session, id) => {
      realm.broker.publishInternal(SubscriptionMeta.ON_UNSUBSCRIBE, [session, id]);
    },
    subscriptionDeleted: (session, id) => {
      realm.broker.publishInternal(SubscriptionMeta.ON_DELETE, [session, id]);
    },
  };
}

/** Whether `caller` may see `sub` (Crossbar.io: `wamp.`/`crossbar.` topics only for role `trusted`). */
function visible(sub: Subscription, caller: Session): boolean {
  if (caller.authrole === 'trusted') return true;
  return !isMetaTopic(sub.uri) && !sub.uri.startsWith('crossbar.');
}

function topicArg(args: unknown[]): string {
  const t = args[0];
  if (typeof t !== 'string') throw new WampError(ErrorUri.INVALID_ARGUMENT, 'expected the topic URI as first argument');
  return t;
}

function visibleSubscription(realm: Realm, caller: Session, args: unknown[]): Subscription {
  const id = args[0];
  if (typeof id !== 'number' || !Number.isInteger(id))
    throw new WampError(ErrorUri.INVALID_ARGUMENT, 'expected a subscription ID as first argument');
  const sub = realm.broker.get(id);
  if (sub === undefined || !visible(sub, caller)) throw new WampError(ErrorUri.NO_SUCH_SUBSCRIPTION, `no subscription ${id}`);
  return sub;
}

/** The subscription meta procedures: URI → handler. */
export function subscriptionMetaProcedures(realm: Realm): Record<string, InternalProcedure> {
  const broker = realm.broker;
  return {
    [SubscriptionMeta.LIST]: (caller) => {
      const out: Record<MatchPolicy, number[]> = { exact: [], prefix: [], wildcard: [] };
      for (const sub of broker.subscriptions()) if (visible(sub, caller)) out[sub.match].push(sub.id);
      return { args: [out] };
    },
    [SubscriptionMeta.LOOKUP]: (caller, args) => {
      const topic = topicArg(args);
      const options = args[1] ?? {};
      if (typeof options !== 'object' || options === null || Array.isArray(options))
        throw new WampError(ErrorUri.INVALID_ARGUMENT, 'options must be a dictionary');
      const match = (options as Dict).match ?? 'exact';
      if (match !== 'exact' && match !== 'prefix' && match !== 'wildcard')
        throw new WampError(ErrorUri.INVALID_ARGUMENT, `invalid match policy ${JSON.stringify(match)}`);
      const sub = broker.find(topic, match);
      return { args: [sub !== undefined && visible(sub, caller) ? sub.id : null] };
    },
    [SubscriptionMeta.MATCH]: (caller, args) => {
      const ids = broker
        .matching(topicArg(args))
        .filter((s) => visible(s, caller))
        .map((s) => s.id);
      return { args: [ids.length > 0 ? ids : null] };
    },
    [SubscriptionMeta.GET]: (caller, args) => ({ args: [subscriptionDetails(visibleSubscription(realm, caller, args))] }),
    [SubscriptionMeta.LIST_SUBSCRIBERS]: (caller, args) => ({ args: [[...visibleSubscription(realm, caller, args).subscribers.keys()]] }),
    [SubscriptionMeta.COUNT_SUBSCRIBERS]: (caller, args) => ({ args: [visibleSubscription(realm, caller, args).subscribers.size] }),
  };
}

/** Registers the subscription meta procedures on the realm's dealer. */
export function installSubscriptionMeta(realm: Realm): void {
  for (const [uri, proc] of Object.entries(subscriptionMetaProcedures(realm))) realm.dealer.registerInternal(uri, proc);
}
