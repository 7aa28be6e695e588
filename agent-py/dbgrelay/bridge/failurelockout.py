"""Brute-force protection of the direct endpoint, with the relay's defaults
(``auth.lockout`` in docs/operations.md): a source address with ``threshold`` failed
secrets within ``window_s`` is refused without a look at its credential for
``min(max_s, base_s * 2^n)`` seconds, n being its earlier lockouts."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Dict


@dataclass
class _Entry:
    failures: int
    window_start: float
    locked_until: float = 0.0
    level: int = 0


class FailureLockout:
    def __init__(
        self, threshold: int = 10, window_s: float = 60.0, base_s: float = 10.0, max_s: float = 900.0, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.threshold = threshold
        self.window_s = window_s
        self.base_s = base_s
        self.max_s = max_s
        self.max_entries = max_entries
        self._clock = clock
        self._entries: Dict[str, _Entry] = {}

    def locked_for(self, source: str) -> float:
        """Seconds ``source`` stays locked (0 when it is not)."""
        entry = self._entries.get(source)
        return max(0.0, entry.locked_until - self._clock()) if entry else 0.0

    def record_failure(self, source: str) -> None:
        now = self._clock()
        entry = self._entries.get(source)
        if entry is None or now - entry.window_start > self.window_s:
            level = entry.level if entry is not None and now - entry.locked_until < self.max_s else 0
            entry = _Entry(0, now, entry.locked_until if entry else 0.0, level)
            self._entries[source] = entry
        entry.failures += 1
        if entry.failures >= self.threshold:
            entry.locked_until = now + min(self.max_s, self.base_s * 2**entry.level)
            entry.level += 1
            entry.failures = 0
            entry.window_start = now
        if len(self._entries) > self.max_entries:
            self._forget(now)

    def _forget(self, now: float) -> None:
        expired = [k for k, e in self._entries.items() if e.locked_until <= now and now - e.window_start > self.window_s]
        for key in expired:
            del self._entries[key]
        while len(self._entries) > self.max_entries:
            del self._entries[next(iter(self._entries))]
