"""How the bridge reaches the debug adapter, and which data path a session runs."""

from __future__ import annotations

import asyncio
import os
from typing import Awaitable, Callable, Optional, Protocol

from .socketdial import open_socket_stream
from .streams import ByteStream, TcpByteStream

AdapterConnector = Callable[[], Awaitable[ByteStream]]
CALLBACKS_ENV = "DBGRELAY_CALLBACK_PUMPS"
ADAPTER_CONNECT_TIMEOUT_S = 5.0


def callback_pumps_enabled() -> bool:
    """``DBGRELAY_CALLBACK_PUMPS=0`` keeps the data path on asyncio streams (and the
    websockets library for wss) with coroutine pumps: a fallback for diagnosis."""
    return os.environ.get(CALLBACKS_ENV, "1") != "0"


class CallbackStream(ByteStream, Protocol):
    """A stream the session's callback pumps can drive (``SocketStream``, ``WebSocketStream``)."""

    on_write_paused: Optional[Callable[[bool], None]]

    def set_handler(self, on_data: Optional[Callable[[bytes], None]], on_eof: Callable[[], None]) -> None: ...
    def hold_reading(self, reason: str) -> None: ...
    def release_reading(self, reason: str) -> None: ...
    def write_nowait(self, data: bytes) -> bool: ...


def tcp_connector(host: str, port: int) -> AdapterConnector:
    """Connects to the debug adapter (a ``SocketStream`` unless callback pumps are off)."""
    async def connect() -> ByteStream:
        if callback_pumps_enabled():
            return await asyncio.wait_for(open_socket_stream(host, port), ADAPTER_CONNECT_TIMEOUT_S)
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), ADAPTER_CONNECT_TIMEOUT_S)
        return TcpByteStream(reader, writer)

    return connect
