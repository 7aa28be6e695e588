"""A DAP or control message nested thousands of levels deep is refused with a stable
error (never a RecursionError that would end the bridge or the agent)."""

import pytest

from dbgrelay import protocol
from dbgrelay.dapframing import MAX_JSON_DEPTH, DapReader, json_depth
from dbgrelay.errors import DapFramingError


def _frame(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def _nested(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


def test_json_depth_counts_without_recursion() -> None:
    assert json_depth({"a": [1, {"b": {}}]}) == 4
    value: list = []
    for _ in range(100_000):
        value = [value]
    assert json_depth(value, 5) == 6


def test_client_message_deeper_than_the_bound_is_a_framing_error() -> None:
    reader = DapReader(1 << 20, MAX_JSON_DEPTH)
    body = b'{"seq":1,"type":"request","command":"evaluate","arguments":{"x":' + _nested(MAX_JSON_DEPTH) + b"}}"
    with pytest.raises(DapFramingError, match="nests deeper than 64 levels"):
        reader.feed(_frame(body))


def test_client_message_at_the_bound_is_accepted() -> None:
    reader = DapReader(1 << 20, MAX_JSON_DEPTH)
    body = b'{"seq":1,"type":"request","command":"evaluate","arguments":' + _nested(MAX_JSON_DEPTH - 2) + b"}"
    assert reader.feed(_frame(body))[0]["command"] == "evaluate"


@pytest.mark.parametrize("levels", [8000, 200_000])
def test_message_deeper_than_the_interpreter_can_parse_is_a_framing_error(levels: int) -> None:
    # The adapter's side has no depth bound of its own; json.loads raises RecursionError.
    reader = DapReader(1 << 22)
    body = b'{"seq":1,"type":"event","event":"output","body":' + _nested(levels) + b"}"
    try:
        messages = reader.feed(_frame(body))
    except DapFramingError:
        return
    assert messages[0]["event"] == "output"  # an interpreter deep enough to parse it


def test_deep_control_message_is_a_protocol_error() -> None:
    with pytest.raises(protocol.ProtocolError):
        protocol.decode(b'{"type":"open","x":' + _nested(200_000) + b"}", max_bytes=1 << 22)


def test_deep_http_refusal_body_is_a_plain_refusal() -> None:
    # A relay's refusal body nested too deep for json.loads: the agent reports the HTTP
    # status and retries as for any refusal, instead of failing on RecursionError.
    from types import SimpleNamespace

    from dbgrelay.bridge.relayconn import _refusal_from_http

    refusal = _refusal_from_http(SimpleNamespace(status_code=400, body=b'{"error":' + _nested(200_000) + b"}"))
    assert (refusal.code, refusal.relay_message) == ("HTTP_400", "relay answered HTTP 400")
