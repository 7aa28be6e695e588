"""TCP connections to the relay, directly or through an HTTP ``CONNECT`` proxy.

Every connection of the bridge to the relay (control, data, and the probe of a
fingerprint pin) starts here, so ``HTTPS_PROXY``/``NO_PROXY`` (:mod:`dbgrelay.proxyenv`)
apply to all of them; the debug adapter's loopback connection never does. The proxy
only sees ``CONNECT host:port``: TLS, its verification and the credential stay
between the bridge and the relay.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from typing import Optional

from ..proxyenv import HttpProxy, proxy_for_relay

log = logging.getLogger("dbgrelay.control")

MAX_RESPONSE_HEAD = 16 * 1024
_announced: set = set()


async def tcp_connect(host: str, port: int) -> socket.socket:
    """A connected non-blocking TCP socket to ``host:port`` (first address that answers)."""
    loop = asyncio.get_running_loop()
    last: Optional[BaseException] = None
    for family, kind, proto, _, address in await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        sock = socket.socket(family, kind, proto)
        try:
            sock.setblocking(False)
            await loop.sock_connect(sock, address)
            return sock
        except BaseException as exc:
            sock.close()
            if not isinstance(exc, OSError):
                raise
            last = exc
    raise last or OSError(errno.EHOSTUNREACH, f"cannot resolve {host}")


async def open_tunnel(proxy: HttpProxy, host: str, port: int) -> socket.socket:
    """Connect to ``proxy`` and ask for a tunnel to ``host:port``; the socket is
    returned once the proxy answered 2xx. No timeout of its own (callers use
    ``asyncio.wait_for``). Errors name the proxy without its credential."""
    loop = asyncio.get_running_loop()
    where = f"the proxy {proxy.display()} ({proxy.source})"
    try:
        sock = await tcp_connect(proxy.host, proxy.port)
    except OSError as exc:
        raise ConnectionError(f"cannot reach {where}: {exc.strerror or exc}") from None
    authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        lines = [f"CONNECT {authority} HTTP/1.1", f"Host: {authority}"]
        if proxy.authorization:
            lines.append(f"Proxy-Authorization: {proxy.authorization}")
        await loop.sock_sendall(sock, ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        head = b""
        while b"\r\n\r\n" not in head:
            # nothing may follow the answer before our ClientHello, so reading in chunks is safe
            chunk = await loop.sock_recv(sock, 4096)
            if not chunk:
                raise ConnectionError(f"{where} closed the connection before answering CONNECT {authority}")
            head += chunk
            if len(head) > MAX_RESPONSE_HEAD:
                raise ConnectionError(f"{where} sent an over-long answer to CONNECT {authority}")
        status_line = head.split(b"\r\n", 1)[0].decode("latin-1", "replace")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].startswith("2"):
            hint = ""
            if len(parts) > 1 and parts[1] == "407":
                hint = " (the proxy refused its credentials)" if proxy.authorization else " (the proxy wants credentials: http://user:password@host:port)"
            shown = "".join(c if " " <= c <= "~" else "?" for c in status_line)[:120]
            raise ConnectionError(f"{where} refused CONNECT {authority}: {shown or 'no HTTP status line'}{hint}")
        if head.index(b"\r\n\r\n") + 4 != len(head):
            raise ConnectionError(f"{where} sent bytes after its answer to CONNECT {authority}")
        return sock
    except BaseException:
        sock.close()
        raise


async def open_relay_socket(host: str, port: int) -> socket.socket:
    """A connected TCP socket towards the relay: through the ``HTTPS_PROXY`` proxy
    unless ``NO_PROXY`` matches ``host:port``, else directly. Read from the environment
    on every call, so it is the same decision for every connection of the bridge."""
    proxy = proxy_for_relay(host, port)
    if proxy is None:
        return await tcp_connect(host, port)
    key = (proxy.display(), host, port)
    if key not in _announced:
        _announced.add(key)
        log.info("reaching the relay %s:%d through the proxy %s (%s)", host, port, proxy.display(), proxy.source)
    return await open_tunnel(proxy, host, port)
