/**
 * The dealer: registrations and call routing (WAMP 6.x Remote Procedure Calls, 17.x advanced
 * RPC). Owns all registration and pending-call state of its realm.
 */
import type { Call, Cancel, Register, Unregister, Yield, ErrorMsg, Dict } from '../wamp';
import type { Realm } from './realm';
import type { Session } from './session';

/** A procedure served by the router itself (meta API). Returns [args, kwargs] or throws WampError. */
export type InternalProcedure = (caller: Session, args: unknown[], kwargs: Dict) => { args?: unknown[]; kwargs?: Dict };

export class Dealer {
  constructor(private readonly realm: Realm) {}
  register(_session: Session, _msg: Register): void { throw new Error('TODO'); }
  unregister(_session: Session, _msg: Unregister): void { throw new Error('TODO'); }
  call(_session: Session, _msg: Call): void { throw new Error('TODO'); }
  cancel(_session: Session, _msg: Cancel): void { throw new Error('TODO'); }
  yield(_session: Session, _msg: Yield): void { throw new Error('TODO'); }
  invocationError(_session: Session, _msg: ErrorMsg): void { throw new Error('TODO'); }
  registerInternal(_uri: string, _proc: InternalProcedure): void { throw new Error('TODO'); }
  removeSession(_session: Session): void { /* TODO */ }
}
