"""DAP base-protocol framing: ``Content-Length`` headers, parsed incrementally.

See https://microsoft.github.io/debug-adapter-protocol/overview#base-protocol:
a message is a header part (``Name: value`` lines, each ending in CRLF), an empty
line, then exactly ``Content-Length`` bytes of UTF-8 JSON.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Tuple

from .errors import DapFramingError

DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024
MAX_HEADER_BYTES = 1024

_SEPARATOR = b"\r\n\r\n"


def encode_message(message: Dict[str, Any]) -> bytes:
    """Frame one DAP message (header and body in one buffer, so one write)."""
    body = json.dumps(message, separators=(",", ":")).encode("utf-8")
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def _parse_header(header: bytes) -> int:
    length = None
    for line in header.split(b"\r\n"):
        name, sep, value = line.partition(b":")
        if not sep:
            raise DapFramingError(f"malformed DAP header line {line[:80]!r}")
        if name.strip().lower() == b"content-length":
            text = value.strip()
            if not text.isdigit():
                raise DapFramingError(f"invalid Content-Length {text[:40]!r}")
            length = int(text)
    if length is None:
        raise DapFramingError("DAP header without Content-Length")
    return length


class DapReader:
    """Incremental DAP message parser: ``feed()`` bytes, get whole messages back.

    Chunk boundaries are arbitrary. A message larger than ``max_message_bytes``
    or a malformed header raises :class:`DapFramingError`; after that the reader
    is unusable (the stream has lost its framing).
    """

    def __init__(self, max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES) -> None:
        self._max = max_message_bytes
        self._buf = bytearray()
        self._need: int | None = None  # body length once the header is parsed
        self._failed = False
        self._header = b""

    @property
    def buffered(self) -> int:
        """Bytes received but not yet part of a complete message."""
        return len(self._buf)

    def feed(self, data: bytes) -> List[Dict[str, Any]]:
        """Add bytes; return the messages they completed."""
        return [message for _, message in self.feed_frames(data)]

    def feed_frames(self, data: bytes) -> List[Tuple[bytes, Dict[str, Any]]]:
        """Add bytes; return ``(frame bytes, message)`` for each completed message,
        where the frame is exactly the bytes received (header and body)."""
        if self._failed:
            raise DapFramingError("DAP stream already failed")
        self._buf += data
        out: List[Tuple[bytes, Dict[str, Any]]] = []
        try:
            while True:
                if self._need is None:
                    end = self._buf.find(_SEPARATOR)
                    if end < 0:
                        if len(self._buf) > MAX_HEADER_BYTES:
                            raise DapFramingError("DAP header too long")
                        break
                    if end > MAX_HEADER_BYTES:
                        raise DapFramingError("DAP header too long")
                    length = _parse_header(bytes(self._buf[:end]))
                    if length > self._max:
                        raise DapFramingError(
                            f"DAP message of {length} bytes exceeds the limit of {self._max}"
                        )
                    self._header = bytes(self._buf[: end + len(_SEPARATOR)])
                    del self._buf[: end + len(_SEPARATOR)]
                    self._need = length
                if len(self._buf) < self._need:
                    break
                body = bytes(self._buf[: self._need])
                del self._buf[: self._need]
                self._need = None
                try:
                    message = json.loads(body.decode("utf-8"))
                except (UnicodeDecodeError, ValueError) as exc:
                    raise DapFramingError(f"DAP body is not JSON: {exc}") from None
                if not isinstance(message, dict):
                    raise DapFramingError("DAP body is not a JSON object")
                out.append((self._header + body, message))
        except DapFramingError:
            self._failed = True
            raise
        return out
