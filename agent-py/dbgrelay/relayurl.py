"""Relay URLs: ``wss://host:port[/base]`` or ``tcps://host:port``."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from .errors import ConfigError


@dataclass(frozen=True)
class RelayEndpoint:
    scheme: str  # "wss" or "tcps"
    host: str
    port: int
    base_path: str  # "" or "/prefix" (no trailing slash); wss only

    def ws_url(self, path: str) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"wss://{host}:{self.port}{self.base_path}{path}"

    def display(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}{self.base_path}"


DEFAULT_PORTS = {"wss": 443, "tcps": 7444}


def parse_relay_url(url: str) -> RelayEndpoint:
    if not isinstance(url, str) or not url:
        raise ConfigError("relay must be a URL like wss://host:port or tcps://host:port")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        hint = " (TLS is required: use wss:// or tcps://)" if scheme in ("ws", "tcp", "http", "https") else ""
        raise ConfigError(f"relay URL scheme must be wss or tcps, not {scheme or 'missing'!r}{hint}")
    if parts.username is not None or parts.password is not None:
        raise ConfigError("relay URL must not carry credentials; pass the secret via DBGRELAY_SECRET or a secret file")
    if parts.query or parts.fragment:
        raise ConfigError("relay URL must not have a query or fragment")
    if not parts.hostname:
        raise ConfigError("relay URL has no host")
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError:
        raise ConfigError("relay URL has an invalid port") from None
    base = parts.path.rstrip("/")
    if base and scheme == "tcps":
        raise ConfigError("a tcps:// relay URL cannot have a path")
    return RelayEndpoint(scheme, parts.hostname, port, base)
