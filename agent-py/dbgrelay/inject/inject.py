"""``inject_agent``: the whole injection, from the checks to the agent's answer."""

from __future__ import annotations

import json
import os
import time
from typing import Any, Dict, List

from ..errors import InjectError
from .handover import Handover, prepare
from .process import inspect_process
from .runners import run_with_gdb, run_with_remote_exec

#: How often the injector looks for the agent's answer.
POLL_S = 0.05


def agent_paths() -> List[str]:
    """Where this agent and the packages it needs are installed, for the target's ``sys.path``."""
    import debugpy
    import fastjsonschema

    import dbgrelay

    paths: List[str] = []
    for module in (dbgrelay, debugpy, fastjsonschema):
        path = os.path.dirname(os.path.dirname(os.path.abspath(module.__file__ or "")))
        if path not in paths:
            paths.append(path)
    return paths


def _wait_result(handover: Handover, deadline: float, pid: int) -> Dict[str, Any]:
    while time.monotonic() < deadline:
        try:
            with open(handover.result, encoding="utf-8") as f:
                return dict(json.load(f))
        except (OSError, ValueError):
            time.sleep(POLL_S)
    raise InjectError(
        f"process {pid} did not start the agent in time: its main thread runs no Python code "
        "(blocked in a long system call?). It runs on unchanged; the queued start does nothing once this directory is gone"
    )


def inject_agent(pid: int, enable_kwargs: Dict[str, object], timeout: float) -> Dict[str, Any]:
    """Start the agent in the running CPython process ``pid`` with ``enable_attach``'s
    keyword arguments; returns the agent's answer (``name``, ``bridgePid``). Raises
    :class:`~dbgrelay.errors.InjectError` (code ``PTRACE_DENIED`` when this user may not
    trace it); the process runs on unchanged whenever this raises."""
    deadline = time.monotonic() + timeout
    target = inspect_process(pid)
    handover = prepare(target.uid, target.gid, dict(enable_kwargs, wait_registered=False), agent_paths())
    try:
        remaining = max(1.0, deadline - time.monotonic())
        if target.has_remote_exec:
            run_with_remote_exec(target, handover.bootstrap, remaining)
        else:
            run_with_gdb(target, handover.bootstrap, remaining)
        result = _wait_result(handover, deadline, pid)
    finally:
        handover.remove()
    if not result.get("ok"):
        raise InjectError(f"the agent did not start in process {pid}: {result.get('message', 'no reason given')}", code=str(result.get("code") or "INJECT_FAILED"))
    return result
