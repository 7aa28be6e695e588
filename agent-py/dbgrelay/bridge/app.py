"""The bridge process: wiring of config, control loop, sessions and lifeline."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from typing import Any, Coroutine, Dict, TypeVar

from ..logsetup import configure_logging, register_secret
from .adaptergate import AdapterGate
from .adaptersession import AdapterSession
from .config import BridgeConfig
from .connectors import tcp_connector
from .control import ControlLoop
from .directconfig import DirectConfig
from .lifeline import set_parent_death_signal, wait_for_parent_exit
from .relayconn import RelayDialer
from .trust import RelayTrust

log = logging.getLogger("dbgrelay.agent")

OPEN_TIMEOUT_S = 10.0
T = TypeVar("T")


def report_to_parent(event: Dict[str, Any]) -> None:
    """One JSON line on stdout, read by the parent (never carries the secret)."""
    try:
        sys.stdout.write(json.dumps(event) + "\n")
        sys.stdout.flush()
    except (OSError, ValueError):
        pass


class Bridge:
    def __init__(self, config: BridgeConfig) -> None:
        self.config = config
        self.gate = AdapterGate()
        self.dialer = RelayDialer(config.relay, config.credential, RelayTrust(config.cafile, config.pin_hex,
                                                                                  config.certfile, config.keyfile))
        self.control = ControlLoop(self.dialer, config.register_message(), self.open_session, report_to_parent)
        self._sessions: "set[asyncio.Future[Any]]" = set()
        self._count = 0

    async def open_session(self, session_id: str) -> None:
        stream = await asyncio.wait_for(self.dialer.open_data(session_id), OPEN_TIMEOUT_S)
        self._count += 1
        session = AdapterSession(
            f"#{self._count}", stream,
            tcp_connector(self.config.adapter_host, self.config.adapter_port), self.gate,
        )
        log.info("session #%d: data connection open", self._count)
        task = asyncio.ensure_future(session.run())
        self._sessions.add(task)
        task.add_done_callback(self._sessions.discard)

    async def run(self) -> str:
        self.control.start()
        try:
            return await wait_for_parent_exit(self.config.parent_pid)
        finally:
            await self.control.stop()
            for task in list(self._sessions):
                task.cancel()
            await asyncio.wait(self._sessions, timeout=2) if self._sessions else None


async def _run_direct(config: DirectConfig) -> str:
    from .directendpoint import DirectEndpoint

    try:
        endpoint = DirectEndpoint(config, report_to_parent)
    except Exception as exc:  # e.g. the certificate became unreadable since the parent checked it
        log.error("bridge: cannot start the direct endpoint: %s", exc)
        report_to_parent({"event": "refused", "code": "CONFIG", "message": str(exc)})
        return "direct endpoint failed to start"
    return await endpoint.run()


def _read_config_line(limit: int = 1 << 20) -> bytes:
    """Read the config line from fd 0 unbuffered (nothing after it may be consumed)."""
    out = bytearray()
    while len(out) < limit:
        chunk = os.read(0, 1)
        if not chunk or chunk == b"\n":
            break
        out += chunk
    return bytes(out)


UVLOOP_ENV = "DBGRELAY_UVLOOP"


def run_event_loop(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` on uvloop when it is installed (``pip install dbgrelay[fast]``) and
    ``DBGRELAY_UVLOOP`` is not ``0``, else on asyncio's own loop. uvloop cuts the bridge's
    CPU time per DAP round trip by about a quarter (agent-py/README.md)."""
    if os.environ.get(UVLOOP_ENV, "1") != "0":
        try:
            import uvloop  # type: ignore[import-not-found]

            run = uvloop.run  # uvloop >= 0.18
        except (ImportError, AttributeError):
            pass
        else:
            log.debug("event loop: uvloop %s", getattr(uvloop, "__version__", "?"))
            return run(main)
    return asyncio.run(main)


def main() -> int:
    configure_logging("bridge")
    line = _read_config_line()
    try:
        data = json.loads(line.decode("utf-8"))
        # "direct": the bridge is the endpoint itself (enable_attach(secret, address=...))
        direct = isinstance(data, dict) and data.get("mode") == "direct"
        config: "BridgeConfig | DirectConfig" = DirectConfig.from_json(data) if direct else BridgeConfig.from_json(data)
    except Exception as exc:
        log.error("bridge: bad configuration on stdin: %s", exc)
        report_to_parent({"event": "refused", "code": "CONFIG", "message": str(exc)})
        return 2
    for value in config.secrets():
        register_secret(value)
    if config.pdeathsig:
        set_parent_death_signal()
    if config.parent_pid and os.getppid() != config.parent_pid:
        return 0
    if isinstance(config, DirectConfig):
        reason = run_event_loop(_run_direct(config))
    else:
        reason = run_event_loop(Bridge(config).run())
    log.info("bridge exiting: %s", reason)
    return 0
