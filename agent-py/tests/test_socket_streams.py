"""The bridge's data-path streams: SocketStream (TCP/TLS), WebSocket framing and the
WebSocket data connection, against real sockets and the websockets library's server."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import ssl
from typing import Any, List

import pytest
from conftest import Certs

from dbgrelay.bridge.socketdial import open_socket_stream
from dbgrelay.bridge.socketstream import WRITE_HIGH_WATER, SocketStream
from dbgrelay.bridge.wsframes import (
    OP_BINARY,
    OP_CLOSE,
    OP_PING,
    OP_TEXT,
    FrameDecoder,
    WebSocketProtocolError,
    apply_mask,
    encode_frame,
)
from dbgrelay.bridge.wsstream import UpgradeRefused, open_websocket


def client_context(certs: Certs) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=certs.ca)


def server_frame(opcode: int, payload: bytes, fin: bool = True) -> bytes:
    n = len(payload)
    first = (0x80 if fin else 0) | opcode
    head = bytes([first, n]) if n < 126 else bytes([first, 126]) + n.to_bytes(2, "big")
    return head + payload


# -- SocketStream -------------------------------------------------------------------


def test_tls_stream_carries_megabytes_both_ways_at_once(certs: Certs) -> None:
    """Large simultaneous transfers: TLS records buffered inside the SSL object and
    writes the kernel cannot take at once must neither lose nor reorder bytes."""
    payload = os.urandom(3 * 1024 * 1024)

    async def main() -> None:
        async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
            writer.close()

        server = await asyncio.start_server(echo, "127.0.0.1", 0, ssl=certs.server_context())
        port = server.sockets[0].getsockname()[1]
        stream = await open_socket_stream("127.0.0.1", port, ssl_context=client_context(certs), server_hostname="127.0.0.1")
        import socket

        stream.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 32768)  # make the kernel refuse some
        got = bytearray()
        done = asyncio.get_running_loop().create_future()
        pauses: List[bool] = []
        stream.on_write_paused = pauses.append

        def on_data(data: bytes) -> None:
            got.extend(data)
            if len(got) >= len(payload) and not done.done():
                done.set_result(None)

        stream.set_handler(on_data, lambda: None)
        for at in range(0, len(payload), 100_000):
            stream.write_nowait(payload[at : at + 100_000])
        await asyncio.wait_for(done, 20)
        assert hashlib.sha256(got).digest() == hashlib.sha256(payload).digest()
        assert pauses and pauses[-1] is False  # it filled up, then drained
        await stream.close()
        server.close()

    asyncio.run(main())


def test_a_peer_that_does_not_read_pauses_writing_until_it_does() -> None:
    async def main() -> None:
        import socket

        a, b = socket.socketpair()
        stream = SocketStream(a)
        states: List[bool] = []
        stream.on_write_paused = states.append
        chunk = b"x" * 65536
        while not stream.write_paused:
            assert stream.write_nowait(chunk)
        assert states == [True]
        reader = SocketStream(b)
        received = 0

        def count(data: bytes) -> None:
            nonlocal received
            received += len(data)

        reader.set_handler(count, lambda: None)
        for _ in range(100):
            await asyncio.sleep(0.02)
            if not stream.write_paused:
                break
        assert states == [True, False]
        assert received > WRITE_HIGH_WATER
        await stream.close()
        await reader.close()

    asyncio.run(main())


def test_every_paused_writer_resumes_once_the_queue_drains() -> None:
    async def main() -> None:
        import socket

        a, b = socket.socketpair()
        a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        stream = SocketStream(a)
        first = asyncio.ensure_future(stream.write(b"x" * (2 * WRITE_HIGH_WATER)))
        await asyncio.sleep(0.01)
        assert stream.write_paused and not first.done()
        second = asyncio.ensure_future(stream.write(b"y" * 10))  # another sender, paused too
        await asyncio.sleep(0.01)
        received = 0

        def count(data: bytes) -> None:
            nonlocal received
            received += len(data)

        reader = SocketStream(b)
        reader.set_handler(count, lambda: None)
        await asyncio.wait_for(asyncio.gather(first, second), 5)
        assert not stream.write_paused
        await stream.close()
        await reader.close()

    asyncio.run(main())


def test_end_of_stream_and_writes_after_close() -> None:
    async def main() -> None:
        import socket

        a, b = socket.socketpair()
        left, right = SocketStream(a), SocketStream(b)
        await left.write(b"last words")
        await left.close()
        assert await right.read() == b"last words"
        assert await right.read() == b""
        assert not left.write_nowait(b"more")
        with pytest.raises(ConnectionResetError):
            await left.write(b"more")
        await right.close()

    asyncio.run(main())


def test_readline_refuses_a_line_over_the_limit() -> None:
    async def main() -> None:
        import socket

        a, b = socket.socketpair()
        left, right = SocketStream(a), SocketStream(b)
        await left.write(b"x" * 200 + b"\n")
        with pytest.raises(ValueError):
            await right.readline(100)
        await left.close()
        await right.close()

    asyncio.run(main())


def test_connection_refused_is_an_os_error() -> None:
    async def main() -> None:
        import socket

        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        with pytest.raises(OSError):
            await open_socket_stream("127.0.0.1", port)

    asyncio.run(main())


def test_untrusted_certificate_fails_the_handshake(certs: Certs) -> None:
    async def main() -> None:
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0, ssl=certs.server_context())
        port = server.sockets[0].getsockname()[1]
        other = ssl.create_default_context(cafile=certs.other_ca)
        with pytest.raises(ssl.SSLCertVerificationError):
            await open_socket_stream("127.0.0.1", port, ssl_context=other, server_hostname="127.0.0.1")
        server.close()

    asyncio.run(main())


# -- WebSocket frames ---------------------------------------------------------------


def test_client_frames_are_masked_and_unmask_to_the_payload() -> None:
    for size in (0, 5, 125, 126, 65535, 65536, 200_000):
        payload = os.urandom(size)
        frame = encode_frame(OP_BINARY, payload, mask=b"\x01\x02\x03\x04")
        assert frame[0] == 0x82 and frame[1] & 0x80
        n = frame[1] & 0x7F
        at = 2 if n < 126 else 4 if n == 126 else 10
        assert frame[at : at + 4] == b"\x01\x02\x03\x04"
        assert apply_mask(frame[at + 4 :], b"\x01\x02\x03\x04") == payload


def test_decoder_joins_fragments_answers_pings_and_drops_text() -> None:
    decoder = FrameDecoder(1024)
    wire = (
        server_frame(OP_BINARY, b"Content-", fin=False)
        + server_frame(OP_PING, b"hi")
        + server_frame(0x0, b"Length", fin=True)
        + server_frame(OP_TEXT, b"ignored")
        + server_frame(OP_CLOSE, (1001).to_bytes(2, "big"))
    )
    events: List[Any] = []
    for i in range(len(wire)):  # one byte at a time: every boundary
        events += decoder.feed(wire[i : i + 1])
    assert events == [("ping", b"hi"), ("data", b"Content-Length"), ("close", 1001)]


@pytest.mark.parametrize(
    "wire, message",
    [
        (bytes([0x82, 0x85]) + b"\0\0\0\0abcde", "masked frame from the server"),
        (bytes([0xC2, 0x01]) + b"a", "reserved bits set"),
        (bytes([0x80, 0x01]) + b"a", "continuation without a message"),
        (bytes([0x89, 126, 0, 200]) + b"p" * 200, "bad control frame"),
        (bytes([0x82, 127]) + (1 << 40).to_bytes(8, "big"), "frame too large"),
        (bytes([0x83, 0x01]) + b"a", "unknown opcode"),
        (bytes([0x88, 0x01]) + b"\x03", "close frame with a 1-byte payload"),
        (bytes([0x88, 0x02]) + (1005).to_bytes(2, "big"), "invalid close code 1005"),
        (bytes([0x88, 0x02]) + (999).to_bytes(2, "big"), "invalid close code 999"),
        (bytes([0x88, 0x02]) + (5000).to_bytes(2, "big"), "invalid close code 5000"),
    ],
)
def test_decoder_refuses_protocol_violations(wire: bytes, message: str) -> None:
    with pytest.raises(WebSocketProtocolError, match=message):
        FrameDecoder(1024).feed(wire)


def test_decoder_takes_close_frames_with_no_code_or_a_valid_one() -> None:
    wire = server_frame(OP_CLOSE, b"") + server_frame(OP_CLOSE, (4000).to_bytes(2, "big") + b"bye")
    assert FrameDecoder(1024).feed(wire) == [("close", 1005), ("close", 4000)]


def test_decoder_refuses_a_fragmented_message_over_the_bound_before_buffering_it() -> None:
    decoder = FrameDecoder(1024)
    assert decoder.feed(server_frame(OP_BINARY, b"a" * 800, fin=False)) == []
    with pytest.raises(WebSocketProtocolError, match="message too large") as info:
        decoder.feed(bytes([0x80, 126]) + (300).to_bytes(2, "big"))  # the header alone: 800 + 300 > 1024
    assert info.value.close_code == 1009


# -- the WebSocket data connection against the websockets library's server ----------


def test_websocket_stream_against_a_real_websocket_server(certs: Certs) -> None:
    from websockets.asyncio.server import serve

    async def main() -> None:
        seen_headers: List[Any] = []

        async def handler(ws: Any) -> None:
            seen_headers.append(ws.request.headers)
            await asyncio.wait_for(ws.ping(), 5)  # our stream must answer
            async for message in ws:
                await ws.send(message[::-1])

        async with serve(handler, "127.0.0.1", 0, ssl=certs.server_context(), compression=None) as server:
            port = server.sockets[0].getsockname()[1]
            stream = await open_socket_stream("127.0.0.1", port, ssl_context=client_context(certs), server_hostname="127.0.0.1")
            ws = await open_websocket(stream, f"127.0.0.1:{port}", "/v1/agent/sessions/x", {"Authorization": "Basic c2VjcmV0Og=="}, 1 << 20)
            await ws.write(b"abc")
            assert await ws.read() == b"cba"
            big = os.urandom(300_000)
            await ws.write(big)
            got = b""
            while len(got) < len(big):
                got += await ws.read()
            assert got == big[::-1]
            await ws.close()
            assert ws.peer_close_code == 1000
            assert seen_headers[0]["Authorization"] == "Basic c2VjcmV0Og=="

            # A session that stopped reading (its client pump ended) still completes
            # the closing handshake instead of waiting out the timeout.
            stream = await open_socket_stream("127.0.0.1", port, ssl_context=client_context(certs), server_hostname="127.0.0.1")
            ws = await open_websocket(stream, f"127.0.0.1:{port}", "/v1/agent/sessions/y", {}, 1 << 20)
            ws.set_handler(None, lambda: None)
            ws.hold_reading("ended")
            await ws.close()
            assert ws.peer_close_code == 1000

    asyncio.run(main())


def test_a_refused_upgrade_carries_the_status_and_json_body(certs: Certs) -> None:
    body = json.dumps({"error": {"code": "AUTH_FAILED", "message": "credential refused"}}).encode()

    async def main() -> None:
        async def refuse(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(refuse, "127.0.0.1", 0, ssl=certs.server_context())
        port = server.sockets[0].getsockname()[1]
        stream = await open_socket_stream("127.0.0.1", port, ssl_context=client_context(certs), server_hostname="127.0.0.1")
        with pytest.raises(UpgradeRefused) as refused:
            await open_websocket(stream, f"127.0.0.1:{port}", "/x", {}, 1024)
        assert refused.value.status_code == 401 and refused.value.body == body
        stream.abort()
        server.close()

    asyncio.run(main())
