"""``python -m dbgrelay`` is shaped like ``python -m debugpy``: the agent's options,
then ``-m MODULE``, ``-c CODE`` or the script, and every later word is the program's."""

from __future__ import annotations

import argparse
import ast
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import List

import pytest
from conftest import Certs
from fakerelay import FakeRelay
from relaythread import RelayThread

from dbgrelay.cliparser import build_parser as _parser
from dbgrelay.options.nametemplate import expand_name_template
from dbgrelay.programargs import Program, split_command_line
from dbgrelay.protocol import ProtocolError, validate_target_name

SECRET = "s3cr3t-" + uuid.uuid4().hex
ECHO = "import sys\nprint('ARGV', repr(sys.argv), flush=True)\n"


@pytest.mark.parametrize(
    "argv, words, program",
    [
        (
            ["--relay", "u", "--name", "n", "-m", "gunicorn", "-w", "2", "-b", "127.0.0.1:0", "app:app"],
            ["--relay", "u", "--name", "n"],
            Program("module", "gunicorn", ("-w", "2", "-b", "127.0.0.1:0", "app:app")),
        ),
        (["--relay=u", "-mgunicorn", "--name", "x"], ["--relay=u"], Program("module", "gunicorn", ("--name", "x"))),
        (["--name", "n", "-c", "print(1)", "--relay", "z"], ["--name", "n"], Program("code", "print(1)", ("--relay", "z"))),
        (["--wait-for-relay", "app.py", "-m", "x"], ["--wait-for-relay"], Program("script", "app.py", ("-m", "x"))),
        (["--wait-for-relay=5", "--no-pause-guard", "app.py"], ["--wait-for-relay=5", "--no-pause-guard"], Program("script", "app.py")),
        (["--name", "n", "--", "-weird.py", "a"], ["--name", "n"], Program("script", "-weird.py", ("a",))),
        (["--name", "n"], ["--name", "n"], None),
    ],
)
def test_the_command_line_splits_where_the_program_starts(argv: List[str], words: List[str], program: object) -> None:
    assert split_command_line(argv, _parser()) == (words, program)


def test_names_may_name_a_group_member() -> None:
    assert validate_target_name("web-1/12345") == "web-1/12345"
    for bad in ("a/b/c", "web-1/", "/x", "web-1/../x", "web-1/.x"):
        with pytest.raises(ProtocolError):
            validate_target_name(bad)


def test_name_templates_fill_in_host_and_pid_and_refuse_unknown_fields() -> None:
    name = expand_name_template("web-{hostname}-{pid}")
    assert name.endswith(f"-{os.getpid()}") and "{" not in name
    assert re.fullmatch(r"[A-Za-z0-9._-]+", name)
    with pytest.raises(Exception, match=r"unknown field \{host\}"):
        expand_name_template("web-{host}")


def run_cli(args: List[str], cwd: Path, secret: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DBGRELAY_")}
    env.update(PYDEVD_DISABLE_FILE_VALIDATION="1")
    if secret:
        env["DBGRELAY_SECRET"] = SECRET
    return subprocess.run([sys.executable, "-Xfrozen_modules=off", "-m", "dbgrelay", *args], capture_output=True, text=True, env=env, timeout=60, cwd=cwd)


def argv_printed(out: subprocess.CompletedProcess) -> List[str]:
    line = next((x for x in out.stdout.splitlines() if x.startswith("ARGV ")), None)
    assert line is not None, out.stdout + out.stderr
    return list(ast.literal_eval(line[5:]))


def test_a_module_gets_every_word_after_it_and_a_templated_name_registers(certs: Certs, tmp_path: Path) -> None:
    rt = RelayThread(FakeRelay(certs.server_context(), SECRET), "tcps")
    (tmp_path / "echo_mod.py").write_text(ECHO + "import time; time.sleep(1.5)\n")
    out = run_cli(["--relay", rt.url, "--name", "mod-{pid}", "--ca", certs.ca, "--wait-for-relay=20", "-m", "echo_mod", "-w", "2", "--name", "x", "--relay"], tmp_path)
    assert out.returncode == 0, out.stderr
    argv = argv_printed(out)
    assert argv[0].endswith("echo_mod.py") and argv[1:] == ["-w", "2", "--name", "x", "--relay"]
    names = [r["target"]["name"] for r in rt.relay.registers]
    assert len(names) == 1 and re.fullmatch(r"mod-\d+", names[0]), names
    assert names[0] != f"mod-{os.getpid()}"


def test_code_runs_as_python_c_does(certs: Certs, tmp_path: Path) -> None:
    out = run_cli(["--relay", "tcps://127.0.0.1:9", "--name", "c-1", "--ca", certs.ca, "-c", ECHO + "print(__name__)", "a", "-b"], tmp_path)
    assert out.returncode == 0, out.stderr
    assert argv_printed(out) == ["-c", "a", "-b"]
    assert "__main__" in out.stdout.splitlines()


def test_version_and_log_to(certs: Certs, tmp_path: Path) -> None:
    out = run_cli(["--version"], tmp_path, secret=False)
    assert out.returncode == 0 and re.match(r"dbgrelay agent \S+ \(debugpy \S+, Python \d+\.\d+\.\d+ ", out.stdout), out.stdout
    logs = tmp_path / "logs"
    (tmp_path / "app.py").write_text(ECHO)
    out = run_cli(["--log-to", str(logs), "--relay", "tcps://127.0.0.1:9", "--name", "l-1", "--ca", certs.ca, "app.py"], tmp_path)
    assert out.returncode == 0, out.stderr
    files = sorted(p.name for p in logs.iterdir())
    assert any(re.fullmatch(r"dbgrelay-agent\.\d+\.log", f) for f in files), files
    assert any(f.startswith("debugpy.") for f in files), files
    agent_log = next(p for p in logs.iterdir() if p.name.startswith("dbgrelay-agent.")).read_text()
    assert "control connection to tcps://127.0.0.1:9 failed" in agent_log
    assert SECRET not in agent_log


def test_no_program_is_a_usage_error() -> None:
    with pytest.raises(SystemExit):
        argparse.ArgumentParser.parse_args(_parser(), ["-m"])
    out = subprocess.run([sys.executable, "-m", "dbgrelay", "--relay", "tcps://h:1", "--name", "n"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 2 and "give a script to run, -m MODULE or -c CODE" in out.stderr
