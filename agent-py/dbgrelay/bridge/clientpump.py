"""The client side of a session: DAP messages from the relay's stream to the adapter's,
as stream callbacks (``SocketStream``, ``WebSocketStream``), without a task wake-up per
chunk.

Each chunk is framed in the readable callback; every message is parsed and passes the
session's ``admit`` (the checks of ``clientchecks.py`` and the handshake state: dropped
or answered by the bridge, or forwarded) and reaches the adapter as a canonical frame
(``dapframing.py``), re-encoded when a check changed it. A message that must wait for
something first (``wait_before``: an ``attach`` for the adapter gate to be quiet, a
``disconnect``/``terminate`` for the gate's teardown slot) pauses reading from the
relay; a task waits, forwards that message and the ones after it in order, then
resumes reading. Bytes that still arrive meanwhile are queued, the client's end of
stream after them.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, List, Mapping, Optional, Tuple

from ..dapframing import DapReader, encode_message
from ..errors import DapFramingError
from .streams import CallbackStream

log = logging.getLogger("dbgrelay.dap")

Frames = List[Tuple[bytes, Any]]
#: The message to forward (the same object unless a check changed it), or None: not forwarded.
Admit = Callable[[Mapping[str, Any]], Optional[Mapping[str, Any]]]
#: What must happen before a message may reach the adapter, if anything.
WaitBefore = Callable[[Mapping[str, Any]], Optional[Callable[[], Awaitable[None]]]]


class ClientPump:
    def __init__(
        self, label: str, relay: CallbackStream, adapter: CallbackStream, reader: DapReader, *, admit: Admit, wait_before: WaitBefore, on_client_eof: Callable[[], None]
    ) -> None:
        self.label = label
        self.relay = relay
        self.adapter = adapter
        self.reader = reader
        self._admit = admit
        self._wait_before = wait_before
        self._on_client_eof_cb = on_client_eof
        #: Done once nothing more from the relay reaches the adapter.
        self.done: "asyncio.Future[None]" = asyncio.get_running_loop().create_future()
        self._backlog: List[bytes] = []
        self._busy: Optional["asyncio.Future[None]"] = None  # a waiting client message
        self._client_eof = False

    async def run(self, first: bytes) -> None:
        """Forward ``first`` (the client's first bytes, already read) and everything
        after it, until the client's end of stream or :meth:`stop`."""
        self._on_client_data(first)
        self.relay.set_handler(self._on_client_data, self._on_client_eof)  # buffered bytes next
        try:
            await self.done
        finally:
            self.stop()

    def _on_client_data(self, data: bytes) -> None:
        if self.done.done():
            return
        if self._busy is not None:
            self._backlog.append(data)
            return
        try:
            frames = self.reader.feed_frames(data)
        except DapFramingError as exc:
            log.warning("session %s: client stream: %s", self.label, exc)
            self.stop()
            return
        self._forward(frames, 0)

    def _on_client_eof(self) -> None:
        self._client_eof = True
        self._on_client_eof_cb()
        if self._busy is None:
            self.stop()

    def _forward(self, frames: Frames, i: int) -> None:
        adapter = self.adapter
        while i < len(frames):
            raw, message = frames[i]
            admitted = self._admit(message)
            if admitted is None:
                i += 1
                continue
            if admitted is not message:  # changed by a check: forwarded re-encoded
                raw, message = encode_message(dict(admitted)), admitted
                frames[i] = (raw, message)
            step = self._wait_before(message)
            if step is not None:
                self.relay.hold_reading("session")
                self._busy = asyncio.ensure_future(self._wait_then_forward(step, frames, i))
                return
            if not adapter.write_nowait(raw):
                self.stop()
                return
            i += 1

    async def _wait_then_forward(self, step: Callable[[], Awaitable[None]], frames: Frames, i: int) -> None:
        try:
            await step()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("session %s: waiting to forward a client message", self.label)
            self.stop()
            return
        if not self.adapter.write_nowait(frames[i][0]):
            self.stop()
            return
        self._busy = None
        self._forward(frames, i + 1)
        while self._busy is None and self._backlog and not self.done.done():
            self._on_client_data(self._backlog.pop(0))
        if self._busy is None:
            self.relay.release_reading("session")
            if self._client_eof:
                self.stop()

    def stop(self) -> None:
        """The client pump is over: nothing more from the relay reaches the adapter."""
        self._backlog.clear()
        self.relay.set_handler(None, lambda: None)
        self.relay.hold_reading("ended")
        busy, self._busy = self._busy, None
        if busy is not None and busy is not asyncio.current_task():
            busy.cancel()
        if not self.done.done():
            self.done.set_result(None)
