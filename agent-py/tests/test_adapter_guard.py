"""debugpy's adapter started through dbgrelay's guard keeps accepting after a client
left in the middle of the adapter's greeting, the upstream failure that otherwise
ends its accept thread for good (agent-py/README.md, "What wedges debugpy")."""

from __future__ import annotations

import os
import socket
import stat
import uuid
from pathlib import Path
from typing import Callable, Dict, List

import debugpy
import pytest
from conftest import Debuggee
from dapclient import DapClient, full_attach

from dbgrelay import adapterlauncher
from dbgrelay.adapterlauncher import guarded_adapter_python, launcher_script


def bare_connect_close(port: int) -> None:
    socket.create_connection(("127.0.0.1", port), timeout=5).close()


def normal_attach_works(port: int, timeout: float = 4.0) -> bool:
    """initialize → attach → threads → disconnect; False if the adapter does not answer."""
    c = DapClient.connect(port)
    try:
        full_attach(c, timeout)
        assert c.request("threads", None, timeout)["success"]
        assert c.request("disconnect", {"terminateDebuggee": False}, timeout)["success"]
        return True
    except (TimeoutError, EOFError):
        return False
    finally:
        c.close()


def command_lines_marked(marker: str) -> List[List[bytes]]:
    """Command lines of the processes whose environment holds ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if marker.encode() in (entry / "environ").read_bytes().split(b"\0"):
                found.append((entry / "cmdline").read_bytes().split(b"\0"))
        except OSError:
            pass
    return found


# A drop that ends the client connection while the adapter's Client constructor still
# writes to it (its greeting, then debugpySockets); the same failure happens when the
# constructor's debugpySockets event goes to an older session whose client stream is
# already closed. (A client that sends a request and leaves before the response is
# another failure: the adapter then exits, ``os._exit`` in
# debugpy/common/messaging.py; the bridge never does that, it waits for every answer
# before it closes, adaptersession.py.)
DROPS: Dict[str, Callable[[int], None]] = {"bare connect + close": bare_connect_close}
#: Drops the control may take to wedge stock debugpy (one is almost always enough).
STOCK_DROP_ATTEMPTS = 5


@pytest.mark.parametrize("drop", list(DROPS))
def test_stock_adapter_stops_serving_after_the_drop(drop: str) -> None:
    """The control: without the guard, the same drop wedges debugpy 1.8.22's adapter,
    so the guarded test below exercises the failure it claims to survive. The drop is a
    race with the adapter's greeting: one drop almost always wins it, so the control
    allows a few (an adapter that survived one drop served a whole session in between)."""
    d = Debuggee()
    try:
        for _ in range(STOCK_DROP_ATTEMPTS):
            DROPS[drop](d.port)
            if not normal_attach_works(d.port, timeout=3.0):
                break
        else:
            pytest.fail(f"stock debugpy kept serving after {STOCK_DROP_ATTEMPTS} drops")
    finally:
        d.stop()


@pytest.mark.parametrize("drop", list(DROPS))
def test_guarded_adapter_keeps_serving_after_repeated_drops(drop: str, tmp_path: Path) -> None:
    d = Debuggee(guard=True, env={"DEBUGPY_LOG_DIR": str(tmp_path)})
    try:
        for _ in range(3):
            DROPS[drop](d.port)
            assert normal_attach_works(d.port)
    finally:
        d.stop()
    adapter_logs = "".join(p.read_text(errors="replace") for p in tmp_path.glob("debugpy.adapter-*.log"))
    # the drops did hit the failure, and the guard caught it
    assert "handling an incoming Client connection failed; still accepting" in adapter_logs


def test_the_adapter_runs_from_the_guard_and_the_launcher_is_gone(tmp_path: Path) -> None:
    marker = f"DBGRELAY_TEST_RUN={uuid.uuid4()}"
    d = Debuggee(guard=True, env={"TMPDIR": str(tmp_path), marker.split("=")[0]: marker.split("=")[1]})
    try:
        assert normal_attach_works(d.port)
        adapter = [args for args in command_lines_marked(marker) if b"--for-server" in args]
        assert len(adapter) == 1, adapter
        assert adapter[0][1].endswith(b"adapterguard.py"), adapter
        # the launcher script was needed only while debugpy.listen spawned the adapter
        assert list(tmp_path.glob("dbgrelay-adapter-*")) == []
    finally:
        d.stop()


def test_launcher_script_quotes_paths() -> None:
    script = launcher_script("/opt/my python/bin/python3", "/x/it's/adapterguard.py")
    assert script.startswith("#!/bin/sh\n")
    assert "exec '/opt/my python/bin/python3' '/x/it'\"'\"'s/adapterguard.py' \"$@\"" in script


def test_launcher_is_private_and_configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(adapterlauncher.tempfile, "tempdir", str(tmp_path))
    configured: Dict[str, object] = {}

    class FakeDebugpy:
        @staticmethod
        def configure(**kwargs: object) -> None:
            configured.update(kwargs)

    launcher = guarded_adapter_python(FakeDebugpy)
    assert launcher is not None
    assert configured == {"python": launcher.path}
    assert stat.S_IMODE(os.stat(launcher.path).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(launcher.directory).st_mode) == 0o700
    launcher.remove()
    assert not os.path.exists(launcher.directory)


def test_noexec_temp_dir_leaves_the_adapter_unguarded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(adapterlauncher.tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(adapterlauncher, "_noexec", lambda directory: True)

    class FakeDebugpy:
        @staticmethod
        def configure(**kwargs: object) -> None:
            raise AssertionError("must not configure an unusable launcher")

    assert guarded_adapter_python(FakeDebugpy) is None
    assert "unguarded" in caplog.text and "noexec" in caplog.text
    assert list(tmp_path.iterdir()) == []


def test_debugpy_is_the_measured_version() -> None:
    assert debugpy.__version__ == "1.8.22", debugpy.__version__


def test_every_accepted_connection_gets_tcp_nodelay(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two messages in a row on an adapter connection without TCP_NODELAY wait ~40 ms
    for the peer's delayed ACK (requests a client sends together, on their way to
    pydevd): the guard sets the option on every connection the adapter accepts."""
    from debugpy.common import sockets

    from dbgrelay import adapterguard

    seen: List[int] = []

    def fake_serve(name: str, handler: Callable[[socket.socket], None], *args: object, **kwargs: object) -> None:
        server = socket.create_server(("127.0.0.1", 0))
        client = socket.create_connection(server.getsockname())
        accepted, _ = server.accept()
        try:
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
            handler(accepted)
        finally:
            for s in (accepted, client, server):
                s.close()

    monkeypatch.setattr(sockets, "serve", fake_serve)
    adapterguard.guard_accept_handlers()
    sockets.serve("client", lambda sock: seen.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)))
    assert seen and seen[0] != 0
