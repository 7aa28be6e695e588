"""Run debugpy's adapter with its connection handlers guarded.

debugpy's adapter accepts connections on one thread per listener and runs the
handler (for a DAP client: the whole ``Client`` constructor, which sends two
telemetry events and a ``debugpySockets`` event) on that thread without catching
anything (``debugpy/common/sockets.py``, ``serve``). When one of those sends fails,
because the client already left or because the oldest session still registered has
a closed client channel, the exception ends the accept thread: the port still
completes TCP handshakes from the listen backlog, but no connection is served again
until the process restarts. That is the "wedged adapter" of agent-py/README.md.

This module is the adapter's entry point when the agent starts debugpy
(``debugpy.configure(python=...)`` names a small launcher, see
:mod:`dbgrelay.adapterlauncher`): it wraps every handler so that a failure is logged
to debugpy's log and the listener keeps accepting, then runs the adapter exactly as
``python <debugpy>/adapter ARGS`` would.

It imports nothing from dbgrelay (it runs in the adapter process, with debugpy's
own ``sys.path``) and must stay importable as a plain file.

    python adapterguard.py <debugpy>/adapter ARGS...
"""

from __future__ import annotations

import os
import runpy
import socket
import sys
from typing import Any, Callable

GUARD_MARK = "_dbgrelay_guarded"


def set_nodelay(sock: Any) -> None:
    """``TCP_NODELAY`` on a connection the adapter accepted (best effort). The adapter
    writes each message in one piece, but two messages in a row (requests a client
    sent together, forwarded to pydevd) wait for the peer's delayed ACK under Nagle's
    algorithm: ~40 ms each time (agent-py/README.md "TCP_NODELAY")."""
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (OSError, AttributeError):
        pass


def guard_accept_handlers() -> None:
    """Make ``debugpy.common.sockets.serve`` survive exceptions in its handler, and
    set ``TCP_NODELAY`` on every connection it accepts."""
    from debugpy.common import log, sockets

    original = sockets.serve
    if getattr(original, GUARD_MARK, False):
        return

    def serve(name: str, handler: Callable[[Any], Any], *args: Any, **kwargs: Any) -> Any:
        def guarded(sock: Any) -> None:
            set_nodelay(sock)
            try:
                handler(sock)
            except Exception:
                # The connection's own channel ends it (its reader sees EOF); what
                # matters is that this thread goes on accepting.
                log.swallow_exception("dbgrelay: handling an incoming {0} connection failed; still accepting", name, level="warning")

        return original(name, guarded, *args, **kwargs)

    setattr(serve, GUARD_MARK, True)
    sockets.serve = serve


def main(argv: list[str]) -> None:
    adapter_dir = os.path.abspath(argv[0])
    # the directory that holds the debugpy package this adapter belongs to
    sys.path.insert(0, os.path.dirname(os.path.dirname(adapter_dir)))
    import debugpy  # noqa: F401  (from that directory, so the adapter uses this copy)

    del sys.path[0]
    guard_accept_handlers()
    sys.argv = [adapter_dir, *argv[1:]]
    runpy.run_path(adapter_dir, run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
