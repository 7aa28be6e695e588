"""dbgrelay.dapschema checks DAP requests against the DAP schema and its debugpy-safe
overlay, with the vectors the relay's tests read too (test/fixtures/dapRequestVectors.json);
the requests it refuses do kill a real debugpy."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
from conftest import APP, Debuggee
from dapclient import DapClient, full_attach

from dbgrelay import dapschema
from dbgrelay.dapschema import validate_request

ROOT = Path(__file__).resolve().parents[2]
VECTORS = json.loads((ROOT / "test" / "fixtures" / "dapRequestVectors.json").read_text("utf-8"))
VECTOR_PATH = "/srv/app/app.py"


def named(vectors: List[Dict[str, Any]]) -> Any:
    return pytest.mark.parametrize("vector", vectors, ids=[v["name"] for v in vectors])


@named(VECTORS["valid"])
def test_accepts(vector: Dict[str, Any]) -> None:
    assert validate_request(vector["request"]) is None


@named(VECTORS["invalid"])
def test_refuses_naming_the_field(vector: Dict[str, Any]) -> None:
    refusal = validate_request(vector["request"])
    assert refusal is not None, "accepted"
    field, expected = refusal
    assert field == vector["field"]
    assert expected.strip()


def test_names_what_was_expected() -> None:
    def exception_breakpoints(arguments: Any) -> Dict[str, Any]:
        return {"seq": 1, "type": "request", "command": "setExceptionBreakpoints", "arguments": arguments}

    assert validate_request(exception_breakpoints({"filters": "raised"})) == ("/arguments/filters", "must be array")
    assert validate_request(exception_breakpoints({})) == ("/arguments/filters", "is required")
    field, expected = validate_request(exception_breakpoints({"filters": [], "exceptionOptions": [{"path": [], "breakMode": "x"}]}))  # type: ignore[misc]
    assert field == "/arguments/exceptionOptions/0/breakMode"
    assert all(mode in expected for mode in ("never", "always", "unhandled", "userUnhandled"))


def test_generic_request_for_commands_the_schema_does_not_define() -> None:
    assert validate_request({"seq": 1, "type": "request", "command": "debugpyCustom", "arguments": [1, "x"]}) is None
    assert validate_request({"seq": 1, "type": "request", "command": "toString"}) is None
    assert validate_request({"seq": 1, "type": "request", "command": 5}) == ("/command", "must be string")


def test_integers_are_python_ints_within_the_safe_range() -> None:
    def stack_trace(thread_id: Any) -> Dict[str, Any]:
        return {"seq": 1, "type": "request", "command": "stackTrace", "arguments": {"threadId": thread_id}}

    assert validate_request(stack_trace(2**53 - 1)) is None
    for bad in (2**53, -(2**53), 1.0, 1e300, True):
        refusal = validate_request(stack_trace(bad))
        assert refusal is not None and refusal[0] == "/arguments/threadId", bad


def test_compiles_each_command_once() -> None:
    threads = {"seq": 1, "type": "request", "command": "threads"}
    assert dapschema._validator_for(threads) is dapschema._validator_for(dict(threads, seq=2))


def test_schema_copies_match_the_relay_byte_for_byte() -> None:
    relay = ROOT / "src" / "dap" / "schema"
    for name in ("debugAdapterProtocol.json", "debugpySafe.json"):
        assert (dapschema.SCHEMA_DIR / name).read_bytes() == (relay / name).read_bytes(), name


# -- why: a real debugpy 1.8.22 loses its reader thread to these requests ------------
DEMONSTRATED = [v for v in VECTORS["invalid"] if v.get("demonstrate")]
CONTROL = next(v for v in VECTORS["valid"] if v["name"] == "setBreakpoints")


def with_app_path(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: with_app_path(item) for key, item in value.items()}
    if isinstance(value, list):
        return [with_app_path(item) for item in value]
    return str(APP) if value == VECTOR_PATH else value


def listener_pid(port: int) -> Optional[int]:
    """The process listening on 127.0.0.1:``port`` (Linux /proc): debugpy's adapter,
    which daemonizes, so it is no child of the debuggee."""
    inode = next(
        (fields[9] for fields in (line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:]) if fields[1] == f"0100007F:{port:04X}" and fields[3] == "0A"), None
    )
    if inode is None:
        return None
    for fd in Path("/proc").glob("[0-9]*/fd/*"):
        try:
            if os.readlink(fd) == f"socket:[{inode}]":
                return int(fd.parent.parent.name)
        except OSError:
            continue
    return None


def attach_again(port: int, deadline: float) -> str:
    """Attach a new session: ``"attached"``, ``"refused"`` (nothing listens any more)
    or ``"timeout"`` (nothing answers); retries until ``deadline``."""
    while time.monotonic() < deadline:
        try:
            client = DapClient.connect(port, timeout=2)
        except ConnectionRefusedError:
            return "refused"
        try:
            full_attach(client, timeout=3)
            client.request("disconnect", {"terminateDebuggee": False}, 3)
            return "attached"
        except (AssertionError, TimeoutError, EOFError):
            time.sleep(0.3)
        finally:
            client.close()
    return "timeout"


@pytest.mark.parametrize("vector", DEMONSTRATED + [CONTROL], ids=[v["name"] for v in DEMONSTRATED] + ["control"])
def test_real_debugpy(vector: Dict[str, Any]) -> None:
    """A refused vector kills pydevd's reader thread: the request and every later one
    fail and nothing can attach to the still running program any more (debugpy's
    adapter exits, or stays and answers nothing); the valid control request leaves
    everything working."""
    crashes = vector is not CONTROL
    assert (validate_request(vector["request"]) is not None) == crashes
    debuggee = Debuggee()
    adapter = listener_pid(debuggee.port)
    try:
        assert adapter is not None, "no debugpy adapter listens on the debuggee's port"
        client = DapClient.connect(debuggee.port)
        full_attach(client, timeout=8)
        assert client.request("threads", timeout=5)["success"]
        request = with_app_path(vector["request"])
        response = client.request(request["command"], request.get("arguments"), timeout=8)
        assert response["success"] is not crashes, response
        try:
            after = client.request("threads", timeout=5)["success"]
        except (TimeoutError, EOFError):
            after = False
        assert after is not crashes
        try:
            client.request("disconnect", {"terminateDebuggee": False}, timeout=5)
        except (TimeoutError, EOFError):
            pass
        client.close()
        outcome = attach_again(debuggee.port, time.monotonic() + 10)
        assert outcome in (("refused", "timeout") if crashes else ("attached",))
        assert debuggee.proc.poll() is None, "the program itself keeps running"
    finally:
        debuggee.stop()
        try:  # a wedged adapter outlives the debuggee
            if adapter is not None and b"debugpy/adapter" in Path(f"/proc/{adapter}/cmdline").read_bytes():
                os.kill(adapter, signal.SIGKILL)
        except OSError:
            pass
