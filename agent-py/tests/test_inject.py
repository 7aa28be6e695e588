"""Starting the agent in a running process (--pid): the checks before, the hand-over
of the credentials, and gdb never leaving the target stopped. The whole path through a
real relay is test/e2e/injectRunning.test.ts."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest

from dbgrelay.errors import InjectError
from dbgrelay.inject.handover import HANDOVER_FILE, prepare, read_handover
from dbgrelay.inject.process import TargetProcess, inspect_process, opted_out
from dbgrelay.inject.runners import gdb_script, run_with_gdb, run_with_remote_exec

SECRET = "s3cret-handover-0123456789"
LOOP = "import time\nwhile True:\n    time.sleep(0.05)\n"


@pytest.fixture
def python_loop() -> Iterator[subprocess.Popen]:
    proc = subprocess.Popen([sys.executable, "-c", LOOP])
    time.sleep(0.3)
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


def wait_for_file(path: Path, timeout: float = 10.0) -> None:
    """Until ``path`` exists (the bootstrap a target ran writes it), at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def state_of(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def test_opting_out_is_seen_in_the_environment_and_the_command_line() -> None:
    assert opted_out(["PATH=/bin", "PYTHON_DISABLE_REMOTE_DEBUG=1"], ["python", "app.py"])
    assert opted_out([], ["python", "-X", "disable_remote_debug", "app.py"])
    assert opted_out([], ["python", "-Xdisable_remote_debug", "app.py"])
    assert not opted_out(["PYTHON_DISABLE_REMOTE_DEBUG="], ["python", "app.py", "disable_remote_debug"])


def test_what_is_not_a_python_process_to_inject_into_is_refused_clearly(python_loop: subprocess.Popen) -> None:
    with pytest.raises(InjectError, match="no process 999999"):
        inspect_process(999_999)
    with pytest.raises(InjectError, match="not a process to inject into"):
        inspect_process(os.getpid())
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        with pytest.raises(InjectError, match="does not look like a Python interpreter"):
            inspect_process(sleeper.pid)
    finally:
        sleeper.kill()
        sleeper.wait()
    target = inspect_process(python_loop.pid)
    assert target.version == sys.version_info[:2] and target.uid == os.getuid()
    assert target.has_remote_exec == (sys.version_info >= (3, 14))


def test_the_handover_is_private_holds_the_credentials_only_in_its_file_and_is_read_once(tmp_path: Path) -> None:
    handover = prepare(os.getuid(), os.getgid(), {"relay": "tcps://h:1", "name": "x", "secret": SECRET}, ["/opt/agent"])
    try:
        assert stat.S_IMODE(os.stat(handover.directory).st_mode) == 0o700
        assert stat.S_IMODE(os.stat(os.path.join(handover.directory, HANDOVER_FILE)).st_mode) == 0o600
        bootstrap = Path(handover.bootstrap).read_text()
        assert SECRET not in bootstrap and handover.directory in bootstrap and "/opt/agent" in bootstrap
        assert SECRET not in gdb_script(4242, handover.bootstrap, 1.0)
        assert read_handover(handover.directory)["secret"] == SECRET
        assert not os.path.exists(os.path.join(handover.directory, HANDOVER_FILE)), "read once, then gone"
    finally:
        handover.remove()
    assert not os.path.exists(handover.directory)


def test_a_gdb_that_runs_out_of_time_leaves_the_target_running(python_loop: subprocess.Popen, tmp_path: Path) -> None:
    target = inspect_process(python_loop.pid)
    bootstrap = tmp_path / "bootstrap.py"
    bootstrap.write_text("open(%r, 'w').write('ran')\n" % str(tmp_path / "ran"))
    with pytest.raises(InjectError, match="did not finish within"):
        run_with_gdb(target, str(bootstrap), 0.05)  # gdb is killed while it attaches
    time.sleep(0.3)
    assert python_loop.poll() is None and state_of(python_loop.pid) not in ("T", "t"), "the target runs on"


def test_gdb_queues_the_bootstrap_which_the_program_runs_and_detaches(python_loop: subprocess.Popen, tmp_path: Path) -> None:
    target = inspect_process(python_loop.pid)
    marker = tmp_path / "ran"
    bootstrap = tmp_path / "bootstrap.py"
    bootstrap.write_text("import json, threading\nopen(%r, 'w').write(json.dumps(threading.current_thread() is threading.main_thread()))\n" % str(marker))
    run_with_gdb(target, str(bootstrap), 30)
    wait_for_file(marker)
    assert json.loads(marker.read_text()) is True, "run by the main thread, at a safe point"
    assert "TracerPid:\t0" in Path(f"/proc/{python_loop.pid}/status").read_text(), "gdb detached"
    assert python_loop.poll() is None


def test_the_remote_exec_path_on_python_3_14(tmp_path: Path) -> None:
    python314 = shutil.which("python3.14")
    if python314 is None:
        pytest.skip("no Python 3.14 interpreter on this machine: sys.remote_exec (PEP 768) cannot be tried; the gdb path is tested above")
    proc = subprocess.Popen([python314, "-c", LOOP])
    try:
        time.sleep(0.3)
        target = TargetProcess(proc.pid, os.getuid(), os.getgid(), python314, (3, 14))
        marker = tmp_path / "ran"
        bootstrap = tmp_path / "bootstrap.py"
        bootstrap.write_text("open(%r, 'w').write('ran')\n" % str(marker))
        run_with_remote_exec(target, str(bootstrap), 30)
        wait_for_file(marker)
        assert marker.read_text() == "ran"
    finally:
        proc.kill()
        proc.wait()


def test_a_user_who_may_not_trace_the_process_is_told_why(python_loop: subprocess.Popen) -> None:
    if os.geteuid() != 0:
        pytest.fail("this test runs the injector as the user nobody, which needs root to arrange")
    out = subprocess.run(
        [
            "setpriv",
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            sys.executable,
            "-m",
            "dbgrelay",
            "--relay",
            "tcps://127.0.0.1:9",
            "--name",
            "x",
            "--pid",
            str(python_loop.pid),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "DBGRELAY_SECRET": SECRET},
        cwd="/",
    )
    assert out.returncode == 2, out.stderr
    assert f"process {python_loop.pid} belongs to another user: run as that user or as root" in out.stderr
    assert SECRET not in out.stderr and python_loop.poll() is None
