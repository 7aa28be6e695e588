"""A TCP (optionally TLS) connection as an asyncio Protocol: a :class:`ByteStream`
that can also hand its bytes straight to a callback (``set_handler``).

The callback mode is the bridge's steady-state data path (``callbackpumps.py``): no
StreamReader, no future or task wake-up per chunk, only ``data_received`` and a
``transport.write``. The stream mode (``read``/``readline``/``write``) serves the
hello line, the first client bytes and streams joined to a non-TCP peer (wss).
Reading is paused while anyone holds it (``hold_reading``): a full buffer, the
session waiting for the adapter gate, or the peer's full write buffer.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any, Awaitable, Callable, Optional, Set

from .streams import READ_CHUNK, ByteStream, TcpByteStream, set_nodelay_on_transport

AdapterConnector = Callable[[], Awaitable[ByteStream]]
CALLBACKS_ENV = "DBGRELAY_CALLBACK_PUMPS"


def callback_pumps_enabled() -> bool:
    """``DBGRELAY_CALLBACK_PUMPS=0`` keeps TCP on asyncio streams and coroutine pumps."""
    return os.environ.get(CALLBACKS_ENV, "1") != "0"


class TransportStream(asyncio.Protocol):
    def __init__(self, buffer_limit: int = 4 * READ_CHUNK) -> None:
        self.transport: Any = None
        self._limit = buffer_limit
        self._buf = bytearray()
        self._eof = False
        self._lost: Optional["asyncio.Future[None]"] = None
        self._waiter: Optional["asyncio.Future[None]"] = None
        self._drain: Optional["asyncio.Future[None]"] = None
        self._holds: Set[str] = set()
        self._on_data: Optional[Callable[[bytes], None]] = None
        self._on_eof: Optional[Callable[[], None]] = None
        self.on_write_paused: Optional[Callable[[bool], None]] = None
        self.write_paused = False
        self._ssl = False

    # -- Protocol --------------------------------------------------------------
    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self._lost = asyncio.get_running_loop().create_future()
        self._ssl = transport.get_extra_info("sslcontext") is not None
        set_nodelay_on_transport(transport)

    def data_received(self, data: bytes) -> None:
        if self._on_data is not None:
            self._on_data(data)
            return
        self._buf += data
        if len(self._buf) > self._limit:
            self.hold_reading("buffer")
        self._wake()

    def eof_received(self) -> bool:
        self._set_eof()
        return not self._ssl  # plain TCP: stay open for writing until we close

    def connection_lost(self, exc: Optional[BaseException]) -> None:
        self._set_eof()
        if self._lost is not None and not self._lost.done():
            self._lost.set_result(None)
        self.resume_writing()

    def pause_writing(self) -> None:
        self.write_paused = True
        if self.on_write_paused is not None:
            self.on_write_paused(True)

    def resume_writing(self) -> None:
        self.write_paused = False
        if self._drain is not None and not self._drain.done():
            self._drain.set_result(None)
        if self.on_write_paused is not None:
            self.on_write_paused(False)

    # -- reading -----------------------------------------------------------------
    def _set_eof(self) -> None:
        if self._eof:
            return
        self._eof = True
        if self._on_eof is not None:
            self._on_eof()
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def hold_reading(self, reason: str) -> None:
        if not self._holds and self.transport is not None and not self.transport.is_closing():
            self.transport.pause_reading()
        self._holds.add(reason)

    def release_reading(self, reason: str) -> None:
        if reason in self._holds:
            self._holds.discard(reason)
            if not self._holds and self.transport is not None and not self.transport.is_closing():
                self.transport.resume_reading()

    def set_handler(self, on_data: Optional[Callable[[bytes], None]], on_eof: Callable[[], None]) -> None:
        """From now on, bytes go to ``on_data`` (None: dropped) and the end of stream
        to ``on_eof`` (called at once if it already ended); buffered bytes first."""
        self._on_data = on_data or (lambda data: None)
        self._on_eof = on_eof
        data, self._buf = bytes(self._buf), bytearray()
        self.release_reading("buffer")
        if data:
            self._on_data(data)
        if self._eof:
            on_eof()

    async def _wait(self) -> None:
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    async def read(self) -> bytes:
        """Everything buffered (at least one byte); ``b""`` at end of stream."""
        while not self._buf and not self._eof:
            await self._wait()
        data, self._buf = bytes(self._buf), bytearray()
        self.release_reading("buffer")
        return data

    async def readline(self, limit: int) -> bytes:
        """One line with its ``\\n`` (without it at end of stream); ValueError over ``limit``."""
        while True:
            end = self._buf.find(b"\n")
            if end >= 0 or self._eof:
                end = end + 1 if end >= 0 else len(self._buf)
                line, self._buf = bytes(self._buf[:end]), self._buf[end:]
                if len(self._buf) <= self._limit:
                    self.release_reading("buffer")
                return line
            if len(self._buf) > limit:
                raise ValueError("line too long")
            await self._wait()

    # -- writing -----------------------------------------------------------------
    def write_nowait(self, data: bytes) -> bool:
        """Queue ``data``; False when the connection is closing or gone."""
        if self.transport is None or self.transport.is_closing():
            return False
        self.transport.write(data)
        return True

    async def write(self, data: bytes) -> None:
        if not self.write_nowait(data):
            raise ConnectionResetError("connection closed")
        while self.write_paused and not self.transport.is_closing():
            self._drain = asyncio.get_running_loop().create_future()
            await self._drain

    async def close(self) -> None:
        if self.transport is None or self._lost is None:
            return
        if not self.transport.is_closing():
            self.transport.close()
        try:
            await asyncio.wait_for(asyncio.shield(self._lost), 2.0)
        except (asyncio.TimeoutError, Exception):
            self.transport.abort()


async def open_transport_stream(host: str, port: int, **kwargs: Any) -> TransportStream:
    _, stream = await asyncio.get_running_loop().create_connection(TransportStream, host, port, **kwargs)
    return stream


def tcp_connector(host: str, port: int) -> AdapterConnector:
    """Connects to the debug adapter (a :class:`TransportStream` unless turned off)."""
    async def connect() -> ByteStream:
        if callback_pumps_enabled():
            return await asyncio.wait_for(open_transport_stream(host, port), 5.0)
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 5.0)
        return TcpByteStream(reader, writer)

    return connect
