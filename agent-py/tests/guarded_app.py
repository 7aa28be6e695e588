"""A debuggee for pause guard tests: enable_attach through a relay, a ticking main
loop with a breakpoint line, and a hidden reporter thread started after
debugpy.listen that prints what it sees while the program may be paused.

    python guarded_app.py RELAY_URL CAFILE UNOWNED_PAUSE MAX_PAUSE ADAPTER_STALL CONTROL_DIR
(the relay credential comes from DBGRELAY_SECRET). A file ``deafen`` appearing in
CONTROL_DIR makes pydevd's reader thread ignore the adapter from then on, as a
reader thread that died would.
"""

import os
import sys
import threading
import time

import dbgrelay
from dbgrelay import agent
from dbgrelay.agentthreads import start_hidden_thread

relay, cafile, unowned, max_pause, stall, control = sys.argv[1:7]
dbgrelay.enable_attach(relay=relay, name="guarded", cafile=cafile, unowned_pause=float(unowned), max_pause=float(max_pause), adapter_stall=float(stall))
guard = agent.running_pause_guard()
assert guard is not None, "the pause guard did not start"


def say(line: str) -> None:
    os.write(1, (line + "\n").encode())  # one write per line: threads do not interleave


say("ADAPTER %d" % dbgrelay.adapter_endpoint()[1])
say("BRIDGE %d" % agent.bridge_pid())


def report() -> None:
    deafened = False
    while True:
        if not deafened and os.path.exists(os.path.join(control, "deafen")):
            import pydevd

            pydevd.get_global_debugger().reader.do_kill_pydev_thread()
            deafened = True
            say("DEAFENED")
        say("GUARD %d" % guard.polls)
        time.sleep(0.1)


start_hidden_thread(report, "test-reporter")
time.sleep(0.2)
say("THREADS " + ",".join(sorted(t.name for t in threading.enumerate())))

counter = 0


def tick() -> int:
    global counter
    counter += 1  # BREAK_HERE
    return counter


while True:
    tick()
    if counter % 10 == 0:
        say("TICK %d" % counter)
    time.sleep(0.01)
