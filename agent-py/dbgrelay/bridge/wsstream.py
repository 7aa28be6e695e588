"""A WebSocket connection to the relay on a :class:`SocketStream`, after the opening
handshake (``wshandshake.py``).

As a data connection (docs/protocol.md §3) it has the same interface as the stream
beneath it (``read``, ``write``, ``set_handler``, ``hold_reading``...), carrying DAP
bytes in binary messages, so the session's pumps run over wss exactly as over tcps.
The control connection (§5, ``controlchannels.py``) also takes text messages
(``on_text``, :meth:`WebSocketStream.send_text`). Pings are answered; a close frame
is answered and ends the stream. With :meth:`WebSocketStream.start_heartbeat` the
bridge pings the relay itself and takes a relay from which nothing arrived for the
timeout as gone (``liveness.py``).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Callable, Dict, List, Optional

from .socketstream import SocketStream
from .wsframes import (
    CLOSE_NORMAL,
    OP_BINARY,
    OP_CLOSE,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    FrameDecoder,
    WebSocketProtocolError,
    close_payload,
    encode_frame,
)
from .wshandshake import UpgradeRefused, upgrade  # noqa: F401  (UpgradeRefused: callers import it from here)

log = logging.getLogger("dbgrelay.dap")


async def open_websocket(stream: SocketStream, host: str, path: str, headers: Dict[str, str], max_message_bytes: int) -> "WebSocketStream":
    """Upgrade ``stream`` (:func:`~.wshandshake.upgrade`) into a data connection;
    raises :class:`UpgradeRefused` on any status but 101."""
    await upgrade(stream, host, path, headers)
    return WebSocketStream(stream, max_message_bytes)


class WebSocketStream:
    """``on_text``: gets the payload (UTF-8 bytes) of every text message, which are
    dropped without it. ``name`` names the connection in logs. With ``start=False``
    nothing is read until :meth:`start` (callbacks that use the new object)."""

    def __init__(
        self,
        stream: SocketStream,
        max_message_bytes: int,
        *,
        on_text: Optional[Callable[[bytes], None]] = None,
        name: str = "relay data connection",
        start: bool = True,
    ) -> None:
        self.stream = stream
        self.name = name
        self._on_text = on_text
        self._decoder = FrameDecoder(max_message_bytes, text=on_text is not None)
        #: The protocol violation that ended the connection, if one did.
        self.failure: Optional[WebSocketProtocolError] = None
        self._messages: List[bytes] = []
        self._eof = False
        self._close_sent = False
        #: The close code the relay sent, once its close frame arrived.
        self.peer_close_code: Optional[int] = None
        self._peer_closed: "asyncio.Future[None]" = asyncio.get_running_loop().create_future()
        self._waiter: Optional["asyncio.Future[None]"] = None
        self._on_data: Optional[Callable[[bytes], None]] = None
        self._on_eof: Optional[Callable[[], None]] = None
        self._ping_timer: Optional[asyncio.TimerHandle] = None
        self._ping_interval_s = 0.0
        if start:
            self.start()

    def start(self) -> None:
        """Take the stream's bytes from now on, those that came after the 101 first:
        they may reach the callbacks at once (once only, by the constructor unless
        ``start=False``)."""
        self.stream.set_handler(self._on_bytes, self._on_stream_eof)

    # -- liveness ------------------------------------------------------------------
    def start_heartbeat(self, interval_s: float, timeout_s: float) -> None:
        """Ping the relay every ``interval_s``; a relay from which nothing (a frame, a
        ping, a pong) arrived for ``timeout_s`` is gone: the stream ends."""
        self._ping_interval_s = interval_s
        self.stream.watch_silence(timeout_s)
        self._schedule_ping()

    def _schedule_ping(self) -> None:
        self._ping_timer = asyncio.get_running_loop().call_later(self._ping_interval_s, self._ping)

    def _ping(self) -> None:
        self._ping_timer = None
        if self._close_sent or self._eof or self.stream.closed:
            return
        self.stream.write_nowait(encode_frame(OP_PING, b""))
        self._schedule_ping()

    @property
    def silent(self) -> bool:
        """The relay stayed silent past the deadline (the stream ended for that)."""
        return self.stream.silent

    # -- flow control and write state are the socket's ---------------------------
    @property
    def on_write_paused(self) -> Optional[Callable[[bool], None]]:
        return self.stream.on_write_paused

    @on_write_paused.setter
    def on_write_paused(self, callback: Optional[Callable[[bool], None]]) -> None:
        self.stream.on_write_paused = callback

    @property
    def write_paused(self) -> bool:
        return self.stream.write_paused

    def hold_reading(self, reason: str) -> None:
        self.stream.hold_reading(reason)

    def release_reading(self, reason: str) -> None:
        self.stream.release_reading(reason)

    # -- reading -----------------------------------------------------------------
    def _on_bytes(self, data: bytes) -> None:
        try:
            events = self._decoder.feed(data)
        except WebSocketProtocolError as exc:
            self.fail(exc)
            return
        for kind, value in events:
            if kind == "text":
                assert isinstance(value, bytes) and self._on_text is not None
                self._on_text(value)
                if self._eof:  # the handler ended the connection
                    return
            elif kind == "data":
                assert isinstance(value, bytes)
                if self._on_data is not None:
                    self._on_data(value)
                else:
                    self._messages.append(value)
                    self._wake()
            elif kind == "ping":
                assert isinstance(value, bytes)
                self.stream.write_nowait(encode_frame(OP_PONG, value))
            elif kind == "close":
                assert isinstance(value, int)
                self.peer_close_code = value
                self._send_close(CLOSE_NORMAL)
                if not self._peer_closed.done():
                    self._peer_closed.set_result(None)
                self._end()
                return

    def fail(self, error: WebSocketProtocolError) -> None:
        """End the connection for a protocol violation: close frame with its code, abort."""
        log.warning("%s: %s", self.name, error)
        self.failure = error
        self._send_close(error.close_code)
        self._end()
        self.stream.abort()

    def _on_stream_eof(self) -> None:
        if not self._peer_closed.done():
            self._peer_closed.set_result(None)
        self._end()

    def _end(self) -> None:
        if self._eof:
            return
        self._eof = True
        if self._ping_timer is not None:
            self._ping_timer.cancel()
            self._ping_timer = None
        self.stream.set_handler(None, lambda: None)
        if self._on_eof is not None:
            self._on_eof()
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def set_handler(self, on_data: Optional[Callable[[bytes], None]], on_eof: Callable[[], None]) -> None:
        """As :meth:`SocketStream.set_handler`, for the payloads of binary messages."""
        self._on_data = on_data or (lambda data: None)
        self._on_eof = on_eof
        messages, self._messages = self._messages, []
        for message in messages:
            self._on_data(message)
        if self._eof:
            on_eof()

    async def read(self) -> bytes:
        """The payloads received so far (at least one byte); ``b""`` at end of stream."""
        while not self._messages and not self._eof:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        data, self._messages = b"".join(self._messages), []
        return data

    # -- writing -----------------------------------------------------------------
    def write_nowait(self, data: bytes) -> bool:
        if self._close_sent:
            return False
        return self.stream.write_nowait(encode_frame(OP_BINARY, data)) if data else True

    async def write(self, data: bytes) -> None:
        if self._close_sent:
            raise ConnectionResetError("connection closed")
        await self.stream.write(encode_frame(OP_BINARY, data))

    async def send_text(self, text: str) -> None:
        """One text message."""
        if self._close_sent:
            raise ConnectionResetError("connection closed")
        await self.stream.write(encode_frame(OP_TEXT, text.encode("utf-8")))

    def _send_close(self, code: int) -> None:
        if not self._close_sent:
            self._close_sent = True
            self.stream.write_nowait(encode_frame(OP_CLOSE, close_payload(code)))

    async def close(self) -> None:
        """Closing handshake (§7.1.2): send close, wait for the relay's (2 s at most)."""
        if self.stream.closed:
            return
        self._send_close(CLOSE_NORMAL)
        self.stream.release_all_reading()  # data is dropped by now; the relay's close frame must get through
        try:
            await asyncio.wait_for(asyncio.shield(self._peer_closed), 2.0)
        except asyncio.TimeoutError:
            pass
        await self.stream.close()
