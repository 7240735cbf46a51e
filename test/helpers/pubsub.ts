/**
 * Helpers for broker and subscription-meta unit tests: clients with a chosen authid/authrole and
 * serializer, a scriptable authorizer, and a counting serializer.
 */
import { encode as mpEncode, decode as mpDecode } from '@msgpack/msgpack';
import { MessageType as T, toArray, type Dict, type Message } from '../../wamp';
import type { Serializer } from '../../transport/types';
import type { Router } from '../../router/router';
import type { AuthMethod } from '../../router/auth/types';
import type { Action, Authorizer, Disclose } from '../../router/authorizer';
import type { Session } from '../../router/session';
import { FakeClient, testJson } from './fake-peer';

/** Anonymous-like auth that takes authid and authrole from HELLO.Details (`authid`, `x_authrole`). */
export const roleAuth: AuthMethod = {
  name: 'anonymous',
  hello: (info) => ({
    kind: 'welcome',
    identity: {
      authid: info.authid ?? 'anon',
      authrole: typeof info.details.x_authrole === 'string' ? info.details.x_authrole : 'anonymous',
      authmethod: 'anonymous',
      authprovider: 'static',
    },
  }),
  authenticate: () => ({ kind: 'refuse', reason: 'wamp.error.authentication_failed', message: 'unexpected' }),
};

const ROLES = {
  publisher: {
    features: {
      publisher_identification: true,
      publisher_exclusion: true,
      subscriber_blackwhite_listing: true,
      payload_passthru_mode: true,
    },
  },
  subscriber: { features: { publisher_identification: true, pattern_based_subscription: true, payload_passthru_mode: true } },
  caller: { features: {} },
  callee: { features: {} },
};

export interface JoinOptions {
  realm?: string;
  authid?: string;
  authrole?: string;
  serializer?: Serializer;
}

/** Joins a client with the given identity and serializer. */
export function joinAs(router: Router, o: JoinOptions = {}): FakeClient {
  const c = new FakeClient(router, [roleAuth], o.serializer);
  const details: Dict = { roles: ROLES };
  if (o.authid !== undefined) details.authid = o.authid;
  if (o.authrole !== undefined) details.x_authrole = o.authrole;
  c.send({ type: T.HELLO, realm: o.realm ?? 'realm1', details });
  const w = c.next();
  if (w.type !== T.WELCOME) throw new Error(`expected WELCOME, got ${JSON.stringify(toArray(w))}`);
  c.sessionId = w.session;
  return c;
}

/** An authorizer driven by two functions (defaults: allow everything, disclose nothing). */
export function fakeAuthorizer(
  allow: (s: Session, uri: string, action: Action) => boolean = () => true,
  disclose: (s: Session, what: Disclose) => boolean = () => false,
): Authorizer {
  return { authorize: allow, disclose };
}

/** A serializer that counts its encode calls (by message type). */
export function countingSerializer(base: Serializer = testJson): Serializer & { encoded: Map<number, number> } {
  const encoded = new Map<number, number>();
  return {
    name: base.name,
    subprotocol: base.subprotocol,
    rawsocketId: base.rawsocketId,
    binary: base.binary,
    encoded,
    encode(m: unknown[]): Buffer {
      const t = m[0] as number;
      encoded.set(t, (encoded.get(t) ?? 0) + 1);
      return base.encode(m);
    },
    decode: (f) => base.decode(f),
  };
}

/** A minimal MessagePack serializer (binary payloads survive it). */
export const testMsgpack: Serializer = {
  name: 'msgpack',
  subprotocol: 'wamp.2.msgpack',
  rawsocketId: 2,
  binary: true,
  encode: (m) => Buffer.from(mpEncode(m)),
  decode: (f) => mpDecode(f),
};

/** Subscribes and returns the subscription ID (throws if the reply is not SUBSCRIBED). */
export function subscribe(c: FakeClient, topic: string, options: Dict = {}): number {
  const request = c.req();
  c.send({ type: T.SUBSCRIBE, request, options, topic });
  const m = c.next();
  if (m.type !== T.SUBSCRIBED || m.request !== request) throw new Error(`expected SUBSCRIBED, got ${JSON.stringify(toArray(m))}`);
  return m.subscription;
}

/** Publishes without waiting for anything. Returns the request ID. */
export function publish(c: FakeClient, topic: string, args?: unknown[] | Uint8Array, kwargs?: Dict, options: Dict = {}): number {
  const request = c.req();
  c.send({
    type: T.PUBLISH,
    request,
    options,
    topic,
    ...(args !== undefined ? { args } : {}),
    ...(kwargs !== undefined ? { kwargs } : {}),
  });
  return request;
}

/** The EVENT messages among the unread messages of a client. */
export function events(c: FakeClient): Extract<Message, { type: typeof T.EVENT }>[] {
  return c.drain().filter((m): m is Extract<Message, { type: typeof T.EVENT }> => m.type === T.EVENT);
}
