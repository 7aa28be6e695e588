"""The bridge's configuration in relay mode, sent by the parent as one JSON line on stdin
(written by :meth:`.relay.AgentOptions.bridge_config` plus the adapter endpoint)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ..credentials import RelayCredential
from ..errors import ConfigError
from ..protocol import validate_labels, validate_target_name
from ..relayurl import RelayEndpoint, parse_relay_url
from ..trust.pinning import parse_fingerprint
from .configfields import config_errors, loopback_adapter_host


@dataclass(frozen=True)
class BridgeConfig:
    relay: RelayEndpoint
    name: str
    credential: RelayCredential = field(repr=False)
    adapter_host: str
    adapter_port: int
    process: Dict[str, Any]
    labels: Dict[str, str] = field(default_factory=dict)
    cafile: Optional[str] = None
    pin_hex: Optional[str] = None
    #: client certificate and key presented when the relay asks for one (mTLS)
    certfile: Optional[str] = None
    keyfile: Optional[str] = None
    parent_pid: int = 0
    pdeathsig: bool = False
    #: the target's attach secret, sent in ``register`` (docs/protocol.md §2.2)
    attach_secret: Optional[str] = field(default=None, repr=False)

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> "BridgeConfig":
        with config_errors():
            credential, attach_secret = _credentials(data)
            pin = data.get("fingerprint")
            labels = dict(data.get("labels") or {})
            validate_labels(labels)
            host = loopback_adapter_host(data)
            return BridgeConfig(
                relay=parse_relay_url(data["relay"]),
                name=validate_target_name(data["name"]),
                credential=credential,
                attach_secret=attach_secret,
                adapter_host=host,
                adapter_port=int(data["adapterPort"]),
                process=dict(data["process"]),
                labels=labels,
                cafile=data.get("cafile"),
                pin_hex=parse_fingerprint(pin) if pin else None,
                certfile=data.get("certfile"),
                keyfile=data.get("keyfile"),
                parent_pid=int(data.get("parentPid", 0)),
                pdeathsig=bool(data.get("pdeathsig", False)),
            )

    def register_message(self) -> Dict[str, Any]:
        target: Dict[str, Any] = {"name": self.name}
        if self.labels:
            target["labels"] = dict(self.labels)
        message: Dict[str, Any] = {"type": "register", "target": target, "process": dict(self.process)}
        if self.attach_secret:
            message["attachSecret"] = self.attach_secret
        return message

    def secrets(self) -> List[str]:
        """Every clear credential value, for the log filter."""
        return [v for v in (self.credential.value, self.attach_secret) if v]


def _credentials(data: Mapping[str, Any]) -> Tuple[RelayCredential, Optional[str]]:
    """``credential`` + ``attachSecret``; a bare ``secret`` (older parents) is both."""
    attach = data.get("attachSecret")
    if attach is not None and (not isinstance(attach, str) or not attach):
        raise ConfigError("bridge config: malformed attachSecret")
    if "credential" in data:
        return RelayCredential.from_config(data["credential"]), attach
    secret = data["secret"]
    if not isinstance(secret, str) or not secret:
        raise ConfigError("bridge config: empty secret")
    return RelayCredential("secret", secret, "bridge config"), attach if "attachSecret" in data else secret
