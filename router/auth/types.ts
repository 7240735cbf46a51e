/**
 * Authentication methods (WAMP 14.5 "Authentication"). The handshake asks each method configured
 * on the transport, in the order the client offered them in HELLO.Details.authmethods.
 */
import type { Dict } from '../../wamp/messages';
import type { SessionIdentity } from '../session';

export interface HelloInfo {
  realm: string;
  details: Dict;
  /** HELLO.Details.authid, if any. */
  authid: string | undefined;
  /**
   * The session ID the router allocated for this handshake (as Crossbar.io does at HELLO); WELCOME
   * carries the same ID, so a method may put it in its CHALLENGE (wampcra does).
   */
  session: number;
}

/** Outcome of the first step: welcome now, send a CHALLENGE, or refuse. */
export type AuthStep =
  | { kind: 'welcome'; identity: SessionIdentity }
  | { kind: 'challenge'; extra: Dict; state: unknown }
  | { kind: 'refuse'; reason: string; message: string };

/** Outcome of AUTHENTICATE. */
export type AuthOutcome = { kind: 'welcome'; identity: SessionIdentity } | { kind: 'refuse'; reason: string; message: string };

export interface AuthMethod {
  /** 'anonymous' | 'ticket' | 'wampcra' */
  readonly name: string;
  hello(info: HelloInfo): AuthStep;
  authenticate(state: unknown, signature: string, extra: Dict): AuthOutcome;
}
