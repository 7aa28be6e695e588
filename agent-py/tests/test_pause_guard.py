"""The pause guard inside a real debuggee: enable_attach with a real debugpy and a
real bridge process, a fake relay, and a real DAP client through the relay session
(or straight to the adapter)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest
from asyncdap import AsyncDapClient, full_attach
from conftest import Certs
from fakerelay import FakeRelay
from peerstreams import TcpByteStream
from relaythread import RelayThread

SECRET = "s3cr3t-" + uuid.uuid4().hex
APP = Path(__file__).resolve().parent / "guarded_app.py"
BREAK_LINE = next(i for i, line in enumerate(APP.read_text().splitlines(), 1) if "BREAK_HERE" in line)
AGENT_THREADS = ("dbgrelay-bridge-events", "dbgrelay-pause-guard", "test-reporter")
#: Bridge reports go stale after 1.5 s; then the guard acts on its next poll.
STALE_S = 1.5
MARGIN_S = 3.0


class GuardedApp:
    """guarded_app.py in a child process: its adapter port, bridge pid, TICK and GUARD lines."""

    def __init__(self, rt: RelayThread, certs: Certs, tmp_path: Path, unowned: float, max_pause: float, adapter_stall: float) -> None:
        self.control = tmp_path
        self.log = tmp_path / "agent.log"
        env = dict(os.environ, DBGRELAY_SECRET=SECRET, PYDEVD_DISABLE_FILE_VALIDATION="1", DBGRELAY_AGENT_LOG=str(self.log), DBGRELAY_AGENT_LOG_LEVEL="INFO")
        self.proc = subprocess.Popen(
            [sys.executable, "-Xfrozen_modules=off", str(APP), rt.url, certs.ca, str(unowned), str(max_pause), str(adapter_stall), str(tmp_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        self.ticks: List[float] = []
        self.polls: List[Tuple[float, int]] = []
        self.values: Dict[str, str] = {}
        self._ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        assert self._ready.wait(30), "the app did not start"
        self.adapter_port = int(self.values["ADAPTER"])
        self.bridge_pid = int(self.values["BRIDGE"])

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            key, _, value = line.strip().partition(" ")
            now = time.monotonic()
            if key == "TICK":
                self.ticks.append(now)
            elif key == "GUARD":
                self.polls.append((now, int(value)))
            else:
                self.values[key] = value
                if key == "THREADS":
                    self._ready.set()
        self._ready.set()

    def first_tick_after(self, t: float, timeout: float) -> Optional[float]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            later = [tick for tick in self.ticks if tick > t]
            if later:
                return later[0]
            time.sleep(0.02)
        return None

    def polls_at(self, t: float) -> int:
        return max(n for at, n in self.polls if at <= t)

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()


def run(rt: RelayThread, coro: Any, timeout: float = 20.0) -> Any:
    return asyncio.run_coroutine_threadsafe(coro, rt.loop).result(timeout)


def wait(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


async def open_client(relay: FakeRelay) -> AsyncDapClient:
    conn = await relay.open_session(uuid.uuid4().hex + "abcdefgh")
    return AsyncDapClient(TcpByteStream(conn[1], conn[2]))


async def attach_and_stop(client: AsyncDapClient) -> Dict[str, Any]:
    await full_attach(client, breakpoints={str(APP): [BREAK_LINE]}, timeout=10)
    return await client.event("stopped", 10)


def started(tmp_path: Path, certs: Certs, unowned: float, max_pause: float = 0.0, adapter_stall: float = 10.0) -> Tuple[RelayThread, GuardedApp]:
    rt = RelayThread(FakeRelay(certs.server_context(), SECRET), "tcps")
    app = GuardedApp(rt, certs, tmp_path, unowned, max_pause, adapter_stall)
    assert rt.wait(lambda: rt.relay.registers, timeout=15), "the target never registered"
    return rt, app


def notices(rt: RelayThread, kind: str) -> List[Dict[str, Any]]:
    return [m for m in list(rt.relay.notices) if m.get("type") == kind]


def pid_listening_on(port: int) -> int:
    """The process with a loopback TCP socket listening on ``port`` (from /proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{fields[9]}]")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            for fd in (entry / "fd").iterdir():
                if os.readlink(fd) in inodes:
                    return int(entry.name)
        except OSError:
            continue
    raise AssertionError(f"no process listens on port {port}")


def test_agent_threads_are_invisible_and_keep_running_while_paused(certs: Certs, tmp_path: Path) -> None:
    rt, app = started(tmp_path, certs, unowned=60)
    try:
        client = run(rt, open_client(rt.relay))
        stopped = run(rt, attach_and_stop(client))
        paused_at = time.monotonic()
        threads = run(rt, client.request("threads"))
        names = [t["name"] for t in threads["body"]["threads"]]
        assert "MainThread" in names
        assert not set(AGENT_THREADS) & set(names), names
        assert stopped["body"].get("allThreadsStopped") is True
        time.sleep(1.5)
        # the program is paused, the agent's threads are not: the guard keeps polling
        assert app.first_tick_after(paused_at + 0.3, timeout=0) is None, "the program was not paused"
        before, after = app.polls_at(paused_at + 0.2), app.polls_at(time.monotonic())
        assert after - before >= 3, (before, after)
        assert notices(rt, "status") == [{"type": "status", "debugger": "ok"}]
        run(rt, client.request("disconnect", {"terminateDebuggee": False}))
        assert app.first_tick_after(time.monotonic(), timeout=5) is not None
        # pydevd hides its own threads from threading.enumerate(); ours are among them
        assert not set(AGENT_THREADS) & set(app.values["THREADS"].split(",")), app.values["THREADS"]
    finally:
        app.stop()


def test_a_stopped_bridge_no_longer_owns_the_pause(certs: Certs, tmp_path: Path) -> None:
    unowned = 2.0
    rt, app = started(tmp_path, certs, unowned=unowned)
    try:
        client = run(rt, open_client(rt.relay))
        run(rt, attach_and_stop(client))
        paused_at = time.monotonic()
        # owned by a live session: the pause outlasts unowned_pause
        time.sleep(unowned + 1.5)
        assert app.first_tick_after(paused_at + 0.3, timeout=0) is None, "resumed although a live session owned it"
        os.kill(app.bridge_pid, signal.SIGSTOP)
        stopped_at = time.monotonic()
        try:
            resumed = app.first_tick_after(stopped_at, timeout=unowned + STALE_S + MARGIN_S)
            assert resumed is not None, "the program stayed paused with its bridge stopped"
            assert resumed - stopped_at >= STALE_S - 0.3
        finally:
            os.kill(app.bridge_pid, signal.SIGCONT)
        # the resume reaches the relay once the bridge runs again; the client's breakpoints are gone
        assert wait(lambda: notices(rt, "guard"), 10), rt.relay.notices
        message = notices(rt, "guard")[0]
        assert message["event"] == "resumed" and "has not reported for" in message["reason"]
        assert message["pausedMs"] >= (unowned + 1.5) * 1000
        assert app.first_tick_after(time.monotonic() + 1, timeout=5) is not None, "stopped again"
        log_text = app.log.read_text()
        assert "WARNING guard: pause guard resumed the program after" in log_text
        assert "the client's breakpoints were removed" in log_text
        # and the target is debuggable again: the next client stops at its breakpoint
        run(rt, client.request("disconnect", {"terminateDebuggee": False}))
        run(rt, client.close())
        again = run(rt, open_client(rt.relay))
        assert run(rt, attach_and_stop(again))["body"]["reason"] == "breakpoint"
        run(rt, again.request("disconnect", {"terminateDebuggee": False}))
        assert all(m["debugger"] == "ok" for m in notices(rt, "status"))
    finally:
        os.kill(app.bridge_pid, signal.SIGCONT)
        app.stop()


def test_a_killed_adapter_resumes_the_program_and_marks_the_target_broken(certs: Certs, tmp_path: Path) -> None:
    unowned = 2.0
    rt, app = started(tmp_path, certs, unowned=unowned)
    try:
        client = run(rt, open_client(rt.relay))
        run(rt, attach_and_stop(client))
        adapter = pid_listening_on(app.adapter_port)
        os.kill(adapter, signal.SIGKILL)
        killed_at = time.monotonic()
        assert app.first_tick_after(killed_at, timeout=unowned + MARGIN_S) is not None, "still paused"
        assert wait(lambda: any(m.get("debugger") == "broken" for m in notices(rt, "status")), 5), rt.relay.notices
        broken = [m for m in notices(rt, "status") if m["debugger"] == "broken"][0]
        assert "disposed" in broken["detail"] or "not running" in broken["detail"], broken
        assert wait(lambda: "the debugger in this process is broken" in app.log.read_text(), 5)
    finally:
        app.stop()


def test_a_wedged_adapter_no_longer_owns_the_pause(certs: Certs, tmp_path: Path) -> None:
    unowned, stall = 2.0, 1.0
    rt, app = started(tmp_path, certs, unowned=unowned, adapter_stall=stall)
    adapter = pid_listening_on(app.adapter_port)
    try:
        client = run(rt, open_client(rt.relay))
        run(rt, attach_and_stop(client))
        paused_at = time.monotonic()
        os.kill(adapter, signal.SIGSTOP)  # the adapter stops answering; the bridge and the relay link live on
        run(rt, client.send("threads"))
        resumed = app.first_tick_after(paused_at, timeout=unowned + stall + MARGIN_S)
        assert resumed is not None, "the program stayed paused behind a wedged adapter"
        assert resumed - paused_at >= unowned - 0.3
        assert wait(lambda: notices(rt, "guard"), 5), rt.relay.notices
        assert "the debug adapter has not answered a request for" in notices(rt, "guard")[0]["reason"]
    finally:
        os.kill(adapter, signal.SIGCONT)
        app.stop()


def test_a_deaf_reader_thread_no_longer_owns_the_pause(certs: Certs, tmp_path: Path) -> None:
    unowned = 2.0
    rt, app = started(tmp_path, certs, unowned=unowned)
    try:
        client = run(rt, open_client(rt.relay))
        run(rt, attach_and_stop(client))
        (tmp_path / "deafen").write_text("")
        assert wait(lambda: "DEAFENED" in app.values, 5)
        deaf_at = time.monotonic()
        resumed = app.first_tick_after(deaf_at, timeout=unowned + MARGIN_S)
        assert resumed is not None, "the program stayed paused with pydevd's reader thread deaf"
        assert wait(lambda: notices(rt, "guard"), 5), rt.relay.notices
        assert "reader thread was told to stop" in notices(rt, "guard")[0]["reason"]
        assert {"type": "status", "debugger": "broken", "detail": "pydevd's reader thread was told to stop"} in notices(rt, "status")
    finally:
        app.stop()


def test_the_hard_bound_resumes_a_pause_a_live_session_owns(certs: Certs, tmp_path: Path) -> None:
    max_pause = 2.0
    rt, app = started(tmp_path, certs, unowned=60, max_pause=max_pause)
    try:
        client = run(rt, open_client(rt.relay))
        run(rt, attach_and_stop(client))
        paused_at = time.monotonic()
        cleared = run(rt, client.request("setBreakpoints", {"source": {"path": str(APP)}, "breakpoints": []}))
        assert cleared["success"]
        resumed = app.first_tick_after(paused_at, timeout=max_pause + MARGIN_S)
        assert resumed is not None, "the hard bound did not resume the program"
        assert resumed - paused_at >= max_pause - 0.3
        run(rt, client.event("continued", 5))  # the client is told, through the live session
        assert wait(lambda: notices(rt, "guard"), 5), rt.relay.notices
        message = notices(rt, "guard")[0]
        assert "max_pause (2 s)" in message["reason"] and message["pausedMs"] >= (max_pause - 0.3) * 1000
        threads = run(rt, client.request("threads"))
        assert threads["success"], "the session does not work after the hard bound"
    finally:
        app.stop()


@pytest.fixture(autouse=True)
def _linux_only() -> None:
    if not Path("/proc/net/tcp").exists():
        pytest.fail("these tests use /proc and signals (Linux)")
