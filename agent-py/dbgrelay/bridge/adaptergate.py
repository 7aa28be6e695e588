"""Orders adapter connects and teardowns so debugpy's adapter is never wedged.

Measured on debugpy 1.8.22 (agent-py/README.md): the adapter accepts client
connections on one thread and runs ``Client.__init__`` there; that constructor sends
greeting events to the new client and a ``debugpySockets`` event to the *oldest*
session's client. If either write hits a closed stream, the exception kills the
accept thread and the port accepts TCP but is never served again. So:

- a connect (until its greeting has arrived) and a teardown (from the moment the
  bridge forwards or sends ``disconnect`` until the adapter closed that session and a
  settling delay passed) never overlap;
- live sessions do not block anything: a subprocess session connects while the main
  session is attached.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import AsyncIterator

# 0.3 s passed repeated runs on an idle machine, but a drop while paused followed by a
# new attach wedged debugpy once under CI load; 0.6 s leaves a margin for busy hosts.
DEFAULT_SETTLE_S = 0.6


class AdapterGate:
    def __init__(self, settle_s: float = DEFAULT_SETTLE_S) -> None:
        self.settle_s = settle_s
        self._connecting = 0
        self._tearing_down = 0
        self._quiet_at = 0.0  # monotonic time before which no connect may start
        self._changed = asyncio.Condition()

    async def _wait(self, predicate) -> None:  # type: ignore[no-untyped-def]
        async with self._changed:
            while True:
                if predicate():
                    return
                delay = self._quiet_at - time.monotonic()
                try:
                    await asyncio.wait_for(self._changed.wait(), delay if delay > 0 else None)
                except asyncio.TimeoutError:
                    pass

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    @contextlib.asynccontextmanager
    async def connecting(self) -> AsyncIterator[None]:
        """Hold while connecting to the adapter and until its greeting arrived."""
        await self._wait(lambda: self._tearing_down == 0 and time.monotonic() >= self._quiet_at)
        self._connecting += 1
        try:
            yield
        finally:
            self._connecting -= 1
            await self._notify()

    @contextlib.asynccontextmanager
    async def tearing_down(self) -> AsyncIterator[None]:
        """Hold from the ``disconnect`` until the adapter closed the session."""
        await self._wait(lambda: self._connecting == 0)
        self._tearing_down += 1
        try:
            yield
        finally:
            self._tearing_down -= 1
            self._quiet_at = max(self._quiet_at, time.monotonic() + self.settle_s)
            await self._notify()

    async def quiet(self) -> None:
        """Wait until no teardown is running and the adapter has settled (a main
        ``attach`` waits here, so it never races the previous session's end)."""
        await self._wait(lambda: self._tearing_down == 0 and time.monotonic() >= self._quiet_at)

    def mark_session_closed(self) -> None:
        """The adapter closed a session on its own: let it settle before a connect."""
        self._quiet_at = max(self._quiet_at, time.monotonic() + self.settle_s)
