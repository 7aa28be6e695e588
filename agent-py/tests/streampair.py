"""Connected stream pairs for session tests: both ends :class:`SocketStream` over a
socket pair, as the bridge's relay and adapter connections are."""

from __future__ import annotations

import asyncio
import socket
from typing import Optional, Tuple

from dbgrelay.bridge.socketstream import SocketStream
from dbgrelay.bridge.streams import ByteStream


async def socket_pair() -> Tuple[SocketStream, SocketStream]:
    a, b = socket.socketpair()
    return SocketStream(a), SocketStream(b)


class LazyStream:
    """A ByteStream available at once whose connection is made on first use."""

    def __init__(self, pair: "asyncio.Future[Tuple[SocketStream, SocketStream]]", index: int) -> None:
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
