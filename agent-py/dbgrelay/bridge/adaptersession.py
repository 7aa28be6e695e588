"""One relay session bridged to a fresh connection to the debugpy adapter.

Bytes are forwarded unchanged in both directions; both directions are also framed
(and parsed where it matters, see ``handshake.py``) so the bridge knows how far the
session got. Whatever the client does,
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
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional

from ..dapframing import DEFAULT_MAX_MESSAGE_BYTES, DapReader, encode_message
from ..errors import DapFramingError
from .adaptergate import AdapterGate
from .callbackpumps import CallbackPumps, client_step
from .handshake import HANDSHAKE, HandshakeState
from .streams import ByteStream
from .connectors import AdapterConnector, tcp_connector  # noqa: F401  (benchmarks import it from here)
from .socketstream import SocketStream
from .wsstream import WebSocketStream

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
        self._client_reader = DapReader(max_message_bytes)
        self._adapter_reader = DapReader(max_message_bytes)
        self._adapter: Optional[ByteStream] = None
        self._pumps: Optional[CallbackPumps] = None
        self._changed = asyncio.Event()
        self._adapter_eof = False
        self._relay_open = True
        self._exit = contextlib.AsyncExitStack()
        self._in_teardown = False
        self.outcome = "not started"  # for logs and tests

    # -- entry point ---------------------------------------------------------
    async def run(self) -> None:
        async with self._exit:
            try:
                await self._run()
            finally:
                if self._adapter is not None:
                    await self._adapter.close()
                await self._close_relay()
        log.info("session %s ended: %s", self.label, self.outcome)

    async def _run(self) -> None:
        first = await self.relay.read()
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
                self._changed.set()
        finally:
            self._adapter_eof = True
            self._changed.set()

    def _track_adapter(self, data: bytes) -> None:
        reader, state = self._adapter_reader, self.state
        for frame, body_at in reader.feed_raw(data):
            if state.adapter_needs_parse():
                state.on_adapter_message(reader.parse(frame, body_at))

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
        st, steps = self.state, []
        client_sent = sorted(st.sent & HANDSHAKE)
        started = time.monotonic()
        if not st.greeted:
            await self._until(lambda: st.greeted, self.timeouts.greeting_s)
        if st.ended_by_client:
            steps.append("waited for the client's disconnect")
            await self._until(lambda: st.answered & {"disconnect", "terminate"} != set(), self.timeouts.response_s)
        else:
            if "initialize" not in st.sent:
                steps.append("initialize")
                await self._request("initialize", {"adapterID": "debugpy", "clientID": "dbgrelay-bridge"})
            elif st.awaiting("initialize"):
                await self._until(lambda: "initialize" in st.answered, self.timeouts.response_s)
            if st.awaiting("attach"):
                if not st.initialized_event:
                    await self._until(lambda: st.initialized_event or "attach" in st.answered,
                                      self.timeouts.response_s)
                if "configurationDone" not in st.sent and "attach" not in st.answered:
                    steps.append("configurationDone")
                    await self._request("configurationDone")
                await self._until(lambda: "attach" in st.answered, self.timeouts.response_s)
            steps.append("disconnect")
            if not await self._request("disconnect", {"terminateDebuggee": False}):
                log.warning("session %s: adapter did not answer disconnect in %.0f s",
                            self.label, self.timeouts.response_s)
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

