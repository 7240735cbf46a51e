#!/usr/bin/python3
"""Serves a folder of weather .dat files (original sisock format: 3 '#' header lines, then 't value')."""
import glob
import os
import sys

from sisock.aio import DataNodeServer, run

DATA_DIR = os.environ.get("WEATHER_DIR", os.path.join(os.path.dirname(__file__), "../../../data-nodes/weather/example-data"))


def load(path):
    with open(path) as fh:
        head = [fh.readline()[1:].strip() for _ in range(3)]
        rows = sorted(tuple(map(float, line.split())) for line in fh if line[:1] not in ("#", "\n"))
    return head, [r[0] for r in rows], [r[1] for r in rows]


class WeatherNode(DataNodeServer):
    name = os.environ.get("NODE_NAME", "pyweather")
    description = "Weather archive files, served from Python"
    files = {os.path.basename(p)[:-4]: load(p) for p in glob.glob(os.path.join(DATA_DIR, "*.dat"))}

    def get_fields(self, start, end):
        field, timeline = {}, {}
        for name, ((desc, tl, units), t, v) in self.files.items():
            field[name] = {"description": desc, "timeline": tl, "type": "number", "units": units or None}
            timeline.setdefault(tl, {"interval": None, "field": []})["field"].append(name)
        return [field, timeline]

    def get_data(self, field, start, end, min_stride=None):
        # The base class keeps [start, end) and applies min_stride: return whole series.
        data, timeline = {}, {}
        for name in field:
            if name in self.files:
                (_, tl, _), t, v = self.files[name]
                data[name] = v
                timeline[tl] = {"t": t, "finalized_until": t[-1] if t else None}
        return {"data": data, "timeline": timeline}


if __name__ == "__main__":
    print(f"serving {len(WeatherNode.files)} fields from {DATA_DIR}", file=sys.stderr)
    run(WeatherNode)
