"""The bridge's prefetch on stopped (``bridge/prefetch.py``) against a scripted adapter:
what the client receives, in which order, and when nothing may be sent ahead. The
end-to-end check against a real debugpy is ``test/e2e/prefetch.test.ts``."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from dbgrelay.bridge.prefetch import PREFETCH_EVENT, PREFETCH_SEQ_BASE, READ_ONLY_COMMANDS, PrefetchSettings, StopPrefetcher
from dbgrelay.dapframing import DapReader

FIXTURE = Path(__file__).resolve().parents[2] / "test" / "fixtures" / "readOnlyRequests.json"


def debugpy_frame(message: Dict[str, Any]) -> bytes:
    """A frame as debugpy writes it: ``seq`` and ``type`` first, json.dumps' default separators."""
    body = json.dumps(message).encode("utf-8")
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def frames_of(data: bytes) -> List[Dict[str, Any]]:
    return DapReader().feed(data)


class ScriptedAdapter:
    """Answers the bridge's requests as ``answer(request)`` says (None: no answer)."""

    def __init__(self, answer: Callable[[Dict[str, Any]], Optional[Dict[str, Any]]]) -> None:
        self.answer = answer
        self.requests: List[Dict[str, Any]] = []
        self.prefetcher: Optional[StopPrefetcher] = None
        self._reader = DapReader()
        self._seq = 100

    def write(self, frame: bytes) -> bool:
        for request in self._reader.feed(frame):
            self.requests.append(request)
            body = self.answer(request)
            if body is not None:
                self._seq += 1
                response = {"seq": self._seq, "type": "response", "request_seq": request["seq"], "success": True, "command": request["command"], "body": body}
                loop = asyncio.get_running_loop()
                loop.call_soon(self.deliver, debugpy_frame(response))
        return True

    def deliver(self, data: bytes) -> None:
        assert self.prefetcher is not None
        reader = DapReader()
        self.prefetcher.on_adapter_frames(reader.feed_raw(data))


def debugpy_like(request: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    command = request["command"]
    if command == "threads":
        return {"threads": [{"id": 1, "name": "MainThread"}, {"id": 2, "name": "worker"}]}
    if command == "stackTrace":
        start = request["arguments"]["startFrame"]
        return {"stackFrames": [{"id": 10 + start, "name": "handle", "line": 7, "column": 1}], "totalFrames": 3}
    if command == "scopes":
        return {"scopes": [{"name": "Locals", "variablesReference": 20, "expensive": False}, {"name": "Globals", "variablesReference": 21, "expensive": False}]}
    if command == "variables" and request["arguments"]["variablesReference"] == 20:
        return {
            "variables": [
                {"name": "order", "value": "{…}", "type": "dict", "variablesReference": 30},
                {"name": "customer", "value": "<Customer>", "type": "Customer", "variablesReference": 31},
                {"name": "n", "value": "7", "type": "int", "variablesReference": 0},
            ]
        }
    if command == "variables":
        return {"variables": [{"name": "'id'", "value": "7", "variablesReference": 0}]}
    return None


STOPPED = {"seq": 50, "type": "event", "event": "stopped", "body": {"reason": "breakpoint", "threadId": 1, "allThreadsStopped": True}}
OUTPUT = {"seq": 51, "type": "event", "event": "output", "body": {"category": "stdout", "output": "after the stop\n"}}


def run(
    answer: Callable[[Dict[str, Any]], Optional[Dict[str, Any]]], script: Callable[[StopPrefetcher, ScriptedAdapter], Any], *, max_bytes: int = 1 << 20, max_hold_s: float = 0.3
) -> List[Dict[str, Any]]:
    """Runs ``script`` against a prefetcher and returns what reached the client."""
    out = bytearray()

    async def main() -> None:
        adapter = ScriptedAdapter(answer)
        prefetcher = StopPrefetcher("#t", PrefetchSettings(max_bytes, max_hold_s), adapter.write, out.extend, DapReader().parse)
        adapter.prefetcher = prefetcher
        await script(prefetcher, adapter)
        await asyncio.sleep(0.05)
        prefetcher.close()

    asyncio.run(main())
    return frames_of(bytes(out))


def feed(prefetcher: StopPrefetcher, *messages: Dict[str, Any]) -> None:
    data = b"".join(debugpy_frame(m) for m in messages)
    prefetcher.on_adapter_frames(DapReader().feed_raw(data))


def test_read_only_requests_are_the_clients() -> None:
    assert sorted(READ_ONLY_COMMANDS) == sorted(json.loads(FIXTURE.read_text("utf-8"))["readOnly"])


def test_first_view_goes_ahead_of_the_stopped_event_then_the_children() -> None:
    async def script(prefetcher: StopPrefetcher, adapter: ScriptedAdapter) -> None:
        prefetcher.note_client_request(9, "configurationDone")
        prefetcher.note_client_request(12, "threads")
        feed(prefetcher, STOPPED, OUTPUT)
        await asyncio.sleep(0.2)

    received = run(debugpy_like, script)
    assert [m.get("event") for m in received] == [PREFETCH_EVENT, "stopped", "output", PREFETCH_EVENT]
    first, nested = received[0]["body"], received[3]["body"]
    assert (first["stop"], first["afterSeq"]) == (1, 12)
    assert first["more"] is True and "more" not in nested  # the client may wait for the second event
    asked = [(a["command"], a["arguments"]) for a in first["answers"]]
    assert asked == [
        ("threads", {}),
        ("stackTrace", {"threadId": 1, "startFrame": 0, "levels": 1}),
        ("stackTrace", {"threadId": 1, "startFrame": 1, "levels": 19}),
        ("scopes", {"frameId": 10}),
        ("variables", {"variablesReference": 20}),
    ]
    # each answer is the adapter's body, byte for byte
    assert json.loads(first["answers"][0]["response"])["body"]["threads"][1]["name"] == "worker"
    assert first["answers"][0]["response"].startswith('{"seq": ')
    # children of the dict only: listing an object would run its property getters
    assert [(a["command"], a["arguments"]) for a in nested["answers"]] == [("variables", {"variablesReference": 30})]
    # the bridge's own answers never reach the client as responses
    assert not [m for m in received if m.get("type") == "response"]


def test_no_second_event_when_no_value_has_children() -> None:
    def flat(request: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        if request["command"] == "variables":
            return {"variables": [{"name": "n", "value": "7", "variablesReference": 0}]}
        return debugpy_like(request)

    async def script(prefetcher: StopPrefetcher, adapter: ScriptedAdapter) -> None:
        feed(prefetcher, STOPPED)
        await asyncio.sleep(0.2)

    received = run(flat, script)
    assert [m.get("event") for m in received] == [PREFETCH_EVENT, "stopped"]
    assert "more" not in received[0]["body"]


def test_requests_go_one_at_a_time_with_seq_numbers_far_from_the_clients() -> None:
    adapter_requests: List[Dict[str, Any]] = []

    async def script(prefetcher: StopPrefetcher, adapter: ScriptedAdapter) -> None:
        feed(prefetcher, STOPPED)
        await asyncio.sleep(0.2)
        adapter_requests.extend(adapter.requests)

    run(debugpy_like, script)
    assert all(r["seq"] > PREFETCH_SEQ_BASE for r in adapter_requests)
    assert len(adapter_requests) == 6


def test_a_request_that_may_change_state_during_the_prefetch_sends_nothing() -> None:
    def slow(request: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        return debugpy_like(request)

    async def script(prefetcher: StopPrefetcher, adapter: ScriptedAdapter) -> None:
        feed(prefetcher, STOPPED)
        prefetcher.note_client_request(13, "continue")  # before the first answer is in
        await asyncio.sleep(0.2)

    received = run(slow, script)
    assert [m.get("event") for m in received] == ["stopped"]


def test_the_stopped_event_waits_no_longer_than_the_hold_bound() -> None:
    async def script(prefetcher: StopPrefetcher, adapter: ScriptedAdapter) -> None:
        feed(prefetcher, STOPPED, OUTPUT)
        await asyncio.sleep(0.05)
        assert adapter.requests and not prefetcher.sent  # held: nothing answered yet
        await asyncio.sleep(0.15)

    received = run(lambda request: None, script, max_hold_s=0.1)
    assert [m.get("event") for m in received] == ["stopped", "output"]


def test_answers_past_the_byte_budget_stay_behind() -> None:
    async def script(prefetcher: StopPrefetcher, adapter: ScriptedAdapter) -> None:
        feed(prefetcher, STOPPED)
        await asyncio.sleep(0.2)

    received = run(debugpy_like, script, max_bytes=300)
    sent = [a for m in received if m.get("event") == PREFETCH_EVENT for a in m["body"]["answers"]]
    assert sent, "the smallest answers fit"
    assert sum(len(a["response"].encode("utf-8")) for a in sent) <= 300
    assert len(sent) < 6


def test_the_relays_own_requests_count_as_changes_but_not_as_the_clients_seq() -> None:
    async def script(prefetcher: StopPrefetcher, adapter: ScriptedAdapter) -> None:
        prefetcher.note_client_request(12, "threads")
        prefetcher.note_client_request(0x1FFFFC05, "continue")  # the relay's pause watchdog
        feed(prefetcher, STOPPED)
        await asyncio.sleep(0.2)

    received = run(debugpy_like, script)
    assert received[0]["event"] == PREFETCH_EVENT and received[0]["body"]["afterSeq"] == 12


def test_a_second_stop_while_holding_is_counted_and_the_first_stops_answers_stay_behind() -> None:
    async def script(prefetcher: StopPrefetcher, adapter: ScriptedAdapter) -> None:
        feed(prefetcher, STOPPED, {**STOPPED, "seq": 52, "body": {"reason": "breakpoint", "threadId": 2}})
        await asyncio.sleep(0.2)
        feed(prefetcher, {**STOPPED, "seq": 53})
        await asyncio.sleep(0.2)

    received = run(debugpy_like, script)
    events = [(m.get("event"), (m.get("body") or {}).get("stop")) for m in received]
    # the first stop's answers are not sent (another stop came first); the third stop is stop 3
    assert events[:2] == [("stopped", None), ("stopped", None)]
    assert (PREFETCH_EVENT, 3) in events


def test_close_lets_what_is_held_go_and_asks_nothing_more() -> None:
    async def script(prefetcher: StopPrefetcher, adapter: ScriptedAdapter) -> None:
        feed(prefetcher, STOPPED, OUTPUT)
        await asyncio.sleep(0)
        asked = len(adapter.requests)
        prefetcher.close()
        await asyncio.sleep(0.1)
        assert len(adapter.requests) == asked
        feed(prefetcher, {**STOPPED, "seq": 60})  # after close: forwarded at once
        await asyncio.sleep(0.05)

    received = run(lambda request: None, script)
    assert [m.get("event") for m in received] == ["stopped", "output", "stopped"]
