"""A relay that goes silent on a data connection (a black hole: nothing read or
written, nothing closed) while a real debugpy program is paused at a breakpoint: the
bridge notices within its bound, tears the session down and the program runs again.
Also the pieces: keepalive options, the silence watch, relay_alive and
oldest_pending_ms."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from typing import Any, Dict, List

import pytest
from asyncdap import AsyncDapClient
from conftest import APP, BREAK_LINE, Certs, Debuggee
from fakerelay import FakeRelay, HeartbeatEcho
from peerstreams import TcpByteStream, WebSocketByteStream
from streampair import socket_pair
from test_bridge_relay import SECRET, SESSION_ID, make_bridge
from test_handshake_tracking import FakeAdapter

from dbgrelay.bridge.adaptergate import AdapterGate
from dbgrelay.bridge.adaptersession import AdapterSession, SessionTimeouts
from dbgrelay.bridge.liveness import RelayLiveness, data_heartbeat, set_keepalive
from dbgrelay.dapframing import encode_message

HEARTBEAT = {"intervalMs": 200, "timeoutMs": 1000}
DATA_TIMEOUT_MS = 1000


async def running_since(debuggee: Debuggee, t: float, timeout: float) -> bool:
    """Debuggee.running_since without blocking the event loop (the bridge runs on it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if debuggee.ticks and debuggee.ticks[-1] > t:
            return True
        await asyncio.sleep(0.02)
    return False


async def attach_and_pause(client: AsyncDapClient) -> Dict[str, Any]:
    """After ``initialize``: attach, stop at the breakpoint, clear it; the ``stopped`` event."""
    attach = await client.send("attach", {"justMyCode": False})
    await client.event("initialized", 8)
    r = await client.request("setBreakpoints", {"source": {"path": str(APP)}, "breakpoints": [{"line": BREAK_LINE}]})
    assert r["success"], r
    assert (await client.request("configurationDone"))["success"]
    assert (await client.response(attach))["success"]
    stopped = await client.event("stopped", 10)
    r = await client.request("setBreakpoints", {"source": {"path": str(APP)}, "breakpoints": []})
    assert r["success"], r
    return stopped


async def paused_at_breakpoint(client: AsyncDapClient, debuggee: Debuggee) -> float:
    r = await client.request("initialize", {"adapterID": "debugpy", "clientID": "liveness"}, 8)
    assert r["success"], r
    await attach_and_pause(client)
    paused_at = time.monotonic()
    assert not await running_since(debuggee, paused_at, timeout=0.5), "the program should be paused"
    return paused_at


@pytest.mark.parametrize("scheme", ["tcps", "wss"])
def test_a_silent_relay_is_noticed_and_the_paused_program_resumes(scheme: str, certs: Certs, debuggee: Debuggee, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)

    async def main() -> None:
        relay = FakeRelay(certs.server_context(), SECRET, heartbeat=dict(HEARTBEAT))
        relay.data_heartbeat_timeout_ms = DATA_TIMEOUT_MS
        port = await (relay.start_tcps() if scheme == "tcps" else relay.start_wss())
        events: List[Any] = []
        bridge = make_bridge(scheme, port, debuggee.port, events, cafile=certs.ca)
        bridge.control.start()
        try:
            await asyncio.wait_for(relay.control_connected.wait(), 10)
            conn = await relay.open_session(SESSION_ID)
            if scheme == "tcps":
                assert relay.hellos[-1]["heartbeatMs"] == HEARTBEAT["intervalMs"]
                stream: Any = HeartbeatEcho(TcpByteStream(conn[1], conn[2]), conn[2])
            else:
                stream = WebSocketByteStream(conn[1])
            client = AsyncDapClient(stream)
            paused_at = await paused_at_breakpoint(client, debuggee)

            # while the relay answers, a paused session idle for longer than the deadline stays
            await asyncio.sleep(2.5 * DATA_TIMEOUT_MS / 1000)
            assert not await running_since(debuggee, paused_at, 0.1), "a live session must not be torn down"
            assert (await client.request("threads"))["success"]
            if scheme == "tcps":
                assert stream.echoed >= 5  # the bridge sent heartbeats, every 200 ms
                assert not any(m.get("event") == "dbgrelay.heartbeat" for m in client.received)

            # now a black hole between bridge and relay
            silent_at = time.monotonic()
            if scheme == "tcps":
                stream.go_silent()
            else:
                conn[1].transport.pause_reading()
            assert await running_since(debuggee, silent_at, DATA_TIMEOUT_MS / 1000 + 5), "the bridge must detach the adapter once the relay is silent"
            resumed_after = debuggee.ticks[-1] - silent_at
            # the deadline, the watch's tick, the teardown (disconnect) and a TICK line
            assert DATA_TIMEOUT_MS / 1000 <= resumed_after < DATA_TIMEOUT_MS / 1000 + 3, resumed_after
        finally:
            if scheme == "wss" and not conn[2].done():
                conn[2].set_result(None)
            await bridge.control.stop()

    asyncio.run(main())
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("dbgrelay"))
    assert "relay connection silent" in ours
    assert "bridge sent" in ours and "disconnect" in ours


def test_keepalive_options_are_set_on_a_tcp_socket() -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        options = RelayLiveness(keepalive_idle_s=11, keepalive_interval_s=3, keepalive_count=4)
        set_keepalive(sock, options)
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 11
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL) == 3
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT) == 4
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT) == 23_000
        assert options.keepalive_bound_s == 23 and RelayLiveness().keepalive_bound_s == 30
    finally:
        sock.close()


def test_the_data_heartbeat_follows_registered_unless_options_set_it() -> None:
    assert data_heartbeat(RelayLiveness(), 5000, 15000) == data_heartbeat(RelayLiveness(), 5000, 15000)
    hb = data_heartbeat(RelayLiveness(), 5000, 15000)
    assert (hb.interval_ms, hb.timeout_ms) == (5000, 15000)
    hb = data_heartbeat(RelayLiveness(data_heartbeat_ms=50, data_timeout_ms=400), 5000, 15000)
    assert (hb.interval_ms, hb.timeout_ms) == (100, 400)  # at least 100 ms (docs/protocol.md §6)
    hb = data_heartbeat(RelayLiveness(), 9000, 3000)
    assert hb.timeout_ms > hb.interval_ms


def test_the_silence_watch_ends_the_stream_only_after_the_deadline_and_not_while_held() -> None:
    async def main() -> None:
        a, b = await socket_pair()
        ended: List[float] = []
        b.set_handler(lambda data: None, lambda: ended.append(time.monotonic()))
        start = time.monotonic()
        b.watch_silence(0.3)
        for _ in range(5):  # bytes keep it alive
            await asyncio.sleep(0.1)
            a.write_nowait(b"x")
        assert not ended and not b.silent
        b.hold_reading("session")  # this side does not read: not the peer's silence
        await asyncio.sleep(0.6)
        assert not ended
        b.release_reading("session")
        await asyncio.sleep(0.6)
        assert ended and b.silent and b.closed
        assert ended[0] - start >= 0.5 + 0.6 + 0.3 - 0.05
        await a.close()

    asyncio.run(main())


def test_relay_alive_and_oldest_pending_ms() -> None:
    async def main() -> None:
        client, bridge_end = await socket_pair()
        adapter_end, fake_end = await socket_pair()
        adapter = FakeAdapter(fake_end)
        answer = asyncio.Event()
        real_send = adapter.send

        async def held_send(message: Any) -> None:  # answers "threads" only when told to
            if message.get("command") == "threads":
                await answer.wait()
            await real_send(message)

        adapter.send = held_send  # type: ignore[method-assign]

        async def connect() -> Any:
            asyncio.ensure_future(adapter.run())
            return adapter_end

        session = AdapterSession("t", bridge_end, connect, AdapterGate(settle_s=0), timeouts=SessionTimeouts(1, 1, 1))
        run = asyncio.ensure_future(session.run())
        assert session.relay_alive and session.oldest_pending_ms() is None
        await client.write(encode_message({"seq": 1, "type": "request", "command": "initialize", "arguments": {"adapterID": "t"}}))
        await asyncio.sleep(0.2)
        assert session.oldest_pending_ms() is None  # answered
        sent_at = time.monotonic()
        await client.write(encode_message({"seq": 2, "type": "request", "command": "threads"}))
        await asyncio.sleep(0.3)
        age = session.oldest_pending_ms()
        assert age is not None and 250 <= age <= (time.monotonic() - sent_at) * 1000 + 1
        assert session.oldest_pending_ms(now=sent_at + 10) == pytest.approx(10_000, abs=100)
        answer.set()
        await asyncio.sleep(0.2)
        assert session.oldest_pending_ms() is None
        await client.close()
        await asyncio.wait_for(run, 5)
        assert not session.relay_alive

    asyncio.run(main())


def test_the_byte_check_matches_what_debugpy_writes() -> None:
    """debugpy's messaging.py writes responses with seq, type, request_seq first."""
    from debugpy.common import json as dp_json
    from debugpy.common import messaging

    class Capture:
        def __init__(self) -> None:
            self.data = b""

        def write(self, data: bytes) -> int:
            self.data += data
            return len(data)

        def flush(self) -> None:
            pass

    out = Capture()
    stream = messaging.JsonIOStream(None, out, "test")
    channel = messaging.JsonMessageChannel(stream)
    message = messaging.MessageDict(None, {"command": "threads", "success": True, "request_seq": 7, "type": "response", "body": {}})
    with channel._send_message(message):
        pass
    body = out.data.split(b"\r\n\r\n", 1)[1]
    from dbgrelay.bridge.pendingrequests import RESPONSE_START

    assert body.startswith(b'{"seq": 1, "type": "response", "request_seq": 7, '), body[:80]
    match = RESPONSE_START.match(body)
    assert match is not None and match.group(1) == b"7", body[:80]
    assert isinstance(stream.json_encoder_factory(), dp_json.JsonEncoder)  # the encoder debugpy uses by default


def test_tcps_heartbeats_are_sent_and_echoes_never_reach_the_adapter_nor_wake_it() -> None:
    async def main() -> None:
        client, bridge_end = await socket_pair()
        bridge_end.dap_heartbeat_s = 0.05  # as relayconn sets it after a 1.7 reply
        adapter_end, fake_end = await socket_pair()
        adapter = FakeAdapter(fake_end)
        connects: List[float] = []

        async def connect() -> Any:
            connects.append(time.monotonic())
            asyncio.ensure_future(adapter.run())
            return adapter_end

        session = AdapterSession("t", bridge_end, connect, AdapterGate(settle_s=0), timeouts=SessionTimeouts(1, 1, 1))
        run = asyncio.ensure_future(session.run())
        echo = encode_message({"seq": 0, "type": "event", "event": "dbgrelay.heartbeat"})
        for _ in range(3):  # the relay's echoes before the client spoke: no reason to contact the adapter
            await client.write(echo)
            await asyncio.sleep(0.05)
        assert connects == []
        await client.write(echo + encode_message({"seq": 1, "type": "request", "command": "initialize", "arguments": {"adapterID": "t"}}) + echo)
        await asyncio.sleep(0.3)
        await client.write(echo)
        await asyncio.sleep(0.1)
        assert len(connects) == 1
        assert [m["command"] for m in adapter.requests] == ["initialize"]  # no heartbeat reached the adapter
        got = b""
        until = time.monotonic() + 0.3
        while time.monotonic() < until:  # heartbeats keep coming: read for a while
            try:
                got += await asyncio.wait_for(client.read(), 0.1)
            except asyncio.TimeoutError:
                pass
        assert got.count(b'"event":"dbgrelay.heartbeat"') >= 4  # sent every 50 ms, between whole messages
        assert b'"command":"initialize"' in got
        from dbgrelay.dapframing import DapReader

        messages = DapReader().feed(got)  # well framed: heartbeats never split an adapter message
        assert any(m.get("command") == "initialize" for m in messages)
        await client.close()
        await asyncio.wait_for(run, 5)

    asyncio.run(main())
