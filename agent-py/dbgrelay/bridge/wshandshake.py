"""The WebSocket opening handshake of the bridge's wss connections to the relay
(RFC 6455 §4.1), on a connected :class:`SocketStream`: a plain HTTP/1.1 upgrade
request with the credential in the ``Authorization`` header. Any status but 101 is
a refusal (:class:`UpgradeRefused`), whose body is the relay's JSON error."""

from __future__ import annotations

import base64
import hashlib
import os
from typing import Dict, Tuple

from .socketstream import SocketStream

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_RESPONSE_HEAD = 16 * 1024
MAX_ERROR_BODY = 64 * 1024


class UpgradeRefused(Exception):
    """The server answered the upgrade with another status; ``body`` is its body."""

    def __init__(self, status_code: int, body: bytes) -> None:
        super().__init__(f"HTTP {status_code}")
        self.status_code = status_code
        self.body = body


def accept_key(key: bytes) -> bytes:
    return base64.b64encode(hashlib.sha1(key + _GUID).digest())


def upgrade_request(host: str, path: str, key: bytes, headers: Dict[str, str]) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}", "Upgrade: websocket", "Connection: Upgrade", f"Sec-WebSocket-Key: {key.decode('ascii')}", "Sec-WebSocket-Version: 13"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _is_decimal(text: str) -> bool:
    """ASCII digits only (``str.isdigit`` also takes other scripts' digits and '²')."""
    return text.isascii() and text.isdigit()


async def _read_line(stream: SocketStream) -> str:
    try:
        return (await stream.readline(MAX_RESPONSE_HEAD)).decode("latin-1")
    except ValueError:
        raise ConnectionError("relay's upgrade response headers are too long") from None


async def _read_head(stream: SocketStream) -> Tuple[int, Dict[str, str]]:
    status_line = (await _read_line(stream)).rstrip("\r\n")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or len(parts[1]) != 3 or not _is_decimal(parts[1]):
        raise ConnectionError("relay answered the WebSocket upgrade with something that is not HTTP")
    headers: Dict[str, str] = {}
    total = len(status_line)
    while True:
        line = await _read_line(stream)
        total += len(line)
        if total > MAX_RESPONSE_HEAD:
            raise ConnectionError("relay's upgrade response headers are too long")
        if not line.endswith("\n"):
            raise ConnectionError("relay closed the connection during the WebSocket upgrade")
        line = line.rstrip("\r\n")
        if not line:
            return int(parts[1]), headers
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()


async def _read_body(stream: SocketStream, headers: Dict[str, str]) -> bytes:
    """The body of a refusal, at most ``MAX_ERROR_BODY`` bytes: ``Content-Length`` of
    them, or up to the end of the connection when there is no length (RFC 9112 §6.3)."""
    length = headers.get("content-length")
    if length is None:
        return b"" if "transfer-encoding" in headers else await stream.read_exactly(MAX_ERROR_BODY)
    if not _is_decimal(length):
        return b""
    digits = length.lstrip("0")  # int() refuses thousands of digits: never give it many
    size = MAX_ERROR_BODY if len(digits) > 9 else min(int(digits or "0"), MAX_ERROR_BODY)
    return await stream.read_exactly(size) if size else b""


async def upgrade(stream: SocketStream, host: str, path: str, headers: Dict[str, str]) -> None:
    """Upgrade ``stream`` to a WebSocket connection; raises :class:`UpgradeRefused`
    on any status but 101, ConnectionError on an invalid answer. No timeout of its
    own (callers use ``asyncio.wait_for``)."""
    key = base64.b64encode(os.urandom(16))
    await stream.write(upgrade_request(host, path, key, headers))
    status, response_headers = await _read_head(stream)
    if status != 101:
        raise UpgradeRefused(status, await _read_body(stream, response_headers))
    if (
        response_headers.get("upgrade", "").lower() != "websocket"
        or "upgrade" not in response_headers.get("connection", "").lower()
        or response_headers.get("sec-websocket-accept", "").encode("latin-1") != accept_key(key)
    ):
        raise ConnectionError("relay's WebSocket upgrade response is not valid (RFC 6455 §4.1)")
