"""Starting the pause guard once debugpy listens (or saying loudly why it cannot run)."""

from __future__ import annotations

import logging
from typing import Optional

from .bridgeprocess import BridgeProcess
from .options.guard import PauseGuardOptions
from .pauseguard import PauseGuard, status_message

log = logging.getLogger("dbgrelay.guard")


def start_pause_guard(options: PauseGuardOptions, bridge: BridgeProcess) -> Optional[PauseGuard]:
    """Start the guard thread; None when it is off or cannot run here. Either way the
    relay learns the debugger's state (``status``: ``ok`` or ``unguarded``)."""
    if not options.enabled:
        log.warning("pause guard is OFF (pause_guard=False): a paused program is bounded only by the relay's pause watchdog and the bridge")
        bridge.send_to_relay(status_message("unguarded", "the pause guard is turned off"))
        return None
    from .pydevdstate import PydevdHandle, unsupported_reason

    reason = unsupported_reason()
    if reason is not None:
        log.error("pause guard CANNOT RUN: %s. A paused program is bounded only by the relay's pause watchdog and the bridge; use a tested debugpy version", reason)
        bridge.send_to_relay(status_message("unguarded", reason))
        return None
    guard = PauseGuard(options, PydevdHandle(), bridge.ownership, bridge.send_to_relay)
    guard.start()
    return guard
