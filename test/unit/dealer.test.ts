import { MessageType as T, ErrorUri, type Dict, type Message } from '../../wamp';
import { Router } from '../../router/router';
import type { Authorizer } from '../../router/authorizer';
import { FakeClient } from '../helpers/fake-peer';

/** Registers `uri` and returns the registration ID (throws on anything but REGISTERED). */
function register(c: FakeClient, uri: string, options: Dict = {}): number {
  const request = c.req();
  c.send({ type: T.REGISTER, request, options, procedure: uri });
  const m = c.next();
  if (m.type !== T.REGISTERED || m.request !== request) throw new Error(`expected REGISTERED, got ${JSON.stringify(m)}`);
  return m.registration;
}

/** Sends a REGISTER and returns the router's answer. */
function tryRegister(c: FakeClient, uri: string, options: Dict = {}): Message {
  c.send({ type: T.REGISTER, request: c.req(), options, procedure: uri });
  return c.next();
}

function call(c: FakeClient, uri: string, args?: unknown[], kwargs?: Dict, options: Dict = {}): number {
  const request = c.req();
  c.send({ type: T.CALL, request, options, procedure: uri, args, kwargs });
  return request;
}

function invocation(c: FakeClient): Extract<Message, { type: typeof T.INVOCATION }> {
  const m = c.next();
  if (m.type !== T.INVOCATION) throw new Error(`expected INVOCATION, got ${JSON.stringify(m)}`);
  return m;
}

/** Roles of a client without call_canceling / progressive results on the callee side. */
const PLAIN_ROLES = { roles: { caller: {}, callee: {} } };

describe('dealer', () => {
  let router: Router;
  beforeEach(() => {
    router = new Router();
    router.addRealm('realm1');
  });

  describe('register / call / yield', () => {
    test('CALL → INVOCATION → YIELD → RESULT with args and kwargs', () => {
      const callee = FakeClient.join(router);
      const caller = FakeClient.join(router);
      const reg = register(callee, 'com.app.add');
      const req = call(caller, 'com.app.add', [1, 2], { x: 'y' });
      const inv = invocation(callee);
      expect(inv).toMatchObject({ registration: reg, args: [1, 2], kwargs: { x: 'y' } });
      expect(inv.details).toEqual({});
      callee.send({ type: T.YIELD, request: inv.request, options: {}, args: [3], kwargs: { ok: true } });
      expect(caller.next()).toEqual({ type: T.RESULT, request: req, details: {}, args: [3], kwargs: { ok: true } });
      expect(router.realms.get('realm1')!.dealer.pendingCalls).toBe(0);
    });

    test('callee ERROR is forwarded with the same URI, args and kwargs', () => {
      const callee = FakeClient.join(router);
      const caller = FakeClient.join(router);
      register(callee, 'com.app.fail');
      const req = call(caller, 'com.app.fail');
      const inv = invocation(callee);
      callee.send({
        type: T.ERROR,
        requestType: T.INVOCATION,
        request: inv.request,
        details: {},
        error: 'com.app.oops',
        args: ['bad'],
        kwargs: { code: 7 },
      });
      expect(caller.next()).toEqual({
        type: T.ERROR,
        requestType: T.CALL,
        request: req,
        details: {},
        error: 'com.app.oops',
        args: ['bad'],
        kwargs: { code: 7 },
      });
    });

    test('no registration → no_such_procedure', () => {
      const caller = FakeClient.join(router);
      const req = call(caller, 'com.app.none');
      expect(caller.next()).toMatchObject({ type: T.ERROR, requestType: T.CALL, request: req, error: ErrorUri.NO_SUCH_PROCEDURE });
    });

    test('invalid URIs and reserved wamp.* procedures are refused', () => {
      const c = FakeClient.join(router);
      expect(tryRegister(c, 'com..app')).toMatchObject({ type: T.ERROR, error: ErrorUri.INVALID_URI });
      expect(tryRegister(c, 'wamp.my.proc')).toMatchObject({ type: T.ERROR, error: ErrorUri.INVALID_URI });
      expect(tryRegister(c, 'wamp.', { match: 'prefix' })).toMatchObject({ type: T.ERROR, error: ErrorUri.INVALID_URI });
      // loose rules by default: upper case is fine
      expect(tryRegister(c, 'org.Node.get_data')).toMatchObject({ type: T.REGISTERED });
      call(c, 'com.a b');
      expect(c.next()).toMatchObject({ type: T.ERROR, error: ErrorUri.INVALID_URI });
    });

    test('strict URI rules when the realm asks for them', () => {
      router.addRealm('strict', undefined, { strictUris: true });
      const c = FakeClient.join(router, 'strict');
      expect(tryRegister(c, 'org.Node.get')).toMatchObject({ type: T.ERROR, error: ErrorUri.INVALID_URI });
      expect(tryRegister(c, 'org.node.get')).toMatchObject({ type: T.REGISTERED });
    });

    test('a second REGISTER of a single procedure → procedure_already_exists', () => {
      const a = FakeClient.join(router);
      const b = FakeClient.join(router);
      register(a, 'com.app.p');
      expect(tryRegister(b, 'com.app.p')).toMatchObject({
        type: T.ERROR,
        requestType: T.REGISTER,
        error: ErrorUri.PROCEDURE_ALREADY_EXISTS,
      });
      expect(tryRegister(a, 'com.app.p')).toMatchObject({ type: T.ERROR, error: ErrorUri.PROCEDURE_ALREADY_EXISTS });
    });

    test('a different invoke policy than the existing one → procedure_already_exists', () => {
      const a = FakeClient.join(router);
      const b = FakeClient.join(router);
      register(a, 'com.app.p', { invoke: 'roundrobin' });
      expect(tryRegister(b, 'com.app.p', { invoke: 'random' })).toMatchObject({ type: T.ERROR, error: ErrorUri.PROCEDURE_ALREADY_EXISTS });
      expect(tryRegister(b, 'com.app.p')).toMatchObject({ type: T.ERROR, error: ErrorUri.PROCEDURE_ALREADY_EXISTS });
      expect(tryRegister(a, 'com.app.p', { invoke: 'roundrobin' })).toMatchObject({
        type: T.ERROR,
        error: ErrorUri.PROCEDURE_ALREADY_EXISTS,
      });
      expect(tryRegister(b, 'com.app.p', { invoke: 'bogus' })).toMatchObject({ type: T.ERROR, error: ErrorUri.INVALID_ARGUMENT });
    });

    test('UNREGISTER removes the registration; unknown IDs → no_such_registration', () => {
      const a = FakeClient.join(router);
      const b = FakeClient.join(router);
      const reg = register(a, 'com.app.p');
      b.send({ type: T.UNREGISTER, request: 9, registration: reg });
      expect(b.next()).toMatchObject({ type: T.ERROR, requestType: T.UNREGISTER, request: 9, error: ErrorUri.NO_SUCH_REGISTRATION });
      a.send({ type: T.UNREGISTER, request: 10, registration: reg });
      expect(a.next()).toEqual({ type: T.UNREGISTERED, request: 10 });
      call(b, 'com.app.p');
      expect(b.next()).toMatchObject({ type: T.ERROR, error: ErrorUri.NO_SUCH_PROCEDURE });
      expect(tryRegister(b, 'com.app.p')).toMatchObject({ type: T.REGISTERED });
    });

    test('INVOCATION IDs are sequential per callee', () => {
      const c1 = FakeClient.join(router);
      const c2 = FakeClient.join(router);
      const caller = FakeClient.join(router);
      register(c1, 'com.a');
      register(c2, 'com.b');
      call(caller, 'com.a');
      call(caller, 'com.b');
      call(caller, 'com.a');
      call(caller, 'com.a');
      expect(c1.drain().map((m) => (m as { request: number }).request)).toEqual([1, 2, 3]);
      expect(c2.drain().map((m) => (m as { request: number }).request)).toEqual([1]);
    });

    test('a YIELD or ERROR for an unknown invocation is ignored', () => {
      const callee = FakeClient.join(router);
      callee.send({ type: T.YIELD, request: 77, options: {} });
      callee.send({ type: T.ERROR, requestType: T.INVOCATION, request: 78, details: {}, error: 'x.y' });
      expect(callee.pending).toBe(0);
      expect(callee.conn.closed).toBeNull();
    });
  });

  describe('shared registrations', () => {
    function setup(invoke: string): { callees: FakeClient[]; caller: FakeClient; reg: number } {
      const callees = [FakeClient.join(router), FakeClient.join(router), FakeClient.join(router)];
      const ids = callees.map((c) => register(c, 'com.app.shared', { invoke }));
      expect(new Set(ids).size).toBe(1);
      return { callees, caller: FakeClient.join(router), reg: ids[0]! };
    }
    function whoGets(callees: FakeClient[], caller: FakeClient, n: number): number[] {
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        call(caller, 'com.app.shared');
        const idx = callees.findIndex((c) => c.pending > 0);
        out.push(idx);
        const inv = invocation(callees[idx]!);
        callees[idx]!.send({ type: T.YIELD, request: inv.request, options: {} });
        caller.next();
      }
      return out;
    }

    test('roundrobin cycles through the callees in registration order', () => {
      const { callees, caller } = setup('roundrobin');
      expect(whoGets(callees, caller, 7)).toEqual([0, 1, 2, 0, 1, 2, 0]);
    });

    test('roundrobin keeps cycling when a callee leaves', () => {
      const { callees, caller } = setup('roundrobin');
      expect(whoGets(callees, caller, 2)).toEqual([0, 1]);
      callees[1]!.conn.drop();
      expect(whoGets(callees, caller, 3)).toEqual([2, 0, 2]);
    });

    test('first always picks the earliest registered callee', () => {
      const { callees, caller } = setup('first');
      expect(whoGets(callees, caller, 3)).toEqual([0, 0, 0]);
      callees[0]!.conn.drop();
      expect(whoGets(callees, caller, 2)).toEqual([1, 1]);
    });

    test('last always picks the most recently registered callee', () => {
      const { callees, caller } = setup('last');
      expect(whoGets(callees, caller, 3)).toEqual([2, 2, 2]);
      callees[2]!.conn.drop();
      expect(whoGets(callees, caller, 1)).toEqual([1]);
    });

    test('random picks any callee', () => {
      const { callees, caller } = setup('random');
      const spy = jest.spyOn(Math, 'random');
      spy.mockReturnValueOnce(0.9).mockReturnValueOnce(0.1).mockReturnValueOnce(0.5);
      try {
        expect(whoGets(callees, caller, 3)).toEqual([2, 0, 1]);
      } finally {
        spy.mockRestore();
      }
      for (const i of whoGets(callees, caller, 10)) expect([0, 1, 2]).toContain(i);
    });

    test('the registration vanishes with its last callee', () => {
      const { callees, caller } = setup('roundrobin');
      callees[0]!.conn.drop();
      callees[1]!.conn.drop();
      expect(whoGets(callees, caller, 1)).toEqual([2]);
      callees[2]!.conn.drop();
      call(caller, 'com.app.shared');
      expect(caller.next()).toMatchObject({ type: T.ERROR, error: ErrorUri.NO_SUCH_PROCEDURE });
    });
  });

  describe('pattern-based registrations', () => {
    test('exact wins over prefix, the longest prefix wins, prefix wins over wildcard', () => {
      const ex = FakeClient.join(router);
      const p1 = FakeClient.join(router);
      const p2 = FakeClient.join(router);
      const wc = FakeClient.join(router);
      const caller = FakeClient.join(router);
      const rEx = register(ex, 'com.app.a.b');
      const rP1 = register(p1, 'com.app', { match: 'prefix' });
      const rP2 = register(p2, 'com.app.a', { match: 'prefix' });
      const rWc = register(wc, 'com..a.b', { match: 'wildcard' });

      call(caller, 'com.app.a.b');
      expect(invocation(ex)).toMatchObject({ registration: rEx, details: {} });
      call(caller, 'com.app.a.c');
      expect(invocation(p2)).toMatchObject({ registration: rP2, details: { procedure: 'com.app.a.c' } });
      call(caller, 'com.app.x');
      expect(invocation(p1)).toMatchObject({ registration: rP1, details: { procedure: 'com.app.x' } });
      call(caller, 'com.other.a.b');
      expect(invocation(wc)).toMatchObject({ registration: rWc, details: { procedure: 'com.other.a.b' } });
      call(caller, 'com.other.a');
      expect(caller.next()).toMatchObject({ type: T.ERROR, error: ErrorUri.NO_SUCH_PROCEDURE });
    });

    test('among wildcards the one with the longest literal head wins', () => {
      const w1 = FakeClient.join(router);
      const w2 = FakeClient.join(router);
      const caller = FakeClient.join(router);
      register(w1, '.b.c', { match: 'wildcard' });
      const r2 = register(w2, 'a..c', { match: 'wildcard' });
      call(caller, 'a.b.c');
      expect(invocation(w2)).toMatchObject({ registration: r2 });
      expect(w1.pending).toBe(0);
    });

    test('exact and pattern registrations of the same URI are distinct', () => {
      const a = FakeClient.join(router);
      const b = FakeClient.join(router);
      const r1 = register(a, 'com.app', { match: 'exact' });
      const r2 = register(b, 'com.app', { match: 'prefix' });
      expect(r1).not.toBe(r2);
    });
  });

  describe('caller disclosure', () => {
    test('disclose_me puts caller, caller_authid, caller_authrole in INVOCATION.details', () => {
      const callee = FakeClient.join(router);
      const caller = FakeClient.join(router, 'realm1', { authid: 'alice' });
      register(callee, 'com.app.who');
      call(caller, 'com.app.who', [], {}, { disclose_me: true });
      expect(invocation(callee).details).toEqual({ caller: caller.sessionId, caller_authid: 'alice', caller_authrole: 'anonymous' });
      call(caller, 'com.app.who');
      expect(invocation(callee).details).toEqual({});
    });

    test('REGISTER.Options.disclose_caller discloses every caller of that registration only', () => {
      const callee = FakeClient.join(router);
      const caller = FakeClient.join(router, 'realm1', { authid: 'alice' });
      register(callee, 'com.app.who', { disclose_caller: true });
      register(callee, 'com.app.other');
      call(caller, 'com.app.who');
      expect(invocation(callee).details).toEqual({ caller: caller.sessionId, caller_authid: 'alice', caller_authrole: 'anonymous' });
      call(caller, 'com.app.other');
      expect(invocation(callee).details).toEqual({});
    });

    test('disclose_caller asked by a later callee of a shared registration discloses for all', () => {
      const a = FakeClient.join(router);
      const b = FakeClient.join(router);
      const caller = FakeClient.join(router);
      register(a, 'com.app.shared', { invoke: 'first' });
      register(b, 'com.app.shared', { invoke: 'first', disclose_caller: true });
      call(caller, 'com.app.shared');
      expect(invocation(a).details).toMatchObject({ caller: caller.sessionId });
    });

    test('the caller role can disclose callers without disclose_me', () => {
      const discloser: Authorizer = { authorize: () => true, disclose: (s, what) => what === 'caller' && s.authid === 'bob' };
      router.addRealm('r2', discloser);
      const callee = FakeClient.join(router, 'r2');
      const bob = FakeClient.join(router, 'r2', { authid: 'bob' });
      const carol = FakeClient.join(router, 'r2', { authid: 'carol' });
      register(callee, 'com.app.who');
      call(bob, 'com.app.who');
      expect(invocation(callee).details).toMatchObject({ caller: bob.sessionId, caller_authid: 'bob' });
      call(carol, 'com.app.who');
      expect(invocation(callee).details).toEqual({});
    });
  });

  describe('authorization', () => {
    test('REGISTER and CALL are checked against the role', () => {
      const authz: Authorizer = {
        authorize: (s, uri, action) => s.authid === 'admin' || (action === 'call' && uri.startsWith('com.public.')),
        disclose: () => false,
      };
      router.addRealm('r2', authz);
      const admin = FakeClient.join(router, 'r2', { authid: 'admin' });
      const user = FakeClient.join(router, 'r2', { authid: 'user' });
      expect(tryRegister(user, 'com.public.x')).toMatchObject({ type: T.ERROR, requestType: T.REGISTER, error: ErrorUri.NOT_AUTHORIZED });
      register(admin, 'com.public.x');
      register(admin, 'com.private.x');
      call(user, 'com.private.x');
      expect(user.next()).toMatchObject({ type: T.ERROR, requestType: T.CALL, error: ErrorUri.NOT_AUTHORIZED });
      call(user, 'com.public.x');
      expect(invocation(admin)).toMatchObject({ type: T.INVOCATION });
      // internal (meta) procedures are authorized too
      call(user, 'wamp.session.count');
      expect(user.next()).toMatchObject({ type: T.ERROR, error: ErrorUri.NOT_AUTHORIZED });
      call(admin, 'wamp.session.count');
      expect(admin.next()).toMatchObject({ type: T.RESULT, args: [2] });
    });
  });

  describe('progressive call results', () => {
    test('progressive YIELDs become RESULT with progress when the caller asked for them', () => {
      const callee = FakeClient.join(router);
      const caller = FakeClient.join(router);
      register(callee, 'com.app.stream');
      const req = call(caller, 'com.app.stream', [], {}, { receive_progress: true });
      const inv = invocation(callee);
      expect(inv.details).toEqual({ receive_progress: true });
      callee.send({ type: T.YIELD, request: inv.request, options: { progress: true }, args: [1] });
      callee.send({ type: T.YIELD, request: inv.request, options: { progress: true }, args: [2] });
      callee.send({ type: T.YIELD, request: inv.request, options: {}, args: [3] });
      expect(caller.drain()).toEqual([
        { type: T.RESULT, request: req, details: { progress: true }, args: [1] },
        { type: T.RESULT, request: req, details: { progress: true }, args: [2] },
        { type: T.RESULT, request: req, details: {}, args: [3] },
      ]);
      callee.send({ type: T.YIELD, request: inv.request, options: {}, args: [4] });
      expect(caller.pending).toBe(0);
    });

    test('progressive YIELDs are dropped when the caller did not ask for them', () => {
      const callee = FakeClient.join(router);
      const caller = FakeClient.join(router);
      register(callee, 'com.app.stream');
      const req = call(caller, 'com.app.stream');
      const inv = invocation(callee);
      callee.send({ type: T.YIELD, request: inv.request, options: { progress: true }, args: [1] });
      expect(caller.pending).toBe(0);
      callee.send({ type: T.YIELD, request: inv.request, options: {}, args: [2] });
      expect(caller.next()).toEqual({ type: T.RESULT, request: req, details: {}, args: [2] });
    });

    test('receive_progress is not forwarded to a callee without progressive_call_results', () => {
      const callee = FakeClient.join(router, 'realm1', PLAIN_ROLES);
      const caller = FakeClient.join(router);
      register(callee, 'com.app.stream');
      call(caller, 'com.app.stream', [], {}, { receive_progress: true });
      expect(invocation(callee).details).toEqual({});
    });
  });

  describe('call timeout', () => {
    afterEach(() => jest.useRealTimers());

    test('the router cancels an expired call: ERROR canceled to the caller, INTERRUPT to the callee', () => {
      jest.useFakeTimers();
      const callee = FakeClient.join(router);
      const caller = FakeClient.join(router);
      register(callee, 'com.app.slow');
      const req = call(caller, 'com.app.slow', [], {}, { timeout: 500 });
      const inv = invocation(callee);
      expect(inv.details).toEqual({}); // the callee did not announce call_timeout
      jest.advanceTimersByTime(499);
      expect(caller.pending).toBe(0);
      jest.advanceTimersByTime(1);
      expect(caller.next()).toMatchObject({ type: T.ERROR, requestType: T.CALL, request: req, error: ErrorUri.CANCELED });
      expect(callee.next()).toMatchObject({ type: T.INTERRUPT, request: inv.request, options: { mode: 'killnowait' } });
      callee.send({ type: T.YIELD, request: inv.request, options: {} });
      expect(caller.pending).toBe(0);
      expect(router.realms.get('realm1')!.dealer.pendingCalls).toBe(0);
    });

    test('a call that completes in time clears its timer', () => {
      jest.useFakeTimers();
      const callee = FakeClient.join(router);
      const caller = FakeClient.join(router);
      register(callee, 'com.app.fast');
      call(caller, 'com.app.fast', [], {}, { timeout: 500 });
      const inv = invocation(callee);
      callee.send({ type: T.YIELD, request: inv.request, options: {} });
      expect(caller.next()).toMatchObject({ type: T.RESULT });
      expect(jest.getTimerCount()).toBe(0);
      jest.advanceTimersByTime(1000);
      expect(caller.pending).toBe(0);
    });

    test('timeout is passed through to a callee that announced call_timeout', () => {
      jest.useFakeTimers();
      const callee = FakeClient.join(router, 'realm1', { roles: { callee: { features: { call_timeout: true } } } });
      const caller = FakeClient.join(router);
      register(callee, 'com.app.slow');
      call(caller, 'com.app.slow', [], {}, { timeout: 500 });
      expect(invocation(callee).details).toEqual({ timeout: 500 });
      expect(jest.getTimerCount()).toBe(0);
    });

    test('a callee without call_canceling gets no INTERRUPT on timeout', () => {
      jest.useFakeTimers();
      const callee = FakeClient.join(router, 'realm1', PLAIN_ROLES);
      const caller = FakeClient.join(router);
      register(callee, 'com.app.slow');
      call(caller, 'com.app.slow', [], {}, { timeout: 100 });
      invocation(callee);
      jest.advanceTimersByTime(100);
      expect(caller.next()).toMatchObject({ type: T.ERROR, error: ErrorUri.CANCELED });
      expect(callee.pending).toBe(0);
    });
  });

  describe('call canceling', () => {
    function pending(calleeDetails: Dict = {}): { callee: FakeClient; caller: FakeClient; req: number; inv: number } {
      const callee = FakeClient.join(router, 'realm1', calleeDetails);
      const caller = FakeClient.join(router);
      register(callee, 'com.app.long');
      const req = call(caller, 'com.app.long');
      return { callee, caller, req, inv: invocation(callee).request };
    }

    test('skip: ERROR canceled at once, no INTERRUPT, the later YIELD is dropped', () => {
      const { callee, caller, req, inv } = pending();
      caller.send({ type: T.CANCEL, request: req, options: { mode: 'skip' } });
      expect(caller.next()).toMatchObject({ type: T.ERROR, requestType: T.CALL, request: req, error: ErrorUri.CANCELED });
      expect(callee.pending).toBe(0);
      callee.send({ type: T.YIELD, request: inv, options: {}, args: [1] });
      expect(caller.pending).toBe(0);
    });

    test('killnowait: INTERRUPT and ERROR canceled at once', () => {
      const { callee, caller, req, inv } = pending();
      caller.send({ type: T.CANCEL, request: req, options: { mode: 'killnowait' } });
      expect(callee.next()).toMatchObject({ type: T.INTERRUPT, request: inv, options: { mode: 'killnowait' } });
      expect(caller.next()).toMatchObject({ type: T.ERROR, request: req, error: ErrorUri.CANCELED });
      callee.send({ type: T.ERROR, requestType: T.INVOCATION, request: inv, details: {}, error: ErrorUri.CANCELED });
      expect(caller.pending).toBe(0);
    });

    test('the default mode is killnowait', () => {
      const { callee, caller, req } = pending();
      caller.send({ type: T.CANCEL, request: req, options: {} });
      expect(callee.next()).toMatchObject({ type: T.INTERRUPT, options: { mode: 'killnowait' } });
      expect(caller.next()).toMatchObject({ type: T.ERROR, error: ErrorUri.CANCELED });
    });

    test('kill: INTERRUPT, then the caller gets wamp.error.canceled whatever the callee answers', () => {
      const { callee, caller, req, inv } = pending();
      caller.send({ type: T.CANCEL, request: req, options: { mode: 'kill' } });
      expect(callee.next()).toMatchObject({ type: T.INTERRUPT, request: inv, options: { mode: 'kill' } });
      expect(caller.pending).toBe(0);
      caller.send({ type: T.CANCEL, request: req, options: { mode: 'kill' } }); // repeated: ignored
      expect(callee.pending).toBe(0);
      // AutobahnPython answers an INTERRUPT with wamp.error.runtime_error; the caller still learns "canceled".
      callee.send({
        type: T.ERROR,
        requestType: T.INVOCATION,
        request: inv,
        details: {},
        error: 'wamp.error.runtime_error',
        args: ['stopped'],
      });
      expect(caller.next()).toMatchObject({ type: T.ERROR, requestType: T.CALL, request: req, error: ErrorUri.CANCELED });
    });

    test('a timeout beyond what a timer can wait is no timeout; a fraction is rounded up', () => {
      jest.useFakeTimers();
      try {
        const callee = FakeClient.join(router);
        const caller = FakeClient.join(router);
        register(callee, 'com.app.slow');
        call(caller, 'com.app.slow', [], {}, { timeout: 2 ** 31 });
        invocation(callee);
        jest.advanceTimersByTime(60_000);
        expect(caller.pending).toBe(0); // not canceled at once (setTimeout would have overflowed)
        call(caller, 'com.app.slow', [], {}, { timeout: 0.5 });
        invocation(callee);
        jest.advanceTimersByTime(1);
        expect(caller.next()).toMatchObject({ type: T.ERROR, error: ErrorUri.CANCELED });
      } finally {
        jest.useRealTimers();
      }
    });

    test('kill: a callee that finishes first delivers its RESULT', () => {
      const { callee, caller, req, inv } = pending();
      caller.send({ type: T.CANCEL, request: req, options: { mode: 'kill' } });
      callee.next();
      callee.send({ type: T.YIELD, request: inv, options: {}, args: ['done'] });
      expect(caller.next()).toEqual({ type: T.RESULT, request: req, details: {}, args: ['done'] });
    });

    test('a callee without call_canceling is canceled in mode skip', () => {
      const { callee, caller, req } = pending(PLAIN_ROLES);
      caller.send({ type: T.CANCEL, request: req, options: { mode: 'kill' } });
      expect(caller.next()).toMatchObject({ type: T.ERROR, error: ErrorUri.CANCELED });
      expect(callee.pending).toBe(0);
    });

    test('CANCEL for an unknown or finished call is ignored', () => {
      const { callee, caller, req, inv } = pending();
      callee.send({ type: T.YIELD, request: inv, options: {} });
      caller.next();
      caller.send({ type: T.CANCEL, request: req, options: {} });
      caller.send({ type: T.CANCEL, request: 999, options: {} });
      expect(caller.pending).toBe(0);
      expect(callee.pending).toBe(0);
    });
  });

  describe('sessions leaving', () => {
    test('callee leaves mid-call: every pending caller gets ERROR canceled at once', () => {
      const callee = FakeClient.join(router);
      const a = FakeClient.join(router);
      const b = FakeClient.join(router);
      register(callee, 'com.app.p');
      const ra1 = call(a, 'com.app.p');
      const rb = call(b, 'com.app.p');
      const ra2 = call(a, 'com.app.p');
      callee.conn.drop();
      expect(a.drain()).toEqual([
        { type: T.ERROR, requestType: T.CALL, request: ra1, details: {}, error: ErrorUri.CANCELED, args: ['callee left'] },
        { type: T.ERROR, requestType: T.CALL, request: ra2, details: {}, error: ErrorUri.CANCELED, args: ['callee left'] },
      ]);
      expect(b.next()).toMatchObject({ type: T.ERROR, request: rb, error: ErrorUri.CANCELED });
      expect(router.realms.get('realm1')!.dealer.pendingCalls).toBe(0);
      call(a, 'com.app.p');
      expect(a.next()).toMatchObject({ type: T.ERROR, error: ErrorUri.NO_SUCH_PROCEDURE });
    });

    test('caller leaves mid-call: the callee gets INTERRUPT and its YIELD is dropped', () => {
      const callee = FakeClient.join(router);
      const caller = FakeClient.join(router);
      register(callee, 'com.app.p');
      call(caller, 'com.app.p');
      const inv = invocation(callee);
      caller.conn.drop();
      expect(callee.next()).toMatchObject({ type: T.INTERRUPT, request: inv.request, options: { mode: 'killnowait' } });
      callee.send({ type: T.YIELD, request: inv.request, options: {} });
      expect(callee.pending).toBe(0);
      expect(router.realms.get('realm1')!.dealer.pendingCalls).toBe(0);
    });

    test('caller leaves: a callee without call_canceling gets nothing', () => {
      const callee = FakeClient.join(router, 'realm1', PLAIN_ROLES);
      const caller = FakeClient.join(router);
      register(callee, 'com.app.p');
      call(caller, 'com.app.p');
      invocation(callee);
      caller.conn.drop();
      expect(callee.pending).toBe(0);
    });

    test("a leaving session's timers are cleared", () => {
      jest.useFakeTimers();
      try {
        const callee = FakeClient.join(router);
        const caller = FakeClient.join(router);
        register(callee, 'com.app.p');
        call(caller, 'com.app.p', [], {}, { timeout: 1000 });
        expect(jest.getTimerCount()).toBe(1);
        caller.conn.drop();
        expect(jest.getTimerCount()).toBe(0);
      } finally {
        jest.useRealTimers();
      }
    });
  });

  describe('internal procedures', () => {
    test('a handler runs synchronously; WampError → ERROR; other exceptions leak nothing', () => {
      const realm = router.realms.get('realm1')!;
      realm.dealer.registerInternal('sisock.test.echo', (_c, args, kwargs) => ({ args, kwargs }));
      realm.dealer.registerInternal('sisock.test.fail', () => {
        throw new Error('secret stack detail');
      });
      const c = FakeClient.join(router);
      const r1 = call(c, 'sisock.test.echo', [1], { a: 2 });
      expect(c.next()).toEqual({ type: T.RESULT, request: r1, details: {}, args: [1], kwargs: { a: 2 } });
      const r2 = call(c, 'sisock.test.fail');
      const e = c.next();
      expect(e).toMatchObject({ type: T.ERROR, requestType: T.CALL, request: r2, error: 'wamp.error.runtime_error' });
      expect(JSON.stringify(e)).not.toContain('secret');
      const r3 = call(c, 'wamp.session.get', [12345]);
      expect(c.next()).toMatchObject({ type: T.ERROR, request: r3, error: ErrorUri.NO_SUCH_SESSION });
    });
  });
});

describe('dealer: request ID reuse', () => {
  test('a CALL reusing a pending request ID is a protocol violation, and nothing is orphaned', () => {
    const router = new Router();
    router.addRealm('realm1');
    const callee = FakeClient.join(router);
    const caller = FakeClient.join(router);
    register(callee, 'com.app.slow');
    caller.send({ type: T.CALL, request: 5, options: {}, procedure: 'com.app.slow' });
    invocation(callee);
    caller.send({ type: T.CALL, request: 5, options: {}, procedure: 'com.app.slow' });
    expect(caller.next()).toMatchObject({ type: T.ABORT, reason: ErrorUri.PROTOCOL_VIOLATION });
    expect(router.realms.get('realm1')!.dealer.pendingCalls).toBe(0);
  });
});
