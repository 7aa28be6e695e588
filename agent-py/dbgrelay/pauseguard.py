"""The last line of defence inside the debuggee: resume a pause nobody owns.

A thread of the agent that the debugger never sees nor suspends
(:mod:`dbgrelay.agentthreads`) looks at the program every ``poll_interval``
(0.25 s). While any program thread is held by pydevd, it measures how long the
program has been paused without interruption (as seen by the polls: steps faster
than a poll count as one pause) and resumes every thread, through pydevd's own
machinery (:mod:`dbgrelay.pydevdstate`), when

- the pause has lasted ``unowned_pause`` (30 s) and no live session owns it
  (:mod:`dbgrelay.pauseownership`: the bridge is not reporting, has no session with a
  live relay connection and a responsive adapter; or pydevd's reader or writer
  thread is gone); the client's breakpoints, exception breakpoints and steps are
  dropped too, as a client ``disconnect`` drops them, so the program does not stop
  again at once; or
- the pause has lasted ``max_pause`` (off by default), whoever owns it; the
  breakpoints of the live session stay.

It needs neither the adapter, nor pydevd's reader thread, nor the bridge. It never
logs while the program is paused (a suspended thread may hold a logging handler's
lock, and the guard must not wait for a thread only it can resume): log lines wait
until the program runs, e.g. right after the resume. Every resume is logged (logger ``dbgrelay.guard``, WARNING) and handed to ``notify`` as a
``guard`` control message for the relay's audit log (docs/protocol.md §5); changes
of the debugger's state go out as ``status`` messages (``ok``, ``unguarded``,
``broken``).
"""

from __future__ import annotations

import logging
import sys
import threading
import time
import traceback
from collections import deque
from typing import Any, Callable, Deque, Dict, List, Optional, Protocol, Tuple

from .agentthreads import start_hidden_thread
from .options.guard import PauseGuardOptions
from .pauseownership import OwnershipTracker

#: Most log lines the guard holds while the program is paused (the oldest go first).
MAX_HELD_LOG_LINES = 200

log = logging.getLogger("dbgrelay.guard")

Notify = Callable[[Dict[str, Any]], None]


class DebuggerView(Protocol):
    """What the guard needs of pydevd (:class:`dbgrelay.pydevdstate.PydevdHandle`)."""

    def paused_threads(self) -> List[Any]: ...
    def link_health(self) -> Tuple[bool, str]: ...
    def resume_all(self) -> None: ...
    def forget_client(self) -> None: ...
    def take_notes(self) -> List[str]: ...


def status_message(debugger: str, detail: str = "") -> Dict[str, Any]:
    """A ``status`` control message (docs/protocol.md §5, revision 1.8)."""
    message: Dict[str, Any] = {"type": "status", "debugger": debugger}
    if detail:
        message["detail"] = detail[:1024]
    return message


def program_exiting() -> bool:
    """True once the program's main thread has ended (its exit handlers run)."""
    return sys.is_finalizing() or not threading.main_thread().is_alive()


class PauseGuard:
    """Polls the debugger and resumes pauses past their bound (see the module doc)."""

    def __init__(self, options: PauseGuardOptions, debugger: DebuggerView, ownership: OwnershipTracker, notify: Notify, clock: Callable[[], float] = time.monotonic) -> None:
        self.options = options
        self.debugger = debugger
        self.ownership = ownership
        self.notify = notify
        self.clock = clock
        self.resumes = 0
        #: looks taken so far (tests and diagnostics: the guard runs while the program is paused)
        self.polls = 0
        self._paused_since: Optional[float] = None
        self._unowned_since: Optional[float] = None
        self._link: Optional[Tuple[bool, str]] = None
        self._stop = threading.Event()
        self.thread: Optional[threading.Thread] = None
        #: log lines held back while the program is paused (see the module doc)
        # Log lines wait until no thread is paused (a suspended thread may hold a
        # logging lock); bounded, so a guard failing on every poll cannot grow it.
        self._held: Deque[Tuple[int, str, Tuple[Any, ...]]] = deque(maxlen=MAX_HELD_LOG_LINES)
        self._dropped = 0

    def start(self) -> threading.Thread:
        self.thread = start_hidden_thread(self._run, "dbgrelay-pause-guard")
        return self.thread

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        log.info("%s", self.options.describe())
        while not self._stop.is_set():
            try:
                self.poll()
            except Exception:  # noqa: BLE001 - the guard must outlive any surprise
                self._log(logging.ERROR, "pause guard: poll failed: %s", traceback.format_exc())
            self._stop.wait(self.options.poll_interval)

    def poll(self) -> Optional[Dict[str, Any]]:
        """One look at the program; returns the ``guard`` message when it resumed."""
        self.polls += 1
        now = self.clock()
        link = self.debugger.link_health()
        self._report_link(link)
        if not self.debugger.paused_threads():
            self._paused_since = self._unowned_since = None
            self._flush_logs()
            return None
        if self._paused_since is None:
            self._paused_since = now
        paused_for = now - self._paused_since
        owned, why = self.ownership.owned(now, self.options.owner_report_timeout)
        if owned and not link[0]:
            owned, why = False, link[1]
        if owned:
            self._unowned_since = None
        elif self._unowned_since is None:
            self._unowned_since = now
        unowned_for = 0.0 if self._unowned_since is None else now - self._unowned_since
        reason = self._resume_reason(paused_for, unowned_for, owned, why)
        if reason is None:
            return None
        # The log lines wait for a poll that finds nothing paused: a resumed thread
        # may still hold a logging lock, or stop again inside a handler.
        return self._resume(reason, paused_for, forget_client=not owned)

    def _resume_reason(self, paused_for: float, unowned_for: float, owned: bool, why: str) -> Optional[str]:
        """Why to resume now, if at all. An unowned pause counts from the first poll
        that found nobody owning it, not from the stop: a live session that owned a
        long pause and then missed a report or two (a starved bridge, a slow
        ``evaluate``) does not lose it at once."""
        max_pause = self.options.max_pause
        if max_pause and paused_for >= max_pause:
            return f"paused longer than max_pause ({max_pause:g} s)"
        if not owned and unowned_for >= self.options.unowned_pause:
            return f"paused longer than unowned_pause ({self.options.unowned_pause:g} s) with no live session: {why}"
        return None

    def _resume(self, reason: str, paused_for: float, forget_client: bool) -> Dict[str, Any]:
        if forget_client:
            self.debugger.forget_client()
        self.debugger.resume_all()
        for note in self.debugger.take_notes():
            self._log(logging.WARNING, "pause guard: %s", note)
        self._paused_since = self._unowned_since = None
        self.resumes += 1
        paused_ms = int(paused_for * 1000)
        self._log(
            logging.WARNING, "pause guard resumed the program after %.1f s paused: %s%s", paused_for, reason, "; the client's breakpoints were removed" if forget_client else ""
        )
        message = {"type": "guard", "event": "resumed", "reason": reason[:1024], "pausedMs": paused_ms}
        self._send(message)
        return message

    def _report_link(self, link: Tuple[bool, str]) -> None:
        if link == self._link:
            return
        if not link[0] and program_exiting():
            return  # pydevd winds down with the program: nothing is broken
        first = self._link is None
        self._link = link
        if link[0]:
            if not first:
                self._log(logging.WARNING, "pause guard: the debugger in this process works again")
            self._send(status_message("ok"))
            return
        self._log(logging.WARNING, "pause guard: the debugger in this process is broken: %s; the target cannot be debugged until the process restarts", link[1])
        self._send(status_message("broken", link[1]))

    def _log(self, level: int, message: str, *args: Any) -> None:
        if len(self._held) == self._held.maxlen:
            self._dropped += 1
        self._held.append((level, message, args))

    def _flush_logs(self) -> None:
        held, dropped = list(self._held), self._dropped
        self._held.clear()
        self._dropped = 0
        if dropped:
            log.warning("pause guard: %d earlier log lines were dropped while the program was paused", dropped)
        for level, message, args in held:
            log.log(level, message, *args)

    def _send(self, message: Dict[str, Any]) -> None:
        try:
            self.notify(message)
        except Exception as exc:  # noqa: BLE001 - reporting is best effort
            self._log(logging.DEBUG, "pause guard: could not hand %s to the bridge: %s", message.get("type"), exc)
