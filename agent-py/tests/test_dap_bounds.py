"""The agent bounds DAP messages as the relay and the client do: its constants equal the
values in test/fixtures/dapBoundVectors.json, which the TypeScript tests check too."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dbgrelay.dapframing import DEFAULT_MAX_MESSAGE_BYTES, MAX_JSON_DEPTH, DapReader
from dbgrelay.errors import DapFramingError

ROOT = Path(__file__).resolve().parents[2]
VECTORS = json.loads((ROOT / "test" / "fixtures" / "dapBoundVectors.json").read_text("utf-8"))


def test_message_bound_equals_the_relays() -> None:
    assert DEFAULT_MAX_MESSAGE_BYTES == VECTORS["maxMessageBytes"]


def test_json_depth_bound_equals_the_relays() -> None:
    assert MAX_JSON_DEPTH == VECTORS["maxJsonDepth"]


def test_default_reader_refuses_one_byte_past_the_bound() -> None:
    reader = DapReader()
    header = b"Content-Length: %d\r\n\r\n" % (VECTORS["maxMessageBytes"] + 1)
    with pytest.raises(DapFramingError):
        reader.feed(header)


def test_default_reader_waits_for_a_body_at_the_bound() -> None:
    reader = DapReader()
    assert reader.feed(b"Content-Length: %d\r\n\r\n" % VECTORS["maxMessageBytes"]) == []
