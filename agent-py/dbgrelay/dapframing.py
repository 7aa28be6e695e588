"""DAP base-protocol framing: ``Content-Length`` headers, parsed incrementally.

See https://microsoft.github.io/debug-adapter-protocol/overview#base-protocol:
a message is a header part (``Name: value`` lines, each ending in CRLF), an empty
line, then exactly ``Content-Length`` bytes of UTF-8 JSON.
"""

from __future__ import annotations

import json
import re
from typing import Any, Dict, List, Optional, Tuple, Union

from .errors import DapFramingError

DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024
MAX_HEADER_BYTES = 1024

_SEPARATOR = b"\r\n\r\n"
# The header every DAP implementation writes (debugpy, VS Code): matched in one step;
# anything else goes through the general parser.
_PLAIN_HEADER = re.compile(rb"Content-Length: ([0-9]{1,12})\r\n\r\n")


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
    is unusable (the stream has lost its framing). A chunk that holds whole
    messages only (the usual case) is sliced without being copied into a buffer.
    """

    def __init__(self, max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES) -> None:
        self._max = max_message_bytes
        self._buf = bytearray()  # always starts at the beginning of a message
        self._need: Optional[int] = None  # whole frame length once its header is parsed
        self._body_at = 0  # offset of the body in that frame
        self._failed = False

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
        return [(frame, self.parse(frame, body_at)) for frame, body_at in self.feed_raw(data)]

    def parse(self, frame: bytes, body_at: int) -> Dict[str, Any]:
        """The JSON object in a frame from :meth:`feed_raw` (a bad body fails the reader)."""
        try:
            message = json.loads(frame[body_at:].decode("utf-8"))  # UTF-8 only, as debugpy
        except (UnicodeDecodeError, ValueError) as exc:
            self._failed = True
            raise DapFramingError(f"DAP body is not JSON: {exc}") from None
        if not isinstance(message, dict):
            self._failed = True
            raise DapFramingError("DAP body is not a JSON object")
        return message

    def feed_raw(self, data: bytes) -> List[Tuple[bytes, int]]:
        """Add bytes; return ``(frame bytes, body offset)`` for each completed message,
        without parsing the bodies."""
        if self._failed:
            raise DapFramingError("DAP stream already failed")
        if self._buf:
            self._buf += data
            view: Union[bytes, bytearray] = self._buf
        else:
            view = data
        out: List[Tuple[bytes, int]] = []
        pos, size = 0, len(view)
        try:
            while True:
                if self._need is None:
                    plain = _PLAIN_HEADER.match(view, pos)
                    if plain is not None:
                        length, body_at = int(plain.group(1)), plain.end()
                    else:
                        end = view.find(_SEPARATOR, pos)
                        if end < 0:
                            if size - pos > MAX_HEADER_BYTES:
                                raise DapFramingError("DAP header too long")
                            break
                        if end - pos > MAX_HEADER_BYTES:
                            raise DapFramingError("DAP header too long")
                        length, body_at = _parse_header(bytes(view[pos:end])), end + len(_SEPARATOR)
                    if length > self._max:
                        raise DapFramingError(
                            f"DAP message of {length} bytes exceeds the limit of {self._max}"
                        )
                    self._body_at = body_at - pos
                    self._need = self._body_at + length
                if size - pos < self._need:
                    break
                # bytes(b[0:len(b)]) of a bytes object is that object: no copy
                out.append((bytes(view[pos:pos + self._need]), self._body_at))
                pos += self._need
                self._need = None
        except DapFramingError:
            self._failed = True
            raise
        if view is self._buf:
            del self._buf[:pos]
        elif pos < size:
            self._buf += view[pos:]
        return out
