"""Options of the direct endpoint (ptvsd model): ``enable_attach(secret, address=...,
certfile=..., keyfile=...)``, validated once, frozen.

The bridge process listens on ``address`` itself and speaks the client side of the
relay's tcps protocol (docs/protocol.md §4): a client sends the hello line with
``op: "attach"``, a target name and the secret, gets the ``ok`` / error line, then
raw DAP. The endpoint answers to its own ``name`` and to the reserved name
:data:`DIRECT_TARGET_NAME`, which ``dbgrelay attach tcps://SECRET@host:port`` sends.
:meth:`DirectOptions.bridge_config` serialises the options for the bridge's
configuration line (read back by :class:`.directconfig.DirectConfig`).
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from typing import Any, Dict, Mapping, Optional, Tuple

from ..credentials import MAX_SECRET_CHARS, SECRET_ENV, SECRET_FILE_ENV, read_secret_file
from ..errors import ConfigError
from ..protocol import ProtocolError, validate_target_name
from ..trust.contexts import server_context

#: The target name every direct endpoint answers to (and its default ``name``): what
#: the TypeScript client sends when it dials an endpoint URL (src/client/directEndpointDialer.ts).
DIRECT_TARGET_NAME = "ptvsd"
#: ptvsd 3's default address.
DEFAULT_ADDRESS: Tuple[str, int] = ("0.0.0.0", 5678)


@dataclass(frozen=True)
class DirectOptions:
    host: str
    port: int
    name: str = DIRECT_TARGET_NAME
    #: None only with ``allow_no_secret=True``
    secret: Optional[str] = field(default=None, repr=False)
    certfile: Optional[str] = None  # absolute paths; None: plaintext (loopback only)
    keyfile: Optional[str] = None

    @property
    def tls(self) -> bool:
        return self.certfile is not None

    def bridge_config(self, listen_fd: int) -> Dict[str, Any]:
        """The options part of the bridge's configuration line; the bridge serves the
        listening socket it inherits as ``listen_fd``."""
        return {
            "mode": "direct",
            "listenFd": listen_fd,
            "name": self.name,
            "secret": self.secret,
            "certfile": self.certfile,
            "keyfile": self.keyfile,
        }


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback address literal; any other name counts as not
    loopback (it may resolve to anything)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_address(address: Any) -> Tuple[str, int]:
    """``(host, port)``; port 0 picks a free port."""
    if not isinstance(address, (tuple, list)) or len(address) != 2:
        raise ConfigError(f"address must be a (host, port) pair, got {address!r}")
    host, port = address
    if not isinstance(host, str):
        raise ConfigError(f"address host must be a string, got {host!r}")
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ConfigError(f"address port must be an integer from 0 to 65535, got {port!r}")
    return host, port


def _resolve_secret(secret: Optional[str], allow_no_secret: bool, env: Mapping[str, str]) -> Optional[str]:
    if not secret:
        if env.get(SECRET_ENV):
            secret = env[SECRET_ENV]
        elif env.get(SECRET_FILE_ENV):
            secret = read_secret_file(env[SECRET_FILE_ENV])
    if not secret:
        if allow_no_secret:
            return None
        raise ConfigError(
            "the debug endpoint needs a secret: enable_attach(secret, ...), DBGRELAY_SECRET or "
            "DBGRELAY_SECRET_FILE; to run without one (anyone who can connect can run code in this "
            "process) pass allow_no_secret=True"
        )
    if not isinstance(secret, str) or len(secret) > MAX_SECRET_CHARS:
        raise ConfigError(f"the secret must be a string of 1..{MAX_SECRET_CHARS} characters")
    return secret


def build_direct_options(
    secret: Optional[str],
    address: Any = DEFAULT_ADDRESS,
    certfile: Optional[str] = None,
    keyfile: Optional[str] = None,
    *,
    name: Optional[str] = None,
    allow_no_secret: bool = False,
    env: Optional[Mapping[str, str]] = None,
) -> DirectOptions:
    """Validate everything before anything starts; raises :class:`ConfigError`."""
    host, port = parse_address(address)
    try:
        name = validate_target_name(name if name is not None else DIRECT_TARGET_NAME)
    except ProtocolError as exc:
        raise ConfigError(str(exc), code=exc.code) from None
    resolved = _resolve_secret(secret, allow_no_secret, os.environ if env is None else env)
    if keyfile is not None and certfile is None:
        raise ConfigError("keyfile= needs certfile= (the certificate the endpoint presents)")
    if certfile is None and not is_loopback(host):
        raise ConfigError(
            f"refusing to serve debug sessions without TLS on {host or 'all interfaces'}: a secret and "
            "the whole session would cross the network in clear text; give certfile= and keyfile=, "
            "or listen on a loopback address such as 127.0.0.1"
        )
    if certfile is not None:
        certfile = os.path.abspath(certfile)
        keyfile = os.path.abspath(keyfile) if keyfile is not None else None
        server_context(certfile, keyfile)  # fails now, with the file names, rather than in the bridge
    return DirectOptions(host=host, port=port, name=name, secret=resolved, certfile=certfile, keyfile=keyfile)
