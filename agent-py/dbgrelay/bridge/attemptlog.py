"""Logs the control connection's failed attempts once per change, not once per retry."""

from __future__ import annotations

import logging
from typing import Optional


class AttemptLog:
    """A relay that stays down is one warning, not one a second: a failure is logged
    at its level when it differs from the previous one (``key``), at DEBUG otherwise;
    the first success after failures says how many there were."""

    def __init__(self, logger: logging.Logger) -> None:
        self._log = logger
        self._last: Optional[str] = None
        #: failed attempts since the last success
        self.failures = 0

    def failed(self, key: str, level: int, message: str) -> None:
        self.failures += 1
        if key != self._last:
            self._last = key
            self._log.log(level, "%s (the agent keeps retrying; this is logged again only when it changes)", message)
        else:
            self._log.debug("%s (attempt %d)", message, self.failures)

    def succeeded(self, message: str) -> None:
        if self.failures:
            self._log.warning("%s after %d failed attempt%s", message, self.failures, "" if self.failures == 1 else "s")
        self.failures = 0
        self._last = None
