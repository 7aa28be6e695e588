"""The test's end of a connection as a ByteStream (asyncdap.AsyncDapClient reads and
writes through one): an asyncio stream pair (the fake relay's tcps side, a client of
the direct endpoint) or a connection of the websockets library's server (the fake
relay's wss side)."""

from __future__ import annotations

import asyncio
from typing import Any

from dbgrelay.bridge.streams import set_nodelay


class TcpByteStream:
    """An asyncio (optionally TLS) connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        set_nodelay(writer.transport.get_extra_info("socket"))

    async def read(self) -> bytes:
        try:
            return await self.reader.read(64 * 1024)
        except (OSError, asyncio.IncompleteReadError):
            return b""

    async def write(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def close(self) -> None:
        if self.writer.is_closing():
            return
        try:
            self.writer.close()
            await asyncio.wait_for(self.writer.wait_closed(), 2.0)
        except Exception:
            self.writer.transport.abort()


class WebSocketByteStream:
    """A websockets server connection carrying DAP bytes in binary messages."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        transport = getattr(ws, "transport", None)
        set_nodelay(transport.get_extra_info("socket") if transport is not None else None)

    async def read(self) -> bytes:
        while True:
            try:
                frame = await self.ws.recv()
            except Exception:  # ConnectionClosed and transport errors
                return b""
            if isinstance(frame, bytes) and frame:
                return frame

    async def write(self, data: bytes) -> None:
        await self.ws.send(data)

    async def close(self) -> None:
        try:
            await asyncio.wait_for(self.ws.close(), 2.0)
        except Exception:
            pass
