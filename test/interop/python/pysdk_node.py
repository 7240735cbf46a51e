#!/usr/bin/python3
"""
Test and bench node for the Python SDK: FLAVOUR=twisted|asyncio (env), N samples (env N, default
100) of field `x` (= i) on timeline `tl`, t = 1000 + i * DT (env DT, default 1). Field `odd` is
[NaN, Infinity, 1.0]. Field `boom` raises an exception with a private message; field `nodeerr` raises NodeError("visible message").
Prints {"joined": true} to stdout when its procedures are registered; pushes x = -k at t = 5000 + k
every 0.1 s on consumer.<name>.data.
"""
import json
import os
import sys

import txaio

FLAVOUR = os.environ.get("FLAVOUR", "asyncio")
if FLAVOUR == "twisted":
    from sisock.base import DataNodeServer, NodeError, run
else:
    from sisock.aio import DataNodeServer, NodeError, run

N = int(os.environ.get("N", "100"))
DT = float(os.environ.get("DT", "1"))
T = [1000.0 + i * DT for i in range(N)]
X = [float(i) for i in range(N)]


def emit(obj):
    sys.__stdout__.write(json.dumps(obj) + "\n")
    sys.__stdout__.flush()


class TestNode(DataNodeServer):
    name = os.environ.get("NODE_NAME", "pysdk")
    description = "Python SDK test node (" + FLAVOUR + ")"

    def get_fields(self, start, end):
        return [{"x": {"description": "index", "timeline": "tl", "type": "number", "units": None}},
                {"tl": {"interval": DT, "field": ["x"]}}]

    def get_data(self, field, start, end, min_stride=None):
        if "boom" in field:
            raise OSError("cannot open /secret/path/db.sqlite: password=hunter2")
        if "nodeerr" in field:
            raise NodeError("visible message")
        if "odd" in field:  # NaN and infinities: null on the wire
            return {"data": {"odd": [float("nan"), float("inf"), 1.0]}, "timeline": {"t3": {"t": [1000.0, 1001.0, 1002.0], "finalized_until": None}}}
        if "x" not in field:
            return {"data": {}, "timeline": {}}
        return {"data": {"x": X}, "timeline": {"tl": {"t": T, "finalized_until": T[-1] if T else None}}}

    def node_joined(self):
        emit({"joined": True, "session": self._session_id})
        self.ticks = 0
        self.tick()

    def tick(self):
        # live values every 0.1 s while the session lasts
        if not self.is_attached():
            return
        self.ticks += 1
        self.push({"data": {"x": [-float(self.ticks)]}, "timeline": {"tl": {"t": [5000.0 + self.ticks], "finalized_until": None}}})
        self.timer = txaio.call_later(0.1, self.tick)

    def status(self):
        # a health figure, a word, and what the bound drops (a nested value, NaN)
        return {"ticks": getattr(self, "ticks", 0), "mode": "test", "nested": {"a": 1}, "bad": float("nan")}

    def node_left(self):
        if getattr(self, "timer", None) is not None:
            self.timer.cancel()


if __name__ == "__main__":
    run(TestNode)
