"""`python -m dbgrelay` with the new credential forms, against a fake relay over tcps
and wss: a SECRET@ relay URL or a bearer token authenticates the agent, --secret-file
is the target's attach secret (sent in `register`), and no credential reaches the
bridge's argv or environment, the logs or the program's output."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Dict, List

import pytest
from conftest import Certs
from fakerelay import FakeRelay
from relaythread import RelayThread, children_of

AGENT_SECRET = "agent-" + uuid.uuid4().hex
TOKEN = "eyJhbGciOiJFUzI1NiJ9.tok-" + uuid.uuid4().hex + ".sig"
ATTACH_SECRET = "attach-" + uuid.uuid4().hex

APP = """
import os, sys, time
print("app running", flush=True)
print("env-leak", [k for k in os.environ if k.startswith("DBGRELAY_") and not k.startswith("DBGRELAY_AGENT_LOG")], flush=True)
time.sleep(float(sys.argv[1]))
"""


def run_agent(certs: Certs, tmp_path: Path, url: str, name: str, extra_args: List[str], extra_env: Dict[str, str]) -> "tuple[subprocess.Popen, Path]":
    script = tmp_path / "app.py"
    script.write_text(APP)
    log_file = tmp_path / "agent.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DBGRELAY_")}
    env.update(DBGRELAY_AGENT_LOG=str(log_file), DBGRELAY_AGENT_LOG_LEVEL="DEBUG", PYDEVD_DISABLE_FILE_VALIDATION="1", **extra_env)
    app = subprocess.Popen(
        [sys.executable, "-Xfrozen_modules=off", "-m", "dbgrelay", "--relay", url, "--name", name, "--ca", certs.ca, *extra_args, str(script), "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    return app, log_file


def check_no_leak(app: subprocess.Popen, rt: RelayThread, log_file: Path) -> "tuple[str, str]":
    bridges = [p for p in children_of(app.pid) if b"dbgrelay.bridge" in Path(f"/proc/{p}/cmdline").read_bytes()]
    assert bridges, "no bridge process"
    for pid in [app.pid, *bridges]:
        exposed = Path(f"/proc/{pid}/cmdline").read_bytes() if pid != app.pid else b""
        exposed += Path(f"/proc/{pid}/environ").read_bytes() if pid != app.pid else b""
        for value in (AGENT_SECRET, TOKEN, ATTACH_SECRET):
            assert value.encode() not in exposed
    out, err = app.communicate(timeout=20)
    text = log_file.read_text() + out + err
    for value in (AGENT_SECRET, TOKEN, ATTACH_SECRET):
        assert value not in text
    assert "env-leak []" in out, out
    return out, err


@pytest.mark.parametrize("scheme", ["tcps", "wss"])
def test_url_secret_authenticates_and_secret_file_is_the_attach_secret(scheme: str, certs: Certs, tmp_path: Path) -> None:
    rt = RelayThread(FakeRelay(certs.server_context(), AGENT_SECRET, token=TOKEN), scheme)
    attach_file = tmp_path / "attach"
    attach_file.write_text(ATTACH_SECRET + "\n")
    url = f"{scheme}://{AGENT_SECRET}@127.0.0.1:{rt.port}"
    app, log_file = run_agent(certs, tmp_path, url, "web-url", ["--secret-file", str(attach_file)], {})
    try:
        assert rt.wait(lambda: rt.relay.registers), "the target never registered"
        assert rt.relay.registers[0]["attachSecret"] == ATTACH_SECRET
        if scheme == "tcps":
            assert rt.relay.hellos[0] == {"dbgrelay": 1, "op": "agent", "secret": AGENT_SECRET}
        else:
            assert rt.relay.auth_headers[0] is not None and rt.relay.auth_headers[0].startswith("Basic ")
        out, err = check_no_leak(app, rt, log_file)
    finally:
        app.kill()
    assert app.returncode == 0, err
    assert "visible to other local users" in err  # the secret was in argv
    assert f"{scheme}://127.0.0.1:{rt.port}" in log_file.read_text()


@pytest.mark.parametrize("scheme", ["tcps", "wss"])
def test_token_from_the_environment_authenticates_with_the_attach_secret_from_env(scheme: str, certs: Certs, tmp_path: Path) -> None:
    rt = RelayThread(FakeRelay(certs.server_context(), AGENT_SECRET, token=TOKEN), scheme)
    url = f"{scheme}://127.0.0.1:{rt.port}"
    app, log_file = run_agent(certs, tmp_path, url, "web-tok", [], {"DBGRELAY_TOKEN": TOKEN, "DBGRELAY_SECRET": ATTACH_SECRET})
    try:
        assert rt.wait(lambda: rt.relay.registers), "the target never registered"
        assert rt.relay.registers[0]["attachSecret"] == ATTACH_SECRET
        if scheme == "tcps":
            assert rt.relay.hellos[0] == {"dbgrelay": 1, "op": "agent", "token": TOKEN}
        else:
            assert rt.relay.auth_headers[0] == "Bearer " + TOKEN
        out, err = check_no_leak(app, rt, log_file)
    finally:
        app.kill()
    assert app.returncode == 0, err
    assert "visible to other local users" not in err


def test_token_file_and_a_url_secret_together_are_refused(certs: Certs, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN)
    out = subprocess.run(
        [sys.executable, "-m", "dbgrelay", "--relay", f"tcps://{AGENT_SECRET}@127.0.0.1:9", "--name", "w", "--token-file", str(token_file), "app.py"],
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 2
    assert "one relay credential" in out.stderr
    assert AGENT_SECRET not in out.stderr and TOKEN not in out.stderr


def test_wrong_url_secret_is_refused_fast(certs: Certs, tmp_path: Path) -> None:
    rt = RelayThread(FakeRelay(certs.server_context(), AGENT_SECRET, token=TOKEN), "tcps")
    wrong = "wrong-" + uuid.uuid4().hex
    app, log_file = run_agent(certs, tmp_path, f"tcps://{wrong}@127.0.0.1:{rt.port}", "web-w", ["--wait-for-relay=20"], {})
    try:
        out, err = app.communicate(timeout=30)
    finally:
        app.kill()
    assert app.returncode == 2
    assert "AUTH_FAILED" in err
    assert wrong not in err and wrong not in out and wrong not in log_file.read_text()
    assert not rt.relay.registers
