/**
 * Where the shared test vectors are: `../shared/vectors` beside the clone (as CI lays it out), or
 * `$G3_VECTORS` for the G3 files. On CI (CI or SISOCK_REQUIRE_SERVICES set) a missing folder fails
 * the suite instead of skipping it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { servicesRequired } from './services';

export const SHARED_VECTORS = path.resolve(__dirname, '../../../shared/vectors');
export const G3_VECTORS = process.env.G3_VECTORS ?? path.join(SHARED_VECTORS, 'g3');

/** True when the G3 vectors are there; throws on CI when they are not. */
export function haveG3Vectors(): boolean {
  const have = fs.existsSync(G3_VECTORS);
  if (!have && servicesRequired()) {
    throw new Error(`the G3 test vectors are missing: expected ${G3_VECTORS} (shared/ beside the clone, or set G3_VECTORS)`);
  }
  return have;
}
