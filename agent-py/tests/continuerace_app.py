"""Debuggee for the continue race tests.

Worker threads call ``hit()`` (breakpoint line) in a loop with a sleep between calls,
so at every stop some of them are asleep and have not parked in pydevd yet: the
situation in which a ``continue`` can cross a new breakpoint hit. The main thread
prints a ``TICK`` heartbeat. pydevd's socket gets TCP_NODELAY as the agent sets it;
with ``DBGRELAY_TEST_CONTINUE_RACE_FIX=1`` the fix is installed before
``debugpy.listen``. Each stop that pydevd announces while a ``continue`` is still
unanswered (the race) prints a ``RACE`` line.
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

notifier = pydevd.ThreadsSuspendedSingleNotification
announce_stop = notifier.send_suspend_notification


def announce_stop_and_report_race(self, thread_id, thread, stop_reason):  # type: ignore[no-untyped-def]
    if self._callbacks:
        print("RACE", flush=True)
    announce_stop(self, thread_id, thread, stop_reason)


notifier.send_suspend_notification = announce_stop_and_report_race
print(f"PORT {port}", flush=True)

WORKERS = int(os.environ.get("DBGRELAY_TEST_WORKERS", "3"))
NAP_S = float(os.environ.get("DBGRELAY_TEST_NAP_S", "0.05"))


def hit(n):
    return n + 1  # BREAK_HERE


def work():
    n = 0
    while True:
        n = hit(n)
        time.sleep(NAP_S)


for i in range(WORKERS):
    threading.Thread(target=work, name=f"worker-{i}", daemon=True).start()

tick = 0
while True:
    time.sleep(0.05)
    tick += 1
    print(f"TICK {tick}", flush=True)
