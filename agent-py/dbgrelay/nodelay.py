"""Set TCP_NODELAY on pydevd's connection to the debugpy adapter.

pydevd writes every message in two ``sendall`` calls (header, then body; see
``NetCommand.send`` in ``_pydevd_bundle/pydevd_net_command.py``) on a socket without
``TCP_NODELAY`` (upstream debugpy issue #2054). With Nagle's algorithm and delayed
ACKs, each answer that comes from the debuggee then waits ~40 ms on loopback.

Two complementary measures, both best effort (logged, never raised):

- :func:`install_patch` wraps pydevd's ``start_client`` (bound by name in both
  ``pydevd`` and ``_pydevd_bundle.pydevd_comm``) so sockets it creates from now on get
  the option; call it before ``debugpy.listen``/``debugpy.connect``;
- :func:`apply_nodelay_fix` also sets the option on the socket the running debugger
  already uses (``get_global_debugger().writer.sock``), so it works after
  ``debugpy.listen`` too. It installs the patch as well.
"""

from __future__ import annotations

import logging
import socket
import sys
from typing import Any, Optional

log = logging.getLogger("dbgrelay.agent")

_PATCH_MARK = "_dbgrelay_nodelay"


def set_nodelay(sock: Any) -> bool:
    """Set TCP_NODELAY on a socket-like object; False if it is not a TCP socket."""
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return True
    except (OSError, AttributeError, ValueError):
        return False


def _import_pydevd() -> Optional[Any]:
    try:
        import debugpy.server.api  # noqa: F401  (puts pydevd on sys.path)
        import pydevd  # type: ignore[import-not-found]

        return pydevd
    except Exception as exc:  # pragma: no cover - depends on the installed debugpy
        log.warning("TCP_NODELAY fix unavailable: cannot import pydevd (%s)", exc)
        return None


def install_patch() -> bool:
    """Wrap pydevd's ``start_client`` so new adapter connections get TCP_NODELAY."""
    pydevd = _import_pydevd()
    if pydevd is None:
        return False
    comm = sys.modules.get("_pydevd_bundle.pydevd_comm")
    patched = False
    for module in (comm, pydevd):
        original = getattr(module, "start_client", None) if module is not None else None
        if original is None:
            continue
        if getattr(original, _PATCH_MARK, False):
            patched = True
            continue

        def start_client(host: Any, port: Any, _original: Any = original) -> Any:
            sock = _original(host, port)
            set_nodelay(sock)
            return sock

        setattr(start_client, _PATCH_MARK, True)
        module.start_client = start_client
        patched = True
    if not patched:
        log.warning("TCP_NODELAY fix: this debugpy has no pydevd start_client to patch")
    return patched


def debugger_socket() -> Optional[Any]:
    """The socket pydevd uses to talk to the adapter, if there is one."""
    pydevd = sys.modules.get("pydevd")
    if pydevd is None:
        return None
    try:
        py_db = pydevd.get_global_debugger()
    except Exception:
        return None
    for holder in (getattr(py_db, "writer", None), getattr(py_db, "reader", None)):
        sock = getattr(holder, "sock", None)
        if sock is not None and hasattr(sock, "setsockopt"):
            return sock
    return None


def apply_nodelay_fix() -> bool:
    """Install the patch and fix the live connection. True if the live socket (or,
    before ``debugpy.listen``, the patch) now has TCP_NODELAY."""
    patched = install_patch()
    sock = debugger_socket()
    if sock is None:
        if not patched:
            log.warning("TCP_NODELAY fix not applied: no pydevd connection and no patch point")
        return patched
    if set_nodelay(sock):
        log.debug("TCP_NODELAY set on pydevd's adapter connection")
        return True
    log.warning("TCP_NODELAY fix not applied: cannot set the option on pydevd's socket")
    return False
