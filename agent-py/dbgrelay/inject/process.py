"""What a process to inject into is, read from ``/proc`` before touching it."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from typing import List, Optional, Tuple

from ..errors import InjectError

#: The environment variable and ``-X`` option by which a program opts out of remote debugging (PEP 768).
OPT_OUT_ENV = "PYTHON_DISABLE_REMOTE_DEBUG"
OPT_OUT_XOPTION = "disable_remote_debug"
#: How long asking the target's interpreter for its version may take.
VERSION_PROBE_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class TargetProcess:
    pid: int
    uid: int
    gid: int
    executable: str
    version: Tuple[int, int]

    @property
    def has_remote_exec(self) -> bool:
        """PEP 768's ``sys.remote_exec`` came with Python 3.14."""
        return self.version >= (3, 14)


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _null_separated(data: bytes) -> List[str]:
    return [item.decode("utf-8", "replace") for item in data.split(b"\0") if item]


def opted_out(environ: List[str], argv: List[str]) -> bool:
    """True when the program set ``PYTHON_DISABLE_REMOTE_DEBUG`` or ran with ``-X disable_remote_debug``."""
    if any(entry.startswith(OPT_OUT_ENV + "=") and entry != OPT_OUT_ENV + "=" for entry in environ):
        return True
    return any(a == f"-X{OPT_OUT_XOPTION}" or (a == OPT_OUT_XOPTION and i > 0 and argv[i - 1] == "-X") for i, a in enumerate(argv))


def stat_fields(pid: int) -> List[str]:
    """The fields of ``/proc/PID/stat`` after the command name (state first, then ppid)."""
    return _read(f"/proc/{pid}/stat").decode("utf-8", "replace").rsplit(")", 1)[1].split()


def has_agent(pid: int) -> bool:
    """True when ``pid`` already runs an agent: one of its children is a bridge."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if int(stat_fields(int(entry))[1]) != pid:
                continue
            if "dbgrelay.bridge" in _null_separated(_read(f"/proc/{entry}/cmdline")):
                return True
        except (OSError, ValueError, IndexError):
            continue
    return False


def _version(executable: str, pid: int) -> Tuple[int, int]:
    try:
        out = subprocess.run(
            [f"/proc/{pid}/exe", "-S", "-E", "-c", "import sys, platform; print(platform.python_implementation(), *sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=VERSION_PROBE_TIMEOUT_S,
            env={"PATH": "/usr/bin:/bin"},
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InjectError(f"process {pid} ({executable}) does not look like a Python interpreter: {exc}") from None
    match = re.fullmatch(r"(\w+) (\d+) (\d+)\s*", out.stdout)
    if out.returncode != 0 or match is None:
        raise InjectError(f"process {pid} ({executable}) does not look like a Python interpreter")
    if match.group(1) != "CPython":
        raise InjectError(f"process {pid} runs {match.group(1)}; only CPython can be injected into")
    return int(match.group(2)), int(match.group(3))


def inspect_process(pid: int) -> TargetProcess:
    """The target, checked: it exists, is CPython 3.9 or newer, did not opt out of
    remote debugging, and runs no agent yet. Raises :class:`InjectError`."""
    if pid <= 0 or pid == os.getpid():
        raise InjectError(f"--pid {pid}: not a process to inject into")
    try:
        status = os.stat(f"/proc/{pid}")
        executable = os.readlink(f"/proc/{pid}/exe")
        environ = _null_separated(_read(f"/proc/{pid}/environ"))
        argv = _null_separated(_read(f"/proc/{pid}/cmdline"))
    except FileNotFoundError:
        raise InjectError(f"no process {pid}") from None
    except PermissionError:
        raise InjectError(f"process {pid} belongs to another user: run as that user or as root", code="PTRACE_DENIED") from None
    version = _version(executable, pid)
    if version < (3, 9):
        raise InjectError(f"process {pid} runs Python {version[0]}.{version[1]}; the agent needs 3.9 or newer")
    if opted_out(environ, argv):
        raise InjectError(f"process {pid} opted out of remote debugging ({OPT_OUT_ENV} or -X {OPT_OUT_XOPTION}); the agent leaves it alone")
    if has_agent(pid):
        raise InjectError(f"process {pid} already runs a dbgrelay agent; attach to its target instead")
    return TargetProcess(pid, status.st_uid, status.st_gid, executable, version)


def ptrace_hint() -> Optional[str]:
    """Why this user may be unable to trace another process, and the fix, if known."""
    try:
        scope = _read("/proc/sys/kernel/yama/ptrace_scope").decode().strip()
    except OSError:
        scope = None
    if scope in ("1", "2", "3") and os.geteuid() != 0:
        return f"Yama ptrace_scope is {scope}: run as root, or give the injecting user CAP_SYS_PTRACE (ptrace_scope 3 forbids it to everyone)"
    if scope == "3":
        return "Yama ptrace_scope is 3: no process may be traced until the next boot"
    return "in a container, the injecting process needs CAP_SYS_PTRACE (e.g. docker run --cap-add SYS_PTRACE) and a seccomp profile that allows ptrace"
