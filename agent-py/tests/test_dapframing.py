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


def test_byte_by_byte_and_a_non_canonical_header_is_reframed() -> None:
    body = b'{"seq":1,"a":2}'
    frame = b"content-length: %d\r\nX-Other: y\r\n\r\n" % len(body) + body
    reader = DapReader()
    got = []
    for b in frame:
        got += reader.feed_frames(bytes([b]))
    assert got == [(b"Content-Length: 15\r\n\r\n" + body, json.loads(body))]


def test_max_size_is_enforced_before_reading_the_body() -> None:
    reader = DapReader(max_message_bytes=100)
    with pytest.raises(DapFramingError, match="exceeds"):
        reader.feed(b"Content-Length: 101\r\n\r\n")
    with pytest.raises(DapFramingError):
        reader.feed(b"{}")  # a failed reader stays failed


@pytest.mark.parametrize(
    "data",
    [
        b"Content-Length: abc\r\n\r\n{}",
        b"Content-Length: -1\r\n\r\n",
        b"X-Nothing: 1\r\n\r\n{}",
        b"garbage line\r\n\r\n",
        b"Content-Length: 2\r\n\r\n[]",
        b"Content-Length: 2\r\n\r\n\xff\xfe",
        b"A" * 2000,
    ],
)
def test_malformed_input_is_rejected(data: bytes) -> None:
    with pytest.raises(DapFramingError):
        DapReader().feed(data)


def test_encode_is_one_buffer_with_correct_length() -> None:
    raw = encode_message({"seq": 1, "type": "request", "command": "évaluer"})
    header, _, body = raw.partition(b"\r\n\r\n")
    assert int(header.split(b":")[1]) == len(body)


def test_feed_raw_gives_exact_frames_and_body_offsets_without_copying_whole_chunks() -> None:
    one, two = encode_message({"seq": 1, "type": "event", "event": "x"}), encode_message({"seq": 2})
    reader = DapReader()
    got = reader.feed_raw(one)
    assert got == [(one, one.index(b"{"))]
    assert got[0][0] is one  # a chunk that is exactly one message is forwarded as is
    got = reader.feed_raw(two + one[:5])
    assert got == [(two, two.index(b"{"))] and reader.buffered == 5
    assert reader.feed_raw(one[5:30]) == [] and reader.buffered == 30
    assert reader.feed_raw(one[30:] + two) == [(one, one.index(b"{")), (two, two.index(b"{"))]
    assert reader.buffered == 0


def test_a_large_message_in_small_chunks_and_parse_checks_the_body() -> None:
    message = {"seq": 9, "type": "response", "body": {"data": "x" * 300_000}}
    data = encode_message(message)
    reader, frames = DapReader(), []
    for i in range(0, len(data), 4096):
        frames += reader.feed_raw(data[i : i + 4096])
    assert len(frames) == 1 and frames[0][0] == data
    assert reader.parse(*frames[0]) == message
    bad = b"Content-Length: 2\r\n\r\n[]"
    with pytest.raises(DapFramingError, match="JSON object"):
        reader.parse(bad, bad.index(b"["))
    with pytest.raises(DapFramingError):
        reader.feed_raw(data)  # parse() failed the reader


def test_body_must_be_utf8_even_if_json_could_guess_another_encoding() -> None:
    body = '{"seq":1}'.encode("utf-16-le")
    with pytest.raises(DapFramingError):
        DapReader().feed(b"Content-Length: %d\r\n\r\n" % len(body) + body)


BODY = b'{"seq":1,"type":"request","command":"threads"}'


@pytest.mark.parametrize(
    "header",
    [
        b"content-length: %d",
        b"CONTENT-LENGTH:%d",
        b"Content-Length:\t%d\t",
        b"Content-Type: application/json\r\nContent-Length: %d",
        b"Content-Length: %d\r\nX-Trace: a b:c",
        b"Content-length: 0000%d",
    ],
)
def test_unambiguous_headers_come_out_canonical(header: bytes) -> None:
    data = header % len(BODY) + b"\r\n\r\n" + BODY
    for split in (len(data), 7):  # in one chunk, and cut inside the header
        reader = DapReader()
        frames = reader.feed_raw(data[:split]) + reader.feed_raw(data[split:])
        assert frames == [(b"Content-Length: %d\r\n\r\n" % len(BODY) + BODY, len(b"Content-Length: 46\r\n\r\n"))]
        assert reader.parse(*frames[0])["command"] == "threads"


def test_the_canonical_header_passes_as_the_same_bytes_object() -> None:
    data = b"Content-Length: %d\r\n\r\n" % len(BODY) + BODY
    assert DapReader().feed_raw(data)[0][0] is data


@pytest.mark.parametrize(
    "header",
    [
        b"Content-Length: %d\r\nContent-Length: %d",  # duplicate, same value
        b"Content-Length: %d\r\ncontent-length: 1",  # duplicate, other value
        b"Content-Length : %d",  # whitespace before the colon
        b" Content-Length: %d",  # leading whitespace
        b"Content-Length: %d\r\n X-Folded: y",  # a folded line
        b"Content-Length: %d\r\nno colon here",
        b"Content-Length: +%d",
        b"Content-Length: %d;q=1",
        b"Content-Length: 1 2",
        b": %d",
        b"X-Other: %d",
        b"Content-Length: %d\r\nX-Bin: \x01",
        b"Content-Length: %d\r\nX-Utf8: \xc3\xa9",
    ],
)
def test_ambiguous_headers_are_refused_and_the_reader_stays_failed(header: bytes) -> None:
    head = header.replace(b"%d", str(len(BODY)).encode())
    reader = DapReader()
    with pytest.raises(DapFramingError):
        reader.feed_raw(head + b"\r\n\r\n" + BODY)
    with pytest.raises(DapFramingError):
        reader.feed_raw(b"Content-Length: %d\r\n\r\n" % len(BODY) + BODY)
