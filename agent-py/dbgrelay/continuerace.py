"""Close pydevd's continue race, which otherwise wedges debugpy's adapter.

The fault (pydevd as vendored in debugpy 1.8.10 to 1.8.22):

- In debugpy's mode every stop suspends all threads and the client gets one
  ``stopped`` event per stop (``ThreadsSuspendedSingleNotification`` in ``pydevd.py``).
  A stop is announced only if its suspend "time" (a counter bumped by every
  ``set_suspend``) is newer than the last one announced.
- ``continue`` (``on_continue_request``) registers its response as a callback
  (``add_on_resumed_callback``) and calls ``resume_threads``, which flips each
  thread's state to running and sets its wake-up event. The response is sent only
  when a parked thread has run again, seen the running state and left
  ``PyDB._do_wait_suspend`` (``on_thread_resume``); the 0.2 s ``TIMEOUT_SLOW`` poll
  there is only the fallback when a wake-up is missed.
- A thread that the previous stop marked suspended but that had not parked yet (it
  was in ``time.sleep``, in C code, or waiting for the GIL) gets the resume without
  ever parking. If it runs first after the resume and reaches a breakpoint before any
  parked thread has run, its ``set_suspend`` marks every other thread suspended again
  (``suspend_all_threads``). The parked threads wake, still see "suspended" and keep
  waiting: none leaves the loop, so the ``continue`` response is never sent. The new
  stop's ``stopped`` event is sent instead.
- debugpy's adapter handles each message under its session lock, and its ``continue``
  handler holds that lock while it waits for pydevd's answer. The new ``stopped``
  event therefore never reaches the client, and no later request (``disconnect``
  included) reaches pydevd: the program stays paused, the session cannot be ended, and
  a new attach is refused as "already being debugged".

With pydevd's socket left without ``TCP_NODELAY`` the ~40 ms delayed-ACK stall on
each message mostly keeps a client's ``continue`` out of that window; with the option
set (see :mod:`dbgrelay.nodelay`) a client that answers a stop within tens of
milliseconds hits it regularly.

The fix: pydevd must never announce a new stop while a resume is still unanswered.
:func:`install_continue_race_fix` wraps ``send_suspend_notification``, the single
place every ``stopped`` event of this mode goes through (called with the notifier's
lock held): if resume callbacks are pending, it first sends the resume notification
(the ``continued`` event, then the pending ``continue`` responses) and then the
``stopped`` event. The client sees exactly what happened - the program was resumed
and stopped again at once - and every ``continue`` is answered. The bookkeeping of
suspend/resume "times" is left alone, so the threads that stay parked are resumed and
announced by the next ``continue`` as usual. ``next``/``stepIn``/``stepOut`` are
answered by pydevd at once and ``disconnect`` resumes without the callback, so they
only needed the adapter to be free again.

A second path to the same wedge: a ``continue`` that arrives while no thread is
suspended (a double F5, or a resume racing the program's own) registers its callback
too, but only the first thread to leave ``_do_wait_suspend`` after a stop reports
the resume, so it is never answered. The fix also wraps ``add_on_resumed_callback``:
when the last stop was already announced as resumed, the ``continue`` is answered at
once (the program runs, which is what the answer says); a thread that is just about
to stop is announced with its own ``stopped`` event as usual.

The patch reaches into pydevd internals, so it is pinned: it is applied only to the
debugpy versions in :data:`VERIFIED_DEBUGPY` whose code has the expected shape; on
any other it logs an error with a stable code and leaves debugpy untouched. It never
raises into the app.
"""

from __future__ import annotations

import inspect
import logging
import re
from typing import Any, Callable, Optional, Tuple

from .errors import DEBUGPY_UNSUPPORTED, DbgRelayError

log = logging.getLogger("dbgrelay.agent")

#: Oldest and newest debugpy release the fix accepts: tested on 1.8.22; the pydevd
#: code it patches and relies on is unchanged upstream since 1.8.10.
VERIFIED_DEBUGPY: Tuple[Tuple[int, int, int], Tuple[int, int, int]] = ((1, 8, 10), (1, 8, 22))

_PATCH_MARK = "_dbgrelay_continue_race"


class ContinueRaceFixUnavailable(DbgRelayError):
    """The installed debugpy is not one the continue race fix was verified against."""

    code = DEBUGPY_UNSUPPORTED


def _version_tuple(version: str) -> Optional[Tuple[int, int, int]]:
    match = re.match(r"(\d+)\.(\d+)\.(\d+)", version)
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def _params(function: Any) -> Tuple[str, ...]:
    return tuple(inspect.signature(function).parameters)


def _notifier_class() -> Any:
    """pydevd's notifier class, once debugpy and its pydevd have the verified shape;
    raises :class:`ContinueRaceFixUnavailable` otherwise."""
    try:
        import debugpy
        import debugpy.server.api  # noqa: F401  (puts pydevd on sys.path)
        import pydevd  # type: ignore[import-not-found]
        from _pydevd_bundle.pydevd_process_net_command_json import (  # type: ignore[import-not-found]
            PyDevJsonCommandProcessor,
        )
    except Exception as exc:
        raise ContinueRaceFixUnavailable(f"cannot import debugpy's pydevd ({exc})") from None
    version = str(getattr(debugpy, "__version__", "?"))
    parsed = _version_tuple(version)
    low, high = VERIFIED_DEBUGPY
    if parsed is None or not low <= parsed <= high:
        raise ContinueRaceFixUnavailable(f"debugpy {version} is not between {'.'.join(map(str, low))} and {'.'.join(map(str, high))}")
    cls = getattr(pydevd, "ThreadsSuspendedSingleNotification", None)
    base = getattr(pydevd, "AbstractSingleNotificationBehavior", None)
    try:
        shape_ok = (
            isinstance(cls, type)
            and isinstance(base, type)
            and issubclass(cls, base)
            and {"_callbacks", "_callbacks_lock"} <= set(getattr(cls, "__slots__", ()))
            and _params(cls.send_suspend_notification) == ("self", "thread_id", "thread", "stop_reason")
            and _params(cls.send_resume_notification) == ("self", "thread_id")
            and _params(cls.add_on_resumed_callback) == ("self", "callback")
            and {"_lock", "_last_resume_notification_time", "_last_suspend_notification_time"} <= set(getattr(base, "__slots__", ()))
            # the stops it announces and the continue response it defers
            and "send_suspend_notification" in base.on_thread_suspend.__code__.co_names
            and "add_on_resumed_callback" in PyDevJsonCommandProcessor.on_continue_request.__code__.co_names
        )
    except Exception:
        shape_ok = False
    if not shape_ok:
        raise ContinueRaceFixUnavailable(f"debugpy {version}: pydevd's stop/resume notification code changed")
    return cls


def _resume_before_suspend(send_suspend: Callable[..., None], send_resume: Callable[..., None]) -> Callable[..., None]:
    def send_suspend_notification(self: Any, thread_id: Any, thread: Any, stop_reason: Any) -> None:
        with self._callbacks_lock:
            resume_pending = bool(self._callbacks)
        if resume_pending:
            # A continue is still unanswered: announce that resume (continued event and
            # continue responses) before the new stop, so the stop is never hidden.
            send_resume(self, thread_id)
        send_suspend(self, thread_id, thread, stop_reason)

    setattr(send_suspend_notification, _PATCH_MARK, True)
    return send_suspend_notification


def _answer_when_nothing_is_suspended(add_callback: Callable[..., None]) -> Callable[..., None]:
    def add_on_resumed_callback(self: Any, callback: Callable[[], None]) -> None:
        with self._lock:
            # The last stop was already announced as resumed: no thread will report a
            # resume again before a new stop (threads still leaving the wait loop
            # report none), so nobody would ever answer this continue. The callback is
            # registered under the same lock, so a resume reported in between cannot
            # slip past it (on_thread_resume takes _lock, then _callbacks_lock).
            running = self._last_resume_notification_time >= self._last_suspend_notification_time
            if not running:
                add_callback(self, callback)
        if running:
            callback()

    setattr(add_on_resumed_callback, _PATCH_MARK, True)
    return add_on_resumed_callback


def install_continue_race_fix() -> bool:
    """Patch pydevd so every ``continue`` is answered (see the module docstring).

    Call it before ``debugpy.listen`` (it also works later). Idempotent. Returns False,
    after logging an error, when this debugpy is not one the fix was verified against;
    never raises.
    """
    try:
        cls = _notifier_class()
        current = cls.send_suspend_notification
        if not getattr(current, _PATCH_MARK, False):
            cls.send_suspend_notification = _resume_before_suspend(current, cls.send_resume_notification)
            cls.add_on_resumed_callback = _answer_when_nothing_is_suspended(cls.add_on_resumed_callback)
            log.debug("continue race fix installed in pydevd")
        return True
    except Exception as exc:
        code = exc.code if isinstance(exc, DbgRelayError) else ContinueRaceFixUnavailable.code
        log.error("continue race fix not applied [%s]: %s; a continue that crosses a new breakpoint hit can leave the debug session stuck", code, exc)
        return False


def continue_race_fix_installed() -> bool:
    """True if pydevd's notifier carries the fix in this process."""
    import sys

    pydevd = sys.modules.get("pydevd")
    cls = getattr(pydevd, "ThreadsSuspendedSingleNotification", None) if pydevd else None
    return bool(cls is not None and getattr(cls.send_suspend_notification, _PATCH_MARK, False))
