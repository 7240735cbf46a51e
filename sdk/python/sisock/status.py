"""
A node's ``status`` in its metadata (a sisock addition): the Python side of contract/status.ts
``boundNodeStatus``, with the same bounds, so a buggy ``status()`` cannot grow the node's answer
(the hub bounds it again on its side).
"""
from __future__ import annotations

import math
import re
from typing import Any, Dict, Optional, Union

NodeStatusValue = Union[int, float, str, bool, None]

#: Most keys kept; keys beyond it (in insertion order) are left out.
MAX_STATUS_KEYS = 32
#: Longest key, characters; longer keys are left out.
MAX_STATUS_KEY = 64
#: Longest string value, characters; longer ones are cut.
MAX_STATUS_STRING = 256

_KEY = re.compile(r"^[A-Za-z0-9_.-]+$")


def bound_node_status(v: Any) -> Optional[Dict[str, NodeStatusValue]]:
    """The bounded copy of ``v``: None unless ``v`` is a dict; keys that are not words of at most
    MAX_STATUS_KEY characters are dropped, as are values that are not finite numbers, booleans, None or
    strings (strings are cut to MAX_STATUS_STRING); at most MAX_STATUS_KEYS entries."""
    if not isinstance(v, dict):
        return None
    out: Dict[str, NodeStatusValue] = {}
    for k, x in v.items():
        if len(out) >= MAX_STATUS_KEYS:
            break
        if not isinstance(k, str) or len(k) > MAX_STATUS_KEY or not _KEY.fullmatch(k):
            continue
        if isinstance(x, bool) or x is None:
            out[k] = x
        elif isinstance(x, (int, float)):
            # a number JSON readers take as finite (a Python int has no bound: 10**400 would read as Infinity)
            try:
                finite = math.isfinite(float(x))
            except OverflowError:
                finite = False
            if not finite:
                continue
            out[k] = x
        elif isinstance(x, str):
            out[k] = x[:MAX_STATUS_STRING]
    return out
