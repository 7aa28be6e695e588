"""What the pause guard reads and does inside pydevd, through pydevd's own API.

Pinned to what it was read from and tested with: debugpy 1.8.x (1.8.22). On another
version :func:`unsupported_reason` says why the guard does not run.

Read:

- a thread is paused by the debugger when its ``additional_info.pydev_state`` is
  ``STATE_SUSPEND`` (``_pydevd_bundle/pydevd_constants.py``): ``mark_thread_suspended``
  sets it when a breakpoint, a step, a pause or an unhandled exception stops it
  (``suspended_at_unhandled`` too), and ``PyDB._do_wait_suspend`` loops until it changes;
- pydevd can talk to the adapter while its reader (``py_db.reader``) and writer
  (``py_db.writer``) threads are alive and have not been told to die
  (``_kill_received``), and ``py_db`` is still the global debugger and not disposed.

Done, both as pydevd does it for a client, so it works with the adapter and the
reader thread dead:

- :meth:`PydevdHandle.resume_all`: ``PyDevdAPI.request_resume_thread("*")``
  (``pydevd_thread_lifecycle.resume_threads``: every non-pydevd thread back to
  ``STATE_RUN`` with its step command cleared); the waiting threads see it within
  0.2 s (pydevd's ``TIMEOUT_SLOW``) and pydevd tells the adapter ``continued``;
- :meth:`PydevdHandle.forget_client`: what ``on_disconnect_request`` in
  ``pydevd_process_net_command_json.py`` does for ``disconnect {terminateDebuggee:
  false}``: output redirection off, ``PyDevdAPI.request_disconnect`` (thread
  notifications off, all line and exception breakpoints removed, ``on_disconnect``),
  the command processor's ``_launch_or_attach_request_done`` reset; plus the
  function breakpoints, which pydevd's disconnect keeps. The next client's
  ``initialize``/``attach`` sets everything up again (the adapter re-authorizes on
  every ``initialize``).

Both take ``py_db._main_lock`` (as pydevd's command processor does) for at most one
second: a reader thread wedged while holding it must not keep the program paused.
Neither logs (the program is paused, see :mod:`dbgrelay.pauseguard`): what went wrong
is kept for :meth:`PydevdHandle.take_notes`.

Restarting the debugger in process is not done (see docs/operations.md, "Pause guard
inside the debuggee"): once pydevd's reader thread has ended, pydevd has disposed its
``PyDB`` (``dispose_and_kill_all_pydevd_threads``: global debugger cleared, writer
killed) and its paused threads have left their wait loops on their own. A new
``PyDB`` would need a new adapter process and access token, which only
``debugpy.listen`` creates, and ``debugpy.listen`` refuses a second call
(``listen.called``: "Multiple calls to listen() cause the debuggee to hang");
``pydevd.settrace`` would also trace the calling thread, keep the first session's
subprocess settings (``SetupHolder.setup``: port and access token) and leave frames
traced by the disposed ``PyDB``. A reader thread that is alive but deaf cannot be
replaced without disposing the ``PyDB`` it belongs to. So the guard resumes the
program and reports the target ``broken``; a restart of the process makes it
debuggable again.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Iterator, List, Optional, Tuple

#: debugpy versions whose pydevd internals this module was written against and tested with.
SUPPORTED_DEBUGPY_PREFIXES = ("1.8.",)
LOCK_TIMEOUT_S = 1.0


def unsupported_reason() -> Optional[str]:
    """None when the guard can run with the installed debugpy, else why not."""
    try:
        import debugpy
    except ImportError:
        return "debugpy is not installed"
    version = str(getattr(debugpy, "__version__", "?"))
    if not version.startswith(SUPPORTED_DEBUGPY_PREFIXES):
        return f"debugpy {version} is not a version the pause guard was tested with ({', '.join(p + 'x' for p in SUPPORTED_DEBUGPY_PREFIXES)})"
    try:
        import debugpy.server.api  # noqa: F401  (puts pydevd on sys.path)
        from _pydevd_bundle import pydevd_api, pydevd_constants, pydevd_thread_lifecycle, pydevd_utils  # noqa: F401  # noqa: F401
    except Exception as exc:  # noqa: BLE001
        return f"cannot import pydevd's API ({type(exc).__name__}: {exc})"
    return None


class PydevdHandle:
    """The running pydevd of this process, as the guard sees it."""

    def __init__(self) -> None:
        import debugpy.server.api  # noqa: F401
        from _pydevd_bundle import pydevd_constants, pydevd_utils
        from _pydevd_bundle.pydevd_api import PyDevdAPI

        self._constants = pydevd_constants
        self._utils = pydevd_utils
        self._api = PyDevdAPI()
        self._started = self.debugger()  # the PyDB debugpy.listen created
        self._notes: List[str] = []

    def take_notes(self) -> List[str]:
        """What went wrong in the last actions (to log once the program runs)."""
        notes, self._notes = self._notes, []
        return notes

    def debugger(self) -> Any:
        """pydevd's global ``PyDB``, or None."""
        try:
            return self._constants.get_global_debugger()
        except Exception:  # noqa: BLE001
            return None

    def paused_threads(self) -> List[threading.Thread]:
        """The program's threads pydevd holds suspended (or has marked to suspend).
        Empty once pydevd disposed its debugger: its wait loop lets every thread go
        then (``pydb_disposed``), although their state still says suspended."""
        py_db = self.debugger()
        if py_db is None or getattr(py_db, "pydb_disposed", False):
            return []
        out = []
        for thread in self._utils.get_non_pydevd_threads():
            info = getattr(thread, "additional_info", None)
            if info is not None and getattr(info, "pydev_state", None) == self._constants.STATE_SUSPEND:
                out.append(thread)
        return out

    def link_health(self) -> Tuple[bool, str]:
        """(True, "") while pydevd can talk to the adapter; else (False, why)."""
        py_db = self.debugger()
        if py_db is None:
            return False, "pydevd's debugger was disposed (its connection to the debug adapter ended)"
        if self._started is not None and py_db is not self._started:
            return False, "pydevd's debugger was replaced"
        if getattr(py_db, "pydb_disposed", False):
            return False, "pydevd's debugger was disposed"
        for role in ("reader", "writer"):
            thread = getattr(py_db, role, None)
            if thread is None or not thread.is_alive():
                return False, f"pydevd's {role} thread is not running"
            if getattr(thread, "_kill_received", False):
                return False, f"pydevd's {role} thread was told to stop"
        return True, ""

    @contextlib.contextmanager
    def _locked(self, py_db: Any) -> Iterator[None]:
        lock = getattr(py_db, "_main_lock", None)
        got = bool(lock is not None and lock.acquire(timeout=LOCK_TIMEOUT_S))
        try:
            yield
        finally:
            if got:
                lock.release()
        if lock is not None and not got:
            self._notes.append(f"pydevd's main lock was held for more than {LOCK_TIMEOUT_S:g} s; the guard acted without it")

    @contextlib.contextmanager
    def _noted(self, what: str) -> Iterator[None]:
        try:
            yield
        except Exception as exc:  # noqa: BLE001 - the resume must happen whatever fails here
            self._notes.append(f"clearing the client's {what} failed: {type(exc).__name__}: {exc}")

    def resume_all(self) -> None:
        """Every program thread back to running (pydevd's ``resume_threads("*")``)."""
        py_db = self.debugger()
        with self._locked(py_db):
            self._api.request_resume_thread("*")

    def forget_client(self) -> None:
        """Drop what the last client set, as pydevd does on its ``disconnect``."""
        py_db = self.debugger()
        if py_db is None:
            return
        with self._locked(py_db):
            with self._noted("output redirection"):
                py_db.enable_output_redirection(False, False)
            with self._noted("disconnect"):
                self._api.request_disconnect(py_db, resume_threads=False)
            with self._noted("function breakpoints"):
                self._api.set_function_breakpoints(py_db, [])
            processor = getattr(getattr(getattr(py_db, "reader", None), "process_net_command_json", None), "__self__", None)
            if processor is not None and hasattr(processor, "_launch_or_attach_request_done"):
                processor._launch_or_attach_request_done = False
