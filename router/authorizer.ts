/**
 * Authorization: may this session do `action` on `uri`? And does its role disclose the caller or
 * publisher identity to callees and subscribers? (Crossbar.io `roles[].permissions[]`.)
 */
import type { Session } from './session';

export type Action = 'call' | 'register' | 'publish' | 'subscribe';
export type Disclose = 'caller' | 'publisher';

export interface Authorizer {
  authorize(session: Session, uri: string, action: Action): boolean;
  /** Whether the role discloses the caller/publisher; `uri` is the procedure or topic (Crossbar decides per permission). */
  disclose(session: Session, what: Disclose, uri?: string): boolean;
  /** Whether `role` exists on the realm; without it, any role is accepted. */
  hasRole?(role: string): boolean;
}

/** The dev router's authorizer: everything is allowed, identities are not disclosed unless asked. */
export const allowAll: Authorizer = {
  authorize: () => true,
  disclose: () => false,
};
