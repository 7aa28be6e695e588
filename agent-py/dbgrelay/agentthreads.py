"""Threads of the agent inside the debuggee, hidden from the debugger.

pydevd leaves alone the threads it marks as its own (``mark_as_pydevd_daemon_thread``
in ``_pydevd_bundle/pydevd_daemon_thread.py``): a thread with ``is_pydev_daemon_thread``
is left out of ``get_non_pydevd_threads()`` (so out of DAP ``threads``, and out of
``suspend_all_threads`` and ``resume_threads``), and a thread with
``pydev_do_not_trace`` is never traced (``set_trace_to_threads`` skips it and the
trace dispatcher turns tracing off on its first call), so it can never stop at a
breakpoint or a pause. The agent's threads carry both attributes from before they
start, so this holds whether they start before or after ``debugpy.listen``; each
also turns tracing off for itself when it starts, as pydevd's own threads do.

The attributes are plain attributes: nothing here imports pydevd.
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import Any, Callable

log = logging.getLogger("dbgrelay.agent")


def mark_hidden(thread: threading.Thread) -> threading.Thread:
    """Mark ``thread`` (not started yet, or running) as one of pydevd's own."""
    thread.pydev_do_not_trace = True  # type: ignore[attr-defined]
    thread.is_pydev_daemon_thread = True  # type: ignore[attr-defined]
    return thread


def is_hidden(thread: threading.Thread) -> bool:
    """True when pydevd will neither list, trace nor suspend ``thread``."""
    return bool(getattr(thread, "pydev_do_not_trace", False) and getattr(thread, "is_pydev_daemon_thread", False))


def _untrace_current_thread() -> None:
    """What ``PyDBDaemonThread._stop_trace`` does: no tracing on this thread."""
    tracing = sys.modules.get("pydevd_tracing")
    try:
        if tracing is not None:
            tracing.SetTrace(None)
        else:
            sys.settrace(None)
    except Exception:  # noqa: BLE001 - best effort; the marks alone keep pydevd away
        pass


def start_hidden_thread(target: Callable[..., Any], name: str, *args: Any) -> threading.Thread:
    """Start a daemon thread running ``target(*args)`` that the debugger never sees."""

    def run() -> None:
        _untrace_current_thread()
        target(*args)

    thread = mark_hidden(threading.Thread(target=run, name=name, daemon=True))
    thread.start()
    return thread
