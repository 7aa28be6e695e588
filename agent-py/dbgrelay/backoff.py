"""Reconnect delays of docs/protocol.md §5: fast-retry window, then full jitter.

The cap is a few seconds, not minutes: an agent is registered again at most ``cap``
seconds (plus one handshake) after its relay is back, and a program never waits for
its agent, so a quick retry costs the program nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Callable


@dataclass
class Backoff:
    """``next_delay()`` gives seconds to wait before the next attempt.

    The first ``fast_attempts`` waits are ``random(0, fast_max)``; after that, attempt
    ``n`` (counting from 0 after the fast window) waits ``random(0, min(cap, base·2^n))``.
    ``reset()`` after a successful register.
    """

    base: float = 0.5
    cap: float = 5.0
    fast_attempts: int = 3
    fast_max: float = 0.25
    rand: Callable[[], float] = field(default=random.random, repr=False)
    attempts: int = 0

    def ceiling(self, attempt: int) -> float:
        """Upper bound of the wait before attempt number ``attempt`` (0-based)."""
        if attempt < self.fast_attempts:
            return self.fast_max
        n = attempt - self.fast_attempts
        return self.cap if n >= 64 else min(self.cap, self.base * (2**n))

    def next_delay(self) -> float:
        ceiling = self.ceiling(self.attempts)
        self.attempts += 1
        return self.rand() * ceiling

    def reset(self) -> None:
        self.attempts = 0
