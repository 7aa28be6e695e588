"""A DAP request nested 8000 levels deep, sent to the bridge over a session's data
connection, ends that session only (the client reader's framing error, never a
RecursionError): the bridge keeps its control connection and serves the next session
with the real debugpy."""

from __future__ import annotations

import asyncio
import logging

import pytest
from asyncdap import AsyncDapClient, full_attach
from conftest import Certs, Debuggee
from test_bridge_relay import client_stream, make_bridge, start_relay

FIRST = "RGVlcC1zZXNzaW9uLW9uZS0wMDAwMDAwMDAwMDAx"
SECOND = "RGVlcC1zZXNzaW9uLXR3by0wMDAwMDAwMDAwMDAy"


def _deep_request(levels: int) -> bytes:
    body = b'{"seq":1,"type":"request","command":"evaluate","arguments":{"expression":"1","x":' + b"[" * levels + b"]" * levels + b"}}"
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def test_deep_request_ends_only_its_session(certs: Certs, debuggee: Debuggee, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)

    async def main() -> None:
        relay, port = await start_relay(certs, "tcps")
        bridge = make_bridge("tcps", port, debuggee.port, [], cafile=certs.ca)
        bridge.control.start()
        try:
            await asyncio.wait_for(relay.control_connected.wait(), 10)
            deep = client_stream(await relay.open_session(FIRST))
            await deep.write(_deep_request(8000))
            while await asyncio.wait_for(deep.read(), 10):  # the bridge closes its side
                pass
            assert not relay.control_closed.is_set()

            client = AsyncDapClient(client_stream(await relay.open_session(SECOND)))
            await full_attach(client)
            assert (await client.request("threads"))["success"]
            assert (await client.request("disconnect", {"terminateDebuggee": False}))["success"]
            await client.close()
            assert not relay.control_closed.is_set()
        finally:
            await bridge.control.stop()

    asyncio.run(main())
    # Before the bound, the RecursionError ended the session as if the client had left.
    assert any("client stream: DAP body nests deeper than 64 levels" in r.getMessage() for r in caplog.records)
