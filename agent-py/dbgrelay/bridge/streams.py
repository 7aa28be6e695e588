"""What the bridge's byte streams offer (``SocketStream``, ``WebSocketStream``), and
the flow control between the two ends of a session."""

from __future__ import annotations

import socket
from typing import Any, Callable, Optional, Protocol


class ByteStream(Protocol):
    async def read(self) -> bytes:
        """Next chunk; ``b""`` at end of stream (clean or not)."""

    async def write(self, data: bytes) -> None: ...

    async def close(self) -> None:
        """Graceful close (flush, then FIN / WebSocket close)."""


class CallbackStream(ByteStream, Protocol):
    """A stream that can also hand its bytes to a callback, which a session's pumps
    drive (``SocketStream``, ``WebSocketStream``)."""

    on_write_paused: Optional[Callable[[bool], None]]

    def set_handler(self, on_data: Optional[Callable[[bytes], None]], on_eof: Callable[[], None]) -> None: ...
    def hold_reading(self, reason: str) -> None: ...
    def release_reading(self, reason: str) -> None: ...
    def write_nowait(self, data: bytes) -> bool: ...


def follow_peer(reader: CallbackStream, peer_paused: bool) -> None:
    """Pause reading from ``reader`` while the stream its bytes go to has a full write
    buffer; resume once it drained."""
    if peer_paused:
        reader.hold_reading("peer")
    else:
        reader.release_reading("peer")


def join_flow_control(a: CallbackStream, b: CallbackStream) -> None:
    """A full write buffer on one stream pauses reading on the other, both ways."""
    a.on_write_paused = lambda paused: follow_peer(b, paused)
    b.on_write_paused = lambda paused: follow_peer(a, paused)


def set_nodelay(sock: Any) -> None:
    """``TCP_NODELAY`` on a TCP socket (every hop of ours sends each message at once)."""
    if getattr(sock, "family", None) in (socket.AF_INET, socket.AF_INET6):
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except (OSError, AttributeError):
            pass
