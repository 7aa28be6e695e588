"""``enable_attach`` options: validated once, frozen."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Mapping, Optional, Tuple

from .errors import ConfigError
from .pinning import parse_fingerprint
from .protocol import ProtocolError, validate_labels, validate_target_name
from .relayurl import RelayEndpoint, parse_relay_url

SECRET_ENV = "DBGRELAY_SECRET"
SECRET_FILE_ENV = "DBGRELAY_SECRET_FILE"


@dataclass(frozen=True)
class AgentOptions:
    relay: RelayEndpoint
    relay_url: str
    name: str
    secret: str = field(repr=False)
    cafile: Optional[str] = None
    pin_hex: Optional[str] = None
    labels: Tuple[Tuple[str, str], ...] = ()
    wait_registered: bool = True
    register_timeout: float = 10.0


def read_secret_file(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            secret = f.read().strip()
    except OSError as exc:
        raise ConfigError(f"cannot read the secret file {path!r}: {exc.strerror or exc}") from None
    if not secret:
        raise ConfigError(f"the secret file {path!r} is empty")
    return secret


def resolve_secret(secret: Optional[str]) -> str:
    """Argument, else ``DBGRELAY_SECRET``, else the file named by ``DBGRELAY_SECRET_FILE``."""
    if secret:
        return secret
    env = os.environ.get(SECRET_ENV)
    if env:
        return env
    path = os.environ.get(SECRET_FILE_ENV)
    if path:
        return read_secret_file(path)
    raise ConfigError(
        "no relay secret: pass secret=..., or set DBGRELAY_SECRET, or DBGRELAY_SECRET_FILE "
        "to a file that holds it"
    )


def build_options(
    relay: str,
    name: str,
    secret: Optional[str] = None,
    cafile: Optional[str] = None,
    fingerprint: Optional[str] = None,
    labels: Optional[Mapping[str, str]] = None,
    wait_registered: bool = True,
    register_timeout: float = 10.0,
) -> AgentOptions:
    endpoint = parse_relay_url(relay)
    try:
        validate_target_name(name)
        validate_labels(dict(labels or {}))
    except ProtocolError as exc:
        raise ConfigError(str(exc), code=exc.code) from None
    if cafile and fingerprint:
        raise ConfigError("give either cafile or fingerprint, not both")
    if cafile and not os.path.isfile(cafile):
        raise ConfigError(f"CA file {cafile!r} does not exist")
    pin = parse_fingerprint(fingerprint) if fingerprint else None
    if register_timeout <= 0:
        raise ConfigError("register_timeout must be positive")
    return AgentOptions(
        relay=endpoint,
        relay_url=endpoint.display(),
        name=name,
        secret=resolve_secret(secret),
        cafile=os.path.abspath(cafile) if cafile else None,
        pin_hex=pin,
        labels=tuple(sorted(dict(labels or {}).items())),
        wait_registered=wait_registered,
        register_timeout=register_timeout,
    )
