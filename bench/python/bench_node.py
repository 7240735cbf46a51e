#!/usr/bin/python3
"""Bench node of bench/python-node.ts: N samples (env N) of `x` on timeline `tl`, t = T0 + i * DT,
served by the Python SDK (FLAVOUR=asyncio|twisted). Prints READY when its procedures are registered."""
import os
import sys

if os.environ.get("FLAVOUR") == "twisted":
    from sisock.base import DataNodeServer, run
else:
    from sisock.aio import DataNodeServer, run

N = int(os.environ.get("N", "1000000"))
T0 = float(os.environ.get("T0", "1700000000"))
DT = float(os.environ.get("DT", "0.001"))
T = [T0 + i * DT for i in range(N)]
X = [float(i % 1000) * 0.5 for i in range(N)]


class BenchNode(DataNodeServer):
    name = os.environ.get("NODE_NAME", "pybench")
    description = "Python SDK bench node"

    def get_fields(self, start, end):
        return [{"x": {"description": None, "timeline": "tl", "type": "number", "units": None}},
                {"tl": {"interval": DT, "field": ["x"]}}]

    def get_data(self, field, start, end, min_stride=None):
        return {"data": {"x": X}, "timeline": {"tl": {"t": T, "finalized_until": T[-1]}}}

    def node_joined(self):
        sys.__stdout__.write("READY\n")
        sys.__stdout__.flush()


if __name__ == "__main__":
    run(BenchNode, log_level="warn")
