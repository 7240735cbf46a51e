#!/usr/bin/python3
"""
A data node in the original sisock's style (simonsobs/sisock components/data_node_servers/*:
a DataNodeServer subclass whose __init__ calls ApplicationSession.__init__, sets name and
description, implements get_fields/get_data, and is started by a bare ApplicationRunner on
sisock.base.WAMP_URI / REALM). Only the import resolves to the new package (PYTHONPATH=sdk/python).
"""
import sys
from os import environ

from autobahn.twisted.wamp import ApplicationSession, ApplicationRunner

import sisock


class sensors(sisock.base.DataNodeServer):
    """Two thermometers on one timeline, as the original example servers: t = 1000 + i."""

    def __init__(self, config):
        ApplicationSession.__init__(self, config)
        self.name = environ.get("NODE_NAME", "original")
        self.description = "Original-style sisock node"
        self.t = [1000.0 + i for i in range(100)]
        self.val = {"therm_a": [20 + i / 10 for i in range(100)], "therm_b": [4.0 - i / 100 for i in range(100)]}

    def get_fields(self, start, end):
        field = {}
        for f in self.val:
            field[f] = {"description": "thermometer " + f[-1], "timeline": "therms", "type": "number", "units": "K"}
        timeline = {"therms": {"interval": 1.0, "field": list(self.val.keys())}}
        return [field, timeline]

    def get_data(self, field, start, end, min_stride=None):
        if "explode" in field:
            raise ValueError("disk /secret/path is on fire")
        idx = [i for i, t in enumerate(self.t) if start <= t < end]
        data = {}
        timeline = {}
        for f in field:
            if f in self.val:
                data[f] = [self.val[f][i] for i in idx]
                timeline["therms"] = {"t": [self.t[i] for i in idx], "finalized_until": self.t[-1]}
        return {"data": data, "timeline": timeline}


if __name__ == "__main__":
    sys.stderr.write("starting\n")
    runner = ApplicationRunner(environ.get("AUTOBAHN_DEMO_ROUTER", sisock.base.WAMP_URI), sisock.base.REALM)
    runner.run(sensors)
