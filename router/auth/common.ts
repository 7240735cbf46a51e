/** Helpers shared by the authentication methods. */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ErrorUri } from '../../wamp/errors';
import type { AuthOutcome } from './types';

/**
 * The one refusal every method gives for bad credentials: it does not say whether the authid,
 * the secret or the signature was wrong.
 */
export const REFUSED: AuthOutcome & { kind: 'refuse' } = {
  kind: 'refuse',
  reason: ErrorUri.NOT_AUTHORIZED,
  message: 'authentication failed',
};

/** Constant-time string equality (both sides are hashed first, so lengths do not leak). */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a, 'utf8').digest();
  const hb = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}

/** A per-process secret key for values that must look real but be fake (unknown authids). */
const FAKE_KEY = randomBytes(32);

/** Deterministic pseudo-random bytes for `label` (same authid → same fake values). */
export function fakeBytes(label: string, n: number): Buffer {
  const out: Buffer[] = [];
  let total = 0;
  for (let i = 0; total < n; i++) {
    const b = createHmac('sha256', FAKE_KEY).update(`${i}\u0000${label}`).digest();
    out.push(b);
    total += b.length;
  }
  return Buffer.concat(out).subarray(0, n);
}

/** Random string from the base64url alphabet, like autobahn's `util.newid(length)`. */
export function newId(length: number): string {
  return randomBytes(Math.ceil((length * 3) / 4) + 1)
    .toString('base64url')
    .slice(0, length);
}
