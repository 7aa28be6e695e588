"""Opening a :class:`~.socketstream.SocketStream`: connect (to the relay through the
proxy rules, or to the adapter on loopback), TLS handshake driven by the event loop."""

from __future__ import annotations

import asyncio
import socket
import ssl
from typing import Any, Optional

from .liveness import RelayLiveness, set_keepalive
from .proxytunnel import open_relay_socket
from .proxytunnel import tcp_connect as _tcp_connect
from .socketstream import SocketStream
from .streams import set_nodelay


async def _wait_fd(loop: asyncio.AbstractEventLoop, fd: int, writable: bool) -> None:
    ready = loop.create_future()
    add, remove = (loop.add_writer, loop.remove_writer) if writable else (loop.add_reader, loop.remove_reader)
    add(fd, lambda: ready.done() or ready.set_result(None))
    try:
        await ready
    finally:
        remove(fd)


async def start_tls(sock: socket.socket, context: ssl.SSLContext, *, server_side: bool = False, server_hostname: Optional[str] = None) -> ssl.SSLSocket:
    """TLS handshake on a connected non-blocking socket, driven by the event loop."""
    loop = asyncio.get_running_loop()
    sock.setblocking(False)
    tls = context.wrap_socket(sock, server_side=server_side, server_hostname=server_hostname, do_handshake_on_connect=False)
    try:
        while True:
            try:
                tls.do_handshake()
                return tls
            except ssl.SSLWantReadError:
                await _wait_fd(loop, tls.fileno(), writable=False)
            except ssl.SSLWantWriteError:
                await _wait_fd(loop, tls.fileno(), writable=True)
    except BaseException:
        tls.close()
        raise


async def open_socket_stream(
    host: str, port: int, *, ssl_context: Optional[ssl.SSLContext] = None, server_hostname: Optional[str] = None, to_relay: bool = False, liveness: RelayLiveness = RelayLiveness()
) -> SocketStream:
    """Connect (and complete the TLS handshake when ``ssl_context`` is given); no
    timeout of its own: callers wrap it in ``asyncio.wait_for``. ``to_relay``: the
    connection goes to the relay, through the ``HTTPS_PROXY`` proxy unless ``NO_PROXY``
    matches (:mod:`.proxytunnel`), with TCP keepalive (``liveness``); the adapter's
    loopback connection never does."""
    sock: Any = await (open_relay_socket(host, port) if to_relay else _tcp_connect(host, port))
    set_nodelay(sock)
    if to_relay:
        set_keepalive(sock, liveness)
    if ssl_context is not None:
        try:
            sock = await start_tls(sock, ssl_context, server_hostname=server_hostname or host)
        except BaseException:
            sock.close()
            raise
    return SocketStream(sock)
