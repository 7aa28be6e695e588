"""Property-based fuzzing (Hypothesis) of the agent's parsers that read bytes from the
network or the operator: the DAP framer, WebSocket frames from the relay, control
messages and the control loop that acts on them, the hello line and its
authentication at the direct endpoint, and relay URLs (docs/fuzzing.md).

Each parser's contract: it returns a value or raises the project's error type
(``DbgRelayError`` subclasses; ``WebSocketProtocolError`` for frames), never another
exception, never ``RecursionError``. Inputs are drawn from the hostile-input seeds
(fuzz/seeds/hostileSeeds.json, the docs/protocol.md vectors), mutated, and from plain
random bytes. ``DBGRELAY_FUZZ_EXAMPLES`` sets the examples per test: a short run here
(``npm test``), tens of thousands in ``npm run fuzz``.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import os
import re
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dbgrelay import protocol
from dbgrelay.bridge.control import ControlLoop
from dbgrelay.bridge.helloauth import HelloAuthenticator
from dbgrelay.bridge.wsframes import FrameDecoder, WebSocketProtocolError
from dbgrelay.dapframing import DapReader, canonical_header, encode_message
from dbgrelay.errors import ConfigError, DapFramingError, DbgRelayError, ProtocolError, Refusal
from dbgrelay.relayurl import parse_relay_url

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = int(os.environ.get("DBGRELAY_FUZZ_EXAMPLES", "120"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=EXAMPLES < 1000, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _entry_bytes(entry: Dict[str, Any]) -> bytes:
    if "text" in entry:
        return entry["text"].encode("utf-8", "surrogatepass")
    if "base64" in entry:
        return base64.b64decode(entry["base64"])
    return "".join(piece * count for piece, count in entry["repeat"]).encode("utf-8")


_SEEDS = json.loads((ROOT / "fuzz" / "seeds" / "hostileSeeds.json").read_text(encoding="utf-8"))
_VECTORS = [json.dumps(json.loads(m.group(1))).encode() for m in re.finditer(r"```json (?:vector|invalid):\w+\n(.*?)```", (ROOT / "docs" / "protocol.md").read_text(), re.S)]


def seeds(name: str) -> List[bytes]:
    return [_entry_bytes(entry) for entry in _SEEDS[name]]


def mutated(corpus: List[bytes]) -> st.SearchStrategy[bytes]:
    """A seed with random byte edits, a random splice of two seeds, or random bytes."""

    @st.composite
    def edit(draw: st.DrawFn) -> bytes:
        data = bytearray(draw(st.sampled_from(corpus)))
        for _ in range(draw(st.integers(0, 4))):
            kind = draw(st.integers(0, 3))
            at = draw(st.integers(0, len(data)))
            if kind == 0 and data:
                data[min(at, len(data) - 1)] = draw(st.integers(0, 255))
            elif kind == 1:
                data[at:at] = draw(st.binary(min_size=1, max_size=8))
            elif kind == 2:
                del data[at : at + draw(st.integers(1, 16))]
            else:
                other = draw(st.sampled_from(corpus))
                data[at:] = other[draw(st.integers(0, len(other))) :]
        return bytes(data)

    return st.one_of(st.sampled_from(corpus), edit(), st.binary(max_size=512))


def chunks(data: bytes, cuts: List[int]) -> List[bytes]:
    points = sorted({cut % (len(data) + 1) for cut in cuts} | {0, len(data)})
    return [data[a:b] for a, b in zip(points, points[1:]) if b > a]


# -- DAP framing (agent-py/dbgrelay/dapframing.py) ------------------------------------

DAP_CORPUS = seeds("dapStreams") + [encode_message(json.loads(v)) for v in _VECTORS if v.startswith(b"{")]
MAX_MESSAGE = 4096


def feed(pieces: List[bytes]) -> Tuple[List[bytes], bool, int]:
    reader = DapReader(MAX_MESSAGE, max_depth=protocol_depth())
    frames: List[bytes] = []
    try:
        for piece in pieces:
            for frame, body_at in reader.feed_raw(piece):
                frames.append(frame)
                try:
                    message = DapReader(MAX_MESSAGE, max_depth=protocol_depth()).parse(frame, body_at)
                    assert isinstance(message, dict)
                except DapFramingError:
                    pass
    except DapFramingError:
        with pytest.raises(DapFramingError):
            reader.feed_raw(b"Content-Length: 2\r\n\r\n{}")
        return frames, True, reader.buffered
    return frames, False, reader.buffered


def protocol_depth() -> int:
    from dbgrelay.dapframing import MAX_JSON_DEPTH

    return MAX_JSON_DEPTH


@FUZZ
@given(data=mutated(DAP_CORPUS), cuts=st.lists(st.integers(0, 1 << 16), max_size=12))
def test_dap_reader_frames_canonically_in_any_chunking(data: bytes, cuts: List[int]) -> None:
    pieces, failed, buffered = feed(chunks(data, cuts))
    whole, whole_failed, whole_buffered = feed([data])
    for frame in pieces:
        body = frame[frame.index(b"\r\n\r\n") + 4 :]
        assert frame == canonical_header(len(body)) + body
        assert len(body) <= MAX_MESSAGE
    assert failed == whole_failed, "the chunking changed whether the stream failed"
    if not whole_failed:
        assert pieces == whole and buffered == whole_buffered


# -- WebSocket frames from the relay (agent-py/dbgrelay/bridge/wsframes.py) ------------------


@FUZZ
@given(data=mutated(seeds("wsFrames")), cuts=st.lists(st.integers(0, 1 << 16), max_size=8))
def test_frame_decoder_yields_events_or_a_protocol_error(data: bytes, cuts: List[int]) -> None:
    decoder = FrameDecoder(max_message_bytes=1024)
    try:
        for piece in chunks(data, cuts):
            for kind, value in decoder.feed(piece):
                assert kind in ("data", "ping", "close")
                if kind == "data":
                    assert isinstance(value, bytes) and 0 < len(value) <= 1024
                elif kind == "ping":
                    assert isinstance(value, bytes) and len(value) <= 125
                else:
                    assert isinstance(value, int) and 0 <= value <= 0xFFFF
    except WebSocketProtocolError as exc:
        assert exc.close_code in (1002, 1009)


# -- Control messages and the control loop (protocol.py, bridge/control.py) -------------

CONTROL_CORPUS = seeds("controlLines") + _VECTORS


class _Channel:
    def __init__(self, messages: List[Dict[str, Any]]) -> None:
        self.messages = messages
        self.sent: List[Dict[str, Any]] = []

    async def recv(self) -> Optional[Dict[str, Any]]:
        return self.messages.pop(0) if self.messages else None

    async def send(self, message: Dict[str, Any]) -> None:
        self.sent.append(message)


class _Dialer:
    endpoint = None


@FUZZ
@given(lines=st.lists(mutated(CONTROL_CORPUS), min_size=1, max_size=4))
def test_control_messages_parse_or_raise_and_the_loop_acts_on_what_parses(lines: List[bytes]) -> None:
    accepted: List[Dict[str, Any]] = []
    for line in lines:
        try:
            accepted.append(protocol.parse_control(line))
        except ProtocolError:
            pass
        try:
            value = protocol.decode(line)
        except ProtocolError:
            continue
        for validate in (protocol.validate_hello, protocol.validate_hello_reply, protocol.validate_http_error):
            try:
                validate(value)
            except ProtocolError:
                pass

    async def serve() -> List[str]:
        opened: List[str] = []

        async def on_open(session_id: str) -> None:
            opened.append(session_id)

        loop = ControlLoop(_Dialer(), {}, on_open, lambda report: None)  # type: ignore[arg-type]
        channel = _Channel(list(accepted))
        await loop._serve(channel, 5.0)  # type: ignore[arg-type]
        await asyncio.gather(*loop._tasks)
        return opened

    for session_id in asyncio.run(serve()):
        assert protocol.SESSION_ID_RE.match(session_id)


# -- Hello line at the direct endpoint (protocol.py, bridge/helloauth.py) --------------------

HELLO_CORPUS = seeds("helloLines") + [v for v in _VECTORS if b'"dbgrelay"' in v]


@FUZZ
@given(line=mutated(HELLO_CORPUS), secret=st.sampled_from([None, "s3cr3t-relay-secret-0123456789"]))
def test_a_hello_is_admitted_or_refused_with_a_wire_code(line: bytes, secret: Optional[str]) -> None:
    auth = HelloAuthenticator(secret)
    try:
        hello = protocol.validate_hello(protocol.decode(line, protocol.MAX_HELLO_BYTES))
    except ProtocolError as exc:
        assert exc.code in ("BAD_REQUEST", "PROTOCOL_VERSION", "MESSAGE_TOO_LARGE")
        return
    try:
        auth.check(hello, "192.0.2.1")
    except Refusal as refusal:
        assert refusal.code in ("BAD_REQUEST", "AUTH_REQUIRED", "AUTH_FAILED", "AUTH_LOCKED")
        assert "s3cr3t" not in str(refusal)


# -- Relay URLs (agent-py/dbgrelay/relayurl.py) ----------------------------------------


@FUZZ
@given(url=mutated(seeds("relayUrls")).map(lambda b: b.decode("utf-8", "replace")))
def test_a_relay_url_parses_or_raises_config_error(url: str) -> None:
    try:
        endpoint = parse_relay_url(url)
    except ConfigError as exc:
        user = re.match(r"^\s*[^:/?#]*://([^@/?#]+)@", url)
        if user and len(user.group(1)) >= 8:
            assert user.group(0).strip() not in str(exc)
        return
    assert endpoint.scheme in ("wss", "tcps") and 0 < endpoint.port < 65536
    # what is shown is made of the host, port and path only (never the secret)
    host = f"[{endpoint.host}]" if ":" in endpoint.host else endpoint.host
    assert endpoint.display() == f"{endpoint.scheme}://{host}:{endpoint.port}{endpoint.base_path}"
    assert repr(endpoint) == repr(dataclasses.replace(endpoint, secret=None))
    again = parse_relay_url(endpoint.display())
    assert (again.scheme, again.host, again.port, again.base_path, again.secret) == (endpoint.scheme, endpoint.host, endpoint.port, endpoint.base_path, None)


def test_every_contract_error_is_the_projects_error_type() -> None:
    """The types the properties above accept are the agent's one error family."""
    for error in (ConfigError, DapFramingError, ProtocolError, Refusal):
        assert issubclass(error, DbgRelayError)


# -- What the fuzzing found (each failed before its fix) -----------------------------------


@pytest.mark.parametrize("url", ["wss://[::1", "wss://[zz::1]:7443", "wss://\u2100h:1", "wss://r\x04lay:7443", "wss://re lay:7443", "tcps://s3cr3t-0123@\x04$$s$$:1"])
def test_a_relay_url_with_an_invalid_host_is_a_config_error(url: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_relay_url(url)
    assert "s3cr3t" not in str(info.value)


def test_a_hello_secret_with_a_lone_surrogate_is_refused_not_raised() -> None:
    hello = protocol.validate_hello(protocol.decode(b'{"dbgrelay":1,"op":"attach","target":"t","secret":"\\ud800"}'))
    with pytest.raises(Refusal) as info:
        HelloAuthenticator("s3cr3t-relay-secret-0123456789").check(hello, "192.0.2.1")
    assert info.value.code == "AUTH_FAILED"


@pytest.mark.parametrize("size", [1023, 1024])
def test_a_dap_header_within_the_bound_is_accepted_in_any_chunking(size: int) -> None:
    header = b"X-Pad: " + b"p" * (size - 26) + b"\r\nContent-Length: 2"
    assert len(header) == size
    reader = DapReader()
    frames = [frame for byte in header + b"\r\n\r\n{}" for frame, _ in reader.feed_raw(bytes([byte]))]
    assert frames == [b"Content-Length: 2\r\n\r\n{}"]


def test_a_length_with_leading_zeros_is_reframed() -> None:
    assert [frame for frame, _ in DapReader().feed_raw(b"Content-Length: 0002\r\n\r\n{}")] == [b"Content-Length: 2\r\n\r\n{}"]
