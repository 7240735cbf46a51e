/**
 * WAMP ID generation (WAMP 2.1.2 "IDs"):
 * - global scope (session IDs, publication IDs): random, uniformly distributed in [1, 2^53];
 * - router scope (subscription, registration IDs): may be anything unique within the router;
 *   we use random ones too so that they cannot be guessed across sessions;
 * - session scope (request IDs, and the router's INVOCATION IDs towards one callee):
 *   sequential, starting at 1, one counter per direction.
 */
import { randomBytes } from 'node:crypto';
import { MAX_ID } from './messages';

const POOL = 4096; // 8-byte words fetched at once: one syscall per 512 IDs
let pool = Buffer.alloc(0);
let offset = 0;

/** A random integer in [1, 2^53]. */
export function randomId(): number {
  if (offset + 8 > pool.length) {
    pool = randomBytes(POOL);
    offset = 0;
  }
  // 53 random bits: high 21 bits of the first word and all 32 of the second.
  const hi = pool.readUInt32BE(offset) >>> 11;
  const lo = pool.readUInt32BE(offset + 4);
  offset += 8;
  const v = hi * 0x100000000 + lo; // in [0, 2^53 - 1]
  return v + 1; // in [1, 2^53]
}

/** Sequential session-scope IDs: 1, 2, 3, … wrapping after 2^53 back to 1. */
export class IdSequence {
  private last = 0;
  next(): number {
    this.last = this.last >= MAX_ID ? 1 : this.last + 1;
    return this.last;
  }
}
