"""How the bootstrap gets run inside the target.

- Python 3.14 and later: ``sys.remote_exec(pid, path)`` (PEP 768), called by the
  target's own interpreter; the target runs the file at its next safe point.
- Before: gdb attaches for a moment and queues the file with ``Py_AddPendingCall``,
  which the interpreter's main thread runs at its next safe point, holding the GIL,
  outside any signal handler. gdb detaches at once (``--batch``); a gdb that does not
  finish is killed, which detaches it too, and a target left stopped is continued.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from typing import List

from ..errors import PTRACE_DENIED, InjectError
from .process import TargetProcess, ptrace_hint, stat_fields

#: The queued code: runs the bootstrap file, and does nothing (quietly) once it is gone.
_PENDING = 'try:\n    exec(open("{path}").read(), {{"__name__": "dbgrelay_inject"}})\nexcept BaseException:\n    pass\n'


def _c_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def gdb_command(pid: int, bootstrap: str) -> List[str]:
    """The gdb command line that queues ``bootstrap`` in ``pid`` and detaches."""
    code = _c_string(_PENDING.format(path=bootstrap))
    return [
        "gdb",
        "-nx",
        "-nh",
        "--batch",
        "-p",
        str(pid),
        "-ex",
        "set confirm off",
        "-ex",
        f'call (int)Py_AddPendingCall((int(*)(void*))PyRun_SimpleString, (void*)strdup("{code}"))',
        "-ex",
        "detach",
    ]


def _continue_if_stopped(pid: int) -> None:
    """A tracer that died may leave its tracee stopped: continue it."""
    try:
        state = stat_fields(pid)[0]
    except (OSError, IndexError):
        return
    if state in ("T", "t"):
        try:
            os.kill(pid, signal.SIGCONT)
        except OSError:
            pass


def run_with_gdb(target: TargetProcess, bootstrap: str, timeout: float) -> None:
    """Queue the bootstrap through gdb; raises :class:`InjectError` when gdb could not."""
    gdb = shutil.which("gdb")
    if gdb is None:
        raise InjectError("gdb is needed to start the agent in a process before Python 3.14: install it (Debian/Ubuntu: apt-get install gdb)")
    try:
        out = subprocess.run(gdb_command(target.pid, bootstrap), capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        _continue_if_stopped(target.pid)
        raise InjectError(f"gdb did not finish within {timeout:g} s; it was stopped, and process {target.pid} runs on unchanged") from None
    finally:
        _continue_if_stopped(target.pid)
    text = out.stdout + out.stderr
    if "Operation not permitted" in text or "ptrace:" in text:
        raise InjectError(f"this user may not trace process {target.pid}: {ptrace_hint()}", code=PTRACE_DENIED)
    if "No symbol" in text:
        raise InjectError(f"gdb cannot find the interpreter's functions in process {target.pid} (a stripped or static build?); it runs on unchanged")
    if "$1 = 0" not in text:
        last = " ".join(text.strip().splitlines()[-3:])[:300]
        raise InjectError(f"gdb could not queue the agent's start in process {target.pid}: {last}")


def run_with_remote_exec(target: TargetProcess, bootstrap: str, timeout: float) -> None:
    """Queue the bootstrap with the target interpreter's ``sys.remote_exec`` (PEP 768)."""
    try:
        out = subprocess.run(
            [f"/proc/{target.pid}/exe", "-S", "-c", "import sys; sys.remote_exec(int(sys.argv[1]), sys.argv[2])", str(target.pid), bootstrap],
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        raise InjectError(f"sys.remote_exec did not finish within {timeout:g} s; process {target.pid} runs on unchanged") from None
    if out.returncode != 0:
        text = out.stderr.strip().splitlines()[-1:] or ["no message"]
        code = PTRACE_DENIED if "ermission" in text[0] or "not permitted" in text[0] else None
        hint = f" ({ptrace_hint()})" if code else ""
        raise InjectError(f"sys.remote_exec into process {target.pid} failed: {text[0][:300]}{hint}", code=code)
