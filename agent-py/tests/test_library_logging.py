"""The agent logs like a library: under ``dbgrelay``, through the program's logging,
with its own stderr output only in the ``python -m dbgrelay`` form and only while the
program has configured no logging."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import List, Optional

from conftest import Certs

#: A relay address where nothing listens (port 9: discard, closed on this machine).
NOWHERE = "tcps://127.0.0.1:9"

API_APP = """
import logging, sys, time
if sys.argv[1] == "configured":
    logging.basicConfig(level=logging.INFO, format="APPLOG %(name)s %(levelname)s %(message)s", stream=sys.stderr)
import dbgrelay
dbgrelay.enable_attach(relay=sys.argv[2], name="lib-1", cafile=sys.argv[3], secret="s" * 20)
print("app running", flush=True)
time.sleep(1.5)
"""

CLI_APP = """
import logging, sys
logging.basicConfig(level=logging.INFO, format="APPLOG %(name)s %(message)s", stream=sys.stderr)
logging.getLogger("dbgrelay.probe").warning("probe record")
print("app running", flush=True)
"""


def run(args: List[str], tmp_path: Path, secret: Optional[str] = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DBGRELAY_")}
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    if secret is not None:
        env["DBGRELAY_SECRET"] = secret
    return subprocess.run([sys.executable, "-Xfrozen_modules=off", *args], capture_output=True, text=True, env=env, timeout=60, cwd=tmp_path)


def test_a_program_that_configures_logging_gets_the_agent_records_in_its_own_format(certs: Certs, tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(API_APP)
    out = run(["app.py", "configured", NOWHERE, certs.ca], tmp_path)
    assert out.returncode == 0 and "app running" in out.stdout, out.stderr
    # the bridge's failure, forwarded to the program and logged by its handler
    assert "APPLOG dbgrelay.control WARNING control connection to tcps://127.0.0.1:9 failed" in out.stderr, out.stderr
    assert "dbgrelay-bridge[" not in out.stderr and "dbgrelay-agent[" not in out.stderr, "no output of the agent's own"
    assert out.stderr.count("control connection to tcps://127.0.0.1:9 failed") == 1, "once per change"


def test_a_program_without_logging_gets_no_output_from_the_agent(certs: Certs, tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(API_APP)
    out = run(["app.py", "bare", NOWHERE, certs.ca], tmp_path)
    assert out.returncode == 0 and "app running" in out.stdout, out.stderr
    assert "dbgrelay" not in out.stderr and "control connection" not in out.stderr, out.stderr


def test_the_command_line_form_writes_to_stderr_only_until_the_program_configures_logging(certs: Certs, tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(CLI_APP)
    out = run(["-m", "dbgrelay", "--relay", NOWHERE, "--name", "cli-1", "--ca", certs.ca, "app.py"], tmp_path, secret="s" * 20)
    assert out.returncode == 0 and "app running" in out.stdout, out.stderr
    # before the program configured logging: the agent's own stderr handler
    assert "dbgrelay-agent[" in out.stderr and "debugpy adapter listening on 127.0.0.1:" in out.stderr
    # after: the program's handler, and only it
    assert "APPLOG dbgrelay.probe probe record" in out.stderr
    assert out.stderr.count("probe record") == 1, out.stderr
