"""The bridge lives exactly as long as its parent: stdin EOF, parent pid change,
and (Linux, when the parent spawned it from its main thread) PR_SET_PDEATHSIG.

After the config line the parent may write further JSON lines on stdin (the pause
guard's messages for the relay); they go to ``on_line`` on the event loop."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import threading
from typing import Callable, Optional

log = logging.getLogger("dbgrelay.agent")

PPID_POLL_S = 0.5
_PR_SET_PDEATHSIG = 1
#: Longer lines from the parent are dropped (they are small JSON objects).
MAX_PARENT_LINE_BYTES = 64 * 1024


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


class LineSplitter:
    """Cuts a byte stream into lines; drops lines longer than ``limit``."""

    def __init__(self, limit: int = MAX_PARENT_LINE_BYTES) -> None:
        self.limit = limit
        self._buffer = bytearray()
        self._skipping = False

    def feed(self, data: bytes) -> "list[bytes]":
        lines = []
        self._buffer += data
        while True:
            end = self._buffer.find(b"\n")
            if end < 0:
                break
            line = bytes(self._buffer[:end])
            del self._buffer[: end + 1]
            if not self._skipping and len(line) <= self.limit:
                lines.append(line)
            self._skipping = False
        if len(self._buffer) > self.limit:
            self._buffer.clear()
            self._skipping = True
        return lines


async def wait_for_parent_exit(parent_pid: int, on_line: Optional[Callable[[bytes], None]] = None) -> str:
    """Return (with the reason) once stdin reaches EOF or the parent is gone; hand
    every further stdin line to ``on_line`` (on the event loop) meanwhile."""
    loop = asyncio.get_running_loop()
    eof = loop.create_future()

    def finish(reason: str) -> None:
        if not eof.done():
            eof.set_result(reason)

    def read_stdin() -> None:
        # raw fd reads: a daemon thread blocked in a buffered read would trip
        # "could not acquire lock for <stdin>" at interpreter shutdown
        splitter = LineSplitter()
        try:
            while True:
                data = os.read(0, 4096)
                if not data:
                    break
                for line in splitter.feed(data):
                    if on_line is not None:
                        loop.call_soon_threadsafe(on_line, line)
        except (OSError, RuntimeError):  # RuntimeError: the loop closed at exit
            pass
        try:
            loop.call_soon_threadsafe(finish, "stdin closed")
        except RuntimeError:
            pass

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
