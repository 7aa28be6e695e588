"""What runs inside the target process: ``enable_attach`` on a thread of its own
(hidden from the debugger), so that the interpreter's main thread, which ran the
bootstrap, goes back to the program at once."""

from __future__ import annotations

from typing import Any, Dict

from ..agentthreads import start_hidden_thread
from ..errors import INJECT_FAILED, DbgRelayError
from .handover import read_handover, write_result


def _start(directory: str) -> None:
    result: Dict[str, Any]
    try:
        kwargs = read_handover(directory)
        import dbgrelay
        from dbgrelay import agent

        if agent.is_enabled():
            raise DbgRelayError("this process already runs a dbgrelay agent", code=INJECT_FAILED)
        dbgrelay.enable_attach(**kwargs)
        state = agent.running_state()
        if state is None:  # e.g. debugpy already debugs this process
            raise DbgRelayError("the agent did not start: debugpy already debugs this process", code=INJECT_FAILED)
        result = {"ok": True, "name": state.options.name, "bridgePid": state.bridge.proc.pid}
    except DbgRelayError as exc:
        result = {"ok": False, "code": exc.code, "message": str(exc)}
    except BaseException as exc:  # noqa: BLE001 - reported to the injector, never raised into the program
        result = {"ok": False, "code": INJECT_FAILED, "message": f"{type(exc).__name__}: {exc}"}
    try:
        write_result(directory, result)
    except OSError:
        pass  # the injector gave up and removed the directory


def start_in_thread(directory: str) -> None:
    """Start the agent from ``directory``'s handover on a hidden thread."""
    start_hidden_thread(_start, "dbgrelay-inject", directory)
