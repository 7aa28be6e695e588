"""Options of the relay form, ``enable_attach(relay, name, ...)``: validated once,
frozen, and serialised for the bridge's configuration line (read back by
:class:`.bridgeconfig.BridgeConfig`)."""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass, field
from typing import Any, Dict, Mapping, Optional, Tuple

from ..credentials import AgentCredentials, resolve_credentials
from ..errors import ConfigError
from ..protocol import ProtocolError, validate_labels, validate_target_name
from ..proxyenv import proxy_for_relay
from ..relayurl import RelayEndpoint, parse_relay_url
from ..trust.clientcert import check_client_certificate
from ..trust.pinning import parse_fingerprint
from .guard import PauseGuardOptions
from .nametemplate import expand_name_template

#: How long ``wait_registered`` / ``--wait-for-relay`` waits by default.
DEFAULT_REGISTER_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class AgentOptions:
    relay: RelayEndpoint
    relay_url: str  # display form: never carries the URL's secret
    name: str
    credentials: AgentCredentials = field(repr=False)
    cafile: Optional[str] = None
    pin_hex: Optional[str] = None
    labels: Tuple[Tuple[str, str], ...] = ()
    wait_registered: bool = False
    register_timeout: float = DEFAULT_REGISTER_TIMEOUT_S
    certfile: Optional[str] = None  # client certificate for mTLS (absolute path)
    keyfile: Optional[str] = None
    #: bounds of the pause guard inside the debuggee (dbgrelay.pauseguard)
    guard: PauseGuardOptions = PauseGuardOptions()
    #: the server's own bound on a worker that does not answer: (seconds, where it comes from)
    kill_timer: Optional[Tuple[float, str]] = None

    @property
    def attach_secret(self) -> Optional[str]:
        """The target's attach secret (``secret=``), None when it has none."""
        return self.credentials.attach_secret

    def bridge_config(self) -> Dict[str, Any]:
        """The options part of the bridge's configuration line. Credentials travel on
        the bridge's stdin only; ``relay`` is the display form (the URL's ``SECRET@``
        is in ``credential``)."""
        return {
            "relay": self.relay_url,
            "name": self.name,
            "credential": self.credentials.relay.to_config(),
            "attachSecret": self.attach_secret,
            "labels": dict(self.labels),
            "cafile": self.cafile,
            "fingerprint": f"sha256:{self.pin_hex}" if self.pin_hex else None,
            "certfile": self.certfile,
            "keyfile": self.keyfile,
        }


def _check_ca_file(cafile: str) -> None:
    """A CA file that holds no certificate fails now, not on every retry of the bridge."""
    try:
        ssl.create_default_context(cafile=cafile)
    except (ssl.SSLError, OSError) as exc:
        raise ConfigError(f"CA file {cafile!r} holds no usable PEM certificate: {exc}") from None


def build_options(
    relay: str,
    name: str,
    secret: Optional[str] = None,
    cafile: Optional[str] = None,
    fingerprint: Optional[str] = None,
    labels: Optional[Mapping[str, str]] = None,
    wait_registered: bool = False,
    register_timeout: float = DEFAULT_REGISTER_TIMEOUT_S,
    token: Optional[str] = None,
    agent_secret: Optional[str] = None,
    certfile: Optional[str] = None,
    keyfile: Optional[str] = None,
    guard: Optional[PauseGuardOptions] = None,
) -> AgentOptions:
    """Validate everything before anything starts; raises :class:`ConfigError`.
    ``name`` may hold ``{hostname}`` and ``{pid}`` (:func:`expand_name_template`)."""
    name = expand_name_template(name)
    endpoint = parse_relay_url(relay)
    proxy_for_relay(endpoint.host, endpoint.port)  # a malformed HTTPS_PROXY fails here, not in the bridge
    try:
        validate_target_name(name)
        validate_labels(dict(labels or {}))
    except ProtocolError as exc:
        raise ConfigError(str(exc), code=exc.code) from None
    if cafile and fingerprint:
        raise ConfigError("give either cafile or fingerprint, not both")
    if cafile and not os.path.isfile(cafile):
        raise ConfigError(f"CA file {cafile!r} does not exist")
    if cafile:
        _check_ca_file(cafile)
    pin = parse_fingerprint(fingerprint) if fingerprint else None
    certfile, keyfile = check_client_certificate(certfile, keyfile)
    if register_timeout <= 0:
        raise ConfigError("register_timeout must be positive")
    credentials = resolve_credentials(secret, token, agent_secret, endpoint.secret)
    credentials.relay.check_scheme(endpoint.scheme)
    return AgentOptions(
        relay=endpoint,
        relay_url=endpoint.display(),
        name=name,
        credentials=credentials,
        cafile=os.path.abspath(cafile) if cafile else None,
        pin_hex=pin,
        labels=tuple(sorted(dict(labels or {}).items())),
        wait_registered=wait_registered,
        register_timeout=register_timeout,
        certfile=certfile,
        keyfile=keyfile,
        guard=guard or PauseGuardOptions(),
    )
