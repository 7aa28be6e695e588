"""Which client requests the adapter has not answered yet, and since when: what a
guard inside the debuggee reads through :meth:`AdapterSession.oldest_pending_ms`.

Answers are recognised by the start of the adapter's response bodies, without
parsing them in the common case (the adapter's messages are forwarded unparsed).
"""

from __future__ import annotations

import re
import time
from typing import Any, Callable, Dict, Optional

#: The start of every response debugpy writes (``messaging.py``: ``_prettify`` puts
#: ``seq``, ``type``, ``request_seq`` first; ``json.dumps`` default separators; the
#: compact ones too), so answers are recognised without parsing the adapter's messages.
RESPONSE_START = re.compile(rb'\{"seq": ?-?[0-9]+, ?"type": ?"response", ?"request_seq": ?([0-9]+)[,}]')
#: How far into a body another spelling of a response is looked for.
_RESPONSE_PROBE_BYTES = 256

#: Parses the body of a frame: ``parse(frame, body_at)`` (``DapReader.parse``).
ParseBody = Callable[[bytes, int], Dict[str, Any]]


class PendingRequests:
    def __init__(self) -> None:
        self._sent: Dict[int, float] = {}  # client request seq -> when it went to the adapter

    def __bool__(self) -> bool:
        return bool(self._sent)

    def note_forwarded(self, seq: int, at: float) -> None:
        """A client request with ``seq`` went to the adapter at ``at`` (``time.monotonic()``)."""
        self._sent.setdefault(seq, at)

    def oldest_ms(self, now: Optional[float] = None) -> Optional[float]:
        """Age in ms of the oldest request not answered yet, None when there is none."""
        for sent_at in self._sent.values():  # insertion order: the oldest first
            return ((time.monotonic() if now is None else now) - sent_at) * 1000.0
        return None

    def note_answer(self, frame: bytes, body_at: int, message: Optional[Dict[str, Any]], parse: ParseBody) -> None:
        """Forget a request once the adapter answered it: a byte check of the body's
        start for debugpy's own spelling, a parse (``parse``) only for another one.
        ``message`` is the frame's message when it was parsed already."""
        start = RESPONSE_START.match(frame, body_at)
        if start is not None:
            self._sent.pop(int(start.group(1)), None)
            return
        if message is None:
            if frame.find(b'"response"', body_at, body_at + _RESPONSE_PROBE_BYTES) < 0:
                return
            message = parse(frame, body_at)
        if message.get("type") == "response":
            self._sent.pop(message.get("request_seq"), None)  # type: ignore[arg-type]
