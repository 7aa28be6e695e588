"""Labels are bounded in total (revision 1.9): the agent refuses them at start, as the relay would."""

from __future__ import annotations

import pytest

from dbgrelay import protocol
from dbgrelay.errors import ConfigError, ProtocolError
from dbgrelay.options import build_options

SECRET = "a-long-enough-relay-secret-0123456789"

# What the old bounds allowed: 32 labels of 64-character keys and 256-character values (10240 bytes).
HUGE = {f"{k:02d}".ljust(64, "k"): "v" * 256 for k in range(32)}
# Exactly at the bound: 8 × (16 + 240) bytes, values of two-byte characters.
EXACT = {f"label-{k}".ljust(16, "-"): "é" * 120 for k in range(8)}


def test_the_bound_matches_the_relay() -> None:
    assert protocol.MAX_LABEL_BYTES == 2048
    assert protocol.MAX_TARGETS_PAGE == 500


def test_labels_over_2048_bytes_are_refused_at_start_saying_how_much() -> None:
    with pytest.raises(ConfigError, match=r"labels take 10240 bytes \(keys and values together, UTF-8\); at most 2048"):
        build_options("wss://h:1", "w", SECRET, labels=HUGE)


def test_labels_are_counted_in_utf8_bytes_not_characters() -> None:
    build_options("wss://h:1", "w", SECRET, labels=EXACT)  # 2048 bytes: accepted
    over = dict(EXACT)
    over["label-0".ljust(16, "-")] = "é" * 120 + "x"
    with pytest.raises(ConfigError, match="labels take 2049 bytes"):
        build_options("wss://h:1", "w", SECRET, labels=over)


def test_a_register_message_with_too_large_labels_is_invalid() -> None:
    register = {
        "type": "register",
        "agentId": "a",
        "target": {"name": "web-1", "labels": HUGE},
        "process": {"pid": 1, "host": "h", "python": "3", "debugpy": "1", "agent": "0"},
    }
    with pytest.raises(ProtocolError, match="at most 2048"):
        protocol.validate_control(register)


def test_targets_hello_paging_fields() -> None:
    assert protocol.validate_hello({"dbgrelay": 1, "op": "targets", "after": "web-1", "limit": 500})["limit"] == 500
    for bad in ({"limit": 0}, {"limit": 501}, {"limit": "10"}, {"after": ""}):
        with pytest.raises(ProtocolError):
            protocol.validate_hello({"dbgrelay": 1, "op": "targets", **bad})
    reply = protocol.validate_hello_reply({"ok": True, "targets": [], "next": "web-9"})
    assert reply["next"] == "web-9"
    with pytest.raises(ProtocolError):
        protocol.validate_hello_reply({"ok": True, "targets": [], "next": 3})
