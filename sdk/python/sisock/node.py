"""
The data-node logic shared by the Twisted (sisock.base) and asyncio (sisock.aio) flavours.

A node subclasses ``DataNodeServer`` exactly as in the original sisock: it sets ``name`` and
``description`` and implements ``get_fields(start, end)`` and ``get_data(field, start, end,
min_stride=None)`` (plain values, Deferreds or coroutines). On every WAMP session the base class

1. registers ``<base>.consumer.<name>.get_fields``, ``.get_data`` and ``.get_metadata``;
2. subscribes to ``<base>.hub.started`` and announces again when a hub (re)starts;
3. announces itself: ``<base>.data_node.add(name, description, session_id)``; refused (name held
   by a live node) → retried every 5 s; no hub yet → done when ``hub.started`` comes.

Arguments are checked once here (args.py → ``wamp.error.invalid_argument``), times ``t <= 0``
are ``now + t``; the node's answer is cut to ``[start, end)`` and ``min_stride`` is applied with
min/max buckets, or means with ``reduce="mean"`` (results.py), so a node may ignore both. Results above the message size go as
progressive pieces to callers that asked for progress, thinned to fit for the others. A node that
raises gets the caller ``wamp.error.runtime_error`` with a short message (``NodeError``'s message,
else "internal error in <name>.<procedure>"); the traceback stays in the node's log.
``push(result)`` publishes live samples on ``<base>.consumer.<name>.data``.
"""
from __future__ import annotations

import inspect
import math
import os
import socket
import sys
import time
import traceback
from typing import Any, Dict, List, Optional, cast

import txaio
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import RegisterOptions, SessionDetails

from . import __version__
from .args import ArgumentError, parse_get_data_args, parse_get_fields_args
from .options import NodeOptions, challenge_response, options_from_env
from .results import check_shape, json_size_bound, newest_t, normalize, split_result, thin_to_fit
from .types import DataResult, NodeMetadata

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


class NodeMixin:
    """Mixed into autobahn's ApplicationSession (Twisted or asyncio) by sisock.base / sisock.aio."""

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

    # --- session (autobahn ApplicationSession callbacks) ------------------------------------------

    def onConnect(self) -> None:
        s = cast(Any, self)
        o = self._sisock().options
        realm = getattr(s.config, "realm", None) or o.realm
        if o.authid and o.secret is not None:
            s.join(realm, o.authmethods, o.authid)
        else:
            s.join(realm)

    def onChallenge(self, challenge: Any) -> str:
        secret = self._sisock().options.secret
        if secret is None:
            raise ApplicationError("wamp.error.authentication_failed", "no secret: set SISOCK_SECRET or SISOCK_SECRET_FILE")
        return challenge_response(challenge.method, challenge.extra or {}, secret)

    async def onJoin(self, details: SessionDetails) -> None:
        s = cast(Any, self)
        st = self._sisock()
        st.closing = False
        st.announced = False
        name = self._node_name()
        opts = RegisterOptions(details_arg="details")
        await _value(s.register(self._h_get_fields, self._uri(f"consumer.{name}.get_fields"), opts))
        await _value(s.register(self._h_get_data, self._uri(f"consumer.{name}.get_data"), opts))
        await _value(s.register(self._h_get_metadata, self._uri(f"consumer.{name}.get_metadata")))
        await _value(s.subscribe(self._on_hub_started, self._uri("hub.started")))
        try:
            self.node_joined()
        except Exception:
            s.log.failure("node_joined failed")
        await self._announce("session open")

    def onLeave(self, details: Any) -> None:
        st = self._sisock()
        st.announced = False
        self._cancel_retry()
        try:
            self.node_left()
        except Exception:
            cast(Any, self).log.failure("node_left failed")
        cast(Any, self).disconnect()

    async def close_node(self, leave: bool = True) -> None:
        """``data_node.subtract``, then GOODBYE (unless ``leave`` is False: the caller ends the session)."""
        s = cast(Any, self)
        st = self._sisock()
        st.closing = True
        if s.is_attached() and st.announced:
            try:
                await _value(s.call(self._uri("data_node.subtract"), self._node_name(), s._session_id))
            except Exception:
                pass
        if leave and s.is_attached():
            await _value(s.leave())

    # --- announcing ------------------------------------------------------------------------------

    def _on_hub_started(self, *args: Any, **kwargs: Any) -> None:
        self._sisock().announced = False
        txaio.as_future(self._announce, "hub started")

    def _cancel_retry(self) -> None:
        st = self._sisock()
        if st.retry is not None:
            try:
                st.retry.cancel()
            except Exception:
                pass  # already run
        st.retry = None

    def _schedule(self, delay: float) -> None:
        st = self._sisock()
        if st.closing:
            return
        self._cancel_retry()
        st.retry = txaio.call_later(delay, lambda: txaio.as_future(self._announce, "retry"))

    async def _announce(self, why: str) -> None:
        s = cast(Any, self)
        st = self._sisock()
        if st.closing or not s.is_attached():
            return
        sid = s._session_id
        try:
            ok = await _value(s.call(self._uri("data_node.add"), self._node_name(), self.description or "", sid))
        except ApplicationError as e:
            st.announced = False
            if e.error == NO_SUCH_PROCEDURE:
                s.log.info("no hub yet; will announce when it starts")
            else:
                s.log.warn("announce failed ({err}); retrying", err=e.error)
                self._schedule(2.0)
            return
        except Exception as e:  # transport lost while calling: the next session announces
            s.log.debug("announce interrupted: {err}", err=str(e))
            return
        if s._session_id != sid:
            return
        if ok is True:
            if not st.announced:
                s.log.info("announced to hub ({why}, session {sid})", why=why, sid=sid)
            st.announced = True
        else:
            st.announced = False
            s.log.error('hub refused the name "{name}": another live node holds it; retrying every 5 s', name=self.name)
            self._schedule(5.0)

    # --- procedures ------------------------------------------------------------------------------

    def _fail(self, what: str, e: BaseException) -> ApplicationError:
        name = self.name
        if isinstance(e, ArgumentError):
            return ApplicationError(INVALID_ARGUMENT, f"{name}.{what}: {e}")
        if isinstance(e, ApplicationError):
            return e
        if isinstance(e, NodeError):
            return ApplicationError(RUNTIME_ERROR, f"{name}.{what}: {e}")
        # The detail (paths, SQL, connection strings) stays in the node's log.
        cast(Any, self).log.error("{what} failed: {tb}", what=what, tb="".join(traceback.format_exception(type(e), e, e.__traceback__)))
        return ApplicationError(RUNTIME_ERROR, f"internal error in {name}.{what} ({type(e).__name__}); see the node's log")

    async def _fields_map(self) -> Optional[Dict[str, str]]:
        st = self._sisock()
        now = time.time()
        if now - st.fields_at < 60:
            return st.field_timeline
        st.fields_at = now
        try:
            res = await _value(self.get_fields(1.0, now + 1))
            fields = res[0] if isinstance(res, (list, tuple)) and len(res) == 2 else {}
            st.field_timeline = {f: str(info.get("timeline")) for f, info in fields.items() if isinstance(info, dict)}
            st.n_fields = len(fields)
        except Exception as e:
            cast(Any, self).log.debug("get_fields for the field map failed: {err}", err=str(e))
        return st.field_timeline

    async def _h_get_fields(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.pop("details", None)
        try:
            r = parse_get_fields_args(args, kwargs, time.time())
            res = await _value(self.get_fields(r.start, r.end))
            if not isinstance(res, (list, tuple)) or len(res) != 2 or not all(isinstance(x, dict) for x in res):
                raise TypeError("get_fields returned something that is not [field, timeline]")
            return list(res)
        except BaseException as e:
            raise self._fail("get_fields", e) from None

    async def _h_get_data(self, *args: Any, **kwargs: Any) -> Any:
        details = kwargs.pop("details", None)
        st = self._sisock()
        try:
            a = parse_get_data_args(args, kwargs, time.time())
            if a.reduce != "minmax" and self._takes_reduce():
                raw = check_shape(await _value(cast(Any, self.get_data)(a.fields, a.start, a.end, a.min_stride, reduce=a.reduce)))
            else:
                raw = check_shape(await _value(self.get_data(a.fields, a.start, a.end, a.min_stride)))
            fmap = await self._fields_map()
            result = normalize(raw, a.fields, a.start, a.end, None if self.thins_itself else a.min_stride, fmap, a.reduce)
        except BaseException as e:
            raise self._fail("get_data", e) from None
        t = newest_t(result) if a.min_stride is None else None  # a thinned answer's times may be a grid
        if t is not None and (st.newest is None or t > st.newest):
            st.newest = t
        budget = self._budget()
        size = json_size_bound(result)
        if size <= budget:
            return result
        progress = getattr(details, "progress", None)
        if progress is not None:
            pieces = split_result(result, budget, fmap, size)
            for p in pieces[:-1]:
                progress(p)
            return pieces[-1]
        thinned, stride, size = thin_to_fit(result, budget, a.start, a.end, a.min_stride, fmap, size, a.reduce)
        if size > budget:
            raise ApplicationError(RUNTIME_ERROR, f"{self.name}.get_data: the result does not fit in "
                                   f"{st.options.max_message_bytes} bytes even thinned (min_stride {stride:g} s); "
                                   "ask for progressive results, fewer fields or a shorter interval")
        return thinned

    def _takes_reduce(self) -> bool:
        """Whether the node's get_data accepts the ``reduce`` keyword (sisock addition; original nodes do not)."""
        try:
            params = inspect.signature(self.get_data).parameters
        except (TypeError, ValueError):
            return False
        return "reduce" in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())

    def _budget(self) -> int:
        # margin for the WAMP envelope (message type, request id, details) and serializer differences
        return max(2048, int(self._sisock().options.max_message_bytes * 0.9) - 1024)

    async def _h_get_metadata(self, *args: Any, **kwargs: Any) -> NodeMetadata:
        st = self._sisock()
        await self._fields_map()
        return {
            "name": self._node_name(), "description": self.description or "", "host": socket.gethostname(),
            "pid": os.getpid(), "process": " ".join(["python3"] + [os.path.basename(sys.argv[0])] + sys.argv[1:]),
            "sisock_version": __version__, "started": st.started, "n_fields": st.n_fields,
            "newest_sample": st.newest, "session_id": cast(Any, self)._session_id,
        }

    # --- live data ---------------------------------------------------------------------------------

    def push(self, result: DataResult) -> bool:
        """Publishes ``result`` (the get_data shape) on ``<base>.consumer.<name>.data``, in pieces if it is
        larger than a message. False (dropped) while not connected."""
        s = cast(Any, self)
        st = self._sisock()
        check_shape(result)
        fields = list(result["data"])
        result = normalize(result, fields, -math.inf, math.inf, None, st.field_timeline)
        if not s.is_attached():
            return False
        t = newest_t(result)
        if t is not None and (st.newest is None or t > st.newest):
            st.newest = t
        size = json_size_bound(result)
        budget = self._budget()
        for p in split_result(result, budget, st.field_timeline, size) if size > budget else [result]:
            s.publish(self._uri(f"consumer.{self._node_name()}.data"), p)
        return True
