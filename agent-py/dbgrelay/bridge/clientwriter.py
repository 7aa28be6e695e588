"""Everything a session writes toward the client on the relay's stream: the adapter's
bytes as they come, and the bridge's own messages (error responses to refused
requests, ``dbgrelay.heartbeat`` events), which wait for a frame boundary of the
adapter's stream so they never land inside one of its messages."""

from __future__ import annotations

import asyncio
from typing import Any, Callable, List, Optional

from ..dapframing import encode_message
from .liveness import HEARTBEAT_FRAME
from .streams import CallbackStream

#: seq numbers of the bridge's own messages to the client (far from debugpy's).
OWN_SEQ_BASE = 0x2FFF0000


class ClientWriter:
    def __init__(self, relay: CallbackStream, adapter_at_boundary: Callable[[], bool]) -> None:
        self.relay = relay
        self._at_boundary = adapter_at_boundary
        #: False once a write to the relay failed or the session closed the relay side.
        self.open = True
        self._queue: List[bytes] = []  # own frames, waiting for a frame boundary
        self._own_seq = OWN_SEQ_BASE
        self._heartbeat: Optional[asyncio.TimerHandle] = None

    def forward(self, data: bytes) -> None:
        """Adapter bytes, unchanged; then the own messages that waited for a boundary."""
        if self.open and not self.relay.write_nowait(data):
            self.open = False
        if self._queue and self._at_boundary():
            self._flush()

    def refuse_request(self, request: Any, message: str) -> None:
        """Answer a client request the adapter must not see with an error response."""
        self._own_seq += 1
        self.send_own(
            encode_message(
                {
                    "seq": self._own_seq,
                    "type": "response",
                    "request_seq": request.get("seq"),
                    "command": request.get("command"),
                    "success": False,
                    "message": message,
                }
            )
        )

    def send_own(self, frame: bytes) -> None:
        """Send ``frame`` at the next frame boundary of the adapter's stream (at once
        when the adapter is not in the middle of a message)."""
        self._queue.append(frame)
        if self._at_boundary():
            self._flush()

    def _flush(self) -> None:
        data, self._queue = b"".join(self._queue), []
        if data and self.open and not self.relay.write_nowait(data):
            self.open = False

    def start_heartbeat(self, interval_s: float, wanted: Callable[[], bool]) -> None:
        """A ``dbgrelay.heartbeat`` event every ``interval_s`` while the relay side is
        open and ``wanted()`` holds (a tcps data connection, revision 1.7)."""

        def beat() -> None:
            self._heartbeat = None
            if self.open and wanted():
                self.send_own(HEARTBEAT_FRAME)
                self._heartbeat = asyncio.get_running_loop().call_later(interval_s, beat)

        self._heartbeat = asyncio.get_running_loop().call_later(interval_s, beat)

    def stop_heartbeat(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            self._heartbeat = None
