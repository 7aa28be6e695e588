"""The SSL contexts of the agent, all under :mod:`.policy`: the bridge's client
contexts for the relay (system store or CA file, or one pinned certificate) and the
direct endpoint's server context."""

from __future__ import annotations

import ssl
from typing import Optional

from ..errors import ConfigError
from .policy import harden


def client_context() -> ssl.SSLContext:
    """A client context under the policy, before any trust is configured."""
    return harden(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT))


def context_for_ca(cafile: Optional[str]) -> ssl.SSLContext:
    """Verify the relay against ``cafile``, or the system store when None."""
    return harden(ssl.create_default_context(cafile=cafile))


def context_for_pinned(der: bytes, is_leaf: bool) -> ssl.SSLContext:
    """Trust exactly the certificate ``der`` (partial-chain verification): a pinned
    CA verifies the leaf with hostname checking, a pinned leaf is trusted as itself."""
    ctx = client_context()
    ctx.load_verify_locations(cadata=ssl.DER_cert_to_PEM_cert(der))
    if hasattr(ssl, "VERIFY_X509_PARTIAL_CHAIN"):
        ctx.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    # a pinned leaf *is* the identity; a pinned CA vouches for names, so check them
    ctx.check_hostname = not is_leaf
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def server_context(certfile: str, keyfile: Optional[str] = None) -> ssl.SSLContext:
    """The direct endpoint's listening side (``enable_attach(secret, address,
    certfile, keyfile)``): a server context presenting ``certfile`` (PEM, optionally
    followed by its chain) with ``keyfile`` (None: the key is in ``certfile``). Raises
    :class:`ConfigError` naming the files, never key material."""
    ctx = harden(ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER))
    try:
        ctx.load_cert_chain(certfile, keyfile)
    except (OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or type(exc).__name__
        key = f" with key {keyfile!r}" if keyfile else ""
        raise ConfigError(f"cannot use the certificate {certfile!r}{key} for the debug endpoint: {reason}") from None
    return ctx
