"""The pause guard's options on the command line, and its messages on their way to the
relay: a real bridge (in process) against the fake relay."""

from __future__ import annotations

import argparse
import asyncio
import json
import uuid
from typing import Any

import pytest
from conftest import Certs
from fakerelay import FakeRelay
from test_bridge_relay import until

from dbgrelay import cli, cliparser
from dbgrelay.backoff import Backoff
from dbgrelay.bridge.app import Bridge
from dbgrelay.errors import ConfigError
from dbgrelay.options import build_options
from dbgrelay.options.bridgeconfig import BridgeConfig

SECRET = "s3cr3t-" + uuid.uuid4().hex


def line(message: Any) -> bytes:
    return json.dumps({"event": "relay", "message": message}).encode()


def test_notices_wait_for_registration_and_status_is_sent_after_every_reconnect(certs: Certs) -> None:
    async def main() -> None:
        relay = FakeRelay(certs.server_context(), SECRET)
        port = await relay.start_tcps()
        config = BridgeConfig.from_json(
            {
                "relay": f"tcps://127.0.0.1:{port}",
                "name": "web-1",
                "secret": SECRET,
                "adapterPort": 1,
                "parentPid": 0,
                "cafile": certs.ca,
                "process": {"pid": 1, "host": "h", "python": "3.11.0", "debugpy": "1.8.22", "agent": "0.1.0"},
            }
        )
        bridge = Bridge(config)
        bridge.control.report = lambda event: None
        bridge.control.backoff = Backoff(base=0.05, cap=0.2)
        status = {"type": "status", "debugger": "broken", "detail": "pydevd's reader thread is not running"}
        guard = {"type": "guard", "event": "resumed", "reason": "paused longer than max_pause (2 s)", "pausedMs": 2010}
        bridge.on_parent_line(line(status))  # before any connection: kept
        bridge.on_parent_line(line({"type": "register", "agentId": "x"}))  # not the debuggee's to send
        bridge.control.start()
        try:
            await until(lambda: relay.notices == [status])
            bridge.on_parent_line(line(guard))
            await until(lambda: relay.notices == [status, guard])
            relay.send_pings = False  # the bridge drops the silent relay and registers again
            await asyncio.wait_for(relay.control_closed.wait(), 5)
            relay.send_pings = True
            await asyncio.wait_for(relay.control_connected.wait(), 5)
            await until(lambda: relay.notices == [status, guard, status])
        finally:
            await bridge.control.stop()

    asyncio.run(main())


def test_cli_flags_become_enable_attach_keywords() -> None:
    parser = cliparser.build_parser()
    args = parser.parse_args(["--relay", "wss://h:1", "--name", "w", "--unowned-pause", "5", "--max-pause", "120", "app.py"])
    assert cli._guard_kwargs(args) == {"pause_guard": True, "unowned_pause": 5.0, "max_pause": 120.0}
    args = parser.parse_args(["--relay", "wss://h:1", "--name", "w", "--no-pause-guard", "app.py"])
    assert cli._guard_kwargs(args) == {"pause_guard": False}
    direct = parser.parse_args(["--port", "0", "--max-pause", "5", "app.py"])
    with pytest.raises(SystemExit):
        cliparser._check_form(direct, argparse.ArgumentParser(prog="t"))


def test_help_documents_the_guard_flags() -> None:
    text = cliparser.build_parser().format_help()
    for word in ("--unowned-pause", "--max-pause", "--adapter-stall", "--no-pause-guard", "default 30", "default 0: off"):
        assert word in text, word


def test_agent_options_carry_validated_guard_bounds() -> None:
    from dbgrelay.options.guard import PauseGuardOptions

    options = build_options("wss://h:1", "w", "s" * 16, guard=PauseGuardOptions(unowned_pause=5, max_pause=60))
    assert (options.guard.unowned_pause, options.guard.max_pause) == (5, 60)
    assert build_options("wss://h:1", "w", "s" * 16).guard == PauseGuardOptions()
    with pytest.raises(ConfigError):
        PauseGuardOptions(unowned_pause=-1)
