"""Logging for the agent: the ``dbgrelay`` logger, tagged by child logger name
(``dbgrelay.agent``, ``dbgrelay.dap``, ``dbgrelay.control``), to stderr and, if
``DBGRELAY_AGENT_LOG`` names a file, to that file as well.

Nothing logs the secret, the Authorization header or a hello line; the
:class:`SecretFilter` is a second line of defence that masks a known secret.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import List, Optional

LOG_FILE_ENV = "DBGRELAY_AGENT_LOG"
LOG_LEVEL_ENV = "DBGRELAY_AGENT_LOG_LEVEL"

_secrets: List[str] = []


class _TagFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        name = record.name
        record.tag = name.split(".", 1)[1] if name.startswith("dbgrelay.") else name
        return super().format(record)


class SecretFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if _secrets:
            text = record.getMessage()
            masked = text
            for secret in _secrets:
                masked = masked.replace(secret, "***")
            if masked != text:
                record.msg, record.args = masked, None
        return True


def register_secret(secret: str) -> None:
    if secret and secret not in _secrets:
        _secrets.append(secret)


def configure_logging(role: str, default_level: Optional[str] = None) -> logging.Logger:
    """Attach handlers to the ``dbgrelay`` logger once per process."""
    logger = logging.getLogger("dbgrelay")
    if getattr(logger, "_dbgrelay_configured", False):
        return logger
    level = os.environ.get(LOG_LEVEL_ENV) or default_level or "INFO"
    logger.setLevel(level.upper())
    logger.propagate = False
    fmt = _TagFormatter(f"%(asctime)s dbgrelay-{role}[%(process)d] %(levelname)s %(tag)s: %(message)s")
    handlers: List[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    path = os.environ.get(LOG_FILE_ENV)
    if path:
        try:
            handlers.append(logging.FileHandler(path, encoding="utf-8"))
        except OSError as exc:
            print(f"dbgrelay: cannot open {LOG_FILE_ENV} file: {exc}", file=sys.stderr)
    for handler in handlers:
        handler.setFormatter(fmt)
        handler.addFilter(SecretFilter())
        logger.addHandler(handler)
    logger._dbgrelay_configured = True  # type: ignore[attr-defined]
    return logger
