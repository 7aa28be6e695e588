"""Logging for the agent, with a library's manners.

In the program (the debuggee) everything logs under ``logging.getLogger("dbgrelay")``
(children ``dbgrelay.agent``, ``dbgrelay.bridge``, ...), which has a ``NullHandler`` and
propagates to the program's own logging: the program decides what is shown and where.
Only the ``python -m dbgrelay`` form adds a stderr handler, and it writes only while
the program has configured no logging of its own (checked for each record, as the
program configures its logging after the agent starts).

The bridge process has no stderr output of its own: it forwards its records (at
``DBGRELAY_AGENT_LOG_LEVEL``, else WARNING and above) to the program as ``log`` events
on its stdout pipe, and the program logs them under ``dbgrelay.bridge``.
``DBGRELAY_AGENT_LOG=/path`` adds a file that both processes append to (at
``DBGRELAY_AGENT_LOG_LEVEL``, else INFO), ``DBGRELAY_AGENT_LOG_LEVEL`` sets the level.

Nothing logs the secret, the Authorization header or a hello line; the
:class:`SecretFilter` is a second line of defence that masks a known secret.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from typing import Any, Callable, Dict, List, Optional

LOG_FILE_ENV = "DBGRELAY_AGENT_LOG"
LOG_LEVEL_ENV = "DBGRELAY_AGENT_LOG_LEVEL"
ROOT_LOGGER = "dbgrelay"
#: A forwarded bridge record's text is cut to this many characters (one pipe line).
MAX_FORWARDED_CHARS = 2000
#: Attribute set on records the bridge forwarded: its own file handler wrote them already.
FORWARDED_ATTR = "dbgrelay_forwarded"

_secrets: List[str] = []
_configured_lock = threading.Lock()


class _TagFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        name = record.name
        record.tag = name.split(".", 1)[1] if name.startswith("dbgrelay.") else name
        if not hasattr(record, "role"):
            record.role = "agent"
        return super().format(record)


def _formatter() -> logging.Formatter:
    return _TagFormatter("%(asctime)s dbgrelay-%(role)s[%(process)d] %(levelname)s %(tag)s: %(message)s")


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


class _NotForwarded(logging.Filter):
    """Drops records the bridge forwarded (its file handler has them already)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(record, FORWARDED_ATTR, False)


class StderrUnlessProgramLogs(logging.StreamHandler):  # type: ignore[type-arg]
    """stderr, but only while the root logger has no handler: once the program
    configures its logging, the ``dbgrelay`` records reach it by propagation instead."""

    def emit(self, record: logging.LogRecord) -> None:
        if not logging.getLogger().handlers:
            super().emit(record)


class ParentLogHandler(logging.Handler):
    """Bridge side: sends each record as a ``log`` event to the program (``report``)."""

    def __init__(self, report: Callable[[Dict[str, Any]], None], level: int) -> None:
        super().__init__(level)
        self._report = report
        self._inside = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(self._inside, "active", False):
            return  # a record logged while reporting one (e.g. a full pipe) is not sent
        self._inside.active = True
        try:
            message = record.getMessage()
            if record.exc_info and record.exc_info[1] is not None:
                message = f"{message}: {type(record.exc_info[1]).__name__}: {record.exc_info[1]}"
            self._report({"event": "log", "level": record.levelname, "logger": record.name, "message": message[:MAX_FORWARDED_CHARS]})
        except Exception:  # noqa: BLE001 - logging never raises into the caller
            pass
        finally:
            self._inside.active = False


def register_secret(secret: str) -> None:
    if secret and secret not in _secrets:
        _secrets.append(secret)


def _env_level() -> Optional[str]:
    level = os.environ.get(LOG_LEVEL_ENV)
    return level.upper() if level else None


def _add(logger: logging.Logger, handler: logging.Handler) -> None:
    handler.setFormatter(_formatter())
    handler.addFilter(SecretFilter())
    logger.addHandler(handler)


def _file_handler(level: str) -> Optional[logging.Handler]:
    path = os.environ.get(LOG_FILE_ENV)
    if not path:
        return None
    try:
        handler = logging.FileHandler(path, encoding="utf-8")
    except OSError as exc:
        logging.getLogger("dbgrelay.agent").warning("cannot open the %s file: %s", LOG_FILE_ENV, exc)
        return None
    handler.setLevel(level)
    return handler


def _once(logger: logging.Logger, flag: str) -> bool:
    """True the first time ``flag`` is asked for on ``logger`` in this process."""
    with _configured_lock:
        if getattr(logger, flag, False):
            return False
        setattr(logger, flag, True)
        return True


def configure_program_logging() -> logging.Logger:
    """In the program: a level and a log file only when the environment asks for them;
    everything else is the program's own logging (propagation)."""
    logger = logging.getLogger(ROOT_LOGGER)
    if not _once(logger, "_dbgrelay_configured"):
        return logger
    level = _env_level()
    if level:
        logger.setLevel(level)
    handler = _file_handler(level or "INFO")
    if handler is not None:
        handler.addFilter(_NotForwarded())
        _add(logger, handler)
    return logger


def install_stderr_fallback() -> None:
    """``python -m dbgrelay``: write to stderr while the program has no logging of its own."""
    logger = logging.getLogger(ROOT_LOGGER)
    if _once(logger, "_dbgrelay_stderr"):
        _add(logger, StderrUnlessProgramLogs(sys.stderr))


def configure_bridge_logging(report: Callable[[Dict[str, Any]], None]) -> logging.Logger:
    """In the bridge process: records go to the program (``report``) and to the file."""
    logger = logging.getLogger(ROOT_LOGGER)
    if not _once(logger, "_dbgrelay_configured"):
        return logger
    level = _env_level()
    logger.setLevel(level or "INFO")
    logger.propagate = False
    _add(logger, ParentLogHandler(report, logging.getLevelName(level or "WARNING")))
    handler = _file_handler(level or "INFO")
    if handler is not None:
        _add(logger, handler)
    return logger


def log_forwarded(event: Dict[str, Any], bridge_pid: int) -> None:
    """In the program: log a bridge's ``log`` event under ``dbgrelay.bridge``."""
    level = logging.getLevelName(str(event.get("level", "WARNING")))
    if not isinstance(level, int):
        level = logging.WARNING
    name = str(event.get("logger", ""))
    name = name if name.startswith("dbgrelay.") else "dbgrelay.bridge"
    logger = logging.getLogger(name)
    if not logger.isEnabledFor(level):
        return
    record = logger.makeRecord(name, level, "(bridge)", 0, "%s", (str(event.get("message", ""))[:MAX_FORWARDED_CHARS],), None)
    record.process = bridge_pid
    record.role = "bridge"
    setattr(record, FORWARDED_ATTR, True)
    logger.handle(record)
