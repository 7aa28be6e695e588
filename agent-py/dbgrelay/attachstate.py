"""ptvsd's ``wait_for_attach``, ``is_attached`` and ``break_into_debugger``, on top of
debugpy's own notion of "attached": a client connected and sent ``configurationDone``
(pydevd's ``is_attached``, cleared when the client disconnects). They work the same in
direct and relay mode, since both put a real DAP client in front of debugpy."""

from __future__ import annotations

import sys
import threading
from types import FrameType
from typing import Any, Optional

from .errors import ConfigError


def _debugger() -> Any:
    """pydevd's debugger object, or None when debugpy was never started here."""
    pydevd = sys.modules.get("pydevd")
    if pydevd is None:
        return None
    try:
        return pydevd.get_global_debugger()
    except Exception:
        return None


def is_attached() -> bool:
    """True while a debugger client is attached to this process."""
    debugger = _debugger()
    return bool(debugger is not None and debugger.is_attached())


def wait_for_attach(timeout: Optional[float] = None) -> bool:
    """Block until a client has attached (its ``configurationDone`` arrived), at most
    ``timeout`` seconds (None: no limit). Returns True once attached, False when the
    time ran out. Raises :class:`ConfigError` before ``enable_attach``."""
    if timeout is not None and timeout < 0:
        raise ConfigError("wait_for_attach: timeout must be None or >= 0 seconds")
    debugger = _debugger()
    if debugger is None:
        raise ConfigError("wait_for_attach() needs enable_attach() first (no debugger runs in this process)")
    cancel = threading.Event()
    timer = threading.Timer(timeout, cancel.set) if timeout is not None else None
    if timer is not None:
        timer.daemon = True
        timer.start()
    try:
        # pydevd's own wait: it keeps processing the debugger's internal commands
        # while this thread blocks, as debugpy.wait_for_client() does
        debugger.block_until_configuration_done(cancel=cancel)
    finally:
        if timer is not None:
            timer.cancel()
    return is_attached()


def break_into_debugger(frame: Optional[FrameType] = None) -> None:
    """If a client is attached, stop the calling thread on the line after the call
    (``frame``: the caller's frame); otherwise do nothing, like ptvsd."""
    if not is_attached():
        return
    stop_at = frame if frame is not None else sys._getframe(1)
    try:
        from debugpy.server.api import _settrace  # what debugpy.breakpoint() does, with our caller's frame
    except ImportError:  # pragma: no cover - another debugpy layout
        import debugpy

        debugpy.breakpoint()
        return
    _settrace(suspend=True, trace_only_current_thread=True, patch_multiprocessing=False, stop_at_frame=stop_at)
