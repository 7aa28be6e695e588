"""Client certificates for mTLS: checked once in the debuggee (:func:`check_client_certificate`),
loaded into the bridge's contexts (:func:`load_client_certificate`)."""

from __future__ import annotations

import os
import ssl
from typing import Optional, Tuple

from ..errors import CONFIG_INVALID, ConfigError, TrustError


def _reason(exc: BaseException) -> str:
    return getattr(exc, "reason", None) or getattr(exc, "strerror", None) or type(exc).__name__


def check_client_certificate(certfile: Optional[str], keyfile: Optional[str]) -> Tuple[Optional[str], Optional[str]]:
    """Validate ``certfile``/``keyfile`` (both or neither; PEM; the key belongs to the
    certificate) and return their absolute paths. Raises :class:`ConfigError` naming
    the files, never quoting key material."""
    if certfile is None and keyfile is None:
        return None, None
    if not certfile or not keyfile:
        raise ConfigError("give both a client certificate and its key (certfile= and keyfile=), or neither")
    for what, path in (("client certificate", certfile), ("client key", keyfile)):
        if not os.path.isfile(path):
            raise ConfigError(f"{what} file {path!r} does not exist")
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_cert_chain(certfile, keyfile)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"cannot use the client certificate {certfile!r} with key {keyfile!r}: {_reason(exc)}") from None
    return os.path.abspath(certfile), os.path.abspath(keyfile)


def load_client_certificate(ctx: ssl.SSLContext, certfile: Optional[str], keyfile: Optional[str]) -> ssl.SSLContext:
    """Make ``ctx`` present the client certificate ``certfile`` (PEM, optionally with its
    chain) with ``keyfile`` when the relay asks for one. Raises :class:`TrustError`
    (code ``CONFIG_INVALID``) when they cannot be loaded or do not belong together
    (never quoting key material)."""
    if certfile is None and keyfile is None:
        return ctx
    if certfile is None or keyfile is None:
        raise TrustError("give both a client certificate and its key, or neither", code=CONFIG_INVALID)
    try:
        ctx.load_cert_chain(certfile, keyfile)
    except (OSError, ssl.SSLError) as exc:
        raise TrustError(f"cannot use the client certificate {certfile!r} with key {keyfile!r}: {_reason(exc)}", code=CONFIG_INVALID) from None
    return ctx
