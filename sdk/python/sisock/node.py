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

from typing import Any, cast

import txaio
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import RegisterOptions, SessionDetails

from .options import challenge_response
from .procedures import Procedures
from .state import INVALID_ARGUMENT, NO_SUCH_PROCEDURE, RUNTIME_ERROR, NodeError, _value

__all__ = ["NodeMixin", "NodeError", "INVALID_ARGUMENT", "RUNTIME_ERROR"]


class NodeMixin(Procedures):
    """Mixed into autobahn's ApplicationSession (Twisted or asyncio) by sisock.base / sisock.aio."""

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
