"""The bridge's attach allow-list (dbgrelay.attachpolicy): the shared vectors, and a
real debugpy adapter that never sees a refused ``attach`` or any ``launch``."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any, Dict, List, Set

import pytest
from asyncdap import AsyncDapClient
from conftest import Debuggee
from streampair import LazyStream, socket_pair

from dbgrelay.attachpolicy import ALLOWED_ATTACH_KEYS, DROPPED_ATTACH_KEYS, check_attach_arguments, screen_start_request
from dbgrelay.bridge.adaptergate import AdapterGate
from dbgrelay.bridge.adaptersession import OWN_SEQ_BASE, AdapterSession
from dbgrelay.bridge.clientchecks import INTERNAL_TO_DEBUGPY, UNANSWERED_BY_DEBUGPY, check_request
from dbgrelay.bridge.connectors import tcp_connector

VECTORS = json.loads((Path(__file__).resolve().parents[2] / "test/fixtures/attachArgumentVectors.json").read_text())
INIT = {"adapterID": "debugpy", "clientID": "policy-test"}


def attach(arguments: Any) -> Dict[str, Any]:
    return {"seq": 1, "type": "request", "command": "attach", "arguments": arguments}


@pytest.mark.parametrize("case", VECTORS["allowed"], ids=lambda c: c["name"])
def test_allowed_vectors_go_on_without_the_dropped_keys(case: Dict[str, Any]) -> None:
    verdict = check_attach_arguments(case["arguments"])
    assert verdict.refused == ()
    assert verdict.forwarded == case.get("forwarded")
    refusal, message = screen_start_request(attach(case["arguments"]))
    assert refusal is None
    assert message["arguments"] == case.get("forwarded", case["arguments"])


@pytest.mark.parametrize("case", VECTORS["refused"], ids=lambda c: c["name"])
def test_refused_vectors_name_exactly_the_refused_keys(case: Dict[str, Any]) -> None:
    assert list(check_attach_arguments(case["arguments"]).refused) == case["keys"]
    refusal, _ = screen_start_request(attach(case["arguments"]))
    assert refusal is not None and all(key in refusal for key in case["keys"])


def test_the_dangerous_keys_are_never_allowed_nor_dropped() -> None:
    dangerous = {
        "processId",
        "debugpyArgs",
        "python",
        "pythonArgs",
        "program",
        "module",
        "code",
        "listen",
        "cwd",
        "env",
        "args",
        "console",
        "sudo",
        "guiEventLoop",
        "autoReload",
        "linuxAttachPreferLldb",
    }
    assert not dangerous & (ALLOWED_ATTACH_KEYS | DROPPED_ATTACH_KEYS)


def test_every_launch_is_refused_and_other_requests_pass() -> None:
    assert screen_start_request({"seq": 1, "type": "request", "command": "launch", "arguments": {}})[0] is not None
    assert screen_start_request({"seq": 1, "type": "request", "command": "launch"})[0] is not None
    threads = {"seq": 2, "type": "request", "command": "threads"}
    assert screen_start_request(threads) == (None, threads)
    bare = {"seq": 3, "type": "request", "command": "attach"}
    assert screen_start_request(bare) == (None, bare)  # no arguments: debugpy's to judge


def test_a_refusal_names_a_bounded_number_of_keys() -> None:
    refusal, _ = screen_start_request(attach({f"k{i:03d}" + "x" * 100: 1 for i in range(50)}))
    assert refusal is not None and "and 42 more" in refusal and len(refusal) < 8 * 70 + 200


def test_the_schema_check_runs_after_the_allow_list() -> None:
    bad = {"seq": 4, "type": "request", "command": "setBreakpoints", "arguments": {"source": {"path": "/x.py"}, "breakpoints": [{"line": "12"}]}}
    refusal, _ = check_request(bad)
    assert refusal is not None and "/arguments/breakpoints/0/line" in refusal
    refusal, _ = check_request(attach({"processId": 1}))
    assert refusal is not None and "processId" in refusal
    ok = {"seq": 5, "type": "request", "command": "threads"}
    assert check_request(ok) == (None, ok)


@pytest.mark.parametrize("command", sorted(UNANSWERED_BY_DEBUGPY))
def test_requests_debugpy_never_answers_are_answered_by_the_bridge(command: str) -> None:
    arguments = {"cancel": {"requestId": 1}, "terminateThreads": {"threadIds": [1]}, "breakpointLocations": {"source": {"path": "/x.py"}, "line": 1}}.get(command, {})
    refusal, _ = check_request({"seq": 6, "type": "request", "command": command, "arguments": arguments})
    assert refusal is not None and "never answer" in refusal


@pytest.mark.parametrize("command", sorted(INTERNAL_TO_DEBUGPY))
def test_debugpys_own_requests_are_refused_from_a_client(command: str) -> None:
    refusal, _ = check_request({"seq": 7, "type": "request", "command": command, "arguments": {"debugServerAccessToken": "wrong"}})
    assert refusal is not None and "debugpy's own request" in refusal


def test_a_schema_refusal_is_bounded_and_printable() -> None:
    key = "k\n" + "x" * 5000
    refusal, _ = check_request({"seq": 8, "type": "request", "command": "runInTerminal", "arguments": {"cwd": "/", "args": ["x"], "env": {key: 1}}})
    assert refusal is not None and "xxx" in refusal and len(refusal) < 700 and "\n" not in refusal


def _descendants(pid: int) -> Set[int]:
    """Every process below ``pid`` (from /proc)."""
    children: Dict[int, List[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found: Set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def test_a_real_adapter_never_sees_a_refused_attach_and_the_session_goes_on(debuggee: Debuggee) -> None:
    async def main() -> None:
        pair = asyncio.ensure_future(socket_pair())
        gate = AdapterGate()

        async def run() -> AdapterSession:
            session = AdapterSession("policy", (await pair)[1], tcp_connector("127.0.0.1", debuggee.port), gate)
            await session.run()
            return session

        session_task = asyncio.ensure_future(run())
        client = AsyncDapClient(LazyStream(pair, 0))
        r = await client.request("initialize", INIT, 8)
        assert r["success"], r
        await asyncio.sleep(0.3)
        before = _descendants(debuggee.proc.pid)
        victim = await asyncio.create_subprocess_exec("sleep", "30")
        try:
            refused = await client.request("attach", {"processId": victim.pid, "justMyCode": False}, 5)
            assert refused["success"] is False and "processId" in refused["message"], refused
            # an invalid request (DAP schema) is answered by the bridge too, and the adapter survives it
            invalid = await client.request("setBreakpoints", {"source": {"path": "/x.py"}, "breakpoints": [{"line": "12"}]}, 5)
            assert invalid["success"] is False and "/arguments/breakpoints/0/line" in invalid["message"], invalid
            assert invalid["seq"] > OWN_SEQ_BASE
            assert refused["success"] is False and "processId" in refused["message"], refused
            assert refused["seq"] > OWN_SEQ_BASE  # the bridge's answer, not the adapter's
            launch = await client.request("launch", {"program": "/bin/true"}, 5)
            assert launch["success"] is False and "launch" in launch["message"], launch
            await asyncio.sleep(1.0)  # an injection would have started gdb/lldb under the adapter by now
            assert _descendants(debuggee.proc.pid) == before
        finally:
            victim.kill()
            await victim.wait()
        # the same session then attaches normally
        attach = await client.send(
            "attach", {"justMyCode": False, "name": "ok", "type": "debugpy", "request": "attach", "connect": {"host": "127.0.0.1", "port": 1}}
        )  # dropped, not refused
        await client.event("initialized", 8)
        r = await client.request("configurationDone", None, 8)
        assert r["success"], r
        assert (await client.response(attach, 8))["success"]
        threads = await client.request("threads")
        assert any(t["name"] == "MainThread" for t in threads["body"]["threads"]), threads
        assert (await client.request("disconnect", {"terminateDebuggee": False}))["success"]
        await client.close()
        await asyncio.wait_for(session_task, 15)

    asyncio.run(main())


def test_a_refusal_shows_key_names_printable() -> None:
    refusal, _ = screen_start_request(attach({"evil\nkey\x1b[31m": 1}))
    assert refusal is not None and "\n" not in refusal and "\x1b" not in refusal and "evil?key?[31m" in refusal
