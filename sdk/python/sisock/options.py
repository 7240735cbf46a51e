"""
Connection options from the environment, as the TypeScript client reads them (client/options.ts)::

    SISOCK_ROUTER       router URL (default ws://127.0.0.1:8080/ws)
    SISOCK_REALM        realm (default test_realm)
    SISOCK_URI_BASE     URI base (default org.simonsobservatory)
    SISOCK_AUTHID       authid for WAMP-CRA (salted or not) or ticket
    SISOCK_SECRET_FILE  file holding the secret (trailing newline stripped), else
    SISOCK_SECRET       the secret itself
    SISOCK_AUTHMETHODS  methods offered, comma separated (default wampcra,ticket: a router takes the
                        first one it has enabled, so a ticket user behind a router with WAMP-CRA
                        enabled sets ticket)
    SISOCK_CA           PEM file of the CA that signed the router's certificate (wss://)
    SISOCK_MAX_MESSAGE_SIZE  largest message the node sends (default 1 MiB)

Secrets come only from the environment or a file, never from a command line; they are never logged.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional
from urllib.parse import urlsplit

from autobahn.wamp import auth

DEFAULT_ROUTER = "ws://127.0.0.1:8080/ws"
DEFAULT_REALM = "test_realm"
DEFAULT_URI_BASE = "org.simonsobservatory"


class ConfigError(RuntimeError):
    """A setting is missing or unreadable; the message says which one and what to do."""


@dataclass
class NodeOptions:
    router: str = DEFAULT_ROUTER
    realm: str = DEFAULT_REALM
    uri_base: str = DEFAULT_URI_BASE
    authid: Optional[str] = None
    secret: Optional[str] = field(default=None, repr=False)
    #: Methods offered in HELLO when authid and secret are set.
    authmethods: List[str] = field(default_factory=lambda: ["wampcra", "ticket"])
    ca_file: Optional[str] = None
    max_message_bytes: int = 1024 * 1024
    #: Reconnect backoff, seconds: first delay, growth factor and cap (as the TS client: 0.2, 1.5, 3).
    initial_retry_delay: float = 0.2
    retry_delay_growth: float = 1.5
    max_retry_delay: float = 3.0

    def uri(self, suffix: str) -> str:
        return f"{self.uri_base}.{suffix}"


def _read(path: str, what: str) -> str:
    try:
        with open(path, encoding="utf8") as fh:
            return fh.read()
    except OSError as e:
        raise ConfigError(f"cannot read {what} file {path}: {e.strerror}") from None


def options_from_env(env: Optional[Mapping[str, str]] = None, **overrides: Any) -> NodeOptions:
    """Options from ``overrides`` over the environment over defaults. An authid without a secret is an error."""
    e = os.environ if env is None else env
    o = NodeOptions(
        router=e.get("SISOCK_ROUTER") or DEFAULT_ROUTER,
        realm=e.get("SISOCK_REALM") or DEFAULT_REALM,
        uri_base=e.get("SISOCK_URI_BASE") or DEFAULT_URI_BASE,
        authid=e.get("SISOCK_AUTHID") or None,
        ca_file=e.get("SISOCK_CA") or None,
    )
    methods = [m.strip() for m in (e.get("SISOCK_AUTHMETHODS") or "").split(",") if m.strip()]
    for method in methods:
        if method not in ("wampcra", "ticket"):
            raise ConfigError(f"SISOCK_AUTHMETHODS: unknown method {method!r} (wampcra, ticket)")
    if methods:
        o.authmethods = methods
    secret_file = e.get("SISOCK_SECRET_FILE")
    if secret_file:
        o.secret = _read(secret_file, "secret").rstrip("\r\n")
    elif e.get("SISOCK_SECRET"):
        o.secret = e.get("SISOCK_SECRET")
    try:
        m = float(e.get("SISOCK_MAX_MESSAGE_SIZE", ""))
        if m > 4096:
            o.max_message_bytes = int(m)
    except ValueError:
        pass
    for k, v in overrides.items():
        if not hasattr(o, k):
            raise ConfigError(f"unknown node option {k!r}")
        if v is not None:
            setattr(o, k, v)
    if o.authid and o.secret is None:
        raise ConfigError(f'authid "{o.authid}" given but no secret: set SISOCK_SECRET or SISOCK_SECRET_FILE')
    if o.ca_file:
        _read(o.ca_file, "CA certificate")
    return o


def challenge_response(method: str, extra: Mapping[str, Any], secret: str) -> str:
    """The answer to a WAMP CHALLENGE: WAMP-CRA (salted when the router sends a salt) or ticket."""
    if method == "ticket":
        return secret
    if method != "wampcra":
        raise ConfigError(f"router asked for authentication method {method!r}; sisock nodes speak wampcra and ticket")
    key: bytes = secret.encode("utf8")
    if "salt" in extra:
        key = auth.derive_key(secret.encode("utf8"), str(extra["salt"]).encode("utf8"),
                              int(extra.get("iterations", 1000)), int(extra.get("keylen", 32)))
    sig = auth.compute_wcs(key, str(extra["challenge"]).encode("utf8"))
    return sig.decode("ascii") if isinstance(sig, bytes) else str(sig)


def transport_config(o: NodeOptions) -> Dict[str, Any]:
    """An autobahn Component transport: WebSocket (RawSocket of AutobahnPython 22.7 fails on WELCOME
    with asyncio), MsgPack then JSON, our backoff, and TLS trusting ``ca_file`` for wss://."""
    u = urlsplit(o.router)
    secure = u.scheme == "wss"
    endpoint: Dict[str, Any] = {"type": "tcp", "host": u.hostname or "127.0.0.1",
                                "port": u.port or (443 if secure else 80)}
    if secure:
        tls: Dict[str, Any] = {"hostname": u.hostname or "localhost"}
        if o.ca_file:
            tls["trust_root"] = o.ca_file
        endpoint["tls"] = tls
    return {
        "type": "websocket", "url": o.router, "endpoint": endpoint, "serializers": ["msgpack", "json"],
        "max_retries": -1, "initial_retry_delay": o.initial_retry_delay,
        "retry_delay_growth": o.retry_delay_growth, "max_retry_delay": o.max_retry_delay,
        "retry_delay_jitter": 0.1,
    }
