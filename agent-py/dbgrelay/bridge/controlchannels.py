"""The control connection's message channel (docs/protocol.md §5) on a connected,
authenticated :class:`SocketStream`: text messages of a WebSocket (wss) or lines
(tcps). Both bound a message at ``protocol.MAX_CONTROL_MESSAGE_BYTES``: a longer one
ends the connection with ``MESSAGE_TOO_LARGE``."""

from __future__ import annotations

import asyncio
import collections
from typing import Any, Deque, Dict, Optional, Protocol, Union

from .. import protocol
from ..errors import MESSAGE_TOO_LARGE, ProtocolError
from .socketstream import SocketStream
from .wsframes import CLOSE_INVALID_DATA, CLOSE_TOO_BIG, WebSocketProtocolError
from .wsstream import WebSocketStream

#: Messages received and not read yet above which reading from the relay pauses.
MAX_QUEUED_MESSAGES = 16


class ControlChannel(Protocol):
    async def send(self, message: Dict[str, Any]) -> None: ...
    async def recv(self) -> Optional[Dict[str, Any]]:
        """Next validated message; None when the connection closed."""

    async def close(self) -> None: ...


def _too_large() -> ProtocolError:
    return ProtocolError("control message too large", code=MESSAGE_TOO_LARGE)


class WsControl:
    """The control channel over wss, after the upgrade: one message per WebSocket
    message (text; a binary one is read the same way). Pings are answered, the
    relay's close frame is answered and ends the channel."""

    def __init__(self, stream: SocketStream) -> None:
        self._messages: Deque[Union[str, bytes]] = collections.deque()
        self._ended = False
        self._waiter: Optional["asyncio.Future[None]"] = None
        # Bytes that came with the 101 are decoded by start(): the callbacks use self.ws.
        self.ws = WebSocketStream(stream, protocol.MAX_CONTROL_MESSAGE_BYTES, on_text=self._on_text, name="relay control connection", start=False)
        self.ws.set_handler(self._queue, self._on_end)
        self.ws.start()

    def _on_text(self, payload: bytes) -> None:
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:
            self.ws.fail(WebSocketProtocolError("text message is not UTF-8", CLOSE_INVALID_DATA))
            return
        self._queue(text)

    def _queue(self, message: Union[str, bytes]) -> None:
        self._messages.append(message)
        if len(self._messages) >= MAX_QUEUED_MESSAGES:
            self.ws.hold_reading("queue")
        self._wake()

    def _on_end(self) -> None:
        self._ended = True
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def send(self, message: Dict[str, Any]) -> None:
        await self.ws.send_text(protocol.encode(message))

    async def recv(self) -> Optional[Dict[str, Any]]:
        while not self._messages and not self._ended:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        if self._messages:
            message = self._messages.popleft()
            if len(self._messages) < MAX_QUEUED_MESSAGES:
                self.ws.release_reading("queue")
            return protocol.parse_control(message)
        failure = self.ws.failure
        if failure is not None and failure.close_code == CLOSE_TOO_BIG:
            raise _too_large()
        return None

    async def close(self) -> None:
        await self.ws.close()


class LineControl:
    """The control channel over tcps, after the hello line: one message per line."""

    def __init__(self, stream: SocketStream) -> None:
        self.stream = stream

    async def send(self, message: Dict[str, Any]) -> None:
        await self.stream.write((protocol.encode(message) + "\n").encode("utf-8"))

    async def recv(self) -> Optional[Dict[str, Any]]:
        try:
            line = await self.stream.readline(protocol.MAX_CONTROL_MESSAGE_BYTES)
        except ValueError:
            raise _too_large() from None
        if not line:
            return None
        return protocol.parse_control(line)

    async def close(self) -> None:
        await self.stream.close()
