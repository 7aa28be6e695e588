"""The real thing from the outside: `python -m dbgrelay` / enable_attach in a child
process, its bridge process, a fake relay over tcps and wss."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Optional

import pytest
from conftest import Certs
from fakerelay import FakeRelay
from relaythread import RelayThread, children_of

SECRET = "s3cr3t-" + uuid.uuid4().hex

APP = """
import sys, time
import dbgrelay
print("app running", sys.argv[1:], flush=True)
dbgrelay.enable_attach(relay="unused://x", name="ignored")   # second call: a no-op
print("second call ok", flush=True)
print("endpoint %s:%d" % dbgrelay.adapter_endpoint(), flush=True)
time.sleep(float(sys.argv[1]))
"""


def bridge_pid(app_pid: int) -> Optional[int]:
    for pid in children_of(app_pid):
        try:
            if b"dbgrelay.bridge" in Path(f"/proc/{pid}/cmdline").read_bytes():
                return pid
        except OSError:
            pass
    return None


@pytest.mark.parametrize("scheme", ["tcps", "wss"])
def test_cli_registers_hides_the_secret_and_cleans_up(scheme: str, certs: Certs, tmp_path: Path) -> None:
    if not Path("/proc/self/cmdline").exists():
        pytest.fail("this test inspects /proc to check argv and environment of the bridge; /proc is missing")
    rt = RelayThread(FakeRelay(certs.server_context(), SECRET), scheme)
    script = tmp_path / "app.py"
    script.write_text(APP)
    log_file = tmp_path / "agent.log"
    env = dict(os.environ, DBGRELAY_SECRET=SECRET, DBGRELAY_AGENT_LOG=str(log_file), DBGRELAY_AGENT_LOG_LEVEL="DEBUG", PYDEVD_DISABLE_FILE_VALIDATION="1")
    app = subprocess.Popen(
        [sys.executable, "-Xfrozen_modules=off", "-m", "dbgrelay", "--relay", rt.url, "--name", "web-7", "--ca", certs.ca, "--label", "env=test", str(script), "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert rt.wait(lambda: rt.relay.registers), "the target never registered"
        reg = rt.relay.registers[0]
        assert reg["target"] == {"name": "web-7", "labels": {"env": "test"}}
        assert reg["process"]["pid"] == app.pid
        bridge = bridge_pid(app.pid)
        assert bridge is not None, "no bridge child process found"
        cmdline = Path(f"/proc/{bridge}/cmdline").read_bytes()
        environ = Path(f"/proc/{bridge}/environ").read_bytes()
        assert SECRET.encode() not in cmdline and SECRET.encode() not in environ
        assert rt.wait(lambda: not Path(f"/proc/{bridge}").exists() or Path(f"/proc/{bridge}/stat").read_text().split()[2] == "Z", timeout=20), (
            "bridge still running after the app exited"
        )
        assert rt.wait(lambda: rt.relay.control_closed.is_set(), timeout=5), "target not dropped"
        out, err = app.communicate(timeout=10)
    finally:
        app.kill()
    assert app.returncode == 0, err
    assert "app running ['3']" in out and "second call ok" in out
    log_text = log_file.read_text()
    endpoint = next(line.split()[1] for line in out.splitlines() if line.startswith("endpoint "))
    assert endpoint.startswith("127.0.0.1:") and int(endpoint.split(":")[1]) > 0
    line = f"debugpy adapter listening on {endpoint} (loopback only)"
    assert log_text.count(line) == 1 and line in err
    assert "registered target 'web-7'" in log_text
    assert SECRET not in log_text and SECRET not in err and SECRET not in out


def test_a_short_relay_secret_from_secret_file_registers_without_an_attach_secret(certs: Certs, tmp_path: Path) -> None:
    short = "r" + uuid.uuid4().hex[:7]  # an operator-chosen relay secret shorter than 16 characters
    rt = RelayThread(FakeRelay(certs.server_context(), short), "tcps")
    script = tmp_path / "app.py"
    script.write_text(APP)
    secret_file = tmp_path / "relay-secret"
    secret_file.write_text(short + "\n")
    log_file = tmp_path / "agent.log"
    env = dict(os.environ, DBGRELAY_AGENT_LOG=str(log_file), DBGRELAY_AGENT_LOG_LEVEL="INFO", PYDEVD_DISABLE_FILE_VALIDATION="1")
    for name in ("DBGRELAY_SECRET", "DBGRELAY_SECRET_FILE", "DBGRELAY_TOKEN", "DBGRELAY_AGENT_SECRET"):
        env.pop(name, None)
    out = subprocess.run(
        [sys.executable, "-Xfrozen_modules=off", "-m", "dbgrelay", "--relay", rt.url, "--name", "web-short", "--ca", certs.ca, "--secret-file", str(secret_file), str(script), "0"],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
    )
    assert out.returncode == 0, out.stderr
    assert rt.relay.hellos[0] == {"dbgrelay": 1, "op": "agent", "secret": short}
    assert len(rt.relay.registers) == 1 and "attachSecret" not in rt.relay.registers[0]
    log_text = log_file.read_text()
    assert log_text.count("registering 'web-short' without an attach secret") == 1, log_text
    assert short not in log_text and short not in out.stderr and short not in out.stdout


def test_a_short_attach_secret_next_to_a_token_is_refused_at_start(certs: Certs, tmp_path: Path) -> None:
    rt = RelayThread(FakeRelay(certs.server_context(), SECRET, token="a.b.c"), "tcps")
    script = tmp_path / "app.py"
    script.write_text(APP)
    env = dict(os.environ, DBGRELAY_TOKEN="a.b.c", DBGRELAY_SECRET="letmein", PYDEVD_DISABLE_FILE_VALIDATION="1")
    out = subprocess.run(
        [sys.executable, "-Xfrozen_modules=off", "-m", "dbgrelay", "--relay", rt.url, "--name", "web-weak", "--ca", certs.ca, str(script), "0"],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
    )
    assert out.returncode != 0
    assert "the attach secret from DBGRELAY_SECRET is 7 characters; at least 16" in out.stderr
    assert "letmein" not in out.stderr and "app running" not in out.stdout
    assert not rt.relay.hellos and not rt.relay.registers


def test_bridge_exits_when_its_parent_is_killed(certs: Certs, tmp_path: Path) -> None:
    rt = RelayThread(FakeRelay(certs.server_context(), SECRET), "tcps")
    script = tmp_path / "app.py"
    script.write_text(APP)
    env = dict(os.environ, DBGRELAY_SECRET=SECRET, PYDEVD_DISABLE_FILE_VALIDATION="1")
    app = subprocess.Popen(
        [sys.executable, "-Xfrozen_modules=off", "-m", "dbgrelay", "--relay", rt.url, "--name", "web-8", "--ca", certs.ca, str(script), "60"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        assert rt.wait(lambda: rt.relay.registers)
        bridge = bridge_pid(app.pid)
        assert bridge is not None
        app.kill()  # SIGKILL: no atexit; stdin EOF / parent death must still stop the bridge
        app.wait()
        assert rt.wait(lambda: not Path(f"/proc/{bridge}").exists(), timeout=5), "bridge outlived its parent"
        assert rt.wait(lambda: rt.relay.control_closed.is_set(), timeout=5)
    finally:
        app.kill()


def test_adapter_endpoint_is_none_before_enable_attach() -> None:
    out = subprocess.run([sys.executable, "-c", "import dbgrelay; print(dbgrelay.adapter_endpoint())"], capture_output=True, text=True, timeout=30)
    assert out.stdout.strip() == "None", out.stderr


def _run_app(certs: Certs, tmp_path: Path, secret: str, cafile: str, *extra: str) -> "tuple[subprocess.CompletedProcess[str], float, RelayThread]":
    """APP for 2 s under ``python -m dbgrelay`` as web-9 with ``secret`` and ``cafile``,
    against a relay whose secret is SECRET: the output, how long it took, the relay."""
    rt = RelayThread(FakeRelay(certs.server_context(), SECRET), "tcps")
    script = tmp_path / "app.py"
    script.write_text(APP)
    env = dict(os.environ, DBGRELAY_SECRET=secret, PYDEVD_DISABLE_FILE_VALIDATION="1")
    started = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-Xfrozen_modules=off", "-m", "dbgrelay", "--relay", rt.url, "--name", "web-9", "--ca", cafile, *extra, str(script), "2"],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
    )
    return out, time.monotonic() - started, rt


def _run_refused(certs: Certs, tmp_path: Path, *extra: str) -> "tuple[subprocess.CompletedProcess[str], float, RelayThread]":
    return _run_app(certs, tmp_path, "not-the-secret-0123456789", certs.ca, *extra)


def test_a_refused_credential_does_not_stop_the_program_and_is_logged_as_an_error(certs: Certs, tmp_path: Path) -> None:
    out, _, rt = _run_refused(certs, tmp_path)
    assert out.returncode == 0, out.stderr
    assert "app running" in out.stdout and "second call ok" in out.stdout
    errors = [line for line in out.stderr.splitlines() if " ERROR " in line]
    # once per change, not once per retry (the app ran 2 s: several attempts)
    assert len(errors) == 1, out.stderr
    assert "AUTH_FAILED" in errors[0] and "check the agent's credential" in errors[0] and "retrying in the background" in errors[0]
    assert len(rt.relay.hellos) >= 2, "the bridge kept retrying"
    assert "not-the-secret" not in out.stderr
    assert "the debugger in this process is broken" not in out.stderr, "a normal exit is no broken debugger"
    assert not rt.relay.registers


def test_wait_for_relay_fails_fast_with_a_clear_message_on_a_refusal(certs: Certs, tmp_path: Path) -> None:
    out, took, rt = _run_refused(certs, tmp_path, "--wait-for-relay=20")
    assert out.returncode == 2
    assert "AUTH_FAILED" in out.stderr and "app running" not in out.stdout
    # logged at INFO even though the agent's default level is WARNING (tools parse it)
    assert "INFO agent: debugpy adapter listening on 127.0.0.1:" in out.stderr
    assert "not-the-secret" not in out.stderr
    assert took < 8
    assert not rt.relay.registers


def test_an_untrusted_relay_certificate_does_not_stop_the_program_and_is_logged_as_an_error(certs: Certs, tmp_path: Path) -> None:
    out, _, rt = _run_app(certs, tmp_path, SECRET, certs.other_ca)
    assert out.returncode == 0 and "app running" in out.stdout, out.stderr
    errors = [line for line in out.stderr.splitlines() if " ERROR " in line]
    assert len(errors) == 1, out.stderr  # once per change
    assert "cannot verify the relay's certificate" in errors[0] and "does not chain to the CA file" in errors[0], errors[0]
    assert "--fingerprint sha256:" in errors[0] and "pass it with --ca" in errors[0], errors[0]
    assert not rt.relay.registers
