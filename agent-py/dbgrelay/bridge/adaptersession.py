"""One relay session bridged to a fresh connection to the debugpy adapter.

Adapter bytes are forwarded to the relay unchanged and unparsed in the common case;
every client message is parsed, checked (``clientchecks.py``: the ``attach``
allow-list, no ``launch``, the relay's heartbeat echoes dropped) and written to the
adapter as a canonical frame (``dapframing.py``; a header that cannot be read
unambiguously ends the client side, as a lost client). Both directions are framed
(and parsed where it matters, see ``handshake.py``) so the bridge knows how far the
session got. Messages of the bridge's own toward the client (error responses,
heartbeats) wait for a frame boundary of the adapter's stream. Whatever the client does,
the adapter connection is finished in the order measured to be safe on debugpy
1.8.22 (agent-py/README.md):

1. the adapter connection is opened only once the client has sent its first bytes,
   and the client's bytes are held until the adapter's greeting has arrived;
2. when the client side ends without a completed ``disconnect``, the bridge finishes
   the handshake itself (``initialize``; ``configurationDone`` if an ``attach`` is
   pending) with seq numbers above the client's, then sends
   ``disconnect {terminateDebuggee: false}`` (the debuggee resumes, breakpoints go),
   waits for the answer and for the adapter to close the connection, and only then
   closes its side;
3. connects and teardowns never overlap (:class:`AdapterGate`).

Both ends are callback streams (``SocketStream``, ``WebSocketStream``): adapter bytes
are framed in the adapter stream's readable callback and written straight to the
relay; the client's messages go through the session's :class:`ClientPump`
(``clientpump.py``). A full write buffer on one side pauses reading on the other.

A data connection that went silent (``liveness.py``: the relay's deadline on a wss
connection, the revision 1.7 heartbeats on tcps) ends like a lost client, so the
teardown above detaches the adapter and the program resumes. For a guard inside the
debuggee, :attr:`AdapterSession.relay_alive` and
:meth:`AdapterSession.oldest_pending_ms` say whether the relay is still there and
how long the adapter has kept the client waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, List, Mapping, Optional, Tuple

from ..dapframing import DEFAULT_MAX_MESSAGE_BYTES, MAX_JSON_DEPTH, DapReader, encode_message
from ..errors import DapFramingError
from .adaptergate import AdapterGate
from .clientchecks import admit_client_message
from .clientpump import ClientPump
from .clientwriter import OWN_SEQ_BASE, ClientWriter  # noqa: F401  (tests import OWN_SEQ_BASE from here)
from .connectors import AdapterConnector, tcp_connector  # noqa: F401  (benchmarks import it from here)
from .handshake import HANDSHAKE, HandshakeState
from .liveness import is_heartbeat_frame
from .pendingrequests import PendingRequests
from .prefetch import PrefetchSettings, StopPrefetcher
from .socketstream import SocketStream
from .streams import CallbackStream, join_flow_control
from .teardown import finish_with_adapter

log = logging.getLogger("dbgrelay.dap")


@dataclass(frozen=True)
class SessionTimeouts:
    greeting_s: float = 3.0
    response_s: float = 5.0
    adapter_close_s: float = 3.0


class AdapterSession:
    def __init__(
        self,
        label: str,
        relay: CallbackStream,
        connect_adapter: AdapterConnector,
        gate: AdapterGate,
        *,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        timeouts: SessionTimeouts = SessionTimeouts(),
        prefetch: Optional[PrefetchSettings] = None,
    ) -> None:
        self.label = label
        self._prefetch_settings = prefetch
        #: sends answers ahead on each stop when the relay asked for it (``prefetch.py``)
        self.prefetcher: Optional[StopPrefetcher] = None
        self.relay = relay
        self._connect_adapter = connect_adapter
        self.gate = gate
        self.timeouts = timeouts
        self.state = HandshakeState()
        self._client_reader = DapReader(max_message_bytes, MAX_JSON_DEPTH)
        self._adapter_reader = DapReader(max_message_bytes)
        self._adapter: Optional[SocketStream] = None
        self._adapter_done: Optional["asyncio.Future[None]"] = None
        self._client_pump: Optional[ClientPump] = None
        self._changed = asyncio.Event()
        self._adapter_eof = False
        self._exit = contextlib.AsyncExitStack()
        self._in_teardown = False
        self._relay_ended = False  # the relay side reached end of stream (or went silent)
        # with prefetch on, only whole adapter frames reach the client: always at a boundary
        self._to_client = ClientWriter(relay, lambda: self.prefetcher is not None or self._adapter_reader.buffered == 0)
        self._pending = PendingRequests()
        self.outcome = "not started"  # for logs and tests

    # -- for a guard inside the debuggee --------------------------------------
    @property
    def relay_alive(self) -> bool:
        """False once the data connection to the relay closed or stayed silent past
        its liveness deadline (``liveness.py``); read-only."""
        return self._to_client.open and not self._relay_ended and not getattr(self.relay, "silent", False)

    def oldest_pending_ms(self, now: Optional[float] = None) -> Optional[float]:
        """Age in ms of the oldest client request forwarded to the adapter and not
        answered yet, None when there is none. ``now`` is a ``time.monotonic()``
        reading (default: the current one). Answers are recognised by the start of
        the adapter's response bodies, without parsing them (``pendingrequests.py``)."""
        return self._pending.oldest_ms(now)

    def note_forwarded(self, seq: int, at: float) -> None:
        """A client request with ``seq`` goes to the adapter (``clientchecks.py``)."""
        self._pending.note_forwarded(seq, at)

    def refuse_request(self, request: Any, message: str) -> None:
        """Answer a client request the adapter must not see with an error response
        (at the next frame boundary of the adapter's stream)."""
        self._to_client.refuse_request(request, message)

    # -- entry point ---------------------------------------------------------
    async def run(self) -> None:
        heartbeat_s = getattr(self.relay, "dap_heartbeat_s", None)
        if heartbeat_s:
            self._to_client.start_heartbeat(heartbeat_s, lambda: not self._relay_ended)
        async with self._exit:
            try:
                await self._run()
            finally:
                self._to_client.stop_heartbeat()
                if self.prefetcher is not None:
                    self.prefetcher.close()
                if self._adapter is not None:
                    await self._adapter.close()
                await self._close_relay()
        log.info("session %s ended: %s", self.label, self.outcome)

    async def _first_client_bytes(self) -> bytes:
        """The client's first bytes; on a connection with heartbeats, the relay's
        echoes that come before them do not count (they are no sign of a client)."""
        data = await self.relay.read()
        if not getattr(self.relay, "dap_heartbeat_s", None):
            return data
        while data:
            probe = DapReader(DEFAULT_MAX_MESSAGE_BYTES)
            try:
                frames = probe.feed_raw(data)
            except DapFramingError:
                return data  # the pump refuses it
            used = 0
            for frame, body_at in frames:
                if data[used : used + len(frame)] != frame or not is_heartbeat_frame(probe, frame, body_at):
                    return data[used:]
                used += len(frame)
            data = data[used:]
            if not data:
                data = await self.relay.read()
                continue
            more = await self.relay.read()
            if not more:
                return data
            data += more
        return data

    async def _run(self) -> None:
        first = await self._first_client_bytes()
        if not first:
            self.outcome = "client left before sending anything; adapter not contacted"
            return
        spoke_at = time.monotonic()
        async with self.gate.connecting():
            connecting_at = time.monotonic()
            try:
                adapter = self._adapter = await self._connect_adapter()
            except (OSError, asyncio.TimeoutError) as exc:
                self.outcome = f"debug adapter not reachable ({exc})"
                log.error("session %s: cannot connect to the debug adapter: %s", self.label, exc)
                return
            join_flow_control(self.relay, adapter)
            if self._prefetch_settings is not None:
                self.prefetcher = StopPrefetcher(self.label, self._prefetch_settings, adapter.write_nowait, self._to_client.forward, self._adapter_reader.parse)
            self._client_pump = ClientPump(
                self.label, self.relay, adapter, self._client_reader, admit=self._admit, wait_before=self._wait_before, on_client_eof=self._on_client_eof
            )
            self._adapter_done = asyncio.get_running_loop().create_future()
            adapter.set_handler(self._on_adapter_data, self._on_adapter_eof)
            if not await self._until(lambda: self.state.greeted, self.timeouts.greeting_s):
                log.warning("session %s: adapter greeting incomplete", self.label)
            else:
                # where a session that never gets an answer stopped: before this line
                # (no client bytes, or the gate), or after it (the adapter or the pumps)
                log.info(
                    "session %s: client spoke; adapter connected after %.0f ms of settling and greeted in %.0f ms",
                    self.label,
                    (connecting_at - spoke_at) * 1000,
                    (time.monotonic() - connecting_at) * 1000,
                )
        client_task = asyncio.ensure_future(self._client_pump.run(first))
        try:
            await asyncio.wait({self._adapter_done, client_task}, return_when=asyncio.FIRST_COMPLETED)
            if client_task.done() and not self._adapter_eof:
                await self._teardown()
            else:
                self.outcome = "adapter closed the session"
                self.gate.mark_session_closed()
            await self._until(lambda: self._adapter_eof, 0)
        finally:
            client_task.cancel()
            await asyncio.gather(client_task, return_exceptions=True)

    # -- client -> adapter (the checks; ClientPump does the forwarding) -----------
    def _admit(self, message: Mapping[str, Any]) -> Optional[Mapping[str, Any]]:
        admitted = admit_client_message(self, message)
        if admitted is not None:
            self.state.on_client_message(admitted)
            if self.prefetcher is not None and admitted.get("type") == "request":
                self.prefetcher.note_client_request(admitted.get("seq"), admitted.get("command"))
        return admitted

    def _wait_before(self, message: Mapping[str, Any]) -> Optional[Callable[[], Awaitable[None]]]:
        """What must happen before this client message may reach the adapter, if
        anything: a ``disconnect``/``terminate`` takes the gate's teardown slot, a main
        ``attach`` waits for the gate to be quiet."""
        command = message.get("command") if message.get("type") == "request" else None
        if command in ("disconnect", "terminate") and not self._in_teardown:
            return self._enter_teardown
        if command == "attach" and not self.state.sub_process:
            return self.gate.quiet
        return None

    def _on_client_eof(self) -> None:
        self._relay_ended = True

    # -- adapter -> client -----------------------------------------------------
    def _on_adapter_data(self, data: bytes) -> None:
        try:
            frames = self._track_adapter(data)
            if self.prefetcher is not None:
                self.prefetcher.on_adapter_frames(frames)
        except DapFramingError as exc:
            log.error("session %s: adapter stream: %s", self.label, exc)
            self._on_adapter_eof()
            return
        if self.prefetcher is None:
            self._to_client.forward(data)
        self._changed.set()

    def _on_adapter_eof(self) -> None:
        assert self._adapter is not None and self._adapter_done is not None
        self._adapter.set_handler(None, lambda: None)
        self._adapter.hold_reading("ended")
        self._adapter_eof = True
        self._changed.set()
        if not self._adapter_done.done():
            self._adapter_done.set_result(None)

    def _track_adapter(self, data: bytes) -> List[Tuple[bytes, int]]:
        reader, state, pending = self._adapter_reader, self.state, self._pending
        frames = reader.feed_raw(data)
        for frame, body_at in frames:
            message = None
            if state.adapter_needs_parse():
                message = reader.parse(frame, body_at)
                state.on_adapter_message(message)
            if pending:
                pending.note_answer(frame, body_at, message, reader.parse)
        return frames

    # -- teardown ------------------------------------------------------------
    async def _enter_teardown(self) -> None:
        if not self._in_teardown:
            self._in_teardown = True
            await self._exit.enter_async_context(self.gate.tearing_down())

    async def _until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not predicate():
            if self._adapter_eof:
                return predicate()
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), left)
            except asyncio.TimeoutError:
                pass
        return True

    async def _request(self, command: str, arguments: Optional[Dict[str, Any]] = None) -> bool:
        seq = self.state.next_seq()
        message: Dict[str, Any] = {"seq": seq, "type": "request", "command": command}
        if arguments is not None:
            message["arguments"] = arguments
        self.state.pending[seq] = command
        self.state.sent.add(command)
        assert self._adapter is not None
        try:
            await self._adapter.write(encode_message(message))
        except (OSError, ConnectionError):
            return False
        return await self._until(lambda: command in self.state.answered, self.timeouts.response_s)

    async def _teardown(self) -> None:
        """The client is gone and the adapter connection is open: finish it safely."""
        if self.prefetcher is not None:
            self.prefetcher.close()  # asks nothing more; what it held goes on
        await self._close_relay()
        await self._enter_teardown()
        client_sent = sorted(self.state.sent & HANDSHAKE)
        started = time.monotonic()
        steps = await finish_with_adapter(self.state, self._until, self._request, label=self.label, greeting_s=self.timeouts.greeting_s, response_s=self.timeouts.response_s)
        closed = await self._until(lambda: self._adapter_eof, self.timeouts.adapter_close_s)
        elapsed_ms = (time.monotonic() - started) * 1000
        self.outcome = (
            f"client left (sent: {', '.join(client_sent) or 'nothing'}); "
            f"bridge sent {', '.join(steps)}; adapter {'closed' if closed else 'did NOT close'} "
            f"after {elapsed_ms:.0f} ms"
        )

    async def _close_relay(self) -> None:
        self._to_client.open = False
        with contextlib.suppress(Exception):
            await self.relay.close()
