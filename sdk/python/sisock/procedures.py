"""
The procedures a node registers (``get_fields``, ``get_data``, ``get_metadata``) and live ``push``:
arguments checked, results cut to ``[start, end)``, ``min_stride`` applied, sizes fitted, errors
mapped to WAMP errors without tracebacks (see node.py).
"""
from __future__ import annotations

import inspect
import math
import os
import socket
import sys
import time
import traceback
from typing import Any, Dict, Optional, cast

from autobahn.wamp.exception import ApplicationError

from . import __version__
from .args import ArgumentError, parse_get_data_args, parse_get_fields_args
from .results import check_shape, json_size_bound, newest_t, normalize, split_result, thin_to_fit
from .status import STATUS_TIMEOUT, bound_node_status, within
from .state import INVALID_ARGUMENT, RUNTIME_ERROR, NodeBase, NodeError, _value
from .types import DataResult, NodeMetadata


class Procedures(NodeBase):
    """The registered procedures and push (mixed into NodeMixin)."""

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
        meta: NodeMetadata = {
            "name": self._node_name(), "description": self.description or "", "host": socket.gethostname(),
            # the script's name only: its arguments may hold a password or a token (never in metadata)
            "pid": os.getpid(), "process": "python3 " + os.path.basename(sys.argv[0] if sys.argv else ""),
            "sisock_version": __version__, "started": st.started, "n_fields": st.n_fields,
            "newest_sample": st.newest, "session_id": cast(Any, self)._session_id,
        }
        try:
            status = bound_node_status(await within(self.status(), STATUS_TIMEOUT))
        except Exception:  # a status that cannot be had (raised, or late) leaves it out; the metadata still answers
            status = None
        if status is not None:
            meta["status"] = status
        return meta

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
