/**
 * WAMP-Ticket (Crossbar.io `auth.ticket {type: "static", principals: {authid: {ticket, role}}}`):
 * CHALLENGE `ticket` with `{}`, AUTHENTICATE carries the ticket itself. Unknown authids get the
 * same CHALLENGE and the same refusal as a wrong ticket.
 */
import { randomBytes } from 'node:crypto';
import type { Dict } from '../../wamp/messages';
import type { AuthMethod, AuthOutcome, AuthStep, HelloInfo } from './types';
import { REFUSED, safeEqual } from './common';

export interface TicketPrincipal {
  ticket: string;
  role: string;
}

interface TicketState {
  authid: string;
  principal: TicketPrincipal | undefined;
}

export class TicketAuth implements AuthMethod {
  readonly name = 'ticket';
  /** authid → principal */
  private readonly principals: Map<string, TicketPrincipal>;

  constructor(principals: Record<string, TicketPrincipal>) {
    this.principals = new Map(Object.entries(principals));
  }

  hello(info: HelloInfo): AuthStep {
    if (info.authid === undefined) {
      return { kind: 'refuse', reason: REFUSED.reason, message: 'ticket authentication needs HELLO.Details.authid' };
    }
    const state: TicketState = { authid: info.authid, principal: this.principals.get(info.authid) };
    return { kind: 'challenge', extra: {}, state };
  }

  authenticate(state: unknown, signature: string, _extra: Dict): AuthOutcome {
    const st = state as TicketState;
    const given = typeof signature === 'string' ? signature : '';
    // Compare against something in every case, so that timing does not tell whether the
    // principal exists.
    const expected = st.principal ? st.principal.ticket : randomBytes(24).toString('base64');
    const ok = safeEqual(given, expected);
    if (!ok || !st.principal) return REFUSED;
    return {
      kind: 'welcome',
      identity: { authid: st.authid, authrole: st.principal.role, authmethod: 'ticket', authprovider: 'static' },
    };
  }
}
