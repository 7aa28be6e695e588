"""Debuggee for the continue race tests.

Worker threads call ``hit()`` (breakpoint line) in a loop with a sleep between calls,
so at every stop some of them are asleep and have not parked in pydevd yet: the
situation in which a ``continue`` can cross a new breakpoint hit. Their naps differ,
so the workers that one ``continue`` resumes together do not reach the breakpoint
together. The main thread prints a ``TICK`` heartbeat. pydevd's socket gets
TCP_NODELAY as the agent sets it; with ``DBGRELAY_TEST_CONTINUE_RACE_FIX=1`` the fix
is installed before ``debugpy.listen``. Each stop that pydevd announces while a
``continue`` is still unanswered (the race) prints a ``RACE`` line.

With ``DBGRELAY_TEST_CONTINUE_RACE_WINDOW=1`` the race window is held open, so that
a crossing does not depend on how the OS schedules the threads. The window: pydevd
handles a request with ``PyDB._main_lock`` held (``process_net_command_json``), and
``PyDevJsonCommandProcessor.on_continue_request`` registers the response as a resume
callback and calls ``resume_threads``, which flips every thread to running and wakes
it. A thread parked in the wait loop of ``PyDB._do_wait_suspend`` reads its state
only under ``_main_lock``, so it can leave the loop (and have the ``continue``
answered, ``on_thread_resume``) only once the handler has returned and it got the
lock and the CPU. A worker that was resumed without ever parking and reaches the
breakpoint before that (``PyDB.set_suspend``, no ``_main_lock`` needed) marks the
parked threads suspended again (``suspend_all_threads``) and they stay parked.

In this mode the handler returns only once that contest is decided: after the
original ``on_continue_request`` it waits (polling every 2 ms, at most
``WINDOW_BOUND_S``) while a worker is outside pydevd's ``do_wait_suspend`` - asleep
or running its own code, so resumed without parking - until some thread hit the
breakpoint, then prints ``WIDENED <n>`` (the n-th continue, from 1). If every
worker is parked (or parking), no thread can hit the breakpoint and it returns at
once; ``UNWIDENED <n>`` means the bound ran out. The parked threads see the resume
as late as a thread the OS did not schedule in time would; pydevd's code is not
changed, the lock is only released later.
"""

import os
import sys
import threading
import time

import debugpy

from dbgrelay.nodelay import apply_nodelay_fix, install_patch

if os.environ.get("DBGRELAY_TEST_CONTINUE_RACE_FIX") == "1":
    from dbgrelay.continuerace import install_continue_race_fix

    if not install_continue_race_fix():
        sys.exit("the continue race fix could not be installed")

install_patch()
host, port = debugpy.listen(("127.0.0.1", 0))
apply_nodelay_fix()

import pydevd  # noqa: E402  (importable once debugpy is set up)
from _pydevd_bundle.pydevd_comm_constants import CMD_SET_BREAK  # noqa: E402
from _pydevd_bundle.pydevd_process_net_command_json import PyDevJsonCommandProcessor  # noqa: E402

notifier = pydevd.ThreadsSuspendedSingleNotification
announce_stop = notifier.send_suspend_notification


def announce_stop_and_report_race(self, thread_id, thread, stop_reason):  # type: ignore[no-untyped-def]
    if self._callbacks:
        print("RACE", flush=True)
    announce_stop(self, thread_id, thread, stop_reason)


notifier.send_suspend_notification = announce_stop_and_report_race

#: how long a continue may hold the race window open; a worker naps NAP_S, so this only
#: bounds a starved machine
WINDOW_BOUND_S = 2.0
#: breakpoint hits (``set_suspend`` with CMD_SET_BREAK), counted for the window
hits = threading.Condition()
hit_count = 0
continue_count = 0
set_suspend = pydevd.PyDB.set_suspend
continue_request = PyDevJsonCommandProcessor.on_continue_request
WAIT_CODE = (pydevd.PyDB.do_wait_suspend.__code__, pydevd.PyDB._do_wait_suspend.__code__)


def set_suspend_and_count(self, thread, stop_reason, *args, **kwargs):  # type: ignore[no-untyped-def]
    global hit_count
    set_suspend(self, thread, stop_reason, *args, **kwargs)
    if stop_reason == CMD_SET_BREAK:
        with hits:
            hit_count += 1
            hits.notify_all()


def in_pydevd_wait(frame):  # type: ignore[no-untyped-def]
    while frame is not None:
        if frame.f_code in WAIT_CODE:
            return True
        frame = frame.f_back
    return False


def workers_on_their_way():  # type: ignore[no-untyped-def]
    """Workers that are not in pydevd's ``do_wait_suspend``: resumed, they run to the
    breakpoint without parking (or park on their own, which also ends the wait)."""
    frames = sys._current_frames()
    return [t.name for t in workers if not in_pydevd_wait(frames.get(t.ident))]


def continue_with_the_window_held_open(self, py_db, request):  # type: ignore[no-untyped-def]
    # runs with py_db._main_lock held (process_net_command_json): the parked threads
    # cannot see the resume until this returns
    global continue_count
    continue_count += 1
    with hits:
        before = hit_count
    result = continue_request(self, py_db, request)
    deadline = time.monotonic() + WINDOW_BOUND_S
    with hits:
        while hit_count == before and workers_on_their_way() and time.monotonic() < deadline:
            hits.wait(0.002)
        crossed = hit_count > before
        if crossed:
            print(f"WIDENED {continue_count}", flush=True)
        elif workers_on_their_way():
            print(f"UNWIDENED {continue_count}", flush=True)
    return result


if os.environ.get("DBGRELAY_TEST_CONTINUE_RACE_WINDOW") == "1":
    pydevd.PyDB.set_suspend = set_suspend_and_count
    PyDevJsonCommandProcessor.on_continue_request = continue_with_the_window_held_open

print(f"PORT {port}", flush=True)

WORKERS = int(os.environ.get("DBGRELAY_TEST_WORKERS", "3"))
NAP_S = float(os.environ.get("DBGRELAY_TEST_NAP_S", "0.05"))


def hit(n):
    return n + 1  # BREAK_HERE


def work(nap):
    n = 0
    while True:
        n = hit(n)
        time.sleep(nap)


# staggered naps: the threads a continue resumes together do not all reach the
# breakpoint together, so at a stop the other workers are still asleep
workers = [threading.Thread(target=work, args=(NAP_S * (2 + i) / 2,), name=f"worker-{i}", daemon=True) for i in range(WORKERS)]
for worker in workers:
    worker.start()

tick = 0
while True:
    time.sleep(0.05)
    tick += 1
    print(f"TICK {tick}", flush=True)
