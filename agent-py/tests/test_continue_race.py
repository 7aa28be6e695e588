"""pydevd's continue race against a real debugpy (see dbgrelay/continuerace.py).

A client answers every ``stopped`` event 0-50 ms later (seeded), like a quick front
end, while worker threads keep hitting a breakpoint. Without the fix a ``continue``
that crosses a new breakpoint hit is never answered and debugpy's adapter wedges;
with it every request is answered and the program runs again after a detach.

Both tests run the app with the race window held open
(``DBGRELAY_TEST_CONTINUE_RACE_WINDOW=1``, see tests/continuerace_app.py), so that
the race shows up on every run, idle or loaded. The window, in pydevd.py and
_pydevd_bundle/pydevd_process_net_command_json.py: ``on_continue_request`` runs with
``PyDB._main_lock`` held, registers the response as a resume callback and calls
``resume_threads``; the callback runs only when a thread parked in the wait loop of
``PyDB._do_wait_suspend`` has read its state as running - under ``_main_lock``, so
after the handler returned - and left the loop (``on_thread_resume``). A worker that
the resume caught before it parked and that reaches the breakpoint first
(``PyDB.set_suspend``) marks the parked threads suspended again: none leaves the loop,
the callback never runs, and the new stop is announced instead. Whether that worker
or a parked thread got there first used to be up to the OS scheduler, so the race
showed up at different rates on an idle and a busy machine, and in a run of 300
continues on a loaded CI machine sometimes not at all.

The app decides that contest for the worker: its ``on_continue_request`` returns,
and so lets the parked threads look at their state, only once a worker that the
resume caught outside pydevd's wait has hit the breakpoint (it returns at once when
every worker is parked, and waits 2 s at most), and it prints ``WIDENED <n>`` for the
n-th continue so handled. That is the real race's own interleaving - the parked
threads seeing the resume late, as threads the OS did not schedule in time do - run
through pydevd's unchanged code: the resume, the new hit's ``suspend_all_threads``,
the parked threads staying parked, the new stop announced while the continue is
unanswered (``RACE``). Only the moment ``_main_lock`` is released moves. So without
the fix the first widened continue goes unanswered, whenever it comes; with the fix
every request must be answered, the widened continues included.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from typing import List, Optional

from conftest import HERE, ticked_since  # noqa: F401  (HERE puts tests/ on sys.path)
from dapclient import DapClient, full_attach

APP = HERE / "continuerace_app.py"
BREAK_LINE = next(i for i, line in enumerate(APP.read_text().splitlines(), 1) if "BREAK_HERE" in line)

#: a request that is answered at all is answered within milliseconds; this is generous
#: for a loaded machine
ANSWER_BOUND_S = 5.0
#: the workers hit the breakpoint every ~50 ms, so a running program stops again quickly
STOP_BOUND_S = 5.0
#: the client's think time after a ``stopped`` event
THINK_S = (0.0, 0.05)


class RaceDebuggee:
    """tests/continuerace_app.py in its own Python, with or without the fix."""

    def __init__(self, fix: bool) -> None:
        env = dict(os.environ, PYDEVD_DISABLE_FILE_VALIDATION="1", DBGRELAY_TEST_CONTINUE_RACE_FIX="1" if fix else "0", DBGRELAY_TEST_CONTINUE_RACE_WINDOW="1")
        self.proc = subprocess.Popen([sys.executable, "-Xfrozen_modules=off", str(APP)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("PORT "):
            self.stop()
            raise RuntimeError(f"debuggee did not start (got {line!r}): {self.proc.stderr.read() if self.proc.stderr else ''}")
        self.port = int(line.split()[1])
        self.ticks: List[float] = []
        self.races = 0
        #: numbers (from 1) of the continues the app held in the race window
        self.widened: List[int] = []
        #: ... and of those whose window ran out before a worker hit the breakpoint
        self.unwidened: List[int] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("TICK"):
                self.ticks.append(time.monotonic())
            elif line.startswith("RACE"):
                self.races += 1
            elif line.startswith("WIDENED "):
                self.widened.append(int(line.split()[1]))
            elif line.startswith("UNWIDENED "):
                self.unwidened.append(int(line.split()[1]))

    def ticking_since(self, t: float, timeout: float = 3.0) -> bool:
        """True once the main thread printed a heartbeat after monotonic time t."""
        return ticked_since(self.ticks, t, timeout)

    def attach(self) -> DapClient:
        c = DapClient.connect(self.port)
        c.sock.settimeout(None)  # silence is what we measure; the reader must not give up
        full_attach(c, 10, breakpoints={str(APP): [BREAK_LINE]})
        return c

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()


def answered(c: DapClient, seq: int, timeout: float = ANSWER_BOUND_S) -> Optional[dict]:
    try:
        return c.response(seq, timeout)
    except TimeoutError:
        return None


def detach(c: DapClient, thread_id: int) -> None:
    """What the relay does on a client loss or a pause timeout: ``continue``, then
    ``disconnect`` right behind it; both must be answered, and the adapter must then end
    the session (close the connection), which is what the bridge waits for."""
    resume = c.send("continue", {"threadId": thread_id})
    leave = c.send("disconnect", {"terminateDebuggee": False})
    assert answered(c, resume) is not None, "continue of a detach was not answered"
    assert answered(c, leave) is not None, "disconnect of a detach was not answered"
    assert c.closed.wait(ANSWER_BOUND_S), "the adapter did not end the session after disconnect"
    c.close()


def test_every_resume_is_answered_with_the_fix() -> None:
    """With the fix every request is answered, each ``continue`` held in the race
    window included (each of them is crossed by a new stop: without the fix the first
    one wedges the adapter), and the program runs on after a detach."""
    rng = random.Random(20240611)
    rounds = 240
    debuggee = RaceDebuggee(fix=True)
    sent: Counter = Counter()
    try:
        c = debuggee.attach()
        for i in range(1, rounds + 1):
            try:
                stopped = c.event("stopped", STOP_BOUND_S)
            except TimeoutError:
                raise AssertionError(f"round {i}: the program neither stopped nor got reported stopped after the last request ({dict(sent)})") from None
            thread_id = stopped["body"]["threadId"]
            time.sleep(rng.uniform(*THINK_S))
            command = rng.choices(["continue", "next", "stepIn", "stepOut"], weights=[7, 1, 1, 1])[0]
            response = answered(c, c.send(command, {"threadId": thread_id}))
            assert response is not None, f"round {i}: {command} was not answered within {ANSWER_BOUND_S} s ({dict(sent)})"
            assert response["success"], response
            sent[command] += 1
        stopped = c.event("stopped", STOP_BOUND_S)
        time.sleep(rng.uniform(*THINK_S))
        detach(c, stopped["body"]["threadId"])
        detached_at = time.monotonic()
        assert debuggee.ticking_since(detached_at), "the program did not run on after the last detach"
        assert debuggee.widened, f"no continue was held in the race window in this run ({dict(sent)})"
        assert debuggee.races > 0, f"no continue crossed a new breakpoint hit in this run, so the race was not exercised ({dict(sent)})"
        assert min(sent[k] for k in ("next", "stepIn", "stepOut")) > 0, dict(sent)
    finally:
        debuggee.stop()


def test_without_the_fix_a_continue_goes_unanswered_and_the_adapter_wedges() -> None:
    """Without the fix a ``continue`` that crosses a new breakpoint hit is never
    answered, and neither is a ``disconnect`` behind it: the adapter is wedged. The
    lost continue must be one the app held in the race window (normally the first
    one; the continues before it found every worker parked), so the race no longer
    depends on the scheduler."""
    rng = random.Random(20240611)
    tries = 300
    debuggee = RaceDebuggee(fix=False)
    try:
        c = debuggee.attach()
        for n in range(1, tries + 1):
            stopped = c.event("stopped", STOP_BOUND_S)
            time.sleep(rng.uniform(*THINK_S))
            seq = c.send("continue", {"threadId": stopped["body"]["threadId"]})
            if answered(c, seq) is None:
                lost = n
                break
        else:
            raise AssertionError(f"all {tries} continues were answered: the race did not show up")
        assert debuggee.races >= 1, "the unanswered continue was not crossed by a new stop"
        assert lost in debuggee.widened, f"continue {lost} went unanswered, but the app held {debuggee.widened} in the race window (ran out: {debuggee.unwidened})"
        # the adapter is stuck in its continue handler: a disconnect is not answered either
        assert answered(c, c.send("disconnect", {"terminateDebuggee": False}), 2.0) is None
        c.close()
    finally:
        debuggee.stop()


PIN_CHECK = """
import json, logging, sys
import debugpy
records = []
logging.getLogger("dbgrelay.agent").addHandler(type("H", (logging.Handler,), {"emit": lambda h, r: records.append((r.levelname, r.getMessage()))})())
if sys.argv[1] == "reshaped":
    import debugpy.server.api, pydevd
    pydevd.ThreadsSuspendedSingleNotification.send_resume_notification = lambda self: None
elif sys.argv[1] != "installed":
    debugpy.__version__ = sys.argv[1]
from dbgrelay import continuerace
first = continuerace.install_continue_race_fix()
second = continuerace.install_continue_race_fix()
print(json.dumps({"first": first, "second": second, "installed": continuerace.continue_race_fix_installed(),
                  "records": records}))
"""


def pin_check(version: str) -> dict:
    import json

    out = subprocess.run([sys.executable, "-c", PIN_CHECK, version], capture_output=True, text=True, timeout=60, env=dict(os.environ, PYDEVD_DISABLE_FILE_VALIDATION="1"))
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_fix_installs_once_on_the_verified_debugpy() -> None:
    report = pin_check("installed")
    assert report == {"first": True, "second": True, "installed": True, "records": []}


def test_an_unverified_debugpy_is_left_alone_with_an_error() -> None:
    for version in ("1.8.23", "1.9.0", "1.8.9"):
        report = pin_check(version)
        assert report["first"] is False and report["second"] is False and report["installed"] is False, report
        levels = {level for level, _ in report["records"]}
        assert levels == {"ERROR"}, report
        assert all("[DEBUGPY_UNSUPPORTED]" in message and version in message for _, message in report["records"]), report


def test_a_changed_pydevd_is_left_alone_with_an_error() -> None:
    report = pin_check("reshaped")
    assert report["first"] is False and report["installed"] is False, report
    assert report["records"] and all(level == "ERROR" and "notification code changed" in message for level, message in report["records"]), report
