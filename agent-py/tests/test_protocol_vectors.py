"""docs/protocol.md's `json vector:` blocks validate and round-trip; `json invalid:` fail."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

import pytest

from dbgrelay import protocol
from dbgrelay.errors import ProtocolError

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"
BLOCK = re.compile(r"^```json (vector|invalid):(\w+)\n(.*?)^```", re.S | re.M)


def blocks(kind: str) -> List[Tuple[str, Any]]:
    assert DOC.is_file(), f"protocol document missing at {DOC}"
    return [(name, json.loads(body)) for k, name, body in BLOCK.findall(DOC.read_text("utf-8")) if k == kind]


def validator_for(name: str, message: Any) -> Callable[[Any], Dict[str, Any]]:
    if name.startswith("hello") and isinstance(message, dict) and "ok" in message:
        return protocol.validate_hello_reply
    if name.startswith("hello"):
        return protocol.validate_hello
    if name in ("targets", "targetsConfigured", "targetsBrokenDebugger", "targetsPage"):
        return protocol.validate_hello_reply
    if name == "httpError":
        return protocol.validate_http_error
    return protocol.validate_control


def test_document_has_vectors() -> None:
    names = [n for n, _ in blocks("vector")]
    for expected in (
        "register",
        "registered",
        "ping",
        "pong",
        "open",
        "openFailed",
        "controlError",
        "helloAgent",
        "helloAgentData",
        "helloOk",
        "helloRefused",
        "targets",
        "httpError",
        "registerWithAttachSecret",
        "helloAgentToken",
        "helloAttachWithAttachSecret",
        "helloAttachTakeover",
    ):
        assert expected in names, f"vector {expected!r} missing from docs/protocol.md"
    assert len(blocks("invalid")) >= 3


@pytest.mark.parametrize("name,message", blocks("vector"), ids=[n for n, _ in blocks("vector")])
def test_vector_is_accepted_and_round_trips(name: str, message: Any) -> None:
    validate = validator_for(name, message)
    assert validate(message) == message
    encoded = protocol.encode(message)
    assert "\n" not in encoded
    assert validate(protocol.decode(encoded)) == message


@pytest.mark.parametrize("name,message", blocks("invalid"), ids=[n for n, _ in blocks("invalid")])
def test_invalid_is_rejected(name: str, message: Any) -> None:
    with pytest.raises(ProtocolError):
        validator_for(name, message)(message)


def test_unknown_control_type_is_accepted_but_marked_unknown() -> None:
    m = protocol.validate_control({"type": "futureThing", "x": 1})
    assert not protocol.is_known_control(m)


@pytest.mark.parametrize(
    "bad",
    [
        {"type": "ping"},
        {"type": "ping", "id": -1},
        {"type": "ping", "id": True},
        {"type": "open", "sessionId": "short"},
        {"type": "open", "sessionId": "a/" * 20},
        {"type": "registered", "target": "x", "heartbeat": {"intervalMs": 0, "timeoutMs": 1}},
        {"type": "error", "code": "", "message": "m"},
        [],
        "text",
        {"no": "type"},
    ],
)
def test_malformed_control_messages_are_rejected(bad: Any) -> None:
    with pytest.raises(ProtocolError):
        protocol.validate_control(bad)


def test_target_name_rules_and_error_code() -> None:
    assert protocol.validate_target_name("web-1.a_b") == "web-1.a_b"
    for bad in ("", "-x", "../etc", "a" * 64, "a b"):
        with pytest.raises(ProtocolError) as info:
            protocol.validate_target_name(bad)
        assert info.value.code == "TARGET_NAME_INVALID"


def test_decode_bounds_size_and_rejects_non_json() -> None:
    with pytest.raises(ProtocolError) as info:
        protocol.decode("x" * (protocol.MAX_CONTROL_MESSAGE_BYTES + 1))
    assert info.value.code == "MESSAGE_TOO_LARGE"
    with pytest.raises(ProtocolError):
        protocol.decode("{not json")
