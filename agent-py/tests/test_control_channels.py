"""The control connection's channels on the bridge's own streams: WebSocket text
messages (against the websockets library's server) and lines; the WebSocket upgrade's
answers."""

from __future__ import annotations

import asyncio
import json
import ssl
from typing import Any, List

import pytest
from conftest import Certs

from dbgrelay import protocol
from dbgrelay.bridge.controlchannels import MAX_QUEUED_MESSAGES, LineControl, WsControl
from dbgrelay.bridge.socketdial import open_socket_stream
from dbgrelay.bridge.wsframes import CLOSE_INVALID_DATA
from dbgrelay.bridge.wshandshake import MAX_RESPONSE_HEAD, UpgradeRefused, upgrade
from dbgrelay.errors import ProtocolError

PING = {"type": "ping", "id": 1}


def test_ws_control_exchanges_text_messages_answers_pings_and_ends_on_close(certs: Certs) -> None:
    from websockets.asyncio.server import serve

    async def main() -> None:
        got: List[Any] = []

        async def handler(ws: Any) -> None:
            await asyncio.wait_for(ws.ping(), 5)  # the channel must answer
            got.append(json.loads(await ws.recv()))
            await ws.send(json.dumps(PING))
            await ws.send(json.dumps(PING).encode())  # a binary message reads the same
            await ws.close(1001)

        async with serve(handler, "127.0.0.1", 0, ssl=certs.server_context(), compression=None) as server:
            port = server.sockets[0].getsockname()[1]
            stream = await open_socket_stream("127.0.0.1", port, ssl_context=ssl.create_default_context(cafile=certs.ca), server_hostname="127.0.0.1")
            await upgrade(stream, f"127.0.0.1:{port}", "/v1/agent", {})
            channel = WsControl(stream)
            await channel.send({"type": "pong", "id": 7})
            assert await asyncio.wait_for(channel.recv(), 5) == PING
            assert await asyncio.wait_for(channel.recv(), 5) == PING
            assert await asyncio.wait_for(channel.recv(), 5) is None
            assert channel.ws.peer_close_code == 1001
            await channel.close()
            assert got == [{"type": "pong", "id": 7}]

    asyncio.run(main())


def test_ws_control_refuses_a_message_over_the_bound(certs: Certs) -> None:
    from websockets.asyncio.server import serve

    async def main() -> None:
        async def handler(ws: Any) -> None:
            await ws.send("x" * (protocol.MAX_CONTROL_MESSAGE_BYTES + 1))
            await ws.wait_closed()

        async with serve(handler, "127.0.0.1", 0, ssl=certs.server_context(), compression=None) as server:
            port = server.sockets[0].getsockname()[1]
            stream = await open_socket_stream("127.0.0.1", port, ssl_context=ssl.create_default_context(cafile=certs.ca), server_hostname="127.0.0.1")
            await upgrade(stream, f"127.0.0.1:{port}", "/v1/agent", {})
            channel = WsControl(stream)
            with pytest.raises(ProtocolError) as info:
                await asyncio.wait_for(channel.recv(), 5)
            assert info.value.code == "MESSAGE_TOO_LARGE"
            await channel.close()

    asyncio.run(main())


def server_text(payload: bytes) -> bytes:
    return bytes([0x81, len(payload)]) + payload


def test_ws_control_takes_messages_that_came_with_the_101() -> None:
    from streampair import socket_pair

    async def main() -> None:
        relay, bridge_end = await socket_pair()
        await relay.write(b"".join(server_text(json.dumps({"type": "ping", "id": i}).encode()) for i in range(MAX_QUEUED_MESSAGES + 2)))
        await asyncio.sleep(0.05)  # buffered in the stream before the channel exists
        channel = WsControl(bridge_end)
        for i in range(MAX_QUEUED_MESSAGES + 2):
            assert await asyncio.wait_for(channel.recv(), 5) == {"type": "ping", "id": i}
        await relay.close()
        assert await asyncio.wait_for(channel.recv(), 5) is None
        await channel.close()

    asyncio.run(main())


def test_ws_control_fails_on_text_that_is_not_utf8_and_came_with_the_101() -> None:
    from streampair import socket_pair

    async def main() -> None:
        relay, bridge_end = await socket_pair()
        await relay.write(server_text(b"\xff\xfe"))
        await asyncio.sleep(0.05)
        channel = WsControl(bridge_end)
        assert await asyncio.wait_for(channel.recv(), 5) is None
        assert channel.ws.failure is not None and channel.ws.failure.close_code == CLOSE_INVALID_DATA
        await relay.close()
        await channel.close()

    asyncio.run(main())


async def _upgrade_answered_with(head: bytes) -> None:
    from streampair import socket_pair

    relay, bridge_end = await socket_pair()
    answering = asyncio.ensure_future(upgrade(bridge_end, "relay", "/v1/agent", {}))
    assert (await relay.readline(1024)).startswith(b"GET /v1/agent ")
    await relay.write(head)
    await relay.close()
    try:
        await asyncio.wait_for(answering, 5)
    finally:
        bridge_end.abort()


@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/1.1 \xb201 Switching Protocols\r\n\r\n",  # '\xb2' is a digit to str.isdigit
        b"HTTP/1.1 1010 Switching Protocols\r\n\r\n",
        b"HTTP/1.1 " + b"1" * 5000 + b"\r\n\r\n",
        b"HTTP/1.1 101 " + b"x" * (MAX_RESPONSE_HEAD + 1),
        b"HTTP/1.1 101 Switching Protocols\r\nX-Long: " + b"a" * (MAX_RESPONSE_HEAD + 1) + b"\r\n\r\n",
        b"HTTP/1.1 101 Switching Protocols\r\n" + b"X-Many: a\r\n" * (MAX_RESPONSE_HEAD // 10),
    ],
    ids=["non-ascii-digit", "four-digits", "thousands-of-digits", "long-status-line", "long-header", "many-headers"],
)
def test_a_malformed_or_oversized_upgrade_response_is_a_connection_error(head: bytes) -> None:
    with pytest.raises(ConnectionError) as info:
        asyncio.run(_upgrade_answered_with(head))
    assert type(info.value) is ConnectionError  # not the peer gone (ConnectionResetError)


@pytest.mark.parametrize(
    "length, body",
    [(b"\xb2", b""), (b"1" * 5000, b"{}"), (b"0" * 5000 + b"2", b"{}"), (b"x", b"")],
    ids=["non-ascii-digit", "thousands-of-digits", "thousands-of-zeros", "not-a-number"],
)
def test_a_refusal_with_an_odd_content_length_is_still_a_refusal(length: bytes, body: bytes) -> None:
    with pytest.raises(UpgradeRefused) as refused:
        asyncio.run(_upgrade_answered_with(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: " + length + b"\r\n\r\n{}"))
    assert refused.value.status_code == 401 and refused.value.body == body


def test_line_control_reads_lines_and_refuses_one_over_the_bound() -> None:
    from streampair import socket_pair

    async def main() -> None:
        relay, bridge_end = await socket_pair()
        channel = LineControl(bridge_end)
        await relay.write(json.dumps(PING).encode() + b"\n" + b"x" * (protocol.MAX_CONTROL_MESSAGE_BYTES + 1))
        assert await channel.recv() == PING
        with pytest.raises(ProtocolError) as info:
            await channel.recv()
        assert info.value.code == "MESSAGE_TOO_LARGE"
        await channel.send({"type": "pong", "id": 1})
        assert await relay.readline(1024) == b'{"type":"pong","id":1}\n'
        await relay.close()
        await channel.close()

    asyncio.run(main())
