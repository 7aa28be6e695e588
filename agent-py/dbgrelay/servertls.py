"""TLS for the direct endpoint's listening side (``enable_attach(secret, address,
certfile, keyfile)``): the certificate and key from PEM files, under the agent's TLS
policy (:mod:`dbgrelay.tlspolicy`: TLS 1.2 or newer, ECDHE with AEAD only, no
renegotiation)."""

from __future__ import annotations

import ssl
from typing import Optional

from .errors import ConfigError
from .tlspolicy import harden


def server_context(certfile: str, keyfile: Optional[str] = None) -> ssl.SSLContext:
    """A server context presenting ``certfile`` (PEM, optionally followed by its chain)
    with ``keyfile`` (None: the key is in ``certfile``). Raises :class:`ConfigError`
    naming the files, never key material."""
    ctx = harden(ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER))
    try:
        ctx.load_cert_chain(certfile, keyfile)
    except (OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or type(exc).__name__
        key = f" with key {keyfile!r}" if keyfile else ""
        raise ConfigError(f"cannot use the certificate {certfile!r}{key} for the debug endpoint: {reason}") from None
    return ctx
