"""Parsing shared by the bridge's configuration lines (relay mode, :mod:`.bridgeconfig`; direct-endpoint
mode, :mod:`.directconfig`)."""

from __future__ import annotations

import contextlib
from typing import Any, Iterator, Mapping

from ..errors import ConfigError


def loopback_adapter_host(data: Mapping[str, Any]) -> str:
    """``adapterHost`` (default 127.0.0.1); debugpy's adapter must be on loopback."""
    host = data.get("adapterHost", "127.0.0.1")
    if host not in ("127.0.0.1", "::1", "localhost"):
        raise ConfigError("bridge config: the debug adapter must be on loopback")
    return str(host)


@contextlib.contextmanager
def config_errors() -> Iterator[None]:
    """Turns a missing key or a malformed value into one ``ConfigError`` naming it."""
    try:
        yield
    except KeyError as exc:
        raise ConfigError(f"bridge config: missing {exc.args[0]!r}") from None
    except (TypeError, ValueError) as exc:
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError(f"bridge config: {exc}") from None
