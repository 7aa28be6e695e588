"""What forked this worker: read from the forking call's frames in the child, right
after the fork (gunicorn's arbiter, Celery's billiard pool, multiprocessing)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from types import FrameType
from typing import Dict, Optional, Tuple


@dataclass(frozen=True)
class ServerKind:
    """``server``: gunicorn, celery, multiprocessing or fork; ``slot``: the worker's
    number where the server has one; ``kill_timer``: the server's bound on a worker
    that does not answer (seconds, and where it comes from), where it can be read."""

    server: str
    slot: Optional[str] = None
    kill_timer: Optional[Tuple[float, str]] = None

    def labels(self, parent_pid: int) -> Dict[str, str]:
        out = {"server": self.server, "parent": str(parent_pid)}
        if self.slot is not None:
            out["worker"] = self.slot
        if self.kill_timer is not None:
            out["killTimer"] = f"{self.kill_timer[0]:g}s ({self.kill_timer[1]})"
        return out


def _positive(value: object) -> Optional[float]:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _gunicorn(frame: FrameType) -> ServerKind:
    worker = frame.f_locals.get("worker")
    slot = getattr(worker, "age", None)
    # the arbiter's timeout (--timeout); the worker's own is half of it (its heartbeat)
    timeout = _positive(getattr(frame.f_locals.get("self"), "timeout", None))
    return ServerKind("gunicorn", str(slot) if slot is not None else None, (timeout, "gunicorn --timeout") if timeout else None)


def _celery() -> ServerKind:
    app = None
    try:
        from celery import current_app  # only when the program uses Celery already

        app = current_app._get_current_object()
    except Exception:  # noqa: BLE001 - no app, no limit to read
        pass
    conf = getattr(app, "conf", None)
    hard = _positive(conf.get("task_time_limit")) if conf is not None else None
    return ServerKind("celery", None, (hard, "Celery task_time_limit") if hard else None)


def detect(frame: Optional[FrameType] = None) -> ServerKind:
    """The server that forked this process, from the frames of the fork call."""
    current = frame if frame is not None else sys._getframe(1)
    while current is not None:
        path = current.f_code.co_filename.replace("\\", "/")
        if "/gunicorn/arbiter.py" in path and current.f_code.co_name == "spawn_worker":
            return _gunicorn(current)
        if "/billiard/" in path or "/celery/" in path:
            return _celery()
        if "/multiprocessing/popen_fork" in path or "/multiprocessing/popen_forkserver" in path:
            return ServerKind("multiprocessing")
        current = current.f_back
    return ServerKind("fork")
