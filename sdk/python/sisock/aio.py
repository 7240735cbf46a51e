"""
The asyncio flavour: ``sisock.aio.DataNodeServer`` is an ``autobahn.asyncio.wamp.ApplicationSession``
with the original sisock's API (see node.py); ``run(MyNode)`` runs it with reconnect backoff.
"""
from __future__ import annotations

import asyncio
import signal
from typing import Any, Callable, Optional

from autobahn.asyncio.component import Component
from autobahn.asyncio.wamp import ApplicationSession

from .node import INVALID_ARGUMENT, RUNTIME_ERROR, NodeError, NodeMixin
from .options import NodeOptions, options_from_env, transport_config

__all__ = ["DataNodeServer", "run", "component", "NodeError", "INVALID_ARGUMENT", "RUNTIME_ERROR"]


class DataNodeServer(NodeMixin, ApplicationSession):  # type: ignore[misc]
    """A sisock data node on asyncio."""


def component(node_class: Callable[..., DataNodeServer], options: Optional[NodeOptions] = None, **overrides: Any) -> Component:
    """An autobahn Component running ``node_class`` with sisock's options and reconnect backoff."""
    o = options or options_from_env(**overrides)
    return Component(transports=[transport_config(o)], realm=o.realm, extra={"sisock_options": o},
                     session_factory=node_class)


async def serve(node_class: Callable[..., DataNodeServer], stop: Optional[asyncio.Event] = None, **overrides: Any) -> None:
    """Runs the node in the running loop until ``stop`` is set (then data_node.subtract and GOODBYE)."""
    comp = component(node_class, **overrides)
    loop = asyncio.get_running_loop()
    stop = stop or asyncio.Event()
    done = comp.start(loop)
    waiter = asyncio.ensure_future(stop.wait())
    await asyncio.wait([asyncio.ensure_future(done), waiter], return_when=asyncio.FIRST_COMPLETED)
    if waiter.done():
        s = comp._session
        if isinstance(s, DataNodeServer) and s.is_attached():
            await s.close_node(leave=False)
        await comp.stop()  # GOODBYE, and no reconnection
        try:
            await asyncio.wait_for(asyncio.shield(asyncio.ensure_future(done)), 3)
        except Exception:
            pass  # ended (or gave up) either way
    else:
        waiter.cancel()


def run(node_class: Callable[..., DataNodeServer], log_level: str = "info", **overrides: Any) -> None:
    """Runs the node until SIGTERM/SIGINT, reconnecting with backoff."""
    import txaio
    txaio.start_logging(level=log_level)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await serve(node_class, stop, **overrides)

    asyncio.run(main())
