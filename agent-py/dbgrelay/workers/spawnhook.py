"""Spawned workers (``uvicorn --workers``, multiprocessing's ``spawn`` start method)
become members of the program's group too.

A spawned worker is a new interpreter: it inherits no agent. multiprocessing starts it
with ``python -c "...spawn_main(...)" --multiprocessing-fork`` and sends it its
preparation data and process object over a pipe. While no client session runs with the
parent, the agent wraps that launch: pydevd does not rewrite the child's command line
(so the child does not connect to the parent's adapter and wait for a client), the
command line first imports :mod:`dbgrelay.workers.spawned`, and the preparation data
carries the parent's options, credentials included, over that pipe: in memory, never
through the environment, the command line or a file. The child starts its own agent
before it imports the program, registered as ``GROUP/PID``. With a client attached,
pydevd's own subprocess flow runs as before.
"""

from __future__ import annotations

import logging
import pickle
import sys
import threading
from typing import Any, Callable, Dict, List, Optional

from .serverkind import ServerKind

log = logging.getLogger("dbgrelay.workers")

_MARK = "_dbgrelay_member_spawn"
#: The preparation data's key for the member's start (read by :mod:`.spawned`).
PREPARATION_KEY = "dbgrelay_member"
#: What the child's ``-c`` code runs before multiprocessing's own: a child that cannot
#: import the agent (another interpreter) still starts, without one.
CHILD_PREFIX = "try:\n    import dbgrelay.workers.spawned\nexcept Exception:\n    pass\n"

_launching = threading.local()


def _server_from_stack() -> ServerKind:
    frame = sys._getframe(2)
    while frame is not None:
        if "/uvicorn/" in frame.f_code.co_filename.replace("\\", "/"):
            return ServerKind("uvicorn")
        frame = frame.f_back  # type: ignore[assignment]
    return ServerKind("multiprocessing")


def _wrap_launch(original: Callable[..., Any], member_payload: Callable[[ServerKind], Optional[Dict[str, Any]]]) -> Callable[..., Any]:
    def _launch(self: Any, process_obj: Any) -> Any:
        payload = member_payload(_server_from_stack())
        if payload is None:
            return original(self, process_obj)  # a client is attached (or no agent): pydevd's way
        import pydevd

        _launching.payload = payload
        try:
            with pydevd.skip_subprocess_arg_patch():
                return original(self, process_obj)
        finally:
            _launching.payload = None

    setattr(_launch, _MARK, True)
    return _launch


def _wrap_preparation(original: Callable[..., Dict[str, Any]]) -> Callable[..., Dict[str, Any]]:
    def get_preparation_data(name: str) -> Dict[str, Any]:
        data = original(name)
        payload = getattr(_launching, "payload", None)
        if payload is not None:
            # bytes: unpickling the preparation data must not need the agent (see CHILD_PREFIX)
            data[PREPARATION_KEY] = pickle.dumps(payload)
        return data

    setattr(get_preparation_data, _MARK, True)
    return get_preparation_data


def _wrap_command_line(original: Callable[..., List[str]]) -> Callable[..., List[str]]:
    def get_command_line(**kwds: Any) -> List[str]:
        command = original(**kwds)
        if getattr(_launching, "payload", None) is not None and "-c" in command:
            i = command.index("-c") + 1
            command = [*command[:i], CHILD_PREFIX + command[i].lstrip(), *command[i + 1 :]]
        return command

    setattr(get_command_line, _MARK, True)
    return get_command_line


def install_spawn_hook(member_payload: Callable[[ServerKind], Optional[Dict[str, Any]]]) -> bool:
    """Wrap multiprocessing's spawn launch once per process; ``member_payload(kind)``
    gives what a new member needs, or None to leave the launch to pydevd."""
    try:
        import multiprocessing.popen_spawn_posix as popen_spawn
        import multiprocessing.spawn as spawn
    except ImportError:  # not POSIX
        return False
    if getattr(popen_spawn.Popen._launch, _MARK, False):
        return True
    popen_spawn.Popen._launch = _wrap_launch(popen_spawn.Popen._launch, member_payload)  # type: ignore[method-assign]
    spawn.get_preparation_data = _wrap_preparation(spawn.get_preparation_data)
    spawn.get_command_line = _wrap_command_line(spawn.get_command_line)
    return True
