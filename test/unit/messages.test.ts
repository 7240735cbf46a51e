/**
 * wamp/messages.ts ID ranges (WAMP 2.1.2: IDs are integers in [1, 2^53]). 0 is accepted only
 * where the spec uses it: UNSUBSCRIBED.Request / UNREGISTERED.Request of a router-initiated
 * revocation. A client request, subscription or registration ID of 0 is a protocol violation.
 */
import { MessageType as T, ErrorUri, parseMessage } from '../../wamp';
import { ProtocolViolation } from '../../wamp/protocol-error';
import { Router } from '../../router/router';
import { FakeClient } from '../helpers/fake-peer';

/** Client-to-router messages, with the ID field(s) to set to 0 given as indexes. */
const CLIENT_MESSAGES: Array<[string, unknown[], number[]]> = [
  ['PUBLISH', [16, 1, {}, 'com.x'], [1]],
  ['SUBSCRIBE', [32, 1, {}, 'com.x'], [1]],
  ['UNSUBSCRIBE', [34, 1, 7], [1, 2]],
  ['CALL', [48, 1, {}, 'com.x'], [1]],
  ['CANCEL', [49, 1, {}], [1]],
  ['REGISTER', [64, 1, {}, 'com.x'], [1]],
  ['UNREGISTER', [66, 1, 7], [1, 2]],
  ['YIELD', [70, 1, {}], [1]],
  ['ERROR', [8, 68, 1, {}, 'com.err'], [2]],
  ['EVENT_RECEIVED', [337, 1], [1]],
];

/** Router-to-client messages (parsed by tests and tools), same convention. */
const ROUTER_MESSAGES: Array<[string, unknown[], number[]]> = [
  ['WELCOME', [2, 1, {}], [1]],
  ['PUBLISHED', [17, 1, 2], [1, 2]],
  ['SUBSCRIBED', [33, 1, 2], [1, 2]],
  ['EVENT', [36, 1, 2, {}], [1, 2]],
  ['RESULT', [50, 1, {}], [1]],
  ['REGISTERED', [65, 1, 2], [1, 2]],
  ['INVOCATION', [68, 1, 2, {}], [1, 2]],
  ['INTERRUPT', [69, 1, {}], [1]],
];

describe('ID range', () => {
  test.each([...CLIENT_MESSAGES, ...ROUTER_MESSAGES])('%s: 1 and 2^53 are IDs, 0 is not', (_name, msg, fields) => {
    expect(() => parseMessage(msg)).not.toThrow();
    for (const i of fields) {
      const max = [...msg];
      max[i] = 2 ** 53;
      expect(() => parseMessage(max)).not.toThrow();
      const zero = [...msg];
      zero[i] = 0;
      expect(() => parseMessage(zero)).toThrow(ProtocolViolation);
      expect(() => parseMessage(zero)).toThrow(/\[1, 2\^53\]/);
    }
  });

  test.each([
    ['UNSUBSCRIBED', 35],
    ['UNREGISTERED', 67],
  ])('%s.Request may be 0 (router-initiated revocation)', (_name, code) => {
    expect(parseMessage([code, 0, { reason: 'wamp.error.x' }])).toMatchObject({ type: code, request: 0 });
    expect(parseMessage([code, 5])).toMatchObject({ type: code, request: 5 });
    expect(() => parseMessage([code, -1])).toThrow(ProtocolViolation);
  });
});

describe('a joined client that sends an ID of 0', () => {
  test.each(CLIENT_MESSAGES)('%s is aborted with protocol_violation', (_name, msg, fields) => {
    for (const i of fields) {
      const router = new Router();
      router.addRealm('realm1');
      const c = FakeClient.join(router);
      const zero = [...msg];
      zero[i] = 0;
      c.sendRaw(zero);
      expect(c.next()).toMatchObject({ type: T.ABORT, reason: ErrorUri.PROTOCOL_VIOLATION });
      expect(c.conn.closed).not.toBeNull();
      expect(router.sessions.size).toBe(0);
    }
  });
});
