from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from asyncdap import AsyncDapClient  # noqa: F401  (conftest path setup)
from conftest import APP, BREAK_LINE, Debuggee
from dapclient import DapClient, full_attach

HERE = Path(__file__).resolve().parent


def test_fix_sets_tcp_nodelay_on_pydevds_adapter_socket() -> None:
    out = subprocess.run([sys.executable, str(HERE / "nodelay_app.py")], capture_output=True, text=True, timeout=30, env=dict(os.environ, PYDEVD_DISABLE_FILE_VALIDATION="1"))
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["peer"][0] == "127.0.0.1", "the socket found must be the one connected to the adapter"
    assert report["before"] == 0, "stock debugpy changed: pydevd's socket already has TCP_NODELAY"
    assert report["after"] == 1 and report["applied"] is True
    assert report["patched"] is True


def median_threads_ms(debuggee: Debuggee, n: int = 15) -> float:
    c = DapClient.connect(debuggee.port)
    try:
        full_attach(c, 10, breakpoints={str(APP): [BREAK_LINE]})
        c.event("stopped", 10)
        samples = []
        for _ in range(n):
            t = time.perf_counter()
            assert c.request("threads")["success"]
            samples.append((time.perf_counter() - t) * 1000)
        c.request("disconnect", {"terminateDebuggee": False})
        samples.sort()
        return samples[len(samples) // 2]
    finally:
        c.close()


def test_fix_removes_the_delayed_ack_stall() -> None:
    stock, fixed = Debuggee(nodelay=False), Debuggee(nodelay=True)
    try:
        slow = median_threads_ms(stock)
        fast = median_threads_ms(fixed)
    finally:
        stock.stop()
        fixed.stop()
    assert fast < 10, f"threads round trip with the fix: {fast:.2f} ms"
    assert slow > 3 * fast, f"stock {slow:.2f} ms vs fixed {fast:.2f} ms: the fix made no difference"
