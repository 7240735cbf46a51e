"""
What every data node has: its state on the current session, the methods a node implements (the
original sisock's signatures), and the error URIs. Mixed into autobahn's ApplicationSession with
procedures.py and node.py.
"""
from __future__ import annotations

import inspect
import time
from typing import Any, Dict, List, Optional, cast

from .options import NodeOptions, options_from_env

INVALID_ARGUMENT = "wamp.error.invalid_argument"
RUNTIME_ERROR = "wamp.error.runtime_error"
NO_SUCH_PROCEDURE = "wamp.error.no_such_procedure"


class NodeError(RuntimeError):
    """Raise from get_fields/get_data to give the caller this message (``wamp.error.runtime_error``)."""


class _State:
    def __init__(self, options: NodeOptions) -> None:
        self.options = options
        self.started = time.time()
        self.newest: Optional[float] = None
        self.field_timeline: Optional[Dict[str, str]] = None
        self.n_fields: Optional[int] = None
        self.fields_at = -1e18
        self.announced = False
        self.closing = False
        self.retry: Any = None


async def _value(v: Any) -> Any:
    """A plain value, a Deferred or an awaitable: its value."""
    while inspect.isawaitable(v):
        v = await v
    return v


class NodeBase:
    """The node's own methods and its state (see node.py for the whole)."""

    #: The node's name: ``<base>.consumer.<name>.*``.
    name: Optional[str] = None
    description: Optional[str] = None
    #: True when get_data already honours min_stride (e.g. answers from sisock.tiers): the base then
    #: keeps its strided answers as they are instead of downsampling them again.
    thins_itself: bool = False

    # --- what a node implements (the original sisock signatures) ------------------------------

    def get_fields(self, start: float, end: float) -> Any:
        """``[field, timeline]`` for ``[start, end)`` (absolute UNIX seconds)."""
        raise NotImplementedError("a DataNodeServer must implement get_fields(start, end)")

    def get_data(self, field: List[str], start: float, end: float, min_stride: Optional[float] = None) -> Any:
        """``{data, timeline}``; samples outside ``[start, end)`` and ``min_stride`` are dealt with by the base.
        A node may add a keyword ``reduce`` ("minmax" or "mean") to its get_data to receive that sisock addition."""
        raise NotImplementedError("a DataNodeServer must implement get_data(field, start, end, min_stride=None)")

    def node_joined(self) -> None:
        """Hook: called once per session when the procedures are registered (start live loops here)."""

    def node_left(self) -> None:
        """Hook: called when the session ends (stop live loops here)."""

    def status(self) -> Any:
        """Hook: health figures for ``get_metadata().status`` (a sisock addition), e.g. ``{"lost": 0}``: a flat
        dict of numbers, strings, booleans or None (bounded: at most 32 keys, strings cut to 256 characters).
        May return a Deferred or an awaitable. None (the default) leaves ``status`` out; so does raising or
        taking longer than 1 s (status.STATUS_TIMEOUT)."""
        return None

    # --- state ---------------------------------------------------------------------------------

    def _sisock(self) -> _State:
        # Original nodes define __init__(self, config) calling ApplicationSession.__init__ only, so
        # the state is made on first use instead of in a constructor of ours.
        st = cast(Optional[_State], self.__dict__.get("_sisock_state"))
        if st is None:
            extra = getattr(getattr(self, "config", None), "extra", None)
            opts = extra.get("sisock_options") if isinstance(extra, dict) else None
            st = _State(opts if isinstance(opts, NodeOptions) else options_from_env())
            self.__dict__["_sisock_state"] = st
        return st

    def _uri(self, suffix: str) -> str:
        return self._sisock().options.uri(suffix)

    def _node_name(self) -> str:
        if not self.name:
            raise RuntimeError("a DataNodeServer needs a name (set self.name or the class attribute name)")
        return self.name

    @property
    def announced(self) -> bool:
        """True once the hub has accepted the node on the current session."""
        return self._sisock().announced
