"""The session's two pumps as stream callbacks (both ends callback streams:
``SocketStream``, ``WebSocketStream``).

Same protections as the coroutine pumps in ``adaptersession.py``, without a task
wake-up per chunk: each chunk is framed (and parsed where ``handshake.py`` says so) in
the readable callback and written straight to the other stream. Every client message
is parsed, passes :func:`~.clientchecks.admit_client_message` (dropped or answered by
the bridge, or forwarded) and reaches the adapter as a canonical frame
(``dapframing.py``); adapter bytes go on to the relay unparsed. A client message that
must wait for something first (an ``attach`` for the adapter gate to be quiet, a
``disconnect``/``terminate`` for the gate's teardown slot) pauses reading from the
relay; a task waits, forwards that message and the ones after it in order, then
resumes reading. Bytes that still arrive meanwhile are queued, the client's end of
stream after them. A full write buffer on one side pauses reading on the other.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, Awaitable, Callable, List, Optional, Tuple

from ..dapframing import encode_message
from ..errors import DapFramingError
from .clientchecks import admit_client_message

if TYPE_CHECKING:
    from .adaptersession import AdapterSession
    from .connectors import CallbackStream

log = logging.getLogger("dbgrelay.dap")

Frames = List[Tuple[bytes, Any]]


def client_step(s: "AdapterSession", message: Any) -> Optional[Callable[[], Awaitable[None]]]:
    """What must happen before this client message may reach the adapter, if anything:
    a ``disconnect``/``terminate`` takes the gate's teardown slot, a main ``attach``
    waits for the gate to be quiet."""
    command = message.get("command") if message.get("type") == "request" else None
    if command in ("disconnect", "terminate") and not s._in_teardown:
        return s._enter_teardown
    if command == "attach" and not s.state.sub_process:
        return s.gate.quiet
    return None


class CallbackPumps:
    def __init__(self, session: "AdapterSession", relay: "CallbackStream", adapter: "CallbackStream") -> None:
        self.s = session
        self.relay = relay
        self.adapter = adapter
        loop = asyncio.get_running_loop()
        self.client_done: "asyncio.Future[None]" = loop.create_future()
        self.adapter_done: "asyncio.Future[None]" = loop.create_future()
        self._backlog: List[bytes] = []
        self._busy: Optional["asyncio.Future[None]"] = None  # a waiting client message
        self._client_eof = False
        relay.on_write_paused = lambda paused: self._backpressure(adapter, paused)
        adapter.on_write_paused = lambda paused: self._backpressure(relay, paused)

    @staticmethod
    def _backpressure(reader: "CallbackStream", paused: bool) -> None:
        if paused:
            reader.hold_reading("peer")
        else:
            reader.release_reading("peer")

    async def run_client(self, first: bytes) -> None:
        self._on_client_data(first)
        self.relay.set_handler(self._on_client_data, self._on_client_eof)  # buffered bytes next
        try:
            await self.client_done
        finally:
            self.stop_client()

    async def run_adapter(self) -> None:
        self.adapter.set_handler(self._on_adapter_data, self._adapter_ended)
        await self.adapter_done

    # -- adapter -> client -----------------------------------------------------

    def _on_adapter_data(self, data: bytes) -> None:
        s = self.s
        try:
            s._track_adapter(data)
        except DapFramingError as exc:
            log.error("session %s: adapter stream: %s", s.label, exc)
            self._adapter_ended()
            return
        if s._relay_open and not self.relay.write_nowait(data):
            s._relay_open = False
        if s._client_queue and s._adapter_reader.buffered == 0:
            s._flush_to_client()
        s._changed.set()

    def _adapter_ended(self) -> None:
        self.adapter.set_handler(None, lambda: None)
        self.adapter.hold_reading("ended")
        self.s._adapter_eof = True
        self.s._changed.set()
        if not self.adapter_done.done():
            self.adapter_done.set_result(None)

    # -- client -> adapter -----------------------------------------------------
    def _on_client_data(self, data: bytes) -> None:
        if self.client_done.done():
            return
        if self._busy is not None:
            self._backlog.append(data)
            return
        try:
            frames = self.s._client_reader.feed_frames(data)
        except DapFramingError as exc:
            log.warning("session %s: client stream: %s", self.s.label, exc)
            self.stop_client()
            return
        self._forward(frames, 0)

    def _on_client_eof(self) -> None:
        self._client_eof = True
        self.s._relay_ended = True
        if self._busy is None:
            self.stop_client()

    def _forward(self, frames: Frames, i: int) -> None:
        state, adapter = self.s.state, self.adapter
        while i < len(frames):
            raw, message = frames[i]
            admitted = admit_client_message(self.s, message)
            if admitted is None:
                i += 1
                continue
            if admitted is not message:  # changed by a check: forwarded re-encoded
                raw, message = encode_message(dict(admitted)), admitted
                frames[i] = (raw, message)
            state.on_client_message(message)
            step = client_step(self.s, message)
            if step is not None:
                self.relay.hold_reading("session")
                self._busy = asyncio.ensure_future(self._wait_then_forward(step, frames, i))
                return
            if not adapter.write_nowait(raw):
                self.stop_client()
                return
            i += 1

    async def _wait_then_forward(self, step: Callable[[], Awaitable[None]], frames: Frames, i: int) -> None:
        try:
            await step()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("session %s: waiting to forward a client message", self.s.label)
            self.stop_client()
            return
        if not self.adapter.write_nowait(frames[i][0]):
            self.stop_client()
            return
        self._busy = None
        self._forward(frames, i + 1)
        while self._busy is None and self._backlog and not self.client_done.done():
            self._on_client_data(self._backlog.pop(0))
        if self._busy is None:
            self.relay.release_reading("session")
            if self._client_eof:
                self.stop_client()

    def stop_client(self) -> None:
        """The client pump is over: nothing more from the relay reaches the adapter."""
        self._backlog.clear()
        self.relay.set_handler(None, lambda: None)
        self.relay.hold_reading("ended")
        busy, self._busy = self._busy, None
        if busy is not None and busy is not asyncio.current_task():
            busy.cancel()
        if not self.client_done.done():
            self.client_done.set_result(None)
