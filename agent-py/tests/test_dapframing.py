from __future__ import annotations

import json
import random

import pytest

from dbgrelay.dapframing import DapReader, encode_message
from dbgrelay.errors import DapFramingError

MESSAGES = [{"seq": i, "type": "event", "event": "output", "body": {"output": "é" * i + "\r\n\r\n"}} for i in range(20)]


def test_round_trip_in_random_chunks() -> None:
    data = b"".join(encode_message(m) for m in MESSAGES)
    rng = random.Random(7)
    for _ in range(20):
        reader, out, i = DapReader(), [], 0
        while i < len(data):
            n = rng.randint(1, 40)
            out += reader.feed(data[i : i + n])
            i += n
        assert out == MESSAGES
        assert reader.buffered == 0


def test_byte_by_byte_and_frames_are_exact_bytes() -> None:
    frame = b"Content-Length: 13\r\nContent-Type: x\r\n\r\n" + b'{"seq":1,"a":2}'[:13]
    body = b'{"seq":1,"a":2}'
    frame = b"content-length: %d\r\nX-Other: y\r\n\r\n" % len(body) + body
    reader = DapReader()
    got = []
    for b in frame:
        got += reader.feed_frames(bytes([b]))
    assert got == [(frame, json.loads(body))]


def test_max_size_is_enforced_before_reading_the_body() -> None:
    reader = DapReader(max_message_bytes=100)
    with pytest.raises(DapFramingError, match="exceeds"):
        reader.feed(b"Content-Length: 101\r\n\r\n")
    with pytest.raises(DapFramingError):
        reader.feed(b"{}")  # a failed reader stays failed


@pytest.mark.parametrize("data", [
    b"Content-Length: abc\r\n\r\n{}",
    b"Content-Length: -1\r\n\r\n",
    b"X-Nothing: 1\r\n\r\n{}",
    b"garbage line\r\n\r\n",
    b"Content-Length: 2\r\n\r\n[]",
    b"Content-Length: 2\r\n\r\n\xff\xfe",
    b"A" * 2000,
])
def test_malformed_input_is_rejected(data: bytes) -> None:
    with pytest.raises(DapFramingError):
        DapReader().feed(data)


def test_encode_is_one_buffer_with_correct_length() -> None:
    raw = encode_message({"seq": 1, "type": "request", "command": "évaluer"})
    header, _, body = raw.partition(b"\r\n\r\n")
    assert int(header.split(b":")[1]) == len(body)
