"""The agent's error codes and the relay's: one list each (dbgrelay/errors.py and
src/common/relayError.ts). A code with the relay's meaning has the relay's spelling,
and a code only the agent has is not a near-copy of a relay code."""

from __future__ import annotations

import re
from pathlib import Path
from typing import List, Set, Tuple

from dbgrelay import errors

ROOT = Path(__file__).resolve().parents[2]


def _relay_list(source: str, name: str) -> Set[str]:
    found = re.search(r"export const %s = \[(.*?)\] as const;" % name, source, re.S)
    assert found, f"{name} not found in relayError.ts"
    return set(re.findall(r"^\s*'([A-Z0-9_]+)',", found.group(1), re.M))


def relay_codes() -> Tuple[Set[str], Set[str]]:
    """The relay's wire codes and its local-only codes (``wireErrorCodes``, ``localErrorCodes``)."""
    source = (ROOT / "src" / "common" / "relayError.ts").read_text(encoding="utf-8")
    return _relay_list(source, "wireErrorCodes"), _relay_list(source, "localErrorCodes")


def documented_wire_codes() -> Set[str]:
    """The codes in the table of docs/protocol.md §8."""
    text = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
    section = text.split("## 8. Error codes", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([A-Z0-9_]+)` \|", section, re.M))


def _words(code: str) -> List[str]:
    """The words of a code, each without an inflection (FAILED, FAILS -> FAIL)."""
    out = []
    for word in code.split("_"):
        for suffix in ("ING", "ED", "S"):
            if word.endswith(suffix) and len(word) > len(suffix) + 2:
                word = word[: -len(suffix)]
                break
        out.append(word)
    return out


def near_duplicate(a: str, b: str) -> bool:
    """Two different codes with the same words (in any order, any inflection), or one
    that is the other with a word added or dropped at the end (CONFIG, CONFIG_INVALID)."""
    if a == b:
        return False
    wa, wb = _words(a), _words(b)
    if sorted(wa) == sorted(wb):
        return True
    short, long = sorted((wa, wb), key=len)
    return long[: len(short)] == short


def test_near_duplicate_catches_the_usual_slips() -> None:
    assert near_duplicate("CONFIG", "CONFIG_INVALID")
    assert near_duplicate("PIN_MISMATCH_TLS", "TLS_PIN_MISMATCH")
    assert near_duplicate("AUTH_FAIL", "AUTH_FAILED")
    assert not near_duplicate("AGENT_ERROR", "AGENT_GONE")
    assert not near_duplicate("REGISTRATION_TIMEOUT", "HANDSHAKE_TIMEOUT")


def test_the_relay_list_is_read() -> None:
    wire, local = relay_codes()
    assert {"AUTH_FAILED", "BAD_REQUEST", "MESSAGE_TOO_LARGE"} <= wire
    assert {"CONFIG_INVALID", "TLS_VERIFY_FAILED", "TLS_PIN_MISMATCH"} <= local
    assert not wire & local


def test_every_code_constant_is_in_the_one_list() -> None:
    constants = {value for name, value in vars(errors).items() if name.isupper() and isinstance(value, str) and name == value}
    assert constants == set(errors.ALL_CODES)
    assert len(errors.ALL_CODES) == len(set(errors.ALL_CODES))
    classes = [errors.DbgRelayError, errors.ConfigError, errors.ProtocolError, errors.DapFramingError, errors.TrustError, errors.RegistrationError, errors.Refusal]
    assert {cls.code for cls in classes} <= set(errors.ALL_CODES)


def test_wire_codes_are_the_relays() -> None:
    wire, local = relay_codes()
    documented = documented_wire_codes()
    assert set(errors.WIRE_CODES) <= wire
    assert set(errors.WIRE_CODES) <= documented
    assert set(errors.ALL_CODES) & documented <= wire | local
    assert set(errors.SHARED_LOCAL_CODES) <= local


def test_agent_only_codes_are_no_copies_of_relay_codes() -> None:
    wire, local = relay_codes()
    relay = wire | local
    assert not set(errors.AGENT_ONLY_CODES) & relay
    copies = [(mine, theirs) for mine in errors.AGENT_ONLY_CODES for theirs in sorted(relay) if near_duplicate(mine, theirs)]
    assert not copies
