"""How the bridge reaches the debug adapter."""

from __future__ import annotations

import asyncio
from typing import Awaitable, Callable

from .socketdial import open_socket_stream
from .socketstream import SocketStream

AdapterConnector = Callable[[], Awaitable[SocketStream]]
ADAPTER_CONNECT_TIMEOUT_S = 5.0


def tcp_connector(host: str, port: int) -> AdapterConnector:
    """Connects to the debug adapter on loopback: a :class:`SocketStream`."""

    async def connect() -> SocketStream:
        return await asyncio.wait_for(open_socket_stream(host, port), ADAPTER_CONNECT_TIMEOUT_S)

    return connect
