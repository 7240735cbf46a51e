/**
 * WAMP-Anonymous (Crossbar.io `auth.anonymous {type: "static", role}`): every client is welcome
 * under the configured role. The authid is the one the client asked for in HELLO, else a random
 * one shaped like Crossbar's (`XXXX-XXXX-XXXX-XXXX-XXXX-XXXX`).
 */
import { randomBytes } from 'node:crypto';
import type { AuthMethod, AuthOutcome, AuthStep, HelloInfo } from './types';
import { REFUSED } from './common';

export interface AnonymousConfig {
  role: string;
}

const ALPHABET = '3479ACEFHJKLMNPRTUVWXY'; // Crossbar's serial-number alphabet: no look-alikes

export function randomAuthid(): string {
  const bytes = randomBytes(24);
  let s = '';
  for (const [i, b] of bytes.entries()) {
    if (i > 0 && i % 4 === 0) s += '-';
    s += ALPHABET[b % ALPHABET.length];
  }
  return s;
}

export class AnonymousAuth implements AuthMethod {
  readonly name = 'anonymous';

  constructor(private readonly config: AnonymousConfig) {}

  hello(_info: HelloInfo): AuthStep {
    return {
      kind: 'welcome',
      identity: {
        // Like Crossbar, ignore HELLO.authid: an anonymous peer must not pick an identity that
        // eligible_authid, kill_by_authid or caller disclosure would trust.
        authid: randomAuthid(),
        authrole: this.config.role,
        authmethod: 'anonymous',
        authprovider: 'static',
      },
    };
  }

  authenticate(): AuthOutcome {
    // Anonymous never sends a CHALLENGE, so an AUTHENTICATE cannot belong to it.
    return REFUSED;
  }
}
