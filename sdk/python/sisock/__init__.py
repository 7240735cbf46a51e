"""
sisock for Python: write sisock data nodes with the original sisock's API.

    from sisock.base import DataNodeServer, run      # Twisted, as the original sisock
    from sisock.aio import DataNodeServer, run       # asyncio

``import sisock`` then ``sisock.base.DataNodeServer`` works as in the original (``base`` is loaded
on first use, so asyncio nodes do not need Twisted).
"""
from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__", "base", "aio", "args", "downsample", "results", "tiers", "options", "types"]


def __getattr__(name: str) -> Any:
    if name in ("base", "aio", "args", "downsample", "results", "tiers", "options", "types", "node", "state", "procedures"):
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'sisock' has no attribute {name!r}")
