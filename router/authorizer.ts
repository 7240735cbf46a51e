/**
 * Authorization: may this session do `action` on `uri`? And does its role disclose the caller or
 * publisher identity to callees and subscribers? (Crossbar.io `roles[].permissions[]`.)
 */
import type { Session } from './session';

export type Action = 'call' | 'register' | 'publish' | 'subscribe';
export type Disclose = 'caller' | 'publisher';

/** Outcome of Authorizer.decide: denied, allowed, or allowed and the caller/publisher identity is disclosed. */
export type Decision = 0 | 1 | 2;
export const DENIED = 0;
export const ALLOWED = 1;
export const DISCLOSED = 2;

export interface Authorizer {
  authorize(session: Session, uri: string, action: Action): boolean;
  /** Whether the role discloses the caller/publisher; `uri` is the procedure or topic (Crossbar decides per permission). */
  disclose(session: Session, what: Disclose, uri?: string): boolean;
  /**
   * Optional one-lookup form of `authorize(session, uri, action)` followed by
   * `disclose(session, action === 'call' ? 'caller' : 'publisher', uri)`, used on the CALL and
   * PUBLISH hot paths. Must answer exactly as those two would; without it the realm calls both.
   */
  decide?(session: Session, uri: string, action: 'call' | 'publish'): Decision;
  /** Whether `role` exists on the realm; without it, any role is accepted. */
  hasRole?(role: string): boolean;
}

/** The dev router's authorizer: everything is allowed, identities are not disclosed unless asked. */
export const allowAll: Authorizer = {
  authorize: () => true,
  disclose: () => false,
  decide: () => ALLOWED,
};
