#!/usr/bin/python3
"""Pushes a live value every PERIOD seconds on consumer.<name>.data and serves the last hour from memory (asyncio)."""
import asyncio
import math
import os
import time

from sisock.aio import DataNodeServer, run

PERIOD = float(os.environ.get("PERIOD", "1"))
HISTORY = {"t": [], "sine": []}  # module level: kept across reconnections


class LiveNode(DataNodeServer):
    name = os.environ.get("NODE_NAME", "pylive")
    description = "A sine wave, pushed live from Python"

    def get_fields(self, start, end):
        field = {"sine": {"description": "sin(t / 60)", "timeline": "live", "type": "number", "units": None}}
        return [field, {"live": {"interval": PERIOD, "field": ["sine"]}}]

    def get_data(self, field, start, end, min_stride=None):
        # Whole history; the base class keeps [start, end) and applies min_stride.
        return {"data": {"sine": HISTORY["sine"]} if "sine" in field else {},
                "timeline": {"live": {"t": HISTORY["t"], "finalized_until": None}} if "sine" in field else {}}

    def node_joined(self):
        self.loop = asyncio.ensure_future(self.produce())

    def node_left(self):
        self.loop.cancel()

    async def produce(self):
        while True:
            t = time.time()
            v = math.sin(t / 60)
            HISTORY["t"].append(t)
            HISTORY["sine"].append(v)
            while HISTORY["t"] and HISTORY["t"][0] < t - 3600:
                del HISTORY["t"][0], HISTORY["sine"][0]
            self.push({"data": {"sine": [v]}, "timeline": {"live": {"t": [t], "finalized_until": t}}})
            await asyncio.sleep(PERIOD)


if __name__ == "__main__":
    run(LiveNode)
