/** Authentication methods and the factory that builds a transport's list from its config. */
import type { AuthMethod } from './types';
import { AnonymousAuth, type AnonymousConfig } from './anonymous';
import { TicketAuth, type TicketPrincipal } from './ticket';
import { WampCraAuth, type WampCraUser } from './wampcra';

export * from './types';
export { AnonymousAuth, randomAuthid, type AnonymousConfig } from './anonymous';
export { TicketAuth, type TicketPrincipal } from './ticket';
export { WampCraAuth, deriveKey, signChallenge, type WampCraUser } from './wampcra';

/** A transport's `auth` block after config loading (secrets resolved). */
export interface AuthConfig {
  anonymous?: AnonymousConfig;
  ticket?: { principals: Record<string, TicketPrincipal> };
  wampcra?: { users: Record<string, WampCraUser> };
}

/**
 * The methods a transport offers. A transport without any `auth` block is anonymous-only with
 * role `anonymous` (Crossbar.io's behaviour), which `defaultAnonymousRole` can change.
 */
export function createAuthMethods(auth: AuthConfig, defaultAnonymousRole = 'anonymous'): AuthMethod[] {
  const methods: AuthMethod[] = [];
  if (auth.wampcra) methods.push(new WampCraAuth(auth.wampcra.users));
  if (auth.ticket) methods.push(new TicketAuth(auth.ticket.principals));
  if (auth.anonymous) methods.push(new AnonymousAuth(auth.anonymous));
  if (methods.length === 0) methods.push(new AnonymousAuth({ role: defaultAnonymousRole }));
  return methods;
}
