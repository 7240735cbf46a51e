/**
 * The broker: subscriptions and event delivery (WAMP 5.x Publish & Subscribe, 16.x advanced
 * pub/sub). Owns all subscription state of its realm.
 */
import type { Publish, Subscribe, Unsubscribe, Dict } from '../wamp';
import type { Realm } from './realm';
import type { Session } from './session';

export class Broker {
  constructor(private readonly realm: Realm) {}
  subscribe(_session: Session, _msg: Subscribe): void { throw new Error('TODO'); }
  unsubscribe(_session: Session, _msg: Unsubscribe): void { throw new Error('TODO'); }
  publish(_session: Session, _msg: Publish): void { throw new Error('TODO'); }
  /** Router-originated publication (meta events). Honours the same delivery rules. */
  publishInternal(_topic: string, _args?: unknown[], _kwargs?: Dict): void { throw new Error('TODO'); }
  removeSession(_session: Session): void { /* TODO */ }
}
