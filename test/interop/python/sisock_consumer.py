#!/usr/bin/python3
"""
A sisock consumer written the way the original Python sisock clients (e.g. the Grafana server)
were: AutobahnPython, Twisted, unsalted WAMP-CRA. Used by test/interop/sisock-python.test.ts.

    sisock_consumer.py --router URL --realm test_realm --authid consumer --node NAME --field F
    secret: env SISOCK_SECRET

Prints one JSON line:
    {"ok": true, "nodes": [...], "fields": [...], "data": {...}, "data_stride": {...}}
or {"ok": false, "error": "..."}; exit code 0 / 1.
"""
import argparse
import json
import os
import sys

from twisted.internet import reactor, defer
from autobahn.twisted.wamp import ApplicationSession, ApplicationRunner
from autobahn.wamp import auth

RESULT = {"ok": False, "error": "did not run"}


class Consumer(ApplicationSession):
    def onConnect(self):
        self.join(self.config.realm, ["wampcra"], self.config.extra["authid"])

    def onChallenge(self, challenge):
        sig = auth.compute_wcs(self.config.extra["secret"].encode("utf8"),
                               challenge.extra["challenge"].encode("utf8"))
        return sig.decode("ascii") if isinstance(sig, bytes) else sig

    @defer.inlineCallbacks
    def onJoin(self, details):
        global RESULT
        c = self.config.extra
        base = c["base"] + ".consumer."
        try:
            nodes = yield self.call(base + "get_data_node")
            fields = yield self.call(base + c["node"] + ".get_fields", 1, 0)
            data = yield self.call(base + c["node"] + ".get_data", [c["field"], "no_such_field"], 1000, 1010)
            data_stride = yield self.call(base + c["node"] + ".get_data", [c["field"]], 1000, 1010, min_stride=3)
            RESULT = {"ok": True, "nodes": nodes, "fields": fields, "data": data, "data_stride": data_stride}
        except Exception as e:  # noqa
            RESULT = {"ok": False, "error": repr(e)}
        self.leave()

    def onLeave(self, details):
        self.disconnect()

    def onDisconnect(self):
        if reactor.running:
            reactor.stop()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--router", required=True)
    p.add_argument("--realm", default="test_realm")
    p.add_argument("--authid", default="consumer")
    p.add_argument("--node", required=True)
    p.add_argument("--field", required=True)
    p.add_argument("--base", default="org.simonsobservatory")
    a = p.parse_args()
    extra = {"authid": a.authid, "secret": os.environ.get("SISOCK_SECRET", ""), "node": a.node,
             "field": a.field, "base": a.base}
    ApplicationRunner(a.router, a.realm, extra=extra).run(Consumer, auto_reconnect=False)
    # Twisted logging replaced sys.stdout: write to the real one
    sys.__stdout__.write(json.dumps(RESULT) + "\n")
    sys.__stdout__.flush()
    sys.exit(0 if RESULT.get("ok") else 1)


if __name__ == "__main__":
    main()
