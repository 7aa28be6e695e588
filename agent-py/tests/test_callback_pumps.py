"""SocketStream and the session's callback pumps (both ends on sockets: ClientPump and
the adapter stream's callbacks in AdapterSession)."""

from __future__ import annotations

import asyncio
import time
from typing import Any, List

from streampair import socket_pair
from test_handshake_tracking import FakeAdapter

from dbgrelay.bridge.adaptergate import AdapterGate
from dbgrelay.bridge.adaptersession import AdapterSession, SessionTimeouts
from dbgrelay.bridge.clientpump import ClientPump
from dbgrelay.bridge.socketstream import SocketStream
from dbgrelay.bridge.streams import follow_peer
from dbgrelay.dapframing import encode_message


def request(seq: int, command: str, **arguments: Any) -> bytes:
    return encode_message({"seq": seq, "type": "request", "command": command, "arguments": arguments})


def test_socket_stream_reads_lines_chunks_then_hands_bytes_to_a_handler() -> None:
    async def main() -> None:
        a, b = await socket_pair()
        await a.write(b'{"ok":true}\nDAP')
        assert await b.readline(100) == b'{"ok":true}\n'
        assert await b.read() == b"DAP"
        await a.write(b"more")
        await asyncio.sleep(0.05)
        got: List[bytes] = []
        ended: List[bool] = []
        b.set_handler(got.append, lambda: ended.append(True))  # buffered bytes first
        assert a.write_nowait(b"!")
        await a.close()
        await asyncio.sleep(0.05)
        assert b"".join(got) == b"more!" and ended == [True]
        assert not a.write_nowait(b"x")

    asyncio.run(main())


def test_reading_resumes_only_when_every_hold_is_released() -> None:
    async def main() -> None:
        a, b = await socket_pair()
        got: List[bytes] = []
        b.set_handler(got.append, lambda: None)
        b.hold_reading("session")
        b.hold_reading("peer")
        await a.write(b"held")
        await asyncio.sleep(0.05)
        b.release_reading("session")
        b.release_reading("unknown")
        await asyncio.sleep(0.05)
        assert got == []
        b.release_reading("peer")
        await asyncio.sleep(0.05)
        assert got == [b"held"]
        follow_peer(b, True)
        await a.write(b"again")
        await asyncio.sleep(0.05)
        assert got == [b"held"]
        follow_peer(b, False)
        await asyncio.sleep(0.05)
        assert got == [b"held", b"again"]

    asyncio.run(main())


async def start(gate: AdapterGate):  # type: ignore[no-untyped-def]
    client, bridge_end = await socket_pair()
    adapter_end, fake_end = await socket_pair()
    adapter = FakeAdapter(fake_end)
    arrived: List[float] = []
    real_read = fake_end.read

    async def timed_read() -> bytes:
        data = await real_read()
        arrived.append(time.monotonic())
        return data

    fake_end.read = timed_read  # type: ignore[method-assign]

    async def connect() -> SocketStream:
        asyncio.ensure_future(adapter.run())
        return adapter_end

    session = AdapterSession("t", bridge_end, connect, gate, timeouts=SessionTimeouts(1, 1, 1))
    return client, adapter, session, asyncio.ensure_future(session.run()), arrived


def test_attach_waits_for_a_quiet_gate_and_later_messages_keep_their_order() -> None:
    async def main() -> None:
        gate = AdapterGate(settle_s=0.3)
        client, adapter, session, run, arrived = await start(gate)
        await client.write(request(1, "initialize", adapterID="debugpy"))
        await asyncio.sleep(0.1)
        assert isinstance(session._client_pump, ClientPump)
        gate.mark_session_closed()  # as if another session just ended: attach must wait
        quiet_at = time.monotonic() + 0.25
        await client.write(request(2, "attach") + request(3, "threads"))
        await asyncio.sleep(0.05)
        await client.write(request(4, "threads") + request(5, "configurationDone"))
        await asyncio.sleep(0.5)
        assert [m["seq"] for m in adapter.requests] == [1, 2, 3, 4, 5]
        assert min(t for t in arrived[1:]) >= quiet_at
        await client.write(request(6, "disconnect", terminateDebuggee=False))
        await asyncio.wait_for(run, 5)
        assert [m["command"] for m in adapter.requests][-1] == "disconnect"
        assert session.outcome == "adapter closed the session"

    asyncio.run(main())


def test_client_leaving_while_attach_waits_still_finishes_the_handshake() -> None:
    async def main() -> None:
        gate = AdapterGate(settle_s=0.3)
        client, adapter, session, run, _ = await start(gate)
        await client.write(request(1, "initialize", adapterID="debugpy"))
        await asyncio.sleep(0.1)
        gate.mark_session_closed()
        await client.write(request(2, "attach"))
        await client.close()
        await asyncio.wait_for(run, 5)
        assert [m["command"] for m in adapter.requests] == ["initialize", "attach", "configurationDone", "disconnect"]
        assert adapter.requests[-1]["seq"] == 4
        assert "bridge sent configurationDone, disconnect" in session.outcome

    asyncio.run(main())
