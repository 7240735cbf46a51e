/**
 * Registration meta API (WAMP 16.x "Registration Meta API", as Crossbar.io serves it).
 *
 * Procedures:
 * - `wamp.registration.list()` → {exact: [id], prefix: [id], wildcard: [id]}
 * - `wamp.registration.lookup(procedure, {match}?)` → id | null (exact/prefix/wildcard, default exact)
 * - `wamp.registration.match(procedure)` → id | null: the registration a CALL would invoke
 * - `wamp.registration.get(id)` → {id, created, uri, match, invoke} | ERROR no_such_registration
 * - `wamp.registration.list_callees(id)` → [session ID] | ERROR no_such_registration
 * - `wamp.registration.count_callees(id)` → number | ERROR no_such_registration
 * Events (published from the dealer's MetaSink hooks):
 * - `wamp.registration.on_create(session, details)`, `on_register(session, id)`,
 *   `on_unregister(session, id)`, `on_delete(session, id)`.
 * Procedures served by the router itself (the `wamp.*` ones) are not registrations and are not listed.
 */
import { MetaUri } from '../../wamp/meta-uris';
import { ErrorUri } from '../../wamp/errors';
import type { Dict } from '../../wamp/messages';
import { WampError } from '../../wamp/wamp-error';
import type { MatchPolicy } from '../../wamp/uri';
import type { MetaSink } from '../meta-events';
import type { Realm } from '../realm';

/** The registration meta API's URIs (declared once in wamp/meta-uris.ts). */
export const RegistrationMeta = MetaUri.registration;

export type RegistrationMetaSink = Pick<MetaSink, 'registrationCreated' | 'registered' | 'unregistered' | 'registrationDeleted'>;

function uriArg(args: unknown[], kwargs: Dict): string {
  const v = args.length > 0 ? args[0] : kwargs.procedure;
  if (typeof v !== 'string') throw new WampError(ErrorUri.INVALID_ARGUMENT, 'a procedure URI (string) is required');
  return v;
}

function idArg(args: unknown[], kwargs: Dict): number {
  const v = args.length > 0 ? args[0] : (kwargs.registration_id ?? kwargs.registration);
  if (typeof v !== 'number' || !Number.isInteger(v))
    throw new WampError(ErrorUri.INVALID_ARGUMENT, 'a registration ID (integer) is required');
  return v;
}

/** Installs the procedures and returns the MetaSink part that publishes the events. */
export function installRegistrationMeta(realm: Realm): RegistrationMetaSink {
  const d = realm.dealer;
  const get = (args: unknown[], kwargs: Dict) => {
    const id = idArg(args, kwargs);
    const r = d.getRegistration(id);
    if (r === undefined) throw new WampError(ErrorUri.NO_SUCH_REGISTRATION, `no registration ${id}`);
    return r;
  };

  d.registerInternal(RegistrationMeta.LIST, () => ({ args: [d.listRegistrations()] }));
  d.registerInternal(RegistrationMeta.LOOKUP, (_c, args, kwargs) => {
    const uri = uriArg(args, kwargs);
    const o = args.length > 1 ? args[1] : (kwargs.options ?? kwargs);
    const match = (o && typeof o === 'object' && !Array.isArray(o) ? (o as Dict).match : undefined) ?? 'exact';
    if (match !== 'exact' && match !== 'prefix' && match !== 'wildcard') {
      throw new WampError(ErrorUri.INVALID_ARGUMENT, `invalid match policy '${String(match)}'`);
    }
    return { args: [d.lookupRegistration(uri, match as MatchPolicy)?.id ?? null] };
  });
  d.registerInternal(RegistrationMeta.MATCH, (_c, args, kwargs) => ({ args: [d.matchRegistration(uriArg(args, kwargs))?.id ?? null] }));
  d.registerInternal(RegistrationMeta.GET, (_c, args, kwargs) => ({ args: [get(args, kwargs).details()] }));
  d.registerInternal(RegistrationMeta.LIST_CALLEES, (_c, args, kwargs) => ({ args: [get(args, kwargs).callees.map((s) => s.id)] }));
  d.registerInternal(RegistrationMeta.COUNT_CALLEES, (_c, args, kwargs) => ({ args: [get(args, kwargs).callees.length] }));

  const publish = (topic: string, args: unknown[]): void => {
    realm.broker.publishInternal(topic, args);
  };
  return {
    registrationCreated: (session, details) => publish(RegistrationMeta.ON_CREATE, [session, details]),
    registered: (session, id) => publish(RegistrationMeta.ON_REGISTER, [session, id]),
    unregistered: (session, id) => publish(RegistrationMeta.ON_UNREGISTER, [session, id]),
    registrationDeleted: (session, id) => publish(RegistrationMeta.ON_DELETE, [session, id]),
  };
}
