"""WebSocket framing for the client end of the bridge's wss connections to the relay
(RFC 6455 §5): the data connections and the control connection.

Only what those need: binary and text messages out (masked, as a client must, §5.3),
and in: binary and text data frames with continuation, ping/pong and close. No
extensions are negotiated, so RSV bits must be zero; frames from the server must not
be masked (§5.1).
"""

from __future__ import annotations

import os
import struct
from typing import List, Optional, Tuple

try:  # the C helper of the websockets package, when the application happens to have it
    from websockets.speedups import apply_mask as _c_apply_mask  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - pure-Python fallback (websockets is not a dependency)
    _c_apply_mask = None

OP_CONTINUATION, OP_TEXT, OP_BINARY = 0x0, 0x1, 0x2
OP_CLOSE, OP_PING, OP_PONG = 0x8, 0x9, 0xA

CLOSE_NORMAL = 1000
CLOSE_PROTOCOL_ERROR = 1002
CLOSE_NO_STATUS = 1005  # reported for a close frame without a code; never sent (§7.4.1)
CLOSE_INVALID_DATA = 1007
CLOSE_TOO_BIG = 1009


class WebSocketProtocolError(Exception):
    def __init__(self, message: str, close_code: int = CLOSE_PROTOCOL_ERROR) -> None:
        super().__init__(message)
        self.close_code = close_code


def apply_mask(data: bytes, mask: bytes) -> bytes:
    if _c_apply_mask is not None:
        return _c_apply_mask(data, mask)
    n = len(data)
    key = int.from_bytes((mask * (n // 4 + 1))[:n], "big")
    return (int.from_bytes(data, "big") ^ key).to_bytes(n, "big")


def encode_frame(opcode: int, payload: bytes, mask: Optional[bytes] = None) -> bytes:
    """One final, masked frame (``mask`` for tests; random otherwise)."""
    mask = mask if mask is not None else os.urandom(4)
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    return head + mask + apply_mask(payload, mask)


def close_payload(code: int, reason: str = "") -> bytes:
    return struct.pack("!H", code) + reason.encode("utf-8")[:120]


def _close_code(payload: bytes) -> int:
    """The code of a close frame's payload (§5.5.1, §7.4): none is 1005; one byte, or a
    code no endpoint may send, is a protocol error."""
    if not payload:
        return CLOSE_NO_STATUS
    if len(payload) < 2:
        raise WebSocketProtocolError("close frame with a 1-byte payload")
    code = struct.unpack("!H", payload[:2])[0]
    if not (1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999):
        raise WebSocketProtocolError(f"invalid close code {code}")
    return code


class FrameDecoder:
    """Incremental decoder of server frames. ``feed`` returns the events it completed:
    ``("data", payload)`` for each whole non-empty binary message, ``("ping", payload)``,
    ``("close", code)``, and with ``text`` ``("text", payload)`` for each whole text
    message (UTF-8 bytes, not checked here). Pongs are dropped, and so are text
    messages without ``text`` (a data connection carries DAP bytes in binary messages
    only, docs/protocol.md §3; the control connection's messages are text, §5)."""

    def __init__(self, max_message_bytes: int, *, text: bool = False) -> None:
        self.max_message_bytes = max_message_bytes
        self.text = text
        self._buf = bytearray()
        self._parts: List[bytes] = []
        self._parts_bytes = 0
        self._message_opcode: Optional[int] = None

    def feed(self, data: bytes) -> List[Tuple[str, object]]:
        buf = self._buf
        buf += data
        events: List[Tuple[str, object]] = []
        at = 0
        while len(buf) - at >= 2:
            b0, b1 = buf[at], buf[at + 1]
            if b0 & 0x70:
                raise WebSocketProtocolError("reserved bits set")
            if b1 & 0x80:
                raise WebSocketProtocolError("masked frame from the server")
            n, head = b1 & 0x7F, 2
            if n == 126:
                if len(buf) - at < 4:
                    break
                n, head = struct.unpack_from("!H", buf, at + 2)[0], 4
            elif n == 127:
                if len(buf) - at < 10:
                    break
                n, head = struct.unpack_from("!Q", buf, at + 2)[0], 10
            if n > self.max_message_bytes:
                raise WebSocketProtocolError("frame too large", CLOSE_TOO_BIG)
            if b0 & 0x0F == OP_CONTINUATION and self._parts_bytes + n > self.max_message_bytes:
                raise WebSocketProtocolError("message too large", CLOSE_TOO_BIG)  # before buffering it
            if len(buf) - at < head + n:
                break
            payload = bytes(buf[at + head : at + head + n])
            at += head + n
            self._on_frame(b0 & 0x80 != 0, b0 & 0x0F, payload, events)
        if at:
            del buf[:at]
        return events

    def _on_frame(self, fin: bool, opcode: int, payload: bytes, events: List[Tuple[str, object]]) -> None:
        if opcode >= 0x8:  # control frames: never fragmented, at most 125 bytes (§5.5)
            if not fin or len(payload) > 125:
                raise WebSocketProtocolError("bad control frame")
            if opcode == OP_PING:
                events.append(("ping", payload))
            elif opcode == OP_CLOSE:
                events.append(("close", _close_code(payload)))
            elif opcode != OP_PONG:
                raise WebSocketProtocolError("unknown opcode")
            return
        if opcode == OP_CONTINUATION:
            if self._message_opcode is None:
                raise WebSocketProtocolError("continuation without a message")
        elif opcode in (OP_TEXT, OP_BINARY):
            if self._message_opcode is not None:
                raise WebSocketProtocolError("new message inside a fragmented one")
            self._message_opcode = opcode
        else:
            raise WebSocketProtocolError("unknown opcode")
        self._parts.append(payload)
        self._parts_bytes += len(payload)
        if self._parts_bytes > self.max_message_bytes:
            raise WebSocketProtocolError("message too large", CLOSE_TOO_BIG)
        if fin:
            message = payload if len(self._parts) == 1 else b"".join(self._parts)
            if self._message_opcode == OP_BINARY and message:
                events.append(("data", message))
            elif self._message_opcode == OP_TEXT and self.text:
                events.append(("text", message))
            self._parts, self._parts_bytes, self._message_opcode = [], 0, None
