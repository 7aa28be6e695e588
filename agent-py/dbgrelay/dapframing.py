"""DAP base-protocol framing: ``Content-Length`` headers, parsed incrementally.

See https://microsoft.github.io/debug-adapter-protocol/overview#base-protocol:
a message is a header part (``Name: value`` lines, each ending in CRLF), an empty
line, then exactly ``Content-Length`` bytes of UTF-8 JSON.

Every frame the reader hands on is canonical, ``Content-Length: N\r\n\r\n`` then the
body: debugpy's reader looks up exactly ``b"Content-Length"`` among the header lines,
and its reader thread dies on anything else (leaving a paused program paused). The
header rule, the same as the relay's (src/dap/dapFramer.ts):

- ``Content-Length: N\r\n\r\n`` (1 to 12 digits, no leading zero) passes as the
  exact bytes that arrived: the path of every message.
- Any other header (the bytes before the first ``\r\n\r\n``, at most 1024) is read
  line by line and accepted only when it is unambiguous: every line is
  ``name:value``, the name made of RFC 9110 token characters from the first column
  right up to the colon (no leading whitespace, no whitespace before the colon), the
  value printable ASCII or tabs; exactly one line is named ``Content-Length``
  (compared case-insensitively), its value 1 to 12 digits with optional spaces or tabs
  around them. Such a message is re-framed with a canonical header; the other fields
  are dropped.
- Anything else raises :class:`DapFramingError`: a duplicate Content-Length (even
  with the same value), whitespace before the colon, a line starting with whitespace,
  a line without a colon, a value that is not digits, no Content-Length, a header
  longer than 1024 bytes.
"""

from __future__ import annotations

import json
import re
from typing import Any, Dict, List, Optional, Tuple, Union

from .errors import DapFramingError

DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024  # the relay's and client's default (test/fixtures/dapBoundVectors.json)
MAX_HEADER_BYTES = 1024

_SEPARATOR = b"\r\n\r\n"
# The header every DAP implementation writes (debugpy, VS Code), its length without a
# leading zero (the relay's rule): matched in one step; anything else goes through the
# general parser, and comes out re-framed.
_PLAIN_HEADER = re.compile(rb"Content-Length: (0|[1-9][0-9]{0,11})\r\n\r\n")
# A header line of the general path: an RFC 9110 token from the first column up to the
# colon, then printable ASCII or tabs.
_FIELD_LINE = re.compile(rb"([!#$%&'*+.^_`|~0-9A-Za-z-]+):([\t\x20-\x7e]*)")
_LENGTH_VALUE = re.compile(rb"[\t ]*([0-9]{1,12})[\t ]*")


def canonical_header(length: int) -> bytes:
    """The one header debugpy reads for a body of ``length`` bytes."""
    return b"Content-Length: %d\r\n\r\n" % length


def encode_message(message: Dict[str, Any]) -> bytes:
    """Frame one DAP message (header and body in one buffer, so one write)."""
    body = json.dumps(message, separators=(",", ":")).encode("utf-8")
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def _parse_header(header: bytes) -> int:
    """The body length of a non-canonical header, under the rule of this module."""
    length = None
    for line in header.split(b"\r\n"):
        field = _FIELD_LINE.fullmatch(line)
        if field is None:
            raise DapFramingError(f"malformed DAP header line {line[:80]!r}")
        if field.group(1).lower() != b"content-length":
            continue
        if length is not None:
            raise DapFramingError("DAP header with more than one Content-Length")
        value = _LENGTH_VALUE.fullmatch(field.group(2))
        if value is None:
            raise DapFramingError(f"invalid Content-Length {field.group(2)[:40]!r}")
        length = int(value.group(1))
    if length is None:
        raise DapFramingError("DAP header without Content-Length")
    return length


#: The deepest nesting of arrays and objects a client's message may have (the relay's
#: bound too, docs/protocol.md §3): far above any DAP request, far below the depth at
#: which a recursive walk (``json.dumps``, schema checks) exhausts the stack.
MAX_JSON_DEPTH = 64


def json_depth(value: Any, limit: int = MAX_JSON_DEPTH) -> int:
    """Nesting depth of arrays and objects in a parsed JSON value, walked without
    recursion; stops at ``limit + 1``."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > deepest:
            deepest = depth
            if deepest > limit:
                return limit + 1
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


class DapReader:
    """Incremental DAP message parser: ``feed()`` bytes, get whole messages back.

    Chunk boundaries are arbitrary. A message larger than ``max_message_bytes``
    or a header refused by the module's rule raises :class:`DapFramingError`; after
    that the reader is unusable (the stream has lost its framing). A chunk that holds
    whole canonical messages only (the usual case) is sliced without being copied into
    a buffer; a message whose header was not canonical comes out re-framed.
    """

    def __init__(self, max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES, max_depth: Optional[int] = None) -> None:
        self._max = max_message_bytes
        self._max_depth = max_depth  # nesting bound of parsed bodies (the client's side)
        self._buf = bytearray()  # always starts at the beginning of a message
        self._need: Optional[int] = None  # whole frame length once its header is parsed
        self._body_at = 0  # offset of the body in that frame
        self._canonical = True  # whether that frame's header arrived canonical
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
        where the frame is canonical (the bytes received when their header was)."""
        return [(frame, self.parse(frame, body_at)) for frame, body_at in self.feed_raw(data)]

    def parse(self, frame: bytes, body_at: int) -> Dict[str, Any]:
        """The JSON object in a frame from :meth:`feed_raw` (a bad body fails the reader)."""
        try:
            message = json.loads(frame[body_at:].decode("utf-8"))  # UTF-8 only, as debugpy
        except (UnicodeDecodeError, ValueError) as exc:
            self._failed = True
            raise DapFramingError(f"DAP body is not JSON: {exc}") from None
        except RecursionError:  # nested deeper than the interpreter's recursion limit
            self._failed = True
            raise DapFramingError(f"DAP body nests deeper than {self._max_depth or MAX_JSON_DEPTH} levels") from None
        if not isinstance(message, dict):
            self._failed = True
            raise DapFramingError("DAP body is not a JSON object")
        if self._max_depth is not None and json_depth(message, self._max_depth) > self._max_depth:
            self._failed = True
            raise DapFramingError(f"DAP body nests deeper than {self._max_depth} levels")
        return message

    def feed_raw(self, data: bytes) -> List[Tuple[bytes, int]]:
        """Add bytes; return ``(canonical frame bytes, body offset)`` for each
        completed message, without parsing the bodies."""
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
                    self._canonical = plain is not None
                    if plain is not None:
                        length, body_at = int(plain.group(1)), plain.end()
                    else:
                        end = view.find(_SEPARATOR, pos)
                        if end < 0:
                            # after a header of the full bound, up to 3 bytes of the
                            # separator may be here: only more is too long, in any chunking
                            if size - pos > MAX_HEADER_BYTES + len(_SEPARATOR) - 1:
                                raise DapFramingError("DAP header too long")
                            break
                        if end - pos > MAX_HEADER_BYTES:
                            raise DapFramingError("DAP header too long")
                        length, body_at = _parse_header(bytes(view[pos:end])), end + len(_SEPARATOR)
                    if length > self._max:
                        raise DapFramingError(f"DAP message of {length} bytes exceeds the limit of {self._max}")
                    self._body_at = body_at - pos
                    self._need = self._body_at + length
                if size - pos < self._need:
                    break
                if self._canonical:
                    # bytes(b[0:len(b)]) of a bytes object is that object: no copy
                    out.append((bytes(view[pos : pos + self._need]), self._body_at))
                else:
                    header = canonical_header(self._need - self._body_at)
                    out.append((header + bytes(view[pos + self._body_at : pos + self._need]), len(header)))
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
