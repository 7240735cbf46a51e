/**
 * The broker: subscriptions and event delivery (WAMP 5.x Publish & Subscribe, 16.x advanced
 * pub/sub: publisher exclusion and identification, subscriber black/white-listing,
 * pattern-based subscriptions, payload passthru, subscription meta API state). Owns all
 * subscription state of its realm; every state change happens synchronously inside one handler.
 */
import { MessageType as T } from '../wamp/codes';
import { ErrorUri } from '../wamp/errors';
import { withArgs, type Args, type Dict, type Kwargs, type Publish, type Subscribe, type Unsubscribe } from '../wamp/messages';
import { WampError } from '../wamp/wamp-error';
import { randomId } from '../wamp/ids';
import { isReserved, isValidPattern, isValidUri, type MatchPolicy } from '../wamp/uri';
import type { Serializer } from '../transport/types';
import { PatternTable } from './pattern-table';
import type { Realm } from './realm';
import type { Session } from './session';

/** One subscription: a (topic or pattern, match policy) pair shared by all its subscribers. */
export interface Subscription {
  readonly id: number;
  readonly uri: string;
  readonly match: MatchPolicy;
  /** ISO 8601 time of creation (subscription meta API `created`). */
  readonly created: string;
  /** session ID → subscribed session */
  readonly subscribers: Map<number, Session>;
}

/** Receiver restrictions of one publication (WAMP 16.x "Subscriber Black- and Whitelisting"). */
interface Filter {
  exclude: Set<number> | null;
  excludeAuthid: Set<string> | null;
  excludeAuthrole: Set<string> | null;
  eligible: Set<number> | null;
  eligibleAuthid: Set<string> | null;
  eligibleAuthrole: Set<string> | null;
}

/** Restrictions a router-originated publication may carry (same semantics as PUBLISH.Options). */
export interface InternalPublishOptions {
  exclude?: number[];
  exclude_authid?: string[];
  exclude_authrole?: string[];
  eligible?: number[];
  eligible_authid?: string[];
  eligible_authrole?: string[];
}

const MATCH_POLICIES: ReadonlySet<string> = new Set(['exact', 'prefix', 'wildcard']);

/** Subscriptions to the router's own topics (`wamp.*`) are hidden from the meta API and do not
 * trigger meta events, as Crossbar.io does (no feedback loop for on_subscribe subscribers). */
export function isMetaTopic(uri: string): boolean {
  return isReserved(uri);
}

function invalid(what: string): never {
  throw new WampError(ErrorUri.INVALID_ARGUMENT, what);
}

function optBool(options: Dict, key: string): boolean | undefined {
  const v = options[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') invalid(`option '${key}' must be a boolean`);
  return v;
}

function optIds(options: Dict, key: string): Set<number> | null {
  const v = options[key];
  if (v === undefined || v === null) return null;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isInteger(x)))
    invalid(`option '${key}' must be a list of session IDs`);
  return new Set(v as number[]);
}

function optStrings(options: Dict, key: string): Set<string> | null {
  const v = options[key];
  if (v === undefined || v === null) return null;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) invalid(`option '${key}' must be a list of strings`);
  return new Set(v as string[]);
}

/**
 * The receiver filter of a publication's black/white-list options, or null when it has none (the
 * common case: nothing parsed, nothing allocated). Publisher exclusion is handled apart from it.
 */
function makeFilter(options: Dict): Filter | null {
  if (
    options.exclude === undefined &&
    options.exclude_authid === undefined &&
    options.exclude_authrole === undefined &&
    options.eligible === undefined &&
    options.eligible_authid === undefined &&
    options.eligible_authrole === undefined
  )
    return null;
  const f: Filter = {
    exclude: optIds(options, 'exclude'),
    excludeAuthid: optStrings(options, 'exclude_authid'),
    excludeAuthrole: optStrings(options, 'exclude_authrole'),
    eligible: optIds(options, 'eligible'),
    eligibleAuthid: optStrings(options, 'eligible_authid'),
    eligibleAuthrole: optStrings(options, 'eligible_authrole'),
  };
  if (
    f.exclude === null &&
    f.excludeAuthid === null &&
    f.excludeAuthrole === null &&
    f.eligible === null &&
    f.eligibleAuthid === null &&
    f.eligibleAuthrole === null
  )
    return null;
  return f;
}

/** Whether `s` may receive a publication restricted by `f` (WAMP 16.x: the six list rules hold). */
function allowed(f: Filter, s: Session): boolean {
  if (f.eligible !== null && !f.eligible.has(s.id)) return false;
  if (f.eligibleAuthid !== null && !f.eligibleAuthid.has(s.authid)) return false;
  if (f.eligibleAuthrole !== null && !f.eligibleAuthrole.has(s.authrole)) return false;
  if (f.exclude !== null && f.exclude.has(s.id)) return false;
  if (f.excludeAuthid !== null && f.excludeAuthid.has(s.authid)) return false;
  if (f.excludeAuthrole !== null && f.excludeAuthrole.has(s.authrole)) return false;
  return true;
}

export class Broker {
  /** subscription ID → subscription (every match policy) */
  private readonly byId = new Map<number, Subscription>();
  /** (topic or pattern, match policy) → subscription; an exact topic is one lookup per publication */
  private readonly table = new PatternTable<Subscription>();
  /** session ID → the subscriptions it is attached to (reverse index for cleanup on leave) */
  private readonly bySession = new Map<number, Set<Subscription>>();

  constructor(private readonly realm: Realm) {}

  // -------------------------------------------------------------------------------------------
  // SUBSCRIBE / UNSUBSCRIBE

  subscribe(session: Session, msg: Subscribe): void {
    const strict = this.realm.options.strictUris;
    const m = msg.options.match;
    // WAMP 16.x "Pattern-based Subscription": Options.match is "exact" (default), "prefix" or "wildcard".
    if (m !== undefined && (typeof m !== 'string' || !MATCH_POLICIES.has(m))) {
      invalid(`invalid value ${JSON.stringify(m)} for option 'match'`);
    }
    const match = (m ?? 'exact') as MatchPolicy;
    // WAMP 2.1.1 / 16.x: the topic must be a valid URI, or a valid pattern for its policy.
    if (!isValidPattern(msg.topic, match, strict)) {
      throw new WampError(ErrorUri.INVALID_URI, `invalid topic URI '${msg.topic}' for match policy '${match}'`);
    }
    this.realm.authorize(session, msg.topic, 'subscribe');

    let sub = this.find(msg.topic, match);
    const created = sub === undefined;
    const already = sub !== undefined && sub.subscribers.has(session.id);
    if (!already) {
      // Memory bound: each subscription costs router memory, and each pattern one costs every
      // publication a look. A repeated SUBSCRIBE of one the session holds is always answered.
      const max = this.realm.maxSubscriptionsPerSession;
      const held = this.bySession.get(session.id)?.size ?? 0;
      if (held >= max) {
        throw new WampError(
          ErrorUri.LIMIT_EXCEEDED,
          `this session already holds ${held} subscriptions, the router's limit ` +
            `(max_subscriptions_per_session = ${max}); unsubscribe from one first`,
        );
      }
    }
    if (sub === undefined) sub = this.create(msg.topic, match);
    if (!already) {
      sub.subscribers.set(session.id, session);
      let mine = this.bySession.get(session.id);
      if (mine === undefined) this.bySession.set(session.id, (mine = new Set()));
      mine.add(sub);
    }
    // WAMP 5.4.2: a repeated SUBSCRIBE for the same topic gets the same Subscription ID.
    session.send({ type: T.SUBSCRIBED, request: msg.request, subscription: sub.id });

    if (!already && !isMetaTopic(sub.uri)) {
      if (created) this.realm.meta.subscriptionCreated(session.id, subscriptionDetails(sub));
      this.realm.meta.subscribed(session.id, sub.id);
    }
  }

  unsubscribe(session: Session, msg: Unsubscribe): void {
    const sub = this.byId.get(msg.subscription);
    // WAMP 5.4.4: unknown subscription, or one this session is not attached to.
    if (sub === undefined || !sub.subscribers.has(session.id)) {
      throw new WampError(ErrorUri.NO_SUCH_SUBSCRIPTION, `no subscription ${msg.subscription} for this session`);
    }
    this.detach(session, sub);
    const mine = this.bySession.get(session.id);
    if (mine !== undefined) {
      mine.delete(sub);
      if (mine.size === 0) this.bySession.delete(session.id);
    }
    session.send({ type: T.UNSUBSCRIBED, request: msg.request });
    this.detached(session.id, sub);
  }

  /** Removes every subscription of a session that left (meta: on_unsubscribe, on_delete). */
  removeSession(session: Session): void {
    const mine = this.bySession.get(session.id);
    if (mine === undefined) return;
    this.bySession.delete(session.id);
    for (const sub of mine) this.detach(session, sub);
    for (const sub of mine) this.detached(session.id, sub);
  }

  // -------------------------------------------------------------------------------------------
  // PUBLISH

  publish(session: Session, msg: Publish): void {
    const options = msg.options;
    const acknowledge = options.acknowledge === true;
    try {
      this.doPublish(session, msg, acknowledge);
    } catch (e) {
      // WAMP 5.5.2 / autobahn: an ERROR is only sent for an acknowledged publication; a client
      // that did not ask for acknowledgement has no pending request and would treat the ERROR as
      // a protocol violation (Crossbar.io drops the error likewise).
      if (acknowledge || !(e instanceof WampError)) throw e;
    }
  }

  private doPublish(session: Session, msg: Publish, acknowledge: boolean): void {
    const { options, topic } = msg;
    // An exact subscription exists only for a valid topic (subscribe() validated it): skip the
    // URI check then. Reserved topics (`wamp.*`, which clients may subscribe to) are still refused.
    if (this.table.exact(topic) === undefined && !isValidUri(topic, this.realm.options.strictUris)) {
      // WAMP 2.1.1: the topic of a publication is a full URI, never a pattern.
      throw new WampError(ErrorUri.INVALID_URI, `invalid topic URI '${topic}'`);
    }
    // WAMP 2.1.1: URIs under `wamp.` are reserved; only the router publishes meta events.
    if (isReserved(topic)) {
      throw new WampError(ErrorUri.INVALID_URI, `topic URI '${topic}' is reserved for the router`);
    }
    // WAMP 16.x "Publisher Exclusion": exclude_me defaults to true.
    const excludeMe = optBool(options, 'exclude_me') ?? true;
    const discloseMe = optBool(options, 'disclose_me') ?? false;
    const filter = makeFilter(options);
    // One permission lookup: may publish, and does the publisher's role disclose it (authorizer.disclose).
    const roleDiscloses = this.realm.authorizeDisclose(session, topic, 'publish');

    const publication = randomId();
    const details: Dict = {};
    // WAMP 16.x "Publisher Identification": on request, or when the publisher's role discloses it.
    if (discloseMe || roleDiscloses) {
      details.publisher = session.id;
      details.publisher_authid = session.authid;
      details.publisher_authrole = session.authrole;
    }
    // WAMP 14.x "Payload Passthru Mode": ppt_* (and the older enc_*) options travel to EVENT.Details.
    for (const k in options) {
      if (k.startsWith('ppt_') || k.startsWith('enc_')) details[k] = options[k];
    }
    if (acknowledge) session.send({ type: T.PUBLISHED, request: msg.request, publication });
    this.dispatch(topic, publication, details, msg.args, msg.kwargs, filter, excludeMe ? session : null);
  }

  /**
   * Router-originated publication (meta events): no publisher to exclude or disclose, no URI or
   * authorization checks; delivered to every matching subscription, patterns included.
   */
  publishInternal(topic: string, args?: Args, kwargs?: Kwargs, options: InternalPublishOptions = {}): number {
    const publication = randomId();
    this.dispatch(topic, publication, {}, args, kwargs, makeFilter(options as Dict), null);
    return publication;
  }

  /** Delivers one publication to every subscription matching `topic`. */
  private dispatch(
    topic: string,
    publication: number,
    details: Dict,
    args: Args | undefined,
    kwargs: Kwargs | undefined,
    filter: Filter | null,
    excludeMe: Session | null,
  ): void {
    const ex = this.table.exact(topic);
    if (ex !== undefined) this.deliver(ex, publication, details, args, kwargs, filter, excludeMe);
    if (!this.table.hasPatterns) return;

    // Pattern subscriptions carry the actual topic (WAMP 16.x: EVENT.Details.topic). Collect
    // the matches first: delivery may run code (meta events on a slow consumer's removal) that
    // changes the maps. Order: prefixes by ascending length, then wildcards in creation order.
    const matches = this.table.patternMatches(topic);
    if (matches.length === 0) return;
    const patternDetails: Dict = { ...details, topic };
    for (const sub of matches) this.deliver(sub, publication, patternDetails, args, kwargs, filter, excludeMe);
  }

  /**
   * Sends one EVENT to the eligible subscribers of `sub`. The frame is encoded once per
   * serializer and the same Buffer goes to every subscriber using that serializer.
   */
  private deliver(
    sub: Subscription,
    publication: number,
    details: Dict,
    args: Args | undefined,
    kwargs: Kwargs | undefined,
    filter: Filter | null,
    excludeMe: Session | null,
  ): void {
    let event: unknown[] | null = null;
    // Up to three serializers (json, msgpack, cbor): a tiny inline cache, no allocation per subscriber.
    let s1: Serializer | null = null;
    let f1: Buffer | null = null;
    let s2: Serializer | null = null;
    let f2: Buffer | null = null;
    let s3: Serializer | null = null;
    let f3: Buffer | null = null;
    for (const s of sub.subscribers.values()) {
      if (s === excludeMe || (filter !== null && !allowed(filter, s))) continue;
      const ser = s.serializer;
      let frame: Buffer;
      if (ser === s1) frame = f1!;
      else if (ser === s2) frame = f2!;
      else if (ser === s3) frame = f3!;
      else {
        if (event === null) event = withArgs([T.EVENT, sub.id, publication, details], args, kwargs);
        frame = ser.encode(event);
        if (s1 === null) {
          s1 = ser;
          f1 = frame;
        } else if (s2 === null) {
          s2 = ser;
          f2 = frame;
        } else {
          s3 = ser;
          f3 = frame;
        }
      }
      s.sendFrame(frame);
    }
  }

  // -------------------------------------------------------------------------------------------
  // State (also read by the subscription meta API)

  /** The subscription for (uri, match), if any. */
  find(uri: string, match: MatchPolicy): Subscription | undefined {
    return this.table.get(uri, match);
  }

  /** The subscription with this ID, if any. */
  get(id: number): Subscription | undefined {
    return this.byId.get(id);
  }

  /** Every subscription, in creation order. */
  subscriptions(): IterableIterator<Subscription> {
    return this.byId.values();
  }

  /** Every subscription that a publication to `topic` would be delivered through. */
  matching(topic: string): Subscription[] {
    return this.table.matches(topic);
  }

  /** Subscriptions a session is attached to. */
  subscriptionsOf(sessionId: number): ReadonlySet<Subscription> {
    return this.bySession.get(sessionId) ?? new Set();
  }

  private create(uri: string, match: MatchPolicy): Subscription {
    let id = randomId();
    while (this.byId.has(id)) id = randomId();
    const sub: Subscription = { id, uri, match, created: new Date().toISOString(), subscribers: new Map() };
    this.byId.set(id, sub);
    this.table.set(uri, match, sub);
    return sub;
  }

  private destroy(sub: Subscription): void {
    this.byId.delete(sub.id);
    this.table.delete(sub.uri, sub.match);
  }

  /** Detaches a session from a subscription; destroys the subscription when it was the last. */
  private detach(session: Session, sub: Subscription): void {
    sub.subscribers.delete(session.id);
    if (sub.subscribers.size === 0) this.destroy(sub);
  }

  /** Meta events after a detach (WAMP: on_unsubscribe, then on_delete when it was the last). */
  private detached(sessionId: number, sub: Subscription): void {
    if (isMetaTopic(sub.uri)) return;
    this.realm.meta.unsubscribed(sessionId, sub.id);
    if (sub.subscribers.size === 0 && this.byId.get(sub.id) !== sub) this.realm.meta.subscriptionDeleted(sessionId, sub.id);
  }
}

/** SubscriptionDetails of the subscription meta API. */
export function subscriptionDetails(sub: Subscription): Dict {
  return { id: sub.id, created: sub.created, uri: sub.uri, match: sub.match };
}
