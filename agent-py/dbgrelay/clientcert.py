"""Client certificates for mTLS: checked once in the debuggee, loaded by the bridge."""

from __future__ import annotations

import os
import ssl
from typing import Optional, Tuple

from .errors import ConfigError


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
        reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or type(exc).__name__
        raise ConfigError(f"cannot use the client certificate {certfile!r} with key {keyfile!r}: {reason}") from None
    return os.path.abspath(certfile), os.path.abspath(keyfile)
