"""Which adapter messages the bridge parses (HandshakeState.adapter_needs_parse) and
that the session still sees every answer the teardown depends on."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List

from streampair import socket_pair

from dbgrelay.bridge.adaptergate import AdapterGate
from dbgrelay.bridge.adaptersession import AdapterSession, SessionTimeouts
from dbgrelay.bridge.handshake import HandshakeState
from dbgrelay.bridge.streams import ByteStream
from dbgrelay.dapframing import DapReader, encode_message

TELEMETRY = {"type": "event", "event": "output", "body": {"category": "telemetry", "output": "x"}}


def response(request_seq: Any, command: str, success: bool = True) -> Dict[str, Any]:
    return {"type": "response", "request_seq": request_seq, "command": command, "success": success}


def test_parses_until_greeted_then_only_while_a_handshake_answer_is_due() -> None:
    st = HandshakeState()
    assert st.adapter_needs_parse()
    st.on_adapter_message(TELEMETRY)
    assert st.adapter_needs_parse()
    st.on_adapter_message(TELEMETRY)
    assert not st.adapter_needs_parse()
    st.on_client_message({"seq": 1, "type": "request", "command": "initialize"})
    assert st.adapter_needs_parse() and st.pending == {1: "initialize"}
    st.on_adapter_message(response(1, "initialize"))
    assert not st.adapter_needs_parse()
    st.on_client_message({"seq": 2, "type": "request", "command": "attach", "arguments": {}})
    st.on_client_message({"seq": 3, "type": "request", "command": "setBreakpoints"})
    assert st.pending == {2: "attach"}, "only handshake requests are tracked"
    st.on_adapter_message({"type": "event", "event": "initialized"})
    st.on_adapter_message(response(3, "setBreakpoints"))
    assert st.adapter_needs_parse() and st.awaiting("attach")
    st.on_adapter_message(response(2, "attach"))
    assert not st.adapter_needs_parse() and "attach" in st.answered and st.initialized_event
    st.on_client_message({"seq": 4, "type": "request", "command": "threads"})
    assert not st.adapter_needs_parse(), "ordinary requests do not turn parsing on"
    assert st.last_client_seq == 4


def test_a_handshake_request_without_an_integer_seq_keeps_parsing_on_until_answered() -> None:
    st = HandshakeState(greeting_events=2)
    st.on_client_message({"seq": "7", "type": "request", "command": "disconnect"})
    assert st.pending == {} and st.adapter_needs_parse()
    st.on_adapter_message(response("7", "disconnect"))
    assert "disconnect" in st.answered and not st.adapter_needs_parse()


class FakeAdapter:
    """Scripted adapter on a stream; records the bridge's requests."""

    def __init__(self, stream: ByteStream) -> None:
        self.stream, self.requests, self.seq = stream, [], 0  # type: ignore[var-annotated]

    async def send(self, message: Dict[str, Any]) -> None:
        self.seq += 1
        await self.stream.write(encode_message({"seq": self.seq, **message}))

    async def run(self) -> None:
        await self.send(TELEMETRY)
        await self.send(TELEMETRY)
        reader = DapReader()
        while data := await self.stream.read():
            for m in reader.feed(data):
                self.requests.append(m)
                if m["command"] == "attach":
                    await self.send({"type": "event", "event": "initialized"})
                    continue
                if m["command"] == "configurationDone":
                    attach = next(r for r in self.requests if r["command"] == "attach")
                    await self.send(response(attach["seq"], "attach"))
                await self.send(response(m["seq"], m["command"]))
                if m["command"] == "disconnect":
                    await self.stream.close()
                    return


def test_session_parses_handshake_answers_only_and_tears_down_after_client_leaves() -> None:
    async def main() -> None:
        client, bridge_end = await socket_pair()
        adapter_end, fake_end = await socket_pair()
        adapter = FakeAdapter(fake_end)

        async def connect() -> ByteStream:
            asyncio.ensure_future(adapter.run())
            return adapter_end

        session = AdapterSession("t", bridge_end, connect, AdapterGate(settle_s=0), timeouts=SessionTimeouts(1, 1, 1))
        parsed: List[bytes] = []
        real_parse = session._adapter_reader.parse
        session._adapter_reader.parse = lambda f, at: parsed.append(f) or real_parse(f, at)  # type: ignore
        run = asyncio.ensure_future(session.run())
        for seq, command in enumerate(["initialize", "attach", "configurationDone"], 1):
            arguments = {"adapterID": "debugpy"} if command == "initialize" else {}
            await client.write(encode_message({"seq": seq, "type": "request", "command": command, "arguments": arguments}))
        for seq in range(4, 14):
            await client.write(encode_message({"seq": seq, "type": "request", "command": "threads"}))
        await asyncio.sleep(0.2)
        assert len(parsed) == 6  # 2 greeting events, initialize, initialized, configurationDone, attach
        assert not any(b'"threads"' in f for f in parsed)
        await client.close()  # leaves without disconnect: the bridge must send one
        await asyncio.wait_for(run, 5)
        last = adapter.requests[-1]
        assert last["command"] == "disconnect" and last["seq"] == 14
        assert last["arguments"] == {"terminateDebuggee": False}
        assert "disconnect" in session.state.answered and "adapter closed" in session.outcome

    asyncio.run(main())
