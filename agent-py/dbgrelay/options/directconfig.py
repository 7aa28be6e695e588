"""The bridge's configuration in direct-endpoint mode (``"mode": "direct"``), sent by
the parent as one JSON line on stdin; the listening socket is inherited as fd
``listenFd`` (bound by the parent, so ``enable_attach`` reports a busy port at once).
Written by :meth:`.direct.DirectOptions.bridge_config` plus the adapter endpoint."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional

from ..errors import ConfigError
from ..protocol import validate_target_name
from .configfields import config_errors, loopback_adapter_host


@dataclass(frozen=True)
class DirectConfig:
    listen_fd: int
    name: str
    adapter_host: str
    adapter_port: int
    process: Dict[str, Any]
    secret: Optional[str] = field(default=None, repr=False)
    certfile: Optional[str] = None
    keyfile: Optional[str] = None
    parent_pid: int = 0
    pdeathsig: bool = False

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> "DirectConfig":
        with config_errors():
            secret = data.get("secret")
            if secret is not None and (not isinstance(secret, str) or not secret):
                raise ConfigError("bridge config: malformed secret")
            host = loopback_adapter_host(data)
            return DirectConfig(
                listen_fd=int(data["listenFd"]),
                name=validate_target_name(data["name"]),
                adapter_host=host,
                adapter_port=int(data["adapterPort"]),
                process=dict(data["process"]),
                secret=secret,
                certfile=data.get("certfile"),
                keyfile=data.get("keyfile"),
                parent_pid=int(data.get("parentPid", 0)),
                pdeathsig=bool(data.get("pdeathsig", False)),
            )

    def secrets(self) -> List[str]:
        """Every clear credential value, for the log filter."""
        return [self.secret] if self.secret else []
