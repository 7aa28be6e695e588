"""The bridge against a fake relay (tcps and wss, TLS with test certificates) and a
real debugpy: register, heartbeat, open, DAP through, reconnect, refusals, pins."""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any, List

import pytest
from asyncdap import AsyncDapClient, full_attach
from conftest import Certs, Debuggee
from fakerelay import FakeRelay
from peerstreams import TcpByteStream, WebSocketByteStream

from dbgrelay.backoff import Backoff
from dbgrelay.bridge.app import Bridge
from dbgrelay.errors import TrustError
from dbgrelay.options.bridgeconfig import BridgeConfig
from dbgrelay.trust.relaytrust import RelayTrust

SECRET = "s3cr3t-" + uuid.uuid4().hex
SESSION_ID = "Qm9vdHN0cmFwLXNlc3Npb24taWQtMDAwMDAwMDE"


async def until(predicate: Any, timeout: float = 5.0) -> None:
    for _ in range(int(timeout / 0.02)):
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached in time")


def make_bridge(scheme: str, port: int, adapter_port: int, events: List[Any], secret: str = SECRET, **trust: Any) -> Bridge:
    config = BridgeConfig.from_json(
        {
            "relay": f"{scheme}://127.0.0.1:{port}",
            "name": "web-1",
            "secret": secret,
            "labels": {"env": "test"},
            "adapterPort": adapter_port,
            "parentPid": 0,
            "process": {"pid": 1, "host": "h", "python": "3.11.0", "debugpy": "1.8.22", "agent": "0.1.0"},
            **trust,
        }
    )
    bridge = Bridge(config)
    bridge.control.report = events.append
    bridge.control.backoff = Backoff(base=0.05, cap=0.2)
    return bridge


async def start_relay(certs: Certs, scheme: str) -> "tuple[FakeRelay, int]":
    relay = FakeRelay(certs.server_context(), SECRET)
    port = await (relay.start_tcps() if scheme == "tcps" else relay.start_wss())
    return relay, port


def client_stream(kind_and_conn: Any) -> Any:
    if kind_and_conn[0] == "tcps":
        return TcpByteStream(kind_and_conn[1], kind_and_conn[2])
    return WebSocketByteStream(kind_and_conn[1])


@pytest.mark.parametrize("scheme", ["tcps", "wss"])
def test_register_heartbeat_session_and_reconnect(scheme: str, certs: Certs, debuggee: Debuggee, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)

    async def main() -> None:
        relay, port = await start_relay(certs, scheme)
        events: List[Any] = []
        bridge = make_bridge(scheme, port, debuggee.port, events, cafile=certs.ca)
        bridge.control.start()
        try:
            await asyncio.wait_for(relay.control_connected.wait(), 10)
            reg = relay.registers[0]
            assert reg["target"] == {"name": "web-1", "labels": {"env": "test"}}
            assert uuid.UUID(reg["agentId"])
            assert reg["process"]["debugpy"] == "1.8.22"
            await until(lambda: events)
            assert events[0] == {"event": "registered", "target": "web-1"}
            await asyncio.sleep(0.5)
            assert relay.pongs and relay.pongs == sorted(relay.pongs)

            # a session: DAP bytes through the data connection to the real debugpy
            conn = await relay.open_session(SESSION_ID)
            client = AsyncDapClient(client_stream(conn))
            await full_attach(client)
            threads = await client.request("threads")
            assert threads["success"] and threads["body"]["threads"]
            assert (await client.request("disconnect", {"terminateDebuggee": False}))["success"]
            await client.close()
            if scheme == "wss":
                conn[2].set_result(None)

            # the relay drops the control connection: the agent comes back, same agentId
            relay.send_pings = False  # and the watchdog notices a silent relay
            await asyncio.wait_for(relay.control_closed.wait(), 5)
            relay.send_pings = True
            await asyncio.wait_for(relay.control_connected.wait(), 5)
            assert len(relay.registers) >= 2
            assert relay.registers[1]["agentId"] == reg["agentId"]
        finally:
            await bridge.control.stop()
        if scheme == "tcps":
            assert all(h["secret"] == SECRET for h in relay.hellos)
        else:
            assert relay.auth_headers and all(h and h.startswith("Basic ") for h in relay.auth_headers)

    asyncio.run(main())
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("dbgrelay"))
    assert "registered target 'web-1'" in ours
    assert SECRET not in ours
    assert "Basic " not in ours and "czNjcjN0" not in ours


@pytest.mark.parametrize("scheme", ["tcps", "wss"])
def test_wrong_secret_is_reported_as_auth_failed(scheme: str, certs: Certs) -> None:
    async def main() -> List[Any]:
        relay, port = await start_relay(certs, scheme)
        events: List[Any] = []
        bridge = make_bridge(scheme, port, 1, events, secret="wrong-secret", cafile=certs.ca)
        bridge.control.start()
        await until(lambda: events)
        await bridge.control.stop()
        assert not relay.registers
        return events

    events = asyncio.run(main())
    assert events and events[0]["event"] == "refused" and events[0]["code"] == "AUTH_FAILED"


def test_open_failed_when_data_connection_cannot_open(certs: Certs) -> None:
    async def main() -> None:
        relay, port = await start_relay(certs, "tcps")
        bridge = make_bridge("tcps", port, 1, [], cafile=certs.ca)

        async def broken(session_id: str) -> Any:
            raise ConnectionRefusedError("no route")

        bridge.dialer.open_data = broken  # type: ignore[assignment]
        bridge.control.start()
        await asyncio.wait_for(relay.control_connected.wait(), 10)
        with pytest.raises(RuntimeError, match="no route"):
            await relay.open_session(SESSION_ID)
        assert relay.open_failed[0]["sessionId"] == SESSION_ID
        await bridge.control.stop()

    asyncio.run(main())


@pytest.mark.parametrize("which,hostname_checked", [("ca", True), ("server", False)])
def test_pin_of_ca_or_leaf_builds_a_verifying_context(which: str, hostname_checked: bool, certs: Certs) -> None:
    async def main() -> None:
        relay, port = await start_relay(certs, "tcps")
        from dbgrelay.trust.pinning import parse_fingerprint

        trust = RelayTrust(pin_hex=parse_fingerprint(certs.fingerprint(which)))
        ctx = await trust.context("127.0.0.1", port)
        assert ctx.check_hostname is hostname_checked
        assert ctx.verify_mode.name == "CERT_REQUIRED"
        events: List[Any] = []
        bridge = make_bridge("tcps", port, 1, events, fingerprint=certs.fingerprint(which).upper())
        bridge.control.start()
        await asyncio.wait_for(relay.control_connected.wait(), 10)
        await bridge.control.stop()

    asyncio.run(main())


def test_pin_mismatch_names_the_offered_fingerprints(certs: Certs) -> None:
    async def main() -> None:
        relay, port = await start_relay(certs, "tcps")
        from dbgrelay.trust.pinning import format_fingerprint, parse_fingerprint

        trust = RelayTrust(pin_hex=parse_fingerprint(certs.fingerprint("other-ca")))
        with pytest.raises(TrustError) as info:
            await trust.context("127.0.0.1", port)
        text = str(info.value)
        assert "does not present the pinned certificate" in text
        assert certs.fingerprint("ca")[7:19].upper() in text.replace(":", "")
        assert info.value.code == "TLS_PIN_MISMATCH"
        expected = format_fingerprint(parse_fingerprint(certs.fingerprint("other-ca")))
        server = format_fingerprint(parse_fingerprint(certs.fingerprint("server")))
        issuer = format_fingerprint(parse_fingerprint(certs.fingerprint("ca")))
        assert f"expected (pinned) {expected}; offered by the relay: server {server}; issuer {issuer}" in text
        assert not relay.hellos, "nothing may be sent before the pin matched"

    asyncio.run(main())


def test_untrusted_ca_is_refused_before_the_secret_is_sent(certs: Certs) -> None:
    async def main() -> List[Any]:
        relay, port = await start_relay(certs, "tcps")
        events: List[Any] = []
        bridge = make_bridge("tcps", port, 1, events, cafile=certs.other_ca)
        bridge.control.start()
        await until(lambda: events)
        await bridge.control.stop()
        assert not relay.hellos
        return events

    events = asyncio.run(main())
    assert events and events[0]["code"] == "TLS_VERIFY_FAILED"
