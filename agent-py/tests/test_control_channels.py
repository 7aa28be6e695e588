"""The control connection's channels on the bridge's own streams: WebSocket text
messages (against the websockets library's server) and lines."""

from __future__ import annotations

import asyncio
import json
import ssl
from typing import Any, List

import pytest
from conftest import Certs

from dbgrelay import protocol
from dbgrelay.bridge.controlchannels import LineControl, WsControl
from dbgrelay.bridge.socketdial import open_socket_stream
from dbgrelay.bridge.wshandshake import upgrade
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
