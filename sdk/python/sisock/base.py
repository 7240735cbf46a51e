"""
The Twisted flavour, under the original sisock's module name: ``sisock.base.DataNodeServer`` is an
``autobahn.twisted.wamp.ApplicationSession`` with the original's API (see node.py), and the
original's module constants are here, read from the environment (options.py).

    class MyNode(DataNodeServer):
        name = "mynode"; description = "..."
        def get_fields(self, start, end): ...
        def get_data(self, field, start, end, min_stride=None): ...

    run(MyNode)        # reconnects with backoff; or ApplicationRunner(WAMP_URI, REALM).run(MyNode)
"""
from __future__ import annotations

import os
from typing import Any, Callable, Optional

from autobahn.twisted.component import Component
from autobahn.twisted.component import run as _run_components
from autobahn.twisted.wamp import ApplicationSession

from .node import INVALID_ARGUMENT, RUNTIME_ERROR, NodeError, NodeMixin
from .options import DEFAULT_REALM, DEFAULT_ROUTER, DEFAULT_URI_BASE, NodeOptions, options_from_env, transport_config

__all__ = ["DataNodeServer", "run", "uri", "WAMP_URI", "REALM", "BASE_URI", "WAMP_USER", "NodeError",
           "INVALID_ARGUMENT", "RUNTIME_ERROR"]

#: The original's constants, from the environment (the secret is never a module constant here).
WAMP_URI: str = os.environ.get("SISOCK_ROUTER") or DEFAULT_ROUTER
REALM: str = os.environ.get("SISOCK_REALM") or DEFAULT_REALM
BASE_URI: str = os.environ.get("SISOCK_URI_BASE") or DEFAULT_URI_BASE
WAMP_USER: str = os.environ.get("SISOCK_AUTHID") or "server"


def uri(s: str) -> str:
    """``<BASE_URI>.<s>``, as the original's ``sisock.base.uri``."""
    return f"{BASE_URI}.{s}"


class DataNodeServer(NodeMixin, ApplicationSession):  # type: ignore[misc]
    """A sisock data node on Twisted (the original sisock's base class, extended)."""

    def onDisconnect(self) -> None:
        # As the original: a node run by a bare ApplicationRunner ends with its connection. Under
        # run() the Component reconnects instead.
        extra = getattr(self.config, "extra", None)
        if not (isinstance(extra, dict) and "sisock_options" in extra):
            from twisted.internet import reactor
            if reactor.running:  # type: ignore[attr-defined]
                reactor.stop()  # type: ignore[attr-defined]


def component(node_class: Callable[..., DataNodeServer], options: Optional[NodeOptions] = None, **overrides: Any) -> Component:
    """An autobahn Component running ``node_class`` with sisock's options and reconnect backoff."""
    o = options or options_from_env(**overrides)
    return Component(transports=[transport_config(o)], realm=o.realm, extra={"sisock_options": o},
                     session_factory=node_class)


def run(node_class: Callable[..., DataNodeServer], log_level: str = "info", **overrides: Any) -> None:
    """Runs the node until SIGTERM/SIGINT (then data_node.subtract and GOODBYE), reconnecting with backoff."""
    from twisted.internet import reactor
    comp = component(node_class, **overrides)

    def goodbye() -> Any:
        s = comp._session
        if s is not None and isinstance(s, DataNodeServer) and s.is_attached():
            from twisted.internet.defer import ensureDeferred
            return ensureDeferred(s.close_node())
        return None

    reactor.addSystemEventTrigger("before", "shutdown", goodbye)  # type: ignore[attr-defined]
    _run_components([comp], log_level=log_level)
