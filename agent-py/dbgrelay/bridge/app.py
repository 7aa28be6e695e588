"""The bridge process: wiring of config, control loop, sessions and lifeline."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from typing import Any, Callable, Coroutine, Dict, Iterable, Optional, Set, TypeVar

from .. import protocol
from ..errors import CONFIG_INVALID, ProtocolError
from ..logsetup import configure_bridge_logging, register_secret
from ..options.bridgeconfig import BridgeConfig
from ..options.directconfig import DirectConfig
from ..trust.relaytrust import RelayTrust
from .adaptergate import AdapterGate
from .adaptersession import AdapterSession
from .connectors import tcp_connector
from .control import ControlLoop
from .guardreport import GuardReportSettings, alive_event, report_liveness
from .lifeline import set_parent_death_signal, wait_for_parent_exit
from .prefetch import PrefetchSettings
from .relayconn import RelayDialer

log = logging.getLogger("dbgrelay.agent")

OPEN_TIMEOUT_S = 10.0
T = TypeVar("T")
#: Control messages the debuggee's pause guard may send through the bridge (revision 1.8).
PARENT_NOTICE_TYPES = ("guard", "status")


def report_to_parent(event: Dict[str, Any]) -> None:
    """One JSON line on stdout, read by the parent (never carries the secret). Written
    whole in one ``write`` (lines stay below PIPE_BUF); :func:`main` makes stdout
    non-blocking, so a parent that stopped reading (e.g. stopped with SIGSTOP) costs
    lines, never the bridge's event loop."""
    try:
        os.write(sys.stdout.fileno(), (json.dumps(event) + "\n").encode("utf-8"))
    except BlockingIOError:
        log.debug("parent is not reading; dropped a %r event", event.get("event"))
    except (OSError, ValueError):
        pass


def parent_notice(line: bytes) -> Optional[Dict[str, Any]]:
    """The control message in a ``{"event": "relay", "message": {...}}`` line from the
    parent, validated (docs/protocol.md §5); None for anything else."""
    try:
        event = json.loads(line.decode("utf-8"))
        if not isinstance(event, dict) or event.get("event") != "relay":
            return None
        message = protocol.validate_control(event.get("message"))
    except (ValueError, UnicodeDecodeError, ProtocolError) as exc:
        log.warning("bridge: ignored a malformed line from the debuggee: %s", exc)
        return None
    if message.get("type") not in PARENT_NOTICE_TYPES:
        log.warning("bridge: ignored a %r message from the debuggee", str(message.get("type"))[:64])
        return None
    return message


def start_liveness_reports(sessions: Callable[[], Iterable[Any]], settings: GuardReportSettings) -> "asyncio.Future[Any]":
    """The ``alive`` events the pause guard in the debuggee relies on."""
    return asyncio.ensure_future(report_liveness(sessions, report_to_parent, settings))


class Bridge:
    def __init__(self, config: BridgeConfig, guard: GuardReportSettings = GuardReportSettings()) -> None:
        self.config = config
        self.guard = guard
        self.gate = AdapterGate()
        self.dialer = RelayDialer(config.relay, config.credential, RelayTrust(config.cafile, config.pin_hex, config.certfile, config.keyfile))
        self.control = ControlLoop(self.dialer, config.register_message(), self.open_session, report_to_parent)
        self._sessions: "set[asyncio.Future[Any]]" = set()
        #: the running sessions, whose liveness the pause guard hears about
        self.adapter_sessions: Set[AdapterSession] = set()
        self._count = 0

    async def open_session(self, session_id: str, prefetch: Optional[PrefetchSettings] = None) -> None:
        stream = await asyncio.wait_for(self.dialer.open_data(session_id), OPEN_TIMEOUT_S)
        self._count += 1
        session = AdapterSession(
            f"#{self._count}",
            stream,
            tcp_connector(self.config.adapter_host, self.config.adapter_port),
            self.gate,
            prefetch=prefetch,
        )
        log.info("session #%d: data connection open", self._count)
        task = asyncio.ensure_future(session.run())
        self._sessions.add(task)
        self.adapter_sessions.add(session)
        task.add_done_callback(self._sessions.discard)

        def ended(_: "asyncio.Future[Any]") -> None:
            self.adapter_sessions.discard(session)
            self.report_sessions()

        task.add_done_callback(ended)
        # at once, not at the next tick: a worker forked now must see the session (dbgrelay.workers)
        self.report_sessions()

    def report_sessions(self) -> None:
        """An ``alive`` event now, with the sessions as they are."""
        try:
            report_to_parent(alive_event(self.adapter_sessions, self.guard))
        except Exception as exc:  # noqa: BLE001 - the periodic report follows anyway
            log.debug("liveness report failed: %s", exc)

    def on_parent_line(self, line: bytes) -> None:
        """A line from the debuggee: the pause guard's ``guard``/``status`` for the relay."""
        message = parent_notice(line)
        if message is not None:
            self.control.relay_notice(message)

    async def run(self) -> str:
        self.control.start()
        reports = start_liveness_reports(lambda: self.adapter_sessions, self.guard)
        try:
            return await wait_for_parent_exit(self.config.parent_pid, self.on_parent_line)
        finally:
            reports.cancel()
            await self.control.stop()
            for task in list(self._sessions):
                task.cancel()
            await asyncio.wait(self._sessions, timeout=2) if self._sessions else None


async def _run_direct(config: DirectConfig, guard: GuardReportSettings) -> str:
    from .directendpoint import DirectEndpoint

    try:
        endpoint = DirectEndpoint(config, report_to_parent)
    except Exception as exc:  # e.g. the certificate became unreadable since the parent checked it
        log.error("bridge: cannot start the direct endpoint: %s", exc)
        report_to_parent({"event": "refused", "code": CONFIG_INVALID, "message": str(exc)})
        return "direct endpoint failed to start"
    # no relay to tell: the pause guard's messages from stdin are only logged in the debuggee
    reports = start_liveness_reports(lambda: getattr(endpoint, "_sessions", ()), guard)
    try:
        return await endpoint.run()
    finally:
        reports.cancel()


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
    configure_bridge_logging(report_to_parent)
    try:
        os.set_blocking(sys.stdout.fileno(), False)  # see report_to_parent
    except (OSError, ValueError):
        pass
    line = _read_config_line()
    try:
        data = json.loads(line.decode("utf-8"))
        # "direct": the bridge is the endpoint itself (enable_attach(secret, address=...))
        direct = isinstance(data, dict) and data.get("mode") == "direct"
        config: "BridgeConfig | DirectConfig" = DirectConfig.from_json(data) if direct else BridgeConfig.from_json(data)
    except Exception as exc:
        log.error("bridge: bad configuration on stdin: %s", exc)
        report_to_parent({"event": "refused", "code": CONFIG_INVALID, "message": str(exc)})
        return 2
    guard = GuardReportSettings.from_config(data.get("guard"))
    for value in config.secrets():
        register_secret(value)
    if config.pdeathsig:
        set_parent_death_signal()
    if config.parent_pid and os.getppid() != config.parent_pid:
        return 0
    if isinstance(config, DirectConfig):
        reason = run_event_loop(_run_direct(config, guard))
    else:
        reason = run_event_loop(Bridge(config, guard).run())
    log.info("bridge exiting: %s", reason)
    return 0
