"""``goaway`` (docs/protocol.md §5, revision 1.5): the agent leaves a draining relay
and comes back with its backoff, never at once."""

from __future__ import annotations

import asyncio
import time
from typing import Any, List

import pytest
from conftest import Certs
from test_bridge_relay import make_bridge, start_relay, until

from dbgrelay import protocol
from dbgrelay.backoff import Backoff
from dbgrelay.bridge.control import ControlLoop
from dbgrelay.errors import ProtocolError


@pytest.mark.parametrize("scheme", ["tcps", "wss"])
def test_goaway_closes_and_reconnects_after_retry_after(scheme: str, certs: Certs) -> None:
    async def main() -> None:
        relay, port = await start_relay(certs, scheme)
        events: List[Any] = []
        bridge = make_bridge(scheme, port, 1, events, cafile=certs.ca)
        bridge.control.start()
        try:
            await asyncio.wait_for(relay.control_connected.wait(), 10)
            first = relay.registers[0]["agentId"]
            sent = time.monotonic()
            await relay._control_send({"type": "goaway", "reason": "the relay is shutting down", "retryAfterMs": 600})
            await asyncio.wait_for(relay.control_closed.wait(), 5)  # the agent closed it
            await until(lambda: len(relay.registers) >= 2, timeout=10)
            waited = time.monotonic() - sent
            assert waited >= 0.6, f"reconnected {waited:.2f} s after goaway, before retryAfterMs"
            assert relay.registers[1]["agentId"] == first
            assert bridge.control.goaways == 1
            assert not [e for e in events if e.get("event") == "refused"]
        finally:
            await bridge.control.stop()

    asyncio.run(main())


def test_goaway_skips_the_fast_retry_window() -> None:
    loop = ControlLoop.__new__(ControlLoop)
    loop.backoff = Backoff(rand=lambda: 1.0)
    loop._goaway_wait = 2.0
    assert loop._next_delay() == pytest.approx(2.0 + loop.backoff.base)  # not 2.0 + fast_max
    assert loop._goaway_wait is None
    assert loop._next_delay() == pytest.approx(loop.backoff.base * 2)  # the backoff goes on growing


def test_goaway_vector_validates() -> None:
    assert protocol.validate_control({"type": "goaway", "reason": "x", "retryAfterMs": 2000})["type"] == "goaway"
    with pytest.raises(ProtocolError):
        protocol.validate_control({"type": "goaway", "reason": "x", "retryAfterMs": -1})
