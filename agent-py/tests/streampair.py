"""Connected stream pairs for session tests: in memory, or over a real socket pair
(both ends :class:`SocketStream`, so the session runs its callback pumps)."""

from __future__ import annotations

import asyncio
import socket
from typing import Optional, Tuple

import pytest

from dbgrelay.bridge.streams import ByteStream, MemoryByteStream
from dbgrelay.bridge.socketstream import SocketStream

KINDS = ["memory", "socket"]


async def socket_pair() -> Tuple[SocketStream, SocketStream]:
    a, b = socket.socketpair()
    return SocketStream(a), SocketStream(b)


async def stream_pair(kind: str) -> Tuple[ByteStream, ByteStream]:
    return MemoryByteStream.pair() if kind == "memory" else await socket_pair()


class LazyStream:
    """A ByteStream available at once whose connection is made on first use."""

    def __init__(self, pair: "asyncio.Future[Tuple[ByteStream, ByteStream]]", index: int) -> None:
        self._pair, self._index = pair, index
        self._stream: Optional[ByteStream] = None

    async def _get(self) -> ByteStream:
        if self._stream is None:
            self._stream = (await self._pair)[self._index]
        return self._stream

    async def read(self) -> bytes:
        return await (await self._get()).read()

    async def write(self, data: bytes) -> None:
        await (await self._get()).write(data)

    async def close(self) -> None:
        await (await self._get()).close()


@pytest.fixture(params=KINDS)
def relay_kind(request: pytest.FixtureRequest) -> str:
    """memory: coroutine pumps; socket: both ends SocketStream, callback pumps."""
    return request.param
