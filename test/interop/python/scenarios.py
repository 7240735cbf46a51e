#!/usr/bin/python3
"""
WAMP interop scenarios run by AutobahnPython (Debian's python3-autobahn 22.7.1, Twisted flavour)
against a router under test. Used by test/interop/autobahn-python.test.ts.

Twisted is used for both WebSocket and RawSocket: the asyncio RawSocket client of 22.7.1 fails on
WELCOME (crossbario/autobahn-python#1592).

Every scenario prints exactly one JSON line on stdout:
    {"scenario": NAME, "ok": true|false, "error": "...", ...observed values}
The process exits 0 when every scenario passed, 1 otherwise, 2 on bad usage.

`--scenario serve` is different: it joins once, registers/subscribes the URIs under
`<prefix>.mix.*` for a peer written in another language, prints {"ready": true, "session": ID},
then one JSON line per received event ({"event": ...}), and runs until stdin is closed.
"""
import argparse
import base64
import json
import sys
import traceback
from urllib.parse import urlparse

from twisted.internet import defer, reactor, stdio
from twisted.internet.endpoints import TCP4ClientEndpoint
from twisted.internet.protocol import Protocol

from autobahn.twisted.rawsocket import WampRawSocketClientFactory
from autobahn.twisted.wamp import ApplicationSession
from autobahn.twisted.websocket import WampWebSocketClientFactory
from autobahn.wamp import auth, message, types
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.serializer import JsonSerializer, MsgPackSerializer

SCENARIO_TIMEOUT = 10.0


class Aborted(Exception):
    """The router refused the join (ABORT) or the connection went away before WELCOME."""

    def __init__(self, reason, message=None):
        super().__init__('{}: {}'.format(reason, message))
        self.reason = reason
        self.message = message


class Check(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Check(what)


class Client(ApplicationSession):
    """One session; `joined` fires with (session, details) or fails with Aborted."""

    def __init__(self, config, creds, joined, disconnected):
        super().__init__(config)
        self.creds = creds or {}
        self.joined = joined
        self.disconnected = disconnected
        self.raw_errors = []  # every ERROR message received, for assertions on the wire form

    def onConnect(self):
        c = self.creds
        if c.get('authmethod'):
            self.join(self.config.realm, authmethods=[c['authmethod']], authid=c.get('authid'))
        else:
            self.join(self.config.realm)

    def onChallenge(self, challenge):
        c = self.creds
        if challenge.method == 'wampcra':
            key = c['secret']
            if 'salt' in challenge.extra:
                key = auth.derive_key(c['secret'], challenge.extra['salt'],
                                      challenge.extra.get('iterations', 1000), challenge.extra.get('keylen', 32))
            return auth.compute_wcs(key, challenge.extra['challenge'])
        if challenge.method == 'ticket':
            return c['secret']
        raise Exception('unexpected challenge {}'.format(challenge.method))

    def onMessage(self, msg):
        if isinstance(msg, message.Error):
            self.raw_errors.append(msg)
        return super().onMessage(msg)

    def onJoin(self, details):
        if not self.joined.called:
            self.joined.callback((self, details))

    def onLeave(self, details):
        if not self.joined.called:
            self.joined.errback(Aborted(details.reason, details.message))
        super().onLeave(details)

    def onDisconnect(self):
        if not self.joined.called:
            self.joined.errback(Aborted('disconnected', 'transport closed before WELCOME'))
        if not self.disconnected.called:
            self.disconnected.callback(None)


def make_serializer(name):
    if name == 'json':
        return JsonSerializer()
    if name == 'msgpack':
        return MsgPackSerializer()
    raise SystemExit('unsupported serializer {!r} (this AutobahnPython has json and msgpack)'.format(name))


class Opts:
    pass


OPTS = Opts()
OPEN = []  # every session created, so that all get closed at the end


async def connect(creds=None):
    """Connects and joins; returns the session (raises Aborted if refused)."""
    o = OPTS
    joined = defer.Deferred()
    disconnected = defer.Deferred()
    cfg = types.ComponentConfig(realm=o.realm)
    holder = {}

    def make():
        s = Client(cfg, creds, joined, disconnected)
        holder['s'] = s
        return s

    u = urlparse(o.url)
    if o.transport == 'websocket':
        factory = WampWebSocketClientFactory(make, url=o.url, serializers=[make_serializer(o.serializer)])
        factory.setProtocolOptions(autoPingInterval=0)
    else:
        factory = WampRawSocketClientFactory(make, serializer=make_serializer(o.serializer))
    ep = TCP4ClientEndpoint(reactor, u.hostname, u.port, timeout=5)
    await ep.connect(factory)
    session, details = await joined
    session.welcome = details
    session.disconnected_d = disconnected
    OPEN.append(session)
    return session


async def close(session):
    if session.is_attached():
        try:
            session.leave()
        except Exception:
            pass
    elif session._transport is not None:
        session._transport.close()
    d = session.disconnected_d
    if not d.called:
        d2 = defer.Deferred()
        d.addBoth(lambda _: None if d2.called else d2.callback(None))
        timer = reactor.callLater(3, lambda: None if d2.called else d2.callback(None))
        await d2
        if timer.active():
            timer.cancel()


def uri(name):
    return '{}.{}'.format(OPTS.prefix, name)


def waiter():
    return defer.Deferred()


# ------------------------------------------------------------------------------------------------
# Scenarios. Each returns a dict of observed values (merged into the output line) or raises.

async def sc_join():
    s = await connect()
    w = s.welcome
    out = {'session': w.session, 'realm': w.realm, 'authrole': w.authrole, 'authmethod': w.authmethod}
    check(isinstance(w.session, int) and 0 < w.session <= 2 ** 53, 'session id in range')
    check(w.realm == OPTS.realm, 'WELCOME realm')
    await close(s)
    return out


async def sc_rpc():
    callee = await connect()
    caller = await connect()

    def add(a, b, **kw):
        return types.CallResult(a + b, echo=kw) if kw else a + b

    await callee.register(add, uri('add'))
    r = await caller.call(uri('add'), 2, 3, x='y')
    check(isinstance(r, types.CallResult), 'CallResult for kwargs result')
    out = {'result': list(r.results), 'kwresult': r.kwresults}
    check(list(r.results) == [5] and r.kwresults == {'echo': {'x': 'y'}}, 'add result: {}'.format(out))
    r2 = await caller.call(uri('add'), 40, 2)
    check(r2 == 42, 'plain result: {!r}'.format(r2))
    # no such procedure
    try:
        await caller.call(uri('nope'))
        raise Check('call to an unregistered procedure succeeded')
    except ApplicationError as e:
        out['no_such_procedure'] = e.error
    await close(caller)
    await close(callee)
    return out


async def sc_call_error():
    callee = await connect()
    caller = await connect()

    def fail(*args, **kwargs):
        raise ApplicationError('com.interop.error.custom', 1, 'two', [3], foo='bar', nested={'n': [1, 2]})

    await callee.register(fail, uri('fail'))
    try:
        await caller.call(uri('fail'))
        raise Check('call did not fail')
    except ApplicationError as e:
        out = {'error': e.error, 'args': list(e.args), 'kwargs': e.kwargs}
    await close(caller)
    await close(callee)
    return out


async def sc_pubsub():
    sub = await connect()
    pub = await connect()
    topic = uri('topic')
    got_sub = []
    got_pub = []
    sub_done = waiter()
    pub_done = waiter()

    def on_sub(*args, **kwargs):
        got_sub.append({'args': list(args), 'kwargs': kwargs})
        if len(got_sub) == 2 and not sub_done.called:
            sub_done.callback(None)

    def on_pub(*args, **kwargs):
        got_pub.append({'args': list(args), 'kwargs': kwargs})
        if not pub_done.called:
            pub_done.callback(None)

    await sub.subscribe(on_sub, topic)
    await pub.subscribe(on_pub, topic)
    # 1: default publisher exclusion; 2: exclude_me=False. The publisher's first event must be #2.
    await pub.publish(topic, 1, 'excluded', k='v', options=types.PublishOptions(acknowledge=True))
    await pub.publish(topic, 2, 'included', options=types.PublishOptions(acknowledge=True, exclude_me=False))
    await sub_done
    await pub_done
    out = {'subscriber': got_sub, 'publisher': got_pub}
    check([e['args'][0] for e in got_sub] == [1, 2], 'subscriber gets both events in order')
    check(got_sub[0]['kwargs'] == {'k': 'v'}, 'kwargs arrive')
    check(got_pub[0]['args'] == [2, 'included'], 'publisher gets only its exclude_me=false event first')
    await close(pub)
    await close(sub)
    return out


async def sc_pattern():
    sub = await connect()
    pub = await connect()
    got = []
    done = waiter()

    def handler(kind):
        def on_event(*args, details=None):
            got.append({'kind': kind, 'args': list(args), 'topic': details.topic})
            if len(got) == 2 and not done.called:
                done.callback(None)
        return on_event

    await sub.subscribe(handler('prefix'), uri('pfx'), options=types.SubscribeOptions(match='prefix', details=True))
    await sub.subscribe(handler('wildcard'), uri('wc..end'), options=types.SubscribeOptions(match='wildcard', details=True))
    await pub.publish(uri('pfx.a.b'), 'p', options=types.PublishOptions(acknowledge=True))
    await pub.publish(uri('wc.middle.end'), 'w', options=types.PublishOptions(acknowledge=True))
    await done
    got.sort(key=lambda e: e['kind'])
    check(got[0] == {'kind': 'prefix', 'args': ['p'], 'topic': uri('pfx.a.b')}, 'prefix event with details.topic')
    check(got[1] == {'kind': 'wildcard', 'args': ['w'], 'topic': uri('wc.middle.end')}, 'wildcard event with details.topic')
    await close(pub)
    await close(sub)
    return {'events': got}


async def sc_progressive():
    callee = await connect()
    caller = await connect()

    def count(n, details=None):
        check(details.progress is not None, 'callee sees receive_progress')
        for i in range(n):
            details.progress(i, tag='p')
        return 'done'

    await callee.register(count, uri('count'), options=types.RegisterOptions(details=True))
    progress = []
    r = await caller.call(uri('count'), 3, options=types.CallOptions(on_progress=lambda *a, **k: progress.append([list(a), k])))
    check(progress == [[[0], {'tag': 'p'}], [[1], {'tag': 'p'}], [[2], {'tag': 'p'}]], 'progress results in order')
    check(r == 'done', 'final result')
    await close(caller)
    await close(callee)
    return {'progress': progress, 'result': r}


def slow_endpoint(started, interrupted):
    """A procedure that never answers by itself; records the INTERRUPT (cancellation) it gets."""
    def slow(*args):
        def canceller(d):
            if not interrupted.called:
                interrupted.callback('interrupted')
        d = defer.Deferred(canceller)
        if not started.called:
            started.callback(None)
        return d
    return slow


async def sc_cancel():
    callee = await connect()
    caller = await connect()
    started, interrupted = waiter(), waiter()
    await callee.register(slow_endpoint(started, interrupted), uri('slow'))
    call_d = caller.call(uri('slow'))
    await started
    # AutobahnPython's own Deferred.cancel() sends CANCEL without a mode and fails the call locally
    # at once; to test the router, send CANCEL with mode 'kill' ourselves and wait for its ERROR.
    pending = [rid for rid, req in caller._call_reqs.items() if req.procedure == uri('slow')]
    check(len(pending) == 1, 'one pending call')
    caller._transport.send(message.Cancel(pending[0], mode='kill'))
    interrupt = await interrupted
    try:
        await call_d
        raise Check('canceled call succeeded')
    except ApplicationError as e:
        err = e.error
    await close(caller)
    await close(callee)
    return {'callee': interrupt, 'caller_error': err}


async def sc_timeout():
    callee = await connect()
    caller = await connect()
    started, interrupted = waiter(), waiter()
    await callee.register(slow_endpoint(started, interrupted), uri('slow_timeout'))
    try:
        await caller.call(uri('slow_timeout'), options=types.CallOptions(timeout=300))  # ms on the wire
        raise Check('timed-out call succeeded')
    except ApplicationError as e:
        err = e.error
    interrupt = await interrupted
    await close(caller)
    await close(callee)
    return {'callee': interrupt, 'caller_error': err}


async def sc_shared():
    a = await connect()
    b = await connect()
    caller = await connect()
    opts = types.RegisterOptions(invoke='roundrobin')
    await a.register(lambda: 'a', uri('shared'), options=opts)
    await b.register(lambda: 'b', uri('shared'), options=opts)
    seq = []
    for _ in range(4):
        seq.append(await caller.call(uri('shared')))
    check(sorted(seq) == ['a', 'a', 'b', 'b'] and seq[0] != seq[1] and seq[1] != seq[2] and seq[2] != seq[3],
          'round robin alternates: {}'.format(seq))
    for s in (caller, a, b):
        await close(s)
    return {'sequence': seq}


async def join_with(creds):
    s = await connect(creds)
    w = s.welcome
    out = {'authid': w.authid, 'authrole': w.authrole, 'authmethod': w.authmethod}
    await close(s)
    return out


async def refused_with(creds):
    try:
        s = await connect(creds)
    except Aborted as e:
        return e.reason
    await close(s)
    raise Check('join with a wrong secret succeeded')


async def sc_wampcra():
    o = OPTS
    out = await join_with({'authmethod': 'wampcra', 'authid': o.cra_authid, 'secret': o.cra_secret})
    out['wrong_secret'] = await refused_with({'authmethod': 'wampcra', 'authid': o.cra_authid, 'secret': o.cra_secret + 'x'})
    return out


async def sc_wampcra_salted():
    o = OPTS
    out = await join_with({'authmethod': 'wampcra', 'authid': o.cra_salted_authid, 'secret': o.cra_salted_secret})
    out['wrong_secret'] = await refused_with({'authmethod': 'wampcra', 'authid': o.cra_salted_authid, 'secret': 'not-' + o.cra_salted_secret})
    return out


async def sc_ticket():
    o = OPTS
    out = await join_with({'authmethod': 'ticket', 'authid': o.ticket_authid, 'secret': o.ticket_secret})
    out['wrong_secret'] = await refused_with({'authmethod': 'ticket', 'authid': o.ticket_authid, 'secret': 'wrong'})
    return out


async def sc_permission():
    o = OPTS
    owner = await connect()  # anonymous, may do everything
    limited = await connect({'authmethod': 'ticket', 'authid': o.limited_authid, 'secret': o.limited_secret})
    forbidden = 'forbidden.{}.proc'.format(OPTS.prefix)
    await owner.register(lambda: 'secret stuff', forbidden)
    await owner.register(lambda: 'fine', uri('allowed'))
    out = {'authrole': limited.welcome.authrole, 'allowed': await limited.call(uri('allowed'))}
    try:
        await limited.call(forbidden)
        raise Check('forbidden call succeeded')
    except ApplicationError as e:
        out['forbidden_error'] = e.error
    await close(limited)
    await close(owner)
    return out


async def sc_binary():
    callee = await connect()
    caller = await connect()
    payload = bytes(range(256)) + b'\x00end'

    def echo(data):
        return [type(data).__name__, data]

    await callee.register(echo, uri('echo_bytes'))
    kind, back = await caller.call(uri('echo_bytes'), payload)
    check(kind == 'bytes', 'callee receives bytes, got {}'.format(kind))
    check(back == payload and isinstance(back, bytes), 'bytes round trip')
    await close(caller)
    await close(callee)
    return {'callee_type': kind, 'length': len(back), 'b64': base64.b64encode(back).decode('ascii')}


SCENARIOS = {
    'join': sc_join,
    'rpc': sc_rpc,
    'call_error': sc_call_error,
    'pubsub': sc_pubsub,
    'pattern': sc_pattern,
    'progressive': sc_progressive,
    'cancel': sc_cancel,
    'timeout': sc_timeout,
    'shared': sc_shared,
    'wampcra': sc_wampcra,
    'wampcra_salted': sc_wampcra_salted,
    'ticket': sc_ticket,
    'permission': sc_permission,
    'binary': sc_binary,
}


def emit(obj):
    sys.stdout.write(json.dumps(obj, default=lambda v: base64.b64encode(v).decode('ascii') if isinstance(v, bytes) else repr(v)) + '\n')
    sys.stdout.flush()


async def run_one(name):
    d = defer.ensureDeferred(SCENARIOS[name]())
    d.addTimeout(SCENARIO_TIMEOUT, reactor)
    try:
        out = await d
        line = {'scenario': name, 'ok': True}
        line.update(out or {})
    except Exception as e:  # noqa: BLE001 - every failure becomes a result line
        line = {'scenario': name, 'ok': False, 'error': '{}: {}'.format(type(e).__name__, e)}
        if not isinstance(e, (Check, Aborted, ApplicationError, defer.TimeoutError)):
            line['traceback'] = traceback.format_exc()
    # whatever the scenario left open
    for s in list(OPEN):
        try:
            await close(s)
        except Exception:
            pass
    OPEN.clear()
    emit(line)
    return line['ok']


async def run_all(names):
    ok = True
    for n in names:
        ok = (await run_one(n)) and ok
    return ok


# ------------------------------------------------------------------------------------------------
# serve: the Python half of a mixed-language scenario.

class StdinWatch(Protocol):
    def connectionLost(self, reason):
        if reactor.running:
            reactor.stop()


async def serve():
    s = await connect()

    def add(a, b):
        return a + b

    def echo_bytes(data):
        return [type(data).__name__, data]

    def fail(*args, **kwargs):
        raise ApplicationError('com.interop.error.from_python', *args, **kwargs)

    def on_event(*args, details=None, **kwargs):
        emit({'event': {'args': list(args), 'kwargs': kwargs, 'topic': details.topic}})

    async def publish(*args, **kwargs):
        await s.publish(uri('mix.from_py'), *args, options=types.PublishOptions(acknowledge=True), **kwargs)
        return 'published'

    def slow(*args):
        # never answers by itself; reports its start and the INTERRUPT it gets
        def canceller(d):
            emit({'interrupted': list(args)})
        emit({'started': list(args)})
        return defer.Deferred(canceller)

    await s.register(add, uri('mix.add'))
    await s.register(slow, uri('mix.slow'))
    await s.register(echo_bytes, uri('mix.echo_bytes'))
    await s.register(fail, uri('mix.fail'))
    await s.register(publish, uri('mix.publish'))
    await s.subscribe(on_event, uri('mix.topic'), options=types.SubscribeOptions(details=True))
    emit({'ready': True, 'session': s.welcome.session})


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--url', required=True, help='ws://host:port/path or rs://host:port')
    p.add_argument('--realm', required=True)
    p.add_argument('--serializer', default='json', choices=['json', 'msgpack'])
    p.add_argument('--transport', default='websocket', choices=['websocket', 'rawsocket'])
    p.add_argument('--scenario', required=True, help='NAME, NAME,NAME,..., "all" or "serve"; one of: ' + ', '.join(SCENARIOS))
    p.add_argument('--prefix', default='com.interop.py', help='URI prefix for everything this run registers/publishes')
    p.add_argument('--authid', dest='cra_authid', help='WAMP-CRA (unsalted) authid')
    p.add_argument('--secret', dest='cra_secret', help='WAMP-CRA (unsalted) secret')
    p.add_argument('--salted-authid', dest='cra_salted_authid')
    p.add_argument('--salted-secret', dest='cra_salted_secret', help='the password; the router stores the derived key')
    p.add_argument('--ticket-authid')
    p.add_argument('--ticket-secret')
    p.add_argument('--limited-authid', help='ticket principal whose role may not call forbidden.*')
    p.add_argument('--limited-secret')
    a = p.parse_args()
    for k, v in vars(a).items():
        setattr(OPTS, k, v)

    if a.scenario == 'serve':
        stdio.StandardIO(StdinWatch())
        status = {'code': 0}

        def failed(f):
            emit({'ready': False, 'error': f.getErrorMessage()})
            status['code'] = 1
            reactor.stop()
        reactor.callWhenRunning(lambda: defer.ensureDeferred(serve()).addErrback(failed))
        reactor.run()
        sys.exit(status['code'])

    names = list(SCENARIOS) if a.scenario == 'all' else a.scenario.split(',')
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        p.error('unknown scenario(s): {}'.format(', '.join(unknown)))
    result = {'ok': False}

    def done(ok):
        result['ok'] = ok
        reactor.stop()

    def crashed(f):
        emit({'scenario': '*', 'ok': False, 'error': f.getTraceback()})
        reactor.stop()

    reactor.callWhenRunning(lambda: defer.ensureDeferred(run_all(names)).addCallbacks(done, crashed))
    reactor.run()
    sys.exit(0 if result['ok'] else 1)


if __name__ == '__main__':
    main()
