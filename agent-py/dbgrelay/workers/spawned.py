"""Imported first by a spawned worker of a program that runs the agent (see
:mod:`.spawnhook`): the member's start rides on multiprocessing's preparation data,
before the program's own modules are imported."""

from __future__ import annotations

import logging
import multiprocessing.spawn as _spawn
import os
import pickle
from typing import Any, Dict

log = logging.getLogger("dbgrelay.workers")

_original_prepare = _spawn.prepare


def _start_member(payload: Dict[str, Any]) -> None:
    from .. import agent
    from .forkhook import member_options
    from .serverkind import ServerKind

    options = member_options(payload["options"], ServerKind(str(payload["server"])), os.getpid(), os.getppid())
    try:
        with agent.start_lock():
            agent.start_relay_agent(options, payload.get("root"))
    except Exception as exc:  # noqa: BLE001 - the worker runs on without a debugger
        log.warning("worker %d runs without a debugger: its agent did not start: %s", os.getpid(), exc)


def prepare(data: Dict[str, Any]) -> None:
    """multiprocessing's ``prepare``, after starting this member's agent."""
    from .spawnhook import PREPARATION_KEY

    pickled = data.pop(PREPARATION_KEY, None)
    try:
        payload = pickle.loads(pickled) if isinstance(pickled, bytes) else None
    except Exception as exc:  # noqa: BLE001 - the worker runs on without a debugger
        log.warning("worker %d runs without a debugger: its start data did not load: %s", os.getpid(), exc)
        payload = None
    if isinstance(payload, dict):
        _start_member(payload)
    _original_prepare(data)


_spawn.prepare = prepare
