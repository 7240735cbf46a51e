#!/usr/bin/python3
"""
A data node written the way the original Python sisock wrote them (AutobahnPython, Twisted,
unsalted WAMP-CRA), used by test/interop/sisock-python.test.ts to check that our hub lists it and
our client reads it.

    sisock_node.py --router ws://127.0.0.1:P/ws --realm test_realm --authid server \
                   --name pynode [--base org.simonsobservatory]
    secret: env SISOCK_SECRET

Serves field `temp` (timeline `py`): t = 1000 + i, temp = 20 + i / 10, i in 0..9.
Prints {"ready": true, "session": ID, "added": bool} once it has announced itself; runs until
killed (SIGTERM: data_node.subtract, then leave).
"""
import argparse
import json
import os
import signal
import sys

from twisted.internet import reactor, defer
from autobahn.twisted.wamp import ApplicationSession, ApplicationRunner
from autobahn.wamp import auth
from autobahn.wamp.exception import ApplicationError

T = [1000.0 + i for i in range(10)]
TEMP = [20 + i / 10 for i in range(10)]


def emit(obj):
    # Twisted logging replaces sys.stdout once the runner starts: write to the real one
    sys.__stdout__.write(json.dumps(obj) + "\n")
    sys.__stdout__.flush()


class DataNodeServer(ApplicationSession):
    def onConnect(self):
        c = self.config.extra
        self.join(self.config.realm, ["wampcra"], c["authid"])

    def onChallenge(self, challenge):
        if challenge.method != "wampcra":
            raise Exception("unexpected challenge " + challenge.method)
        sig = auth.compute_wcs(self.config.extra["secret"].encode("utf8"),
                               challenge.extra["challenge"].encode("utf8"))
        return sig.decode("ascii") if isinstance(sig, bytes) else sig

    def get_fields(self, start, end):
        field = {"temp": {"description": "temperature", "timeline": "py", "type": "number", "units": "C"}}
        timeline = {"py": {"interval": 1.0, "field": ["temp"]}}
        return [field, timeline]

    def get_data(self, field, start, end, min_stride=None):
        if not isinstance(field, list):
            raise ApplicationError("wamp.error.invalid_argument", "field must be a list")
        idx = [i for i, t in enumerate(T) if start <= t < end]
        if min_stride:
            kept, last = [], None
            for i in idx:
                if last is None or T[i] - last >= min_stride:
                    kept.append(i)
                    last = T[i]
            idx = kept
        data, timeline = {}, {}
        for f in field:
            if f == "temp":
                data[f] = [TEMP[i] for i in idx]
                if idx:
                    timeline["py"] = {"t": [T[i] for i in idx], "finalized_until": T[idx[-1]]}
            else:
                data[f] = []
        return {"data": data, "timeline": timeline}

    @defer.inlineCallbacks
    def onJoin(self, details):
        c = self.config.extra
        base = c["base"] + ".consumer." + c["name"]
        yield self.register(self.get_fields, base + ".get_fields")
        yield self.register(self.get_data, base + ".get_data")
        added = yield self.call(c["base"] + ".data_node.add", c["name"], c["description"], details.session)
        emit({"ready": True, "session": details.session, "added": added})

        def stop(*_):
            d = self.call(c["base"] + ".data_node.subtract", c["name"], details.session)
            d.addBoth(lambda _: self.leave())
        signal.signal(signal.SIGTERM, lambda *_: reactor.callFromThread(stop))

    def onLeave(self, details):
        self.disconnect()

    def onDisconnect(self):
        if reactor.running:
            reactor.stop()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--router", required=True)
    p.add_argument("--realm", default="test_realm")
    p.add_argument("--authid", default="server")
    p.add_argument("--name", default="pynode")
    p.add_argument("--description", default="Python sisock node")
    p.add_argument("--base", default="org.simonsobservatory")
    a = p.parse_args()
    extra = {"authid": a.authid, "secret": os.environ.get("SISOCK_SECRET", ""), "name": a.name,
             "description": a.description, "base": a.base}
    ApplicationRunner(a.router, a.realm, extra=extra).run(DataNodeServer, auto_reconnect=False)


if __name__ == "__main__":
    main()
