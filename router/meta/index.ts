/**
 * The WAMP meta API (session, subscription and registration meta procedures and events), served
 * by the router itself through internal procedures and internal publications.
 */
import type { Realm } from '../realm';

export function installMetaApi(_realm: Realm): void {
  // TODO: session, subscription and registration meta API
}
