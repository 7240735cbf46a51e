"""
A node's ``status`` in its metadata (a sisock addition): the Python side of contract/status.ts
``boundNodeStatus`` and ``STATUS_TIMEOUT_MS``, with the same bounds, so a buggy ``status()`` can
neither grow the node's answer (the hub bounds it again on its side) nor hold it.
"""
from __future__ import annotations

import inspect
import math
import re
from typing import Any, Dict, Optional, Union

import txaio

from .state import _value

NodeStatusValue = Union[int, float, str, bool, None]

#: Most keys kept; keys beyond it (in insertion order) are left out.
MAX_STATUS_KEYS = 32
#: Longest key, characters; longer keys are left out.
MAX_STATUS_KEY = 64
#: Longest string value, characters; longer ones are cut.
MAX_STATUS_STRING = 256

#: Seconds a node waits for its ``status()`` hook when answering get_metadata (contract/status.ts
#: STATUS_TIMEOUT_MS): well under the hub's 2 s call timeout, so a hook that hangs leaves ``status``
#: out instead of marking the node unavailable.
STATUS_TIMEOUT = 1.0

_KEY = re.compile(r"^[A-Za-z0-9_.-]+$")


async def within(v: Any, seconds: float) -> Any:
    """The value of ``v`` (a plain value, a Deferred or an awaitable, under whichever of Twisted or asyncio
    txaio is set to), or TimeoutError after ``seconds``; then the pending work is cancelled (a Deferred,
    a future or a task; a bare coroutine under Twisted is left to finish, its answer dropped)."""
    if not inspect.isawaitable(v):
        return v
    box = txaio.create_future()

    async def settle() -> None:
        try:
            w = await _value(v)
        except Exception as e:  # noqa: BLE001 - handed on to the caller
            if not txaio.is_called(box):
                txaio.reject(box, e)
            return
        if not txaio.is_called(box):
            txaio.resolve(box, w)

    work = txaio.as_future(settle)

    def late() -> None:
        if not txaio.is_called(box):
            txaio.reject(box, TimeoutError(f"no answer within {seconds} s"))
            txaio.cancel(work)
            # Twisted 22 does not pass the cancel on to the Deferred a coroutine awaits: cancel it here
            cancel = getattr(v, "cancel", None)
            if callable(cancel):
                cancel()

    timer = txaio.call_later(seconds, late)
    try:
        return await box
    finally:
        try:
            timer.cancel()
        except Exception:  # noqa: BLE001 - Twisted's AlreadyCalled once it fired
            pass


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
