"""Bounds of the pause guard inside the debuggee (:mod:`dbgrelay.pauseguard`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict

from ..errors import ConfigError

#: Default for ``unowned_pause``: as long as gunicorn's default worker ``--timeout``
#: and below the 60 s idle timeout of common load balancers, so a program that nobody
#: can act on any more resumes before its supervisor kills it or its callers give
#: up; and 20 times the 1.5 s the bridge needs to be seen stale, so a busy machine
#: (a bridge starved of CPU for a few seconds, a relay reconnect) does not cost an
#: engineer a pause that is still live.
DEFAULT_UNOWNED_PAUSE_S = 30.0
#: Bridge liveness reports older than this mean "bridge stopped or gone".
DEFAULT_OWNER_REPORT_TIMEOUT_S = 1.5
#: A client request the adapter has not answered for this long means "adapter wedged".
DEFAULT_ADAPTER_STALL_S = 10.0
DEFAULT_POLL_INTERVAL_S = 0.25
#: How often the bridge reports its liveness (well below the report timeout).
ALIVE_INTERVAL_S = 0.5


@dataclass(frozen=True)
class PauseGuardOptions:
    """``enable_attach(pause_guard=..., unowned_pause=..., max_pause=...)``.

    - ``unowned_pause``: seconds in a row the program may stay paused while no live
      session owns the pause (bridge stopped or gone, relay link dead, adapter wedged,
      pydevd's reader thread dead); then every thread resumes and the client's
      breakpoints are dropped, as a client ``disconnect`` would.
    - ``max_pause``: hard bound on any pause, even one a live session owns; 0 (the
      default) turns it off (the relay's pause watchdog bounds owned pauses).
    - ``adapter_stall``: a request the adapter leaves unanswered this long makes the
      session stop owning the pause.
    - ``owner_report_timeout``: the bridge reports every 0.5 s; silence this long
      means it is stopped (SIGSTOP) or gone.
    - ``poll_interval``: how often the guard looks at the program.
    - ``enabled``: False turns the guard off (not recommended in production).
    """

    enabled: bool = True
    unowned_pause: float = DEFAULT_UNOWNED_PAUSE_S
    max_pause: float = 0.0
    adapter_stall: float = DEFAULT_ADAPTER_STALL_S
    owner_report_timeout: float = DEFAULT_OWNER_REPORT_TIMEOUT_S
    poll_interval: float = DEFAULT_POLL_INTERVAL_S

    def __post_init__(self) -> None:
        if not 0.5 <= self.unowned_pause <= 86400:
            raise ConfigError("unowned_pause must be between 0.5 and 86400 seconds")
        if not (self.max_pause == 0 or 0.5 <= self.max_pause <= 86400):
            raise ConfigError("max_pause must be 0 (off) or between 0.5 and 86400 seconds")
        if not 0.5 <= self.adapter_stall <= 3600:
            raise ConfigError("adapter_stall must be between 0.5 and 3600 seconds")
        if not 2 * ALIVE_INTERVAL_S <= self.owner_report_timeout <= 60:
            raise ConfigError(f"owner_report_timeout must be between {2 * ALIVE_INTERVAL_S:g} and 60 seconds")
        if not 0.05 <= self.poll_interval <= 5:
            raise ConfigError("poll_interval must be between 0.05 and 5 seconds")

    def bridge_config(self) -> Dict[str, Any]:
        """What the bridge needs to report ownership (its config line, ``guard``)."""
        return {"adapterStallMs": int(self.adapter_stall * 1000), "aliveIntervalMs": int(ALIVE_INTERVAL_S * 1000)}

    def describe(self) -> str:
        if not self.enabled:
            return "pause guard off"
        hard = f"any pause after {self.max_pause:g} s" if self.max_pause else "no bound on owned pauses (max_pause 0)"
        return f"pause guard: unowned pauses end after {self.unowned_pause:g} s, {hard}; adapter stall bound {self.adapter_stall:g} s"
