"""The bridge lives exactly as long as its parent: stdin EOF, parent pid change,
and (Linux, when the parent spawned it from its main thread) PR_SET_PDEATHSIG."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import threading

log = logging.getLogger("dbgrelay.agent")

PPID_POLL_S = 0.5
_PR_SET_PDEATHSIG = 1


def set_parent_death_signal() -> bool:
    """Ask Linux to SIGTERM us when the parent thread that spawned us exits.

    Only used when the parent spawned the bridge from its main thread: the signal
    follows the spawning *thread*, not the process.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) == 0
    except Exception:
        return False


async def wait_for_parent_exit(parent_pid: int) -> str:
    """Return (with the reason) once stdin reaches EOF or the parent is gone."""
    loop = asyncio.get_running_loop()
    eof = loop.create_future()

    def finish(reason: str) -> None:
        if not eof.done():
            eof.set_result(reason)

    def read_stdin() -> None:
        # raw fd reads: a daemon thread blocked in a buffered read would trip
        # "could not acquire lock for <stdin>" at interpreter shutdown
        try:
            while os.read(0, 4096):
                pass  # nothing else is expected after the config line
        except OSError:
            pass
        loop.call_soon_threadsafe(finish, "stdin closed")

    for signum in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(signum, finish, f"signal {signum.name}")
        except (NotImplementedError, RuntimeError):  # pragma: no cover - Windows
            pass

    threading.Thread(target=read_stdin, name="dbgrelay-stdin", daemon=True).start()
    while not eof.done():
        if parent_pid and os.getppid() != parent_pid:
            return "parent process exited"
        await asyncio.wait([eof], timeout=PPID_POLL_S)
    return eof.result()
