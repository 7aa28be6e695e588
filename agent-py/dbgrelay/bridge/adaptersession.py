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
With both ends callback streams (``SocketStream``, ``WebSocketStream``) the pumps are
``callbackpumps.py``.

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
import re
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Set

from ..dapframing import DEFAULT_MAX_MESSAGE_BYTES, MAX_JSON_DEPTH, DapReader, encode_message
from ..errors import DapFramingError
from .adaptergate import AdapterGate
from .callbackpumps import CallbackPumps, client_step
from .clientchecks import HEARTBEAT_EVENT, admit_client_message, is_heartbeat_frame
from .handshake import HANDSHAKE, HandshakeState
from .teardown import finish_with_adapter
from .streams import ByteStream
from .connectors import AdapterConnector, tcp_connector  # noqa: F401  (benchmarks import it from here)
from .socketstream import SocketStream
from .wsstream import WebSocketStream

log = logging.getLogger("dbgrelay.dap")

#: The start of every response debugpy writes (``messaging.py``: ``_prettify`` puts
#: ``seq``, ``type``, ``request_seq`` first; ``json.dumps`` default separators; the
#: compact ones too), so answers are recognised without parsing the adapter's messages.
_RESPONSE_START = re.compile(rb'\{"seq": ?-?[0-9]+, ?"type": ?"response", ?"request_seq": ?([0-9]+)[,}]')
#: How far into a body another spelling of a response is looked for.
_RESPONSE_PROBE_BYTES = 256
#: seq numbers of the bridge's own messages to the client (far from debugpy's).
OWN_SEQ_BASE = 0x2FFF0000
_HEARTBEAT_FRAME = encode_message({"seq": 0, "type": "event", "event": HEARTBEAT_EVENT})


@dataclass(frozen=True)
class SessionTimeouts:
    greeting_s: float = 3.0
    response_s: float = 5.0
    adapter_close_s: float = 3.0


class AdapterSession:
    def __init__(
        self,
        label: str,
        relay: ByteStream,
        connect_adapter: AdapterConnector,
        gate: AdapterGate,
        *,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        timeouts: SessionTimeouts = SessionTimeouts(),
    ) -> None:
        self.label = label
        self.relay = relay
        self._connect_adapter = connect_adapter
        self.gate = gate
        self.timeouts = timeouts
        self.state = HandshakeState()
        self._client_reader = DapReader(max_message_bytes, MAX_JSON_DEPTH)
        self._adapter_reader = DapReader(max_message_bytes)
        self._adapter: Optional[ByteStream] = None
        self._pumps: Optional[CallbackPumps] = None
        self._changed = asyncio.Event()
        self._adapter_eof = False
        self._relay_open = True
        self._exit = contextlib.AsyncExitStack()
        self._in_teardown = False
        self._relay_ended = False  # the relay side reached end of stream (or went silent)
        self._client_queue: List[bytes] = []  # own frames to the client, waiting for a frame boundary
        self._own_seq = OWN_SEQ_BASE
        self._forwarded: Dict[int, float] = {}  # client request seq -> when it went to the adapter
        self._heartbeat: Optional[asyncio.TimerHandle] = None
        self._writes: Set["asyncio.Future[None]"] = set()
        self.outcome = "not started"  # for logs and tests

    # -- for a guard inside the debuggee --------------------------------------
    @property
    def relay_alive(self) -> bool:
        """False once the data connection to the relay closed or stayed silent past
        its liveness deadline (``liveness.py``); read-only."""
        return self._relay_open and not self._relay_ended and not getattr(self.relay, "silent", False)

    def oldest_pending_ms(self, now: Optional[float] = None) -> Optional[float]:
        """Age in ms of the oldest client request forwarded to the adapter and not
        answered yet, None when there is none. ``now`` is a ``time.monotonic()``
        reading (default: the current one). Answers are recognised by the start of
        the adapter's response bodies, without parsing them."""
        for sent_at in self._forwarded.values():  # insertion order: the oldest first
            return ((time.monotonic() if now is None else now) - sent_at) * 1000.0
        return None

    def note_forwarded(self, seq: int, at: float) -> None:
        """A client request with ``seq`` goes to the adapter (``clientchecks.py``)."""
        self._forwarded.setdefault(seq, at)

    # -- the bridge's own messages to the client --------------------------------
    def refuse_request(self, request: Any, message: str) -> None:
        """Answer a client request the adapter must not see with an error response."""
        self._own_seq += 1
        self._send_to_client(encode_message({
            "seq": self._own_seq, "type": "response", "request_seq": request.get("seq"),
            "command": request.get("command"), "success": False, "message": message,
        }))

    def _send_to_client(self, frame: bytes) -> None:
        """Send ``frame`` to the client at the next frame boundary of the adapter's
        stream (at once when the adapter is not in the middle of a message)."""
        self._client_queue.append(frame)
        if self._adapter_reader.buffered == 0:
            self._flush_to_client()

    def _flush_to_client(self) -> None:
        data, self._client_queue = b"".join(self._client_queue), []
        if not data or not self._relay_open:
            return
        write_nowait = getattr(self.relay, "write_nowait", None)
        if write_nowait is not None:
            if not write_nowait(data):
                self._relay_open = False
            return
        task = asyncio.ensure_future(self._write_relay(data))  # before the adapter pump's next write
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def _write_relay(self, data: bytes) -> None:
        try:
            await self.relay.write(data)
        except (OSError, ConnectionError):
            self._relay_open = False

    def _start_heartbeat(self, interval_s: float) -> None:
        def beat() -> None:
            self._heartbeat = None
            if self._relay_open and not self._relay_ended:
                self._send_to_client(_HEARTBEAT_FRAME)
                self._heartbeat = asyncio.get_running_loop().call_later(interval_s, beat)

        self._heartbeat = asyncio.get_running_loop().call_later(interval_s, beat)

    # -- entry point ---------------------------------------------------------
    async def run(self) -> None:
        heartbeat_s = getattr(self.relay, "dap_heartbeat_s", None)
        if heartbeat_s:
            self._start_heartbeat(heartbeat_s)
        async with self._exit:
            try:
                await self._run()
            finally:
                if self._heartbeat is not None:
                    self._heartbeat.cancel()
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
                if data[used:used + len(frame)] != frame or not is_heartbeat_frame(probe, frame, body_at):
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
                self._adapter = await self._connect_adapter()
            except (OSError, asyncio.TimeoutError) as exc:
                self.outcome = f"debug adapter not reachable ({exc})"
                log.error("session %s: cannot connect to the debug adapter: %s", self.label, exc)
                return
            if isinstance(self.relay, (SocketStream, WebSocketStream)) and isinstance(self._adapter, SocketStream):
                self._pumps = CallbackPumps(self, self.relay, self._adapter)
            adapter_task = asyncio.ensure_future(self._pump_adapter())
            if not await self._until(lambda: self.state.greeted, self.timeouts.greeting_s):
                log.warning("session %s: adapter greeting incomplete", self.label)
            else:
                # where a session that never gets an answer stopped: before this line
                # (no client bytes, or the gate), or after it (the adapter or the pumps)
                log.info("session %s: client spoke; adapter connected after %.0f ms of settling and greeted in %.0f ms",
                         self.label, (connecting_at - spoke_at) * 1000, (time.monotonic() - connecting_at) * 1000)
        client_task = asyncio.ensure_future(self._pump_client(first))
        try:
            await asyncio.wait({adapter_task, client_task}, return_when=asyncio.FIRST_COMPLETED)
            if client_task.done() and not self._adapter_eof:
                await self._teardown()
            else:
                self.outcome = "adapter closed the session"
                self.gate.mark_session_closed()
            await self._until(lambda: self._adapter_eof, 0)
        finally:
            for task in (client_task, adapter_task):
                task.cancel()
            await asyncio.gather(client_task, adapter_task, return_exceptions=True)

    # -- pumps ---------------------------------------------------------------
    async def _pump_client(self, first: bytes) -> None:
        if self._pumps is not None:
            return await self._pumps.run_client(first)
        data = first
        while data:
            try:
                frames = self._client_reader.feed_frames(data)
            except DapFramingError as exc:
                log.warning("session %s: client stream: %s", self.label, exc)
                return
            for raw, message in frames:
                admitted = admit_client_message(self, message)
                if admitted is None:
                    continue
                if admitted is not message:  # changed by a check: forwarded re-encoded
                    raw, message = encode_message(dict(admitted)), admitted
                self.state.on_client_message(message)
                step = client_step(self, message)
                if step is not None:
                    await step()
                assert self._adapter is not None
                try:
                    await self._adapter.write(raw)
                except (OSError, ConnectionError):
                    return
            data = await self.relay.read()
        self._relay_ended = True

    async def _pump_adapter(self) -> None:
        assert self._adapter is not None
        try:
            if self._pumps is not None:
                return await self._pumps.run_adapter()
            while True:
                data = await self._adapter.read()
                if not data:
                    return
                try:
                    self._track_adapter(data)
                except DapFramingError as exc:
                    log.error("session %s: adapter stream: %s", self.label, exc)
                    return
                if self._relay_open:
                    try:
                        await self.relay.write(data)
                    except (OSError, ConnectionError):
                        self._relay_open = False
                if self._client_queue and self._adapter_reader.buffered == 0:
                    self._flush_to_client()
                self._changed.set()
        finally:
            self._adapter_eof = True
            self._changed.set()

    def _track_adapter(self, data: bytes) -> None:
        reader, state, forwarded = self._adapter_reader, self.state, self._forwarded
        for frame, body_at in reader.feed_raw(data):
            message = None
            if state.adapter_needs_parse():
                message = reader.parse(frame, body_at)
                state.on_adapter_message(message)
            if forwarded:
                self._note_answer(frame, body_at, message)

    def _note_answer(self, frame: bytes, body_at: int, message: Optional[Dict[str, Any]]) -> None:
        """Forget a forwarded request once the adapter answered it: a byte check of
        the body's start for debugpy's own spelling, a parse only for another one."""
        start = _RESPONSE_START.match(frame, body_at)
        if start is not None:
            self._forwarded.pop(int(start.group(1)), None)
            return
        if message is None:
            if frame.find(b'"response"', body_at, body_at + _RESPONSE_PROBE_BYTES) < 0:
                return
            message = self._adapter_reader.parse(frame, body_at)
        if message.get("type") == "response":
            self._forwarded.pop(message.get("request_seq"), None)  # type: ignore[arg-type]

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
        self._relay_open = False
        await self._close_relay()
        await self._enter_teardown()
        client_sent = sorted(self.state.sent & HANDSHAKE)
        started = time.monotonic()
        steps = await finish_with_adapter(self)
        closed = await self._until(lambda: self._adapter_eof, self.timeouts.adapter_close_s)
        elapsed_ms = (time.monotonic() - started) * 1000
        self.outcome = (
            f"client left (sent: {', '.join(client_sent) or 'nothing'}); "
            f"bridge sent {', '.join(steps)}; adapter {'closed' if closed else 'did NOT close'} "
            f"after {elapsed_ms:.0f} ms"
        )

    async def _close_relay(self) -> None:
        self._relay_open = False
        with contextlib.suppress(Exception):
            await self.relay.close()
