"""Credentials given to the agent in the environment never reach debugpy's adapter:
the agent removes them from ``os.environ`` before ``debugpy.listen`` spawns it, so
the adapter's ``/proc/<pid>/environ`` (and what the adapter or the program starts
later) holds neither the variables nor their values (the variables were left in
place until after ``debugpy.listen`` before). Checked for the library call
and for ``python -m dbgrelay``, in the direct endpoint form (plaintext, loopback),
which starts the adapter the same way as the relay form."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Dict, List

import pytest

from dbgrelay.credentials import CREDENTIAL_ENV_VARS, remove_credential_env

SECRET = "attach-" + uuid.uuid4().hex
TOKEN = "eyJhbGciOiJFUzI1NiJ9.tok-" + uuid.uuid4().hex + ".sig"
AGENT_SECRET = "agent-" + uuid.uuid4().hex

LIBRARY_APP = """
import os, sys, time
import dbgrelay
address = dbgrelay.enable_attach(None, ("127.0.0.1", 0))
print("ENDPOINT %s %d" % address, flush=True)
print("ENV", sorted(k for k in os.environ if k.startswith("DBGRELAY_") and "LOG" not in k), flush=True)
time.sleep(30)
"""

CLI_APP = """
import os, time
print("ENDPOINT", flush=True)
print("ENV", sorted(k for k in os.environ if k.startswith("DBGRELAY_") and "LOG" not in k), flush=True)
time.sleep(30)
"""


def test_remove_credential_env_removes_every_credential_variable_and_nothing_else() -> None:
    env = {name: "x" for name in CREDENTIAL_ENV_VARS}
    env.update(DBGRELAY_AGENT_LOG="/tmp/log", PATH="/bin")
    assert remove_credential_env(env) == list(CREDENTIAL_ENV_VARS)
    assert env == {"DBGRELAY_AGENT_LOG": "/tmp/log", "PATH": "/bin"}
    assert remove_credential_env(env) == []


def _adapters(mark: str) -> List[int]:
    """debugpy's adapter processes started by this test's program: the adapter
    daemonizes (it is no child of the program), so it is found by its command line
    and by ``mark``, a variable only this program's environment had."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if b"debugpy/adapter" in cmdline and f"ADAPTER_ENV_MARK={mark}".encode() in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


@pytest.mark.parametrize("form", ["library", "cli"])
def test_adapter_environment_has_no_credential(form: str, tmp_path: Path) -> None:
    script = tmp_path / "app.py"
    script.write_text(LIBRARY_APP if form == "library" else CLI_APP)
    env: Dict[str, str] = {k: v for k, v in os.environ.items() if not k.startswith("DBGRELAY_")}
    mark = uuid.uuid4().hex
    env.update(PYDEVD_DISABLE_FILE_VALIDATION="1", ADAPTER_ENV_MARK=mark, DBGRELAY_SECRET=SECRET, DBGRELAY_TOKEN=TOKEN, DBGRELAY_AGENT_SECRET=AGENT_SECRET)
    argv = [sys.executable, "-Xfrozen_modules=off"]
    argv += [str(script)] if form == "library" else ["-m", "dbgrelay", "--host", "127.0.0.1", "--port", "0", str(script)]
    app = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert app.stdout is not None
        line = app.stdout.readline()
        assert line.startswith("ENDPOINT"), line + (app.stderr.read() if app.poll() is not None and app.stderr else "")
        assert app.stdout.readline().strip() == "ENV []"  # the program and its children: none either
        adapters = _adapters(mark)
        assert len(adapters) == 1, f"found {len(adapters)} adapters"
        environ = Path(f"/proc/{adapters[0]}/environ").read_bytes()
        for name in CREDENTIAL_ENV_VARS:
            assert (name + "=").encode() not in environ
        for value in (SECRET, TOKEN, AGENT_SECRET):
            assert value.encode() not in environ
    finally:
        app.kill()
        app.communicate(timeout=10)
