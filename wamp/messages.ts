/**
 * WAMP messages as a tagged union, and the conversion between the array form that goes on the
 * wire and this typed form. Pure: no I/O. `parseMessage` enforces the message shapes of the WAMP
 * spec ("Message Definitions") and throws ProtocolViolation for anything else, including an ID
 * of 0 anywhere but UNSUBSCRIBED/UNREGISTERED.Request (router-initiated revocation).
 */
import { MessageType as T, MessageName } from './codes';
import { ProtocolViolation } from './protocol-error';

export type Dict = Record<string, unknown>;
export type Id = number;
/** Positional payload: a list, or (payload passthru mode, WAMP 14.x) an opaque binary. */
export type Args = unknown[] | Uint8Array;
export type Kwargs = Dict;

interface WithPayload {
  args?: Args;
  kwargs?: Kwargs;
}

export interface Hello {
  type: typeof T.HELLO;
  realm: string;
  details: Dict;
}
export interface Welcome {
  type: typeof T.WELCOME;
  session: Id;
  details: Dict;
}
export interface Abort extends WithPayload {
  type: typeof T.ABORT;
  details: Dict;
  reason: string;
}
export interface Challenge {
  type: typeof T.CHALLENGE;
  authmethod: string;
  extra: Dict;
}
export interface Authenticate {
  type: typeof T.AUTHENTICATE;
  signature: string;
  extra: Dict;
}
export interface Goodbye {
  type: typeof T.GOODBYE;
  details: Dict;
  reason: string;
}
export interface ErrorMsg extends WithPayload {
  type: typeof T.ERROR;
  requestType: number;
  request: Id;
  details: Dict;
  error: string;
}
export interface Publish extends WithPayload {
  type: typeof T.PUBLISH;
  request: Id;
  options: Dict;
  topic: string;
}
export interface Published {
  type: typeof T.PUBLISHED;
  request: Id;
  publication: Id;
}
export interface Subscribe {
  type: typeof T.SUBSCRIBE;
  request: Id;
  options: Dict;
  topic: string;
}
export interface Subscribed {
  type: typeof T.SUBSCRIBED;
  request: Id;
  subscription: Id;
}
export interface Unsubscribe {
  type: typeof T.UNSUBSCRIBE;
  request: Id;
  subscription: Id;
}
/** `request` is 0 and `details` carries `subscription`/`reason` when the router revokes (WAMP 14.x). */
export interface Unsubscribed {
  type: typeof T.UNSUBSCRIBED;
  request: Id;
  details?: Dict;
}
export interface Event extends WithPayload {
  type: typeof T.EVENT;
  subscription: Id;
  publication: Id;
  details: Dict;
}
export interface EventReceived extends WithPayload {
  type: typeof T.EVENT_RECEIVED;
  publication: Id;
  details?: Dict;
}
export interface Call extends WithPayload {
  type: typeof T.CALL;
  request: Id;
  options: Dict;
  procedure: string;
}
export interface Cancel {
  type: typeof T.CANCEL;
  request: Id;
  options: Dict;
}
export interface Result extends WithPayload {
  type: typeof T.RESULT;
  request: Id;
  details: Dict;
}
export interface Register {
  type: typeof T.REGISTER;
  request: Id;
  options: Dict;
  procedure: string;
}
export interface Registered {
  type: typeof T.REGISTERED;
  request: Id;
  registration: Id;
}
export interface Unregister {
  type: typeof T.UNREGISTER;
  request: Id;
  registration: Id;
}
export interface Unregistered {
  type: typeof T.UNREGISTERED;
  request: Id;
  details?: Dict;
}
export interface Invocation extends WithPayload {
  type: typeof T.INVOCATION;
  request: Id;
  registration: Id;
  details: Dict;
}
export interface Interrupt {
  type: typeof T.INTERRUPT;
  request: Id;
  options: Dict;
}
export interface Yield extends WithPayload {
  type: typeof T.YIELD;
  request: Id;
  options: Dict;
}

export type Message =
  | Hello
  | Welcome
  | Abort
  | Challenge
  | Authenticate
  | Goodbye
  | ErrorMsg
  | Publish
  | Published
  | Subscribe
  | Subscribed
  | Unsubscribe
  | Unsubscribed
  | Event
  | EventReceived
  | Call
  | Cancel
  | Result
  | Register
  | Registered
  | Unregister
  | Unregistered
  | Invocation
  | Interrupt
  | Yield;

/** Largest WAMP ID: 2^53 (WAMP 2.1.2 "IDs"). */
export const MAX_ID = 2 ** 53;

// ---------------------------------------------------------------------------------------------
// Field checks. Each throws ProtocolViolation naming the message and the field.

function fail(name: string, what: string): never {
  throw new ProtocolViolation(`${name}: ${what}`);
}
function isDict(v: unknown): v is Dict {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}
/** WAMP 2.1.2: IDs are integers in [1, 2^53]. */
function id(arr: unknown[], i: number, name: string, field: string): Id {
  const v = arr[i];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_ID) fail(name, `${field} must be an integer ID in [1, 2^53]`);
  return v;
}
/**
 * An ID that may also be 0, where the spec says so: UNSUBSCRIBED.Request and
 * UNREGISTERED.Request are 0 when the router revokes a subscription / registration (WAMP 14.x).
 */
function idOrZero(arr: unknown[], i: number, name: string, field: string): Id {
  const v = arr[i];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_ID) fail(name, `${field} must be an integer ID in [1, 2^53], or 0`);
  return v;
}
function dict(arr: unknown[], i: number, name: string, field: string): Dict {
  const v = arr[i];
  if (!isDict(v)) fail(name, `${field} must be a dictionary`);
  return v;
}
function str(arr: unknown[], i: number, name: string, field: string): string {
  const v = arr[i];
  if (typeof v !== 'string') fail(name, `${field} must be a string`);
  return v;
}
function int(arr: unknown[], i: number, name: string, field: string): number {
  const v = arr[i];
  if (typeof v !== 'number' || !Number.isInteger(v)) fail(name, `${field} must be an integer`);
  return v;
}
function arity(arr: unknown[], min: number, max: number, name: string): void {
  if (arr.length < min || arr.length > max) fail(name, `expected ${min === max ? min : `${min} to ${max}`} elements, got ${arr.length}`);
}
/** Optional trailing Arguments|list (or binary payload) and ArgumentsKw|dict starting at index i. */
function payload(arr: unknown[], i: number, name: string, out: WithPayload): void {
  if (arr.length > i) {
    const a = arr[i];
    if (!Array.isArray(a) && !(a instanceof Uint8Array)) fail(name, 'Arguments must be a list');
    out.args = a as Args;
  }
  if (arr.length > i + 1) {
    const k = arr[i + 1];
    if (!isDict(k)) fail(name, 'ArgumentsKw must be a dictionary');
    out.kwargs = k;
  }
}

/**
 * Turns a decoded frame into a typed message. Throws ProtocolViolation when the frame is not a
 * WAMP message of a known type with the fields the spec requires.
 */
export function parseMessage(arr: unknown): Message {
  if (!Array.isArray(arr) || arr.length === 0) throw new ProtocolViolation('a WAMP message must be a non-empty list');
  const code = arr[0];
  if (typeof code !== 'number' || !Number.isInteger(code)) throw new ProtocolViolation('message type must be an integer');
  const name = MessageName[code];
  if (name === undefined) throw new ProtocolViolation(`unknown message type ${code}`);
  switch (code) {
    case T.HELLO:
      arity(arr, 3, 3, name);
      return { type: T.HELLO, realm: str(arr, 1, name, 'Realm'), details: dict(arr, 2, name, 'Details') };
    case T.WELCOME:
      arity(arr, 3, 3, name);
      return { type: T.WELCOME, session: id(arr, 1, name, 'Session'), details: dict(arr, 2, name, 'Details') };
    case T.ABORT: {
      arity(arr, 3, 5, name);
      const m: Abort = { type: T.ABORT, details: dict(arr, 1, name, 'Details'), reason: str(arr, 2, name, 'Reason') };
      payload(arr, 3, name, m);
      return m;
    }
    case T.CHALLENGE:
      arity(arr, 3, 3, name);
      return { type: T.CHALLENGE, authmethod: str(arr, 1, name, 'AuthMethod'), extra: dict(arr, 2, name, 'Extra') };
    case T.AUTHENTICATE:
      arity(arr, 3, 3, name);
      return { type: T.AUTHENTICATE, signature: str(arr, 1, name, 'Signature'), extra: dict(arr, 2, name, 'Extra') };
    case T.GOODBYE:
      arity(arr, 3, 3, name);
      return { type: T.GOODBYE, details: dict(arr, 1, name, 'Details'), reason: str(arr, 2, name, 'Reason') };
    case T.ERROR: {
      arity(arr, 5, 7, name);
      const m: ErrorMsg = {
        type: T.ERROR,
        requestType: int(arr, 1, name, 'REQUEST.Type'),
        request: id(arr, 2, name, 'REQUEST.Request'),
        details: dict(arr, 3, name, 'Details'),
        error: str(arr, 4, name, 'Error'),
      };
      payload(arr, 5, name, m);
      return m;
    }
    case T.PUBLISH: {
      arity(arr, 4, 6, name);
      const m: Publish = {
        type: T.PUBLISH,
        request: id(arr, 1, name, 'Request'),
        options: dict(arr, 2, name, 'Options'),
        topic: str(arr, 3, name, 'Topic'),
      };
      payload(arr, 4, name, m);
      return m;
    }
    case T.PUBLISHED:
      arity(arr, 3, 3, name);
      return { type: T.PUBLISHED, request: id(arr, 1, name, 'Request'), publication: id(arr, 2, name, 'Publication') };
    case T.SUBSCRIBE:
      arity(arr, 4, 4, name);
      return {
        type: T.SUBSCRIBE,
        request: id(arr, 1, name, 'Request'),
        options: dict(arr, 2, name, 'Options'),
        topic: str(arr, 3, name, 'Topic'),
      };
    case T.SUBSCRIBED:
      arity(arr, 3, 3, name);
      return { type: T.SUBSCRIBED, request: id(arr, 1, name, 'Request'), subscription: id(arr, 2, name, 'Subscription') };
    case T.UNSUBSCRIBE:
      arity(arr, 3, 3, name);
      return { type: T.UNSUBSCRIBE, request: id(arr, 1, name, 'Request'), subscription: id(arr, 2, name, 'Subscription') };
    case T.UNSUBSCRIBED: {
      arity(arr, 2, 3, name);
      const m: Unsubscribed = { type: T.UNSUBSCRIBED, request: idOrZero(arr, 1, name, 'Request') };
      if (arr.length === 3) m.details = dict(arr, 2, name, 'Details');
      return m;
    }
    case T.EVENT: {
      arity(arr, 4, 6, name);
      const m: Event = {
        type: T.EVENT,
        subscription: id(arr, 1, name, 'Subscription'),
        publication: id(arr, 2, name, 'Publication'),
        details: dict(arr, 3, name, 'Details'),
      };
      payload(arr, 4, name, m);
      return m;
    }
    case T.EVENT_RECEIVED: {
      arity(arr, 2, 5, name);
      const m: EventReceived = { type: T.EVENT_RECEIVED, publication: id(arr, 1, name, 'Publication') };
      if (arr.length > 2) m.details = dict(arr, 2, name, 'Details');
      payload(arr, 3, name, m);
      return m;
    }
    case T.CALL: {
      arity(arr, 4, 6, name);
      const m: Call = {
        type: T.CALL,
        request: id(arr, 1, name, 'Request'),
        options: dict(arr, 2, name, 'Options'),
        procedure: str(arr, 3, name, 'Procedure'),
      };
      payload(arr, 4, name, m);
      return m;
    }
    case T.CANCEL:
      arity(arr, 3, 3, name);
      return { type: T.CANCEL, request: id(arr, 1, name, 'Request'), options: dict(arr, 2, name, 'Options') };
    case T.RESULT: {
      arity(arr, 3, 5, name);
      const m: Result = { type: T.RESULT, request: id(arr, 1, name, 'Request'), details: dict(arr, 2, name, 'Details') };
      payload(arr, 3, name, m);
      return m;
    }
    case T.REGISTER:
      arity(arr, 4, 4, name);
      return {
        type: T.REGISTER,
        request: id(arr, 1, name, 'Request'),
        options: dict(arr, 2, name, 'Options'),
        procedure: str(arr, 3, name, 'Procedure'),
      };
    case T.REGISTERED:
      arity(arr, 3, 3, name);
      return { type: T.REGISTERED, request: id(arr, 1, name, 'Request'), registration: id(arr, 2, name, 'Registration') };
    case T.UNREGISTER:
      arity(arr, 3, 3, name);
      return { type: T.UNREGISTER, request: id(arr, 1, name, 'Request'), registration: id(arr, 2, name, 'Registration') };
    case T.UNREGISTERED: {
      arity(arr, 2, 3, name);
      const m: Unregistered = { type: T.UNREGISTERED, request: idOrZero(arr, 1, name, 'Request') };
      if (arr.length === 3) m.details = dict(arr, 2, name, 'Details');
      return m;
    }
    case T.INVOCATION: {
      arity(arr, 4, 6, name);
      const m: Invocation = {
        type: T.INVOCATION,
        request: id(arr, 1, name, 'Request'),
        registration: id(arr, 2, name, 'Registration'),
        details: dict(arr, 3, name, 'Details'),
      };
      payload(arr, 4, name, m);
      return m;
    }
    case T.INTERRUPT:
      arity(arr, 3, 3, name);
      return { type: T.INTERRUPT, request: id(arr, 1, name, 'Request'), options: dict(arr, 2, name, 'Options') };
    case T.YIELD: {
      arity(arr, 3, 5, name);
      const m: Yield = { type: T.YIELD, request: id(arr, 1, name, 'Request'), options: dict(arr, 2, name, 'Options') };
      payload(arr, 3, name, m);
      return m;
    }
    default:
      throw new ProtocolViolation(`unknown message type ${code}`);
  }
}

/** Whether `d` has an own enumerable key (Object.keys(d).length > 0 without building the list). */
function hasKeys(d: Dict): boolean {
  for (const k in d) if (Object.prototype.hasOwnProperty.call(d, k)) return true;
  return false;
}

/**
 * Appends the optional payload to the wire array `arr` the way the spec wants it: kwargs only
 * with args (an empty list), nothing when both are empty. Lets the router's hot paths build the
 * wire array of INVOCATION / RESULT / EVENT directly, without a message object.
 */
export function withArgs(arr: unknown[], args: Args | undefined, kwargs: Kwargs | undefined): unknown[] {
  if (kwargs !== undefined && hasKeys(kwargs)) arr.push(args ?? [], kwargs);
  else if (args !== undefined && (!Array.isArray(args) || args.length > 0)) arr.push(args);
  return arr;
}

function withPayload(arr: unknown[], m: WithPayload): unknown[] {
  return withArgs(arr, m.args, m.kwargs);
}

/** The wire (array) form of a message. */
export function toArray(m: Message): unknown[] {
  switch (m.type) {
    case T.HELLO:
      return [m.type, m.realm, m.details];
    case T.WELCOME:
      return [m.type, m.session, m.details];
    case T.ABORT:
      return withPayload([m.type, m.details, m.reason], m);
    case T.CHALLENGE:
      return [m.type, m.authmethod, m.extra];
    case T.AUTHENTICATE:
      return [m.type, m.signature, m.extra];
    case T.GOODBYE:
      return [m.type, m.details, m.reason];
    case T.ERROR:
      return withPayload([m.type, m.requestType, m.request, m.details, m.error], m);
    case T.PUBLISH:
      return withPayload([m.type, m.request, m.options, m.topic], m);
    case T.PUBLISHED:
      return [m.type, m.request, m.publication];
    case T.SUBSCRIBE:
      return [m.type, m.request, m.options, m.topic];
    case T.SUBSCRIBED:
      return [m.type, m.request, m.subscription];
    case T.UNSUBSCRIBE:
      return [m.type, m.request, m.subscription];
    case T.UNSUBSCRIBED:
      return m.details ? [m.type, m.request, m.details] : [m.type, m.request];
    case T.EVENT:
      return withPayload([m.type, m.subscription, m.publication, m.details], m);
    case T.EVENT_RECEIVED:
      return m.details || m.args || m.kwargs ? withPayload([m.type, m.publication, m.details ?? {}], m) : [m.type, m.publication];
    case T.CALL:
      return withPayload([m.type, m.request, m.options, m.procedure], m);
    case T.CANCEL:
      return [m.type, m.request, m.options];
    case T.RESULT:
      return withPayload([m.type, m.request, m.details], m);
    case T.REGISTER:
      return [m.type, m.request, m.options, m.procedure];
    case T.REGISTERED:
      return [m.type, m.request, m.registration];
    case T.UNREGISTER:
      return [m.type, m.request, m.registration];
    case T.UNREGISTERED:
      return m.details ? [m.type, m.request, m.details] : [m.type, m.request];
    case T.INVOCATION:
      return withPayload([m.type, m.request, m.registration, m.details], m);
    case T.INTERRUPT:
      return [m.type, m.request, m.options];
    case T.YIELD:
      return withPayload([m.type, m.request, m.options], m);
  }
}
