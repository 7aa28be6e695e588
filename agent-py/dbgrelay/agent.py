"""``enable_attach``: debugpy on loopback, the bridge process, registration."""

from __future__ import annotations

import logging
import os
import socket
import sys
import threading
from typing import Any, Dict, Mapping, Optional, Tuple

from . import __version__
from .bridgeprocess import BridgeProcess
from .errors import DbgRelayError
from .logsetup import configure_logging, register_secret
from .options import AgentOptions, build_options

log = logging.getLogger("dbgrelay.agent")

_lock = threading.Lock()
_state: Optional[Tuple[AgentOptions, BridgeProcess, Tuple[str, int]]] = None

ENDPOINT_MESSAGE = "debugpy adapter listening on %s:%d (loopback only)"


def _announce_endpoint(host: str, port: int) -> None:
    """Log the adapter endpoint once, at INFO but whatever the configured level (tools
    such as bench/dapLatency.ts parse this line from the agent log)."""
    log.handle(log.makeRecord(log.name, logging.INFO, __file__, 0, ENDPOINT_MESSAGE, (host, port), None))


def already_debugged() -> bool:
    """True in a process pydevd already traces (a debugpy subprocess, or a program
    that called ``debugpy.listen``/``connect`` itself)."""
    pydevd = sys.modules.get("pydevd")
    if pydevd is None:
        return False
    try:
        return pydevd.get_global_debugger() is not None
    except Exception:
        return False


def _process_info() -> Dict[str, Any]:
    import debugpy

    return {
        "pid": os.getpid(),
        "host": socket.gethostname()[:255],
        "python": ".".join(str(v) for v in sys.version_info[:3]),
        "debugpy": str(debugpy.__version__)[:64],
        "agent": __version__,
    }


def enable_attach(
    relay: str,
    name: str,
    secret: Optional[str] = None,
    cafile: Optional[str] = None,
    fingerprint: Optional[str] = None,
    labels: Optional[Mapping[str, str]] = None,
    wait_registered: bool = True,
    register_timeout: float = 10.0,
    token: Optional[str] = None,
    agent_secret: Optional[str] = None,
    certfile: Optional[str] = None,
    keyfile: Optional[str] = None,
) -> None:
    global _state
    with _lock:
        if _state is not None:
            return
        if already_debugged():
            log.info("process is already being debugged (debugpy subprocess?); not starting an agent")
            return
        configure_logging("agent", default_level="WARNING")
        options = build_options(relay, name, secret, cafile, fingerprint, labels, wait_registered,
                                register_timeout, token=token, agent_secret=agent_secret,
                                certfile=certfile, keyfile=keyfile)
        for value in options.credentials.values():
            register_secret(value)
        bridge = BridgeProcess()  # before debugpy.listen, so pydevd does not patch it
        try:
            import debugpy

            from .nodelay import apply_nodelay_fix, install_patch

            install_patch()
            host, port = debugpy.listen(("127.0.0.1", 0))
            _announce_endpoint(host, port)
            apply_nodelay_fix()
            # Credentials travel on the bridge's stdin only; "relay" is the display form
            # (the URL's SECRET@ is in "credential").
            bridge.send_config({
                "relay": options.relay_url,
                "name": options.name,
                "credential": options.credentials.relay.to_config(),
                "attachSecret": options.attach_secret,
                "labels": dict(options.labels),
                "cafile": options.cafile,
                "fingerprint": fingerprint,
                "certfile": options.certfile,
                "keyfile": options.keyfile,
                "adapterHost": host,
                "adapterPort": port,
                "process": _process_info(),
                "parentPid": os.getpid(),
                "pdeathsig": threading.current_thread() is threading.main_thread(),
            })
        except BaseException:
            bridge.stop()
            raise
        _state = (options, bridge, (host, port))
        log.info("bridge pid %d dialing %s", bridge.proc.pid, options.relay_url)
    if wait_registered:
        bridge.wait_registered(register_timeout)


def adapter_endpoint() -> Optional[Tuple[str, int]]:
    """``(host, port)`` of the debugpy adapter (loopback), once ``enable_attach`` ran."""
    return _state[2] if _state else None


def adapter_port() -> Optional[int]:
    """The loopback port of the debugpy adapter, once ``enable_attach`` ran."""
    return _state[2][1] if _state else None


def bridge_pid() -> Optional[int]:
    return _state[1].proc.pid if _state else None


__all__ = ["enable_attach", "adapter_endpoint", "adapter_port", "bridge_pid", "DbgRelayError"]
