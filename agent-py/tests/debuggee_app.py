"""Debuggee for tests: debugpy.listen on loopback, a busy loop and a background thread."""

import os
import threading
import time

import debugpy

if os.environ.get("DBGRELAY_TEST_NODELAY") == "1":
    from dbgrelay.nodelay import apply_nodelay_fix

    apply_nodelay_fix()

launcher = None
if os.environ.get("DBGRELAY_TEST_GUARD") == "1":
    from dbgrelay.adapterlauncher import guarded_adapter_python

    launcher = guarded_adapter_python(debugpy)
    assert launcher is not None, "the adapter guard could not be set up"
host, port = debugpy.listen(("127.0.0.1", 0))
if launcher is not None:
    launcher.remove()
if os.environ.get("DBGRELAY_TEST_NODELAY") == "1":
    apply_nodelay_fix()
print(f"PORT {port}", flush=True)

counter = 0


def tick():
    global counter
    counter += 1  # BREAK_HERE
    return counter


def background():
    while True:
        time.sleep(0.05)


threading.Thread(target=background, name="bg", daemon=True).start()
while True:
    tick()
    if counter % 20 == 0:
        print(f"TICK {counter}", flush=True)
    time.sleep(0.01)
