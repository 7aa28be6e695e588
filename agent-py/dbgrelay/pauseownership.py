"""Who owns a pause: the bridge's liveness reports, as the debuggee hears them.

The bridge writes ``{"event": "alive", "owned": bool, "detail": str}`` on its stdout
every 0.5 s (:mod:`dbgrelay.bridge.guardreport`); the parent's event reader hands
each one to :meth:`OwnershipTracker.on_alive`. A pause is owned only while the last
report is recent (the bridge runs: neither stopped with SIGSTOP nor gone) and says a
session owns the debuggee (its relay connection is alive and its adapter answers).
Whether pydevd itself can still talk to the adapter is the guard's part
(:meth:`dbgrelay.pydevdstate.PydevdHandle.link_health`).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional, Tuple


@dataclass(frozen=True)
class OwnerReport:
    at: float
    owned: bool
    detail: str
    #: client sessions the bridge serves
    sessions: int = 0


class OwnershipTracker:
    """The last liveness report of the bridge; thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._last: Optional[OwnerReport] = None
        self._bridge_gone = False

    def on_alive(self, event: Mapping[str, Any]) -> None:
        """One ``alive`` event from the bridge."""
        sessions = event.get("sessions")
        count = sessions if isinstance(sessions, int) and not isinstance(sessions, bool) and sessions >= 0 else 0
        report = OwnerReport(self._clock(), event.get("owned") is True, str(event.get("detail", ""))[:200], count)
        with self._lock:
            self._last = report

    def on_bridge_exit(self) -> None:
        """The bridge's stdout ended: it is gone, whatever its last report said."""
        with self._lock:
            self._bridge_gone = True

    def sessions_now(self, now: float, report_timeout: float) -> int:
        """Client sessions the bridge served at its last report; 0 when that report is
        older than ``report_timeout`` or the bridge is gone."""
        with self._lock:
            last, gone = self._last, self._bridge_gone
        if gone or last is None or now - last.at > report_timeout:
            return 0
        return last.sessions

    def owned(self, now: float, report_timeout: float) -> Tuple[bool, str]:
        """(True, "") when a live session owns the debuggee at ``now``, else (False, why)."""
        with self._lock:
            last, gone = self._last, self._bridge_gone
        if gone:
            return False, "the bridge process exited"
        if last is None:
            return False, "the bridge has not reported yet"
        age = now - last.at
        if age > report_timeout:
            return False, f"the bridge has not reported for {age:.1f} s (stopped or gone)"
        if not last.owned:
            return False, last.detail or "no live session owns the debuggee"
        return True, ""
