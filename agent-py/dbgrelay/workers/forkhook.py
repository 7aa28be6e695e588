"""A forked child of a program that runs the agent becomes a member of its group.

pydevd (debugpy's subprocess support) handles a fork in the child with
``pydevd.settrace_forked``: it connects the child to the parent's debug adapter, and
the child then waits until a client has configured it. That is what a client attached
to the parent wants (it is told of the new process and attaches to it), and what
nobody else wants: a worker forked while nobody debugs would wait for a client.

So the agent wraps ``settrace_forked``. While a client session runs with the parent,
the child goes pydevd's way, as before. Otherwise pydevd only drops the debugger state
the child inherited, and the child starts an agent of its own, registered as
``GROUP/PID`` with the parent's options (credentials passed in memory to the child's
own bridge, never through its environment), its own debugpy adapter and its own pause
guard. The child never writes to the parent's bridge or adapter connections. Its
bridge exits with it, so the relay drops the member when the worker exits.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
import time
from typing import Any, Callable, Dict, Optional, Protocol

from ..options.relay import AgentOptions
from ..protocol import ProtocolError, validate_labels
from .serverkind import ServerKind, detect

log = logging.getLogger("dbgrelay.workers")

_MARK = "_dbgrelay_member_fork"
#: The parent's bridge reports sessions every 0.5 s; an older report counts as none.
SESSION_REPORT_TIMEOUT_S = 2.0


def member_name(group_or_name: str, pid: int) -> str:
    """``GROUP/PID``: the group of a member's name is its first part."""
    return f"{group_or_name.split('/', 1)[0]}/{pid}"


def member_options(parent: AgentOptions, kind: ServerKind, pid: int, parent_pid: int) -> AgentOptions:
    """The parent's options for a member: its name, and the parent's labels with the
    worker's (the worker's alone when both would not fit the labels' bounds)."""
    labels: Dict[str, str] = {**dict(parent.labels), **kind.labels(parent_pid)}
    try:
        validate_labels(labels)
    except ProtocolError:
        labels = kind.labels(parent_pid)
    return dataclasses.replace(
        parent, name=member_name(parent.name, pid), labels=tuple(sorted(labels.items())), wait_registered=False, kill_timer=kind.kill_timer or parent.kill_timer
    )


class AgentHooks(Protocol):
    """What this module needs of :mod:`dbgrelay.agent`, handed to it by the agent itself
    (:func:`install_fork_hook`), so that this module does not import the agent back."""

    def running_state(self) -> Any: ...

    def forget_after_fork(self) -> Any: ...

    def start_relay_agent(self, options: AgentOptions, remote_root: Optional[str]) -> Any: ...


_agent: Optional[AgentHooks] = None


def _client_attached(agent: AgentHooks) -> bool:
    state = agent.running_state()
    if state is None:
        return False
    return bool(state.bridge.ownership.sessions_now(time.monotonic(), SESSION_REPORT_TIMEOUT_S) > 0)


def member_payload(kind: ServerKind) -> Optional[Dict[str, Any]]:
    """What a spawned worker needs to start as a member (see :mod:`.spawnhook`); None
    while a client session runs with this process, or when no relay agent runs here."""
    agent = _agent
    state = agent.running_state() if agent is not None else None
    if agent is None or state is None or not isinstance(state.options, AgentOptions) or _client_attached(agent):
        return None
    return {"options": state.options, "root": state.root, "server": kind.server}


def _start_member(agent: AgentHooks, kind: ServerKind) -> None:
    """In the child: forget the parent's agent and debugpy, start this process's own."""
    parent = agent.forget_after_fork()
    if parent is None or not isinstance(parent.options, AgentOptions):
        return
    import debugpy.server.api as debugpy_api
    import pydevd

    debugpy_api.listen.called = False  # the parent's listen; this process has none yet
    options = member_options(parent.options, kind, os.getpid(), os.getppid())
    started = time.monotonic()
    try:
        # pydevd's process patches stay installed: keep them off the bridge and adapter it starts
        with pydevd.skip_subprocess_arg_patch():
            agent.start_relay_agent(options, parent.root)
    except Exception as exc:  # noqa: BLE001 - the worker runs on without a debugger
        log.warning("worker %d runs without a debugger: its agent did not start: %s", os.getpid(), exc)
        return
    log.info("worker %d is target %r (%s), agent started in %.2f s", os.getpid(), options.name, kind.server, time.monotonic() - started)


def wrap_settrace_forked(original: Callable[..., Any]) -> Callable[..., Any]:
    """pydevd's ``settrace_forked`` with the member rule of this module's docstring."""

    def settrace_forked(setup_tracing: bool = True) -> Any:
        agent = _agent
        if agent is None or not setup_tracing or _client_attached(agent):
            return original(setup_tracing)
        kind = detect(sys._getframe(1))
        original(False)  # pydevd's own reset of the debugger state the child inherited
        _start_member(agent, kind)
        return None

    setattr(settrace_forked, _MARK, True)
    return settrace_forked


def install_fork_hook(agent: AgentHooks) -> bool:
    """Wrap pydevd's fork handling once per process for ``agent`` (the running agent's
    module); False when pydevd has none."""
    global _agent
    _agent = agent
    pydevd: Optional[Any] = sys.modules.get("pydevd")
    original = getattr(pydevd, "settrace_forked", None)
    if original is None:
        log.warning("forked workers stay unregistered: this debugpy has no pydevd.settrace_forked")
        return False
    if not getattr(original, _MARK, False):
        pydevd.settrace_forked = wrap_settrace_forked(original)  # type: ignore[union-attr]
    return True
