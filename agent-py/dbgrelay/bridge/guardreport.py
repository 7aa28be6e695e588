"""The bridge's liveness reports to the pause guard in the debuggee.

Every ``interval`` (0.5 s) the bridge writes ``{"event": "alive", "owned": bool,
"sessions": n, "detail": str}`` on its stdout (the parent reads it, see
:mod:`dbgrelay.pauseownership`). That the line arrives at all says the bridge runs
(not stopped with SIGSTOP, not gone, its event loop not stuck); ``owned`` says a
session owns the debuggee: its relay connection is alive (``relay_alive``) and
debugpy's adapter has no client request older than the stall bound unanswered
(``oldest_pending_ms``). Sessions without those attributes count as owning while
their task runs.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, Mapping, Tuple

log = logging.getLogger("dbgrelay.agent")

DEFAULT_ADAPTER_STALL_MS = 10_000
DEFAULT_ALIVE_INTERVAL_MS = 500


@dataclass(frozen=True)
class GuardReportSettings:
    adapter_stall_ms: float = DEFAULT_ADAPTER_STALL_MS
    interval_s: float = DEFAULT_ALIVE_INTERVAL_MS / 1000

    @staticmethod
    def from_config(data: Any) -> "GuardReportSettings":
        """From the ``guard`` object of the bridge's config line (absent: defaults)."""
        if not isinstance(data, Mapping):
            return GuardReportSettings()
        stall = data.get("adapterStallMs", DEFAULT_ADAPTER_STALL_MS)
        interval = data.get("aliveIntervalMs", DEFAULT_ALIVE_INTERVAL_MS)
        valid = all(isinstance(v, int) and not isinstance(v, bool) and 50 <= v <= 3_600_000 for v in (stall, interval))
        if not valid:
            log.warning("bridge config: malformed guard settings; using the defaults")
            return GuardReportSettings()
        return GuardReportSettings(float(stall), interval / 1000)


def session_owns(session: Any, adapter_stall_ms: float) -> Tuple[bool, str]:
    """Whether one session owns the debuggee, and why not."""
    label = getattr(session, "label", "?")
    if getattr(session, "relay_alive", True) is not True:
        return False, f"session {label}: relay connection dead"
    oldest = getattr(session, "oldest_pending_ms", None)
    age = oldest() if callable(oldest) else None
    if age is not None and age >= adapter_stall_ms:
        return False, f"session {label}: the debug adapter has not answered a request for {age / 1000:.1f} s"
    return True, ""


def ownership(sessions: Iterable[Any], adapter_stall_ms: float) -> Tuple[bool, str]:
    """(True, "") when any session owns the debuggee, else (False, why none does)."""
    reasons = []
    for session in sessions:
        owns, why = session_owns(session, adapter_stall_ms)
        if owns:
            return True, ""
        reasons.append(why)
    return False, "; ".join(reasons)[:200] if reasons else "no debug session"


def alive_event(sessions: Iterable[Any], settings: GuardReportSettings) -> Dict[str, Any]:
    current = list(sessions)
    owned, detail = ownership(current, settings.adapter_stall_ms)
    event: Dict[str, Any] = {"event": "alive", "owned": owned, "sessions": len(current)}
    if detail:
        event["detail"] = detail
    return event


async def report_liveness(sessions: Callable[[], Iterable[Any]], report: Callable[[Dict[str, Any]], None], settings: GuardReportSettings) -> None:
    """Report forever (cancel the task to stop)."""
    while True:
        try:
            report(alive_event(sessions(), settings))
        except Exception as exc:  # noqa: BLE001 - a session in a strange state must not end the reports
            log.warning("liveness report failed: %s: %s", type(exc).__name__, exc)
        await asyncio.sleep(settings.interval_s)
