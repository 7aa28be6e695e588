"""Byte streams the bridge joins: TCP (asyncio), WebSocket (binary frames), memory."""

from __future__ import annotations

import asyncio
import socket
from typing import Any, Optional, Protocol, Tuple

READ_CHUNK = 64 * 1024


class ByteStream(Protocol):
    async def read(self) -> bytes:
        """Next chunk; ``b""`` at end of stream (clean or not)."""

    async def write(self, data: bytes) -> None: ...

    async def close(self) -> None:
        """Graceful close (flush, then FIN / WebSocket close)."""


def set_nodelay(sock: Any) -> None:
    """``TCP_NODELAY`` on a TCP socket (every hop of ours sends each message at once)."""
    if getattr(sock, "family", None) in (socket.AF_INET, socket.AF_INET6):
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except (OSError, AttributeError):
            pass


def set_nodelay_on_transport(transport: Any) -> None:
    set_nodelay(transport.get_extra_info("socket") if transport is not None else None)


class TcpByteStream:
    """An asyncio (optionally TLS) connection as a :class:`ByteStream`."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        set_nodelay_on_transport(writer.transport)

    async def read(self) -> bytes:
        try:
            return await self.reader.read(READ_CHUNK)
        except (OSError, asyncio.IncompleteReadError):
            return b""

    async def write(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    def write_nowait(self, data: bytes) -> bool:
        """Queue ``data`` now (in order with every other write); False once closing."""
        if self.writer.is_closing():
            return False
        self.writer.write(data)
        return True

    async def close(self) -> None:
        if self.writer.is_closing():
            return
        try:
            self.writer.close()
            await asyncio.wait_for(self.writer.wait_closed(), 2.0)
        except (OSError, asyncio.TimeoutError, Exception):
            self.writer.transport.abort()


class WebSocketByteStream:
    """A websockets connection carrying DAP bytes in binary frames (§3)."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        set_nodelay_on_transport(getattr(ws, "transport", None))

    async def read(self) -> bytes:
        while True:
            try:
                frame = await self.ws.recv()
            except Exception:  # ConnectionClosed and transport errors
                return b""
            if isinstance(frame, bytes):
                if frame:
                    return frame
            # text frames carry nothing on a data connection; ignore them

    async def write(self, data: bytes) -> None:
        await self.ws.send(data)

    async def close(self) -> None:
        try:
            await asyncio.wait_for(self.ws.close(), 2.0)
        except Exception:
            pass


class MemoryByteStream:
    """One end of an in-memory duplex stream (tests; like debugpy's JsonMemoryStream)."""

    def __init__(self, inbox: "asyncio.Queue[bytes]", outbox: "asyncio.Queue[bytes]") -> None:
        self._inbox = inbox
        self._outbox = outbox
        self._eof = False
        self.peer: Optional["MemoryByteStream"] = None

    @staticmethod
    def pair() -> Tuple["MemoryByteStream", "MemoryByteStream"]:
        a: "asyncio.Queue[bytes]" = asyncio.Queue()
        b: "asyncio.Queue[bytes]" = asyncio.Queue()
        left, right = MemoryByteStream(a, b), MemoryByteStream(b, a)
        left.peer, right.peer = right, left
        return left, right

    async def read(self) -> bytes:
        if self._eof:
            return b""
        data = await self._inbox.get()
        if not data:
            self._eof = True
        return data

    async def write(self, data: bytes) -> None:
        if self._eof or (self.peer is not None and self.peer._eof):
            raise ConnectionResetError("memory stream closed")
        if data:
            self._outbox.put_nowait(bytes(data))

    def write_nowait(self, data: bytes) -> bool:
        if self._eof or (self.peer is not None and self.peer._eof):
            return False
        if data:
            self._outbox.put_nowait(bytes(data))
        return True

    async def close(self) -> None:
        if not self._eof:
            self._eof = True
            self._outbox.put_nowait(b"")
            self._inbox.put_nowait(b"")
