"""The bridge's configuration, sent by the parent as one JSON line on stdin."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Mapping, Optional

from ..errors import ConfigError
from ..pinning import parse_fingerprint
from ..protocol import validate_labels, validate_target_name
from ..relayurl import RelayEndpoint, parse_relay_url


@dataclass(frozen=True)
class BridgeConfig:
    relay: RelayEndpoint
    name: str
    secret: str = field(repr=False)
    adapter_host: str
    adapter_port: int
    process: Dict[str, Any]
    labels: Dict[str, str] = field(default_factory=dict)
    cafile: Optional[str] = None
    pin_hex: Optional[str] = None
    parent_pid: int = 0
    pdeathsig: bool = False

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> "BridgeConfig":
        try:
            secret = data["secret"]
            if not isinstance(secret, str) or not secret:
                raise ConfigError("bridge config: empty secret")
            pin = data.get("fingerprint")
            labels = dict(data.get("labels") or {})
            validate_labels(labels)
            host = data.get("adapterHost", "127.0.0.1")
            if host not in ("127.0.0.1", "::1", "localhost"):
                raise ConfigError("bridge config: the debug adapter must be on loopback")
            return BridgeConfig(
                relay=parse_relay_url(data["relay"]),
                name=validate_target_name(data["name"]),
                secret=secret,
                adapter_host=host,
                adapter_port=int(data["adapterPort"]),
                process=dict(data["process"]),
                labels=labels,
                cafile=data.get("cafile"),
                pin_hex=parse_fingerprint(pin) if pin else None,
                parent_pid=int(data.get("parentPid", 0)),
                pdeathsig=bool(data.get("pdeathsig", False)),
            )
        except KeyError as exc:
            raise ConfigError(f"bridge config: missing {exc.args[0]!r}") from None
        except (TypeError, ValueError) as exc:
            if isinstance(exc, ConfigError):
                raise
            raise ConfigError(f"bridge config: {exc}") from None

    def register_message(self) -> Dict[str, Any]:
        target: Dict[str, Any] = {"name": self.name}
        if self.labels:
            target["labels"] = dict(self.labels)
        return {"type": "register", "target": target, "process": dict(self.process)}
