"""Start debugpy's adapter through :mod:`dbgrelay.adapterguard`.

``debugpy.listen`` spawns the adapter as ``[python, <debugpy>/adapter, ARGS...]``,
where ``python`` is ``debugpy.configure(python=...)`` (default ``sys.executable``).
:func:`guarded_adapter_python` writes a two-line launcher script into a private
temporary directory that runs this interpreter on ``adapterguard.py`` with those
arguments, and configures debugpy to use it. The script is needed only while
``debugpy.listen`` spawns the adapter (the shell ``exec``s Python at once); remove
it afterwards with :meth:`AdapterLauncher.remove`.

Best effort, like the TCP_NODELAY fix: where a launcher cannot be used (not POSIX, a
temporary directory mounted ``noexec``, nothing writable), the adapter starts as
stock debugpy would, and a warning says it is unguarded.
"""

from __future__ import annotations

import logging
import os
import shlex
import shutil
import sys
import tempfile
from dataclasses import dataclass
from typing import Optional

from . import adapterguard

log = logging.getLogger("dbgrelay.agent")


@dataclass
class AdapterLauncher:
    """The launcher script debugpy was configured with."""

    directory: str
    path: str

    def remove(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


def launcher_script(python: str, guard_file: str) -> str:
    """The ``/bin/sh`` script that runs ``python guard_file ARGS...``."""
    return f'#!/bin/sh\nexec {shlex.quote(python)} {shlex.quote(guard_file)} "$@"\n'


def _noexec(directory: str) -> bool:
    try:
        return bool(os.statvfs(directory).f_flag & getattr(os, "ST_NOEXEC", 0))
    except OSError:
        return True


def guarded_adapter_python(debugpy_module: object) -> Optional[AdapterLauncher]:
    """Configure ``debugpy`` to start its adapter through the guard; returns the
    launcher to remove once ``debugpy.listen`` returned, or None (unguarded)."""
    if os.name != "posix":
        log.warning("debugpy's adapter runs unguarded: the launcher needs a POSIX shell")
        return None
    try:
        directory = tempfile.mkdtemp(prefix="dbgrelay-adapter-")
    except OSError as exc:
        log.warning("debugpy's adapter runs unguarded: no temporary directory (%s)", exc)
        return None
    launcher = AdapterLauncher(directory, os.path.join(directory, "python"))
    if _noexec(directory):
        launcher.remove()
        log.warning("debugpy's adapter runs unguarded: %s is mounted noexec", os.path.dirname(directory))
        return None
    try:
        with open(launcher.path, "w", encoding="utf-8") as script:
            script.write(launcher_script(sys.executable, os.path.abspath(adapterguard.__file__)))
        os.chmod(launcher.path, 0o700)
        debugpy_module.configure(python=launcher.path)  # type: ignore[attr-defined]
    except Exception as exc:  # noqa: BLE001 - best effort, stock debugpy still works
        launcher.remove()
        log.warning("debugpy's adapter runs unguarded: %s", exc)
        return None
    return launcher
