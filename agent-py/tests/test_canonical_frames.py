"""Only canonical DAP frames reach a real debugpy adapter: a header it could not read
is re-framed when unambiguous, and ends the client side of the session otherwise,
after which the paused program resumes and the adapter serves the next session."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any, Dict, Tuple

from asyncdap import AsyncDapClient, full_attach
from conftest import Debuggee
from streampair import LazyStream, socket_pair
from test_relay_liveness import attach_and_pause

from dbgrelay.bridge.adaptergate import AdapterGate
from dbgrelay.bridge.adaptersession import AdapterSession
from dbgrelay.bridge.connectors import tcp_connector


def frame(header: bytes, message: Dict[str, Any]) -> bytes:
    body = json.dumps(message).encode()
    return header.replace(b"%d", str(len(body)).encode()) + b"\r\n\r\n" + body


def open_session(debuggee: Debuggee, gate: AdapterGate) -> Tuple[AsyncDapClient, "asyncio.Future[Any]"]:
    pair = asyncio.ensure_future(socket_pair())

    async def run() -> AdapterSession:
        session = AdapterSession("frames", (await pair)[1], tcp_connector("127.0.0.1", debuggee.port), gate)
        await session.run()
        return session

    return AsyncDapClient(LazyStream(pair, 0)), asyncio.ensure_future(run())


def test_a_lower_case_header_is_answered_and_a_duplicate_ends_only_that_session(debuggee: Debuggee) -> None:
    async def main() -> None:
        gate = AdapterGate()
        client, run = open_session(debuggee, gate)
        # debugpy's reader would die on this header; through the bridge it is answered
        await client.stream.write(
            frame(
                b"content-length: %d\r\nContent-Type: application/json",
                {"seq": 1, "type": "request", "command": "initialize", "arguments": {"adapterID": "debugpy", "clientID": "frames"}},
            )
        )
        assert (await client.response(1, 8))["success"]
        client.seq = 1
        stopped = await attach_and_pause(client)
        paused_at = time.monotonic()
        assert not debuggee.running_since(paused_at, timeout=0.5), "the program should be paused"

        # an ambiguous header (two Content-Length fields) ends the client side at once
        await client.stream.write(frame(b"Content-Length: %d\r\nContent-Length: %d", {"seq": 99, "type": "request", "command": "threads"}))
        session: AdapterSession = await asyncio.wait_for(run, 15)
        assert "bridge sent" in session.outcome and "adapter closed" in session.outcome, session.outcome
        for _ in range(100):  # the relay side was closed by the bridge
            if client.eof:
                break
            await asyncio.sleep(0.05)
        assert client.eof
        assert stopped["body"]["threadId"]
        assert debuggee.running_since(paused_at, timeout=5), "the program must resume after the teardown"

        # the adapter is still usable: a new session attaches and sees the threads
        second, run2 = open_session(debuggee, gate)
        await full_attach(second, timeout=8)
        threads = await second.request("threads")
        assert any(t["name"] == "MainThread" for t in threads["body"]["threads"]), threads
        assert (await second.request("disconnect", {"terminateDebuggee": False}))["success"]
        await second.close()
        await asyncio.wait_for(run2, 15)

    asyncio.run(main())
